import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import { ensureRuntimeDir, hostGid, hostUid, launcherPath } from '../util/paths.js';
import { writeFileAtomic } from '../storage/atomic.js';
import { withLock } from '../storage/lock.js';
import { buildMapping, currentUser, type IdMapping, subIdRanges } from './subid.js';
import { spawnSync } from 'node:child_process';

/**
 * The pause process holds the rootless user + mount namespace between
 * invocations. It is named by RUNDIR/pause.pid as "PID STARTTIME": the start
 * time tells a live pause process from a dead one whose pid was reused.
 */
export interface PauseRecord {
  pid: number;
  startTime: number;
}

export function pauseFile(runDir: string): string {
  return path.join(runDir, 'pause.pid');
}

export function readPauseRecord(runDir: string): PauseRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(pauseFile(runDir), 'utf8');
  } catch {
    return undefined;
  }
  const [pid, startTime] = text.trim().split(/\s+/).map(Number);
  if (!Number.isSafeInteger(pid) || pid <= 1 || !Number.isSafeInteger(startTime)) return undefined;
  return { pid, startTime };
}

/** Field 22 of /proc/PID/stat, or undefined when the process is gone. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[22 - 3]);
}

export function isPauseAlive(rec: PauseRecord | undefined): boolean {
  return rec !== undefined && processStartTime(rec.pid) === rec.startTime;
}

export interface NamespacePlan {
  uidMap: IdMapping[];
  gidMap: IdMapping[];
  newuidmap?: string;
  newgidmap?: string;
  warnings: string[];
}

function findHelper(name: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/bin:/bin').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    const candidate = path.join(dir || '.', name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * Decide the mapping: the full subordinate ranges through newuidmap/newgidmap,
 * or, when the user has none (or the helpers are missing), the user's own id
 * alone, with a warning that says how to get the full range.
 */
export function planNamespace(): NamespacePlan {
  const user = currentUser(hostUid(), hostGid());
  const ranges = subIdRanges(user);
  const warnings: string[] = [];
  const plan: NamespacePlan = {
    uidMap: [{ containerId: 0, hostId: user.uid, size: 1 }],
    gidMap: [{ containerId: 0, hostId: user.gid, size: 1 }],
    warnings,
  };
  const who = user.name ?? String(user.uid);
  const uidHelper = findHelper('newuidmap');
  const gidHelper = findHelper('newgidmap');
  if (ranges.uid.length === 0 || ranges.gid.length === 0) {
    const missing = ranges.uid.length === 0 ? '/etc/subuid' : '/etc/subgid';
    warnings.push(
      `no subordinate ids for user "${who}" in ${missing}: only your own id is mapped, so images with other owners will fail; add ranges with 'usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${who}', then run 'tspod system migrate'`,
    );
  } else if (!uidHelper || !gidHelper) {
    warnings.push(
      `newuidmap/newgidmap not found: only your own id is mapped; install the uidmap package, then run 'tspod system migrate'`,
    );
  } else {
    plan.uidMap = buildMapping(user.uid, ranges.uid);
    plan.gidMap = buildMapping(user.gid, ranges.gid);
    plan.newuidmap = uidHelper;
    plan.newgidmap = gidHelper;
  }
  return plan;
}

/** Start a pause process (through the single-threaded launcher) and record it. */
function createPause(runDir: string): PauseRecord {
  const plan = planNamespace();
  for (const w of plan.warnings) log.warn(w);
  const result = spawnSync(launcherPath(), ['--create-userns'], {
    input: JSON.stringify(plan),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (result.error) {
    throw new TspodError(`cannot run tspod's launcher (${launcherPath()}): ${result.error.message}; reinstall tspod`);
  }
  let reply: { pid?: number; startTime?: number; error?: string };
  try {
    reply = JSON.parse(result.stdout.trim().split('\n').pop() || '{}');
  } catch {
    reply = { error: result.stderr.trim() || 'no answer from the launcher' };
  }
  if (reply.error || !reply.pid || reply.startTime === undefined) {
    const detail = [reply.error, result.stderr.trim()].filter(Boolean).join('; ');
    throw new TspodError(
      `cannot create the rootless user namespace: ${detail || 'unknown error'}; check that unprivileged user namespaces are enabled and that /etc/subuid and /etc/subgid list your user`,
    );
  }
  const rec = { pid: reply.pid, startTime: reply.startTime };
  writeFileAtomic(pauseFile(runDir), `${rec.pid} ${rec.startTime}\n`, 0o644);
  log.debug(`created rootless user namespace held by pause process ${rec.pid}`);
  return rec;
}

/** Make sure a live pause process holds the namespace; start one if not. */
export async function ensurePauseProcess(): Promise<PauseRecord> {
  const runDir = ensureRuntimeDir();
  const current = readPauseRecord(runDir);
  if (current && isPauseAlive(current)) return current;
  return withLock(path.join(runDir, 'pause.lock'), () => {
    // Another invocation may have created it while we waited for the lock.
    const again = readPauseRecord(runDir);
    if (again && isPauseAlive(again)) return again;
    if (again) log.debug(`pause process ${again.pid} is gone or its pid was reused: replacing it`);
    return createPause(runDir);
  });
}

/** End the pause process (system migrate): the next command starts a new one. */
export async function stopPauseProcess(): Promise<PauseRecord | undefined> {
  const runDir = ensureRuntimeDir();
  return withLock(path.join(runDir, 'pause.lock'), () => {
    const rec = readPauseRecord(runDir);
    fs.rmSync(pauseFile(runDir), { force: true });
    if (!rec || !isPauseAlive(rec)) return undefined;
    try {
      process.kill(rec.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    return rec;
  });
}
