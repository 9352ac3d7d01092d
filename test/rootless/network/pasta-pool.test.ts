import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { freePort, get, helperPids, retry, loopbackServerForSuite } from './net-helpers.js';

// The pre-started pasta pool (src/network/pasta-pool.ts, native/src/netpool.c).
// A short idle time, so that the entry's own end can be watched.
const IDLE = 8;
const sandbox = new TspodSandbox('pastapool', { extraEnv: { TSPOD_PASTA_POOL_IDLE: String(IDLE) } });
const rootfs = makeBusyboxRootfs(sandbox.home);
fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'timeout'));
const t = (args: string[], env?: NodeJS.ProcessEnv) => sandbox.run(args, env ? { env } : {});
const COLD = { TSPOD_PASTA_POOL_IDLE: '0' };
const pool = path.join(sandbox.runDir, 'netpool');

// A server on the host's loopback only: what allow_host_loopback (or pasta's --map-gw) opens.
const loopback = loopbackServerForSuite(sandbox.home);

afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

const entries = (prefix: string) => (fs.existsSync(pool) ? fs.readdirSync(pool).filter((n) => n.startsWith(prefix)) : []);

/** The ready entry's name, once one is ready and none is still starting (a run starts one when the last has timed out). */
async function readyEntry(): Promise<string> {
  if (!entries('ready-').length && !entries('new-').length) expect(t(['run', '--rm', '--rootfs', rootfs, 'true']).status).toBe(0);
  return retry('a ready pool entry', async () => {
    const ready = entries('ready-');
    if (ready.length !== 1 || entries('new-').length) throw new Error(`pool holds ${fs.existsSync(pool) ? fs.readdirSync(pool).join(' ') : 'nothing'}`);
    return ready[0];
  });
}

const alive = (pid: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};
const pidIn = (dir: string, file: string) => Number(fs.readFileSync(path.join(dir, file), 'utf8').trim());

/** The network namespace a bind-mounted file holds, as `net:[INODE]` (read inside the rootless namespace, where the mount is). */
function nsOf(file: string): string {
  const r = t(['unshare', 'stat', '-L', '-c', 'net:[%i]', file]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

// What the container sees of its network, less what differs between any two namespaces (link-local addresses, DAD state).
const SHOW_NET = `ip -o -4 addr | sed 's/ *valid_lft.*//'; ip -o -6 addr show scope global | sed 's/ *valid_lft.*//; s/ tentative//'; ip route; ip -6 route | grep -v '^fe80'; echo --; cat /etc/resolv.conf; grep host.containers /etc/hosts; echo --; readlink /proc/self/ns/net`;
function showNet(env?: NodeJS.ProcessEnv): { net: string; files: string; ns: string } {
  const r = t(['run', '--rm', '--hostname', 'same', '--rootfs', rootfs, 'sh', '-c', SHOW_NET], env);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  const [net, files, ns] = r.stdout.split('--\n');
  return { net, files, ns: ns.trim() };
}

describe('the pasta pool', () => {
  it('gives a run the pre-started namespace, with the same network a fresh pasta gives', async () => {
    const cold = showNet(COLD);
    expect(entries('')).toEqual([]); // off: nothing started
    expect(cold.net).toMatch(/inet \d+\.\d+\.\d+\.\d+\//);
    expect(cold.net).toMatch(/^default via /m);
    t(['run', '--rm', '--rootfs', rootfs, 'true']); // starts the pool
    const entry = await readyEntry();
    const pooledNs = nsOf(path.join(pool, entry, 'netns'));
    const warm = showNet();
    expect(warm.ns).toBe(pooledNs); // it ran in the pool's namespace
    expect(entries('ready-')).not.toContain(entry);
    expect(warm.net).toBe(cold.net);
    expect(warm.files).toBe(cold.files);
  });

  it('serves a second run right after the first, from the replacement', async () => {
    const entry = await readyEntry();
    const pooledNs = nsOf(path.join(pool, entry, 'netns'));
    const r = t(['run', '--rm', '--rootfs', rootfs, 'sh', '-c', 'readlink /proc/self/ns/net; ip -o -4 addr show scope global | wc -l']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${pooledNs}\n1\n`);
    // Published ports: pasta started for the container; the idle entry goes first (it would hold half
    // of the user's pipe budget, which sizes the new pasta's splice pipes), and a new one follows.
    const next = await readyEntry();
    const nextNs = nsOf(path.join(pool, next, 'netns'));
    const port = await freePort();
    const p = t(['run', '--rm', '-p', `${port}:80`, '--rootfs', rootfs, 'readlink', '/proc/self/ns/net']);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout.trim()).not.toBe(nextNs);
    expect(await readyEntry()).not.toBe(next);
    // pasta options: pasta started for the container, the pool untouched.
    const last = await readyEntry();
    const o = t(['run', '--rm', '--network', 'pasta:--map-gw', '--rootfs', rootfs, 'true']);
    expect(o.status, o.stderr).toBe(0);
    expect(entries('ready-')).toEqual([last]);
  });

  it('keeps the host\'s loopback closed through the gateway, as a fresh pasta does; pasta:--map-gw still opens it', async () => {
    await readyEntry();
    const script = `timeout 2 wget -qO- http://$(ip route | sed -n 's/^default via \\([0-9.]*\\).*/\\1/p'):${loopback.port()}/ 2>/dev/null; echo rc=$?`;
    const pooled = t(['run', '--rm', '--rootfs', rootfs, 'sh', '-c', script]);
    const cold = t(['run', '--rm', '--rootfs', rootfs, 'sh', '-c', script], COLD);
    expect(pooled.stdout).not.toContain('from-host-loopback');
    expect(pooled.stdout).toMatch(/rc=[1-9]/);
    expect(cold.stdout).toBe(pooled.stdout);
    const mapGw = t(['run', '--rm', '--network', 'pasta:--map-gw', '--rootfs', rootfs, 'sh', '-c', script]);
    expect(mapGw.stdout).toBe('from-host-loopback\nrc=0\n');
  });

  it('leaves no pasta behind after rm -f, nor after a killed monitor', async () => {
    for (const killMonitor of [false, true]) {
      await readyEntry();
      const name = killMonitor ? 'orphan' : 'victim';
      expect(t(['run', '-d', '--name', name, '--rootfs', rootfs, 'sleep', '60']).status).toBe(0);
      const id = t(['inspect', '--format', '{{.Id}}', name]).stdout.trim();
      const claimed = path.join(sandbox.runDir, 'containers', id, 'netpool');
      const pasta = pidIn(claimed, 'pasta.pid');
      expect(helperPids('pasta', sandbox.runDir)).toContain(pasta);
      if (killMonitor) process.kill(Number(t(['inspect', '--format', '{{.State.ConmonPid}}', name]).stdout.trim()), 'SIGKILL');
      expect(t(['rm', '-f', name]).status).toBe(0);
      await retry('the container\'s pasta to end', async () => expect(alive(pasta)).toBe(false));
      expect(fs.existsSync(claimed)).toBe(false);
    }
  });

  it('ends an unclaimed entry after its idle time', async () => {
    const entry = await readyEntry();
    const pids = [pidIn(path.join(pool, entry), 'keeper.pid'), pidIn(path.join(pool, entry), 'pasta.pid')];
    expect(pids.every(alive)).toBe(true);
    await retry('the idle entry to end', async () => expect(pids.filter(alive)).toEqual([]), (IDLE + 6) * 1000);
    expect(entries('')).toEqual([]);
    expect(helperPids('pasta', sandbox.runDir)).toEqual([]);
  });

  it('ends its entry with system migrate, and with the pause process', async () => {
    for (const how of ['migrate', 'pause']) {
      t(['run', '--rm', '--rootfs', rootfs, 'true']);
      const entry = await readyEntry();
      const pids = [pidIn(path.join(pool, entry), 'keeper.pid'), pidIn(path.join(pool, entry), 'pasta.pid')];
      if (how === 'migrate') expect(t(['system', 'migrate']).status).toBe(0);
      else process.kill(sandbox.pauseRecord()!.pid, 'SIGKILL');
      await retry(`the entry to end with ${how}`, async () => expect(pids.filter(alive)).toEqual([]));
      expect(helperPids('pasta', sandbox.runDir)).toEqual([]);
    }
  });
});
