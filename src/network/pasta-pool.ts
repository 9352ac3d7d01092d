import fs from 'node:fs';
import path from 'node:path';
import { MNT_DETACH, native } from '../native/addon.js';
import { readPauseRecord } from '../rootless/pause.js';
import { log } from '../util/log.js';
import { launcherPath, runtimeDir } from '../util/paths.js';
import { randomHex } from '../util/random.js';

/**
 * A small pool of pre-started pastas: pasta takes ~150 ms (most of it its own
 * start-up) before a container's network is up, which `run` would wait for.
 * One network namespace with pasta already attached is kept ready per run
 * root (RUNROOT/netpool/ready-NAME, held by `tspod-launch --netpool`, see
 * native/src/netpool.c); a container in the default pasta mode with the same
 * pasta arguments claims it by renaming it into its own run directory, then
 * owns it exactly as a pasta started for it (pidFile/netnsPath of its network
 * spec), and a replacement is started in the background. An unclaimed entry
 * ends by itself after the idle time, or when the pause process goes.
 */

/** Seconds an unclaimed entry waits; TSPOD_PASTA_POOL_IDLE overrides it, 0 turns the pool off. */
export const DEFAULT_POOL_IDLE_SECONDS = 300;

export function poolIdleSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.TSPOD_PASTA_POOL_IDLE;
  if (v === undefined || v.trim() === '') return DEFAULT_POOL_IDLE_SECONDS;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : DEFAULT_POOL_IDLE_SECONDS;
}

export function poolDir(runRoot: string): string {
  return path.join(runRoot, 'netpool');
}

/** Where a claimed entry lives in the container's run directory. */
function claimedDir(runDir: string): string {
  return path.join(runDir, 'netpool');
}

/** What the pool needs to start a pasta: its arguments for an entry's paths; `key` tells interchangeable ones apart. */
export interface PoolRequest {
  key: string;
  argv: (netnsPath: string, pidFile: string) => string[];
}

export function poolRequest(argv: (netnsPath: string, pidFile: string) => string[]): PoolRequest {
  return { key: argv('@NETNS@', '@PIDFILE@').join('\n'), argv };
}

function pastaPid(dir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'pasta.pid'), 'utf8').trim());
    return pid > 1 && /^pas/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8')) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A bind-mounted namespace file sits on nsfs, not on its directory's file system. */
function netnsMounted(dir: string): boolean {
  try {
    return fs.statSync(path.join(dir, 'netns')).dev !== fs.statSync(dir).dev;
  } catch {
    return false;
  }
}

/** Stop an entry's pasta and release its namespace and files; the pasta's pid. */
function releaseEntry(dir: string): number | undefined {
  const pid = pastaPid(dir);
  if (pid) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const netns = path.join(dir, 'netns');
  if (netnsMounted(dir)) {
    try {
      native().umount(netns, MNT_DETACH);
    } catch (err) {
      log.debug(`cannot unmount ${netns}: ${(err as Error).message}`);
    }
  }
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch (err) {
    log.debug(`cannot remove ${dir}: ${(err as Error).message}`);
  }
  return pid;
}

/**
 * Take a ready entry made with the same pasta arguments: the network spec's
 * paths in the container's run directory, or undefined (pool empty: start
 * pasta as usual). The rename is the claim: of two runs, one wins.
 */
export function claimPooledPasta(runRoot: string, runDir: string, req: PoolRequest): { netnsPath: string; pidFile: string } | undefined {
  const pool = poolDir(runRoot);
  let names: string[];
  try {
    names = fs.readdirSync(pool).filter((n) => n.startsWith('ready-'));
  } catch {
    return undefined;
  }
  const target = claimedDir(runDir);
  for (const name of names) {
    const from = path.join(pool, name);
    try {
      if (fs.readFileSync(path.join(from, 'key'), 'utf8') !== req.key) continue;
    } catch {
      continue;
    }
    releasePooledPasta(runDir);
    try {
      fs.renameSync(from, target);
    } catch {
      continue; // another run took it, or it was retired
    }
    if (pastaPid(target) && netnsMounted(target)) {
      log.debug(`network: the pre-started pasta ${name} from the pool`);
      return { netnsPath: path.join(target, 'netns'), pidFile: path.join(target, 'pasta.pid') };
    }
    releasePooledPasta(runDir);
  }
  return undefined;
}

/** A container's claimed entry, when its monitor could not tear it down (teardownNetwork, a failed start). */
export function releasePooledPasta(runDir: string): void {
  const dir = claimedDir(runDir);
  if (fs.existsSync(dir)) releaseEntry(dir);
}

function keeperAlive(dir: string): boolean {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'keeper.pid'), 'utf8').trim());
    return pid > 1 && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--netpool');
  } catch {
    return false;
  }
}

/**
 * Start one entry in the background unless one with these arguments is ready
 * or on its way. Never fails the caller: a pool that cannot start only means
 * the next run starts its own pasta.
 */
export function replenishPastaPool(runRoot: string, req: PoolRequest): void {
  const idle = poolIdleSeconds();
  if (idle === 0) return;
  try {
    const pool = poolDir(runRoot);
    fs.mkdirSync(pool, { recursive: true, mode: 0o700 });
    for (const name of fs.readdirSync(pool)) {
      const dir = path.join(pool, name);
      if (!name.startsWith('ready-') && !name.startsWith('new-')) continue;
      let key: string;
      try {
        key = fs.readFileSync(path.join(dir, 'key'), 'utf8');
      } catch {
        continue;
      }
      if (key !== req.key) continue;
      if (name.startsWith('ready-') || keeperAlive(dir)) return;
    }
    const entry = path.join(pool, `new-${randomHex(6)}`);
    fs.mkdirSync(entry, { mode: 0o700 });
    fs.writeFileSync(path.join(entry, 'key'), req.key);
    const pause = readPauseRecord(runtimeDir());
    const args = ['--netpool', entry, String(idle), String(pause?.pid ?? 0), String(pause?.startTime ?? 0), '--'];
    // posix_spawn from the addon: a fork of Node's memory costs this run 10-16 ms. Its own session, stdio on /dev/null.
    const launcher = launcherPath();
    const pid = native().spawnProcess(launcher, [launcher, ...args, ...req.argv(path.join(entry, 'netns'), path.join(entry, 'pasta.pid'))], [-1, -1, -1], true);
    fs.writeFileSync(path.join(entry, 'keeper.pid'), `${pid}\n`);
  } catch (err) {
    log.debug(`cannot start a pooled pasta: ${(err as Error).message}`);
  }
}

/**
 * Replenish once, `ms` from now or when this process exits, whichever comes
 * first: pasta's start-up (~70 ms of CPU) then does not compete with the rest
 * of a short foreground run (measured: +57 ms median when started at once).
 */
export function replenishPastaPoolLater(runRoot: string, req: PoolRequest, ms: number): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    process.removeListener('exit', once);
    replenishPastaPool(runRoot, req);
  };
  if (ms <= 0) return once();
  setTimeout(once, ms).unref();
  process.once('exit', once);
}

/**
 * End every entry of the pool: ready ones at once, ones still starting through
 * their keeper. `waitMs`: wait (that long at most) for the ready ones' pastas
 * to be gone, so that what they held is free again (see pastaWithPorts).
 */
export function drainPastaPool(runRoot: string, opts: { waitMs?: number } = {}): void {
  const pool = poolDir(runRoot);
  let names: string[];
  try {
    names = fs.readdirSync(pool);
  } catch {
    return;
  }
  const ended: number[] = [];
  for (const name of names) {
    const dir = path.join(pool, name);
    if (name.startsWith('new-')) {
      try {
        const pid = Number(fs.readFileSync(path.join(dir, 'keeper.pid'), 'utf8').trim());
        if (keeperAlive(dir)) process.kill(pid, 'SIGTERM');
        else releaseEntry(dir);
      } catch {
        releaseEntry(dir);
      }
      continue;
    }
    // Renamed first, so that no run claims it while it goes.
    const gone = path.join(pool, `gone-${name.replace(/^(ready|gone)-/, '')}`);
    try {
      if (name !== path.basename(gone)) fs.renameSync(dir, gone);
    } catch {
      continue;
    }
    const pid = releaseEntry(gone);
    if (pid) ended.push(pid);
  }
  const deadline = Date.now() + (opts.waitMs ?? 0);
  while (ended.some((pid) => fs.existsSync(`/proc/${pid}`)) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
}

/**
 * Before pasta starts for published ports: pasta sizes its splice pipes (the
 * loopback fast path of published ports) at start-up so that 64 of them fit
 * the user's pipe budget (fs.pipe-user-pages-soft, 64 MiB per user, shared by
 * every pasta of the user), and keeps them. An idle pooled pasta, which never
 * splices (no ports), holds half of it: measured, a pasta started next to it
 * got 64 KiB pipes instead of 256-512 KiB. So the idle entry goes first; the
 * replacement started after this container's pasta takes what is left.
 */
export function pastaWithPorts(runRoot: string): void {
  drainPastaPool(runRoot, { waitMs: 200 });
}
