// What the rootless namespace costs: creating it (pause process, newuidmap and
// newgidmap) versus joining the one a pause process holds, tspod vs podman.
// Usage (as an unprivileged user): npm run bench -- userns [--runs N]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commandExists, interleave, median, min, printTable, requireUnprivileged, timeCommand } from './_stats.js';

requireUnprivileged('userns');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const tspod = path.join(root, 'bin', 'tspod');
const launcher = path.join(root, 'native', 'build', 'Release', 'tspod-launch');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-bench-userns-'));
const runDir = path.join(home, 'run');
fs.mkdirSync(runDir, { mode: 0o700 });
const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: runDir };
const me = os.userInfo();

function subids(file: string): { containerId: number; hostId: number; size: number }[] {
  const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${me.username}:`) || l.startsWith(`${me.uid}:`));
  if (!line) throw new Error(`no ${file} entry for ${me.username}`);
  const [, start, count] = line.split(':').map(Number);
  return [{ containerId: 0, hostId: me.uid, size: 1 }, { containerId: 1, hostId: start, size: count }];
}
const plan = JSON.stringify({ uidMap: subids('/etc/subuid'), gidMap: subids('/etc/subgid'), newuidmap: '/usr/bin/newuidmap', newgidmap: '/usr/bin/newgidmap' });

function stopPause(): void {
  spawnSync(tspod, ['system', 'migrate'], { env });
}

const cases: Record<string, () => number> = {
  // The native step alone: clone a user+mount namespace, newuidmap, newgidmap.
  'launcher --create-userns': () => {
    const start = process.hrtime.bigint();
    const r = spawnSync(launcher, ['--create-userns'], { input: plan, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const pid = JSON.parse(r.stdout).pid;
    process.kill(pid, 'SIGKILL');
    return ms;
  },
  'tspod unshare true (create)': () => {
    stopPause();
    return timeCommand([tspod, 'unshare', 'true'], env);
  },
  'tspod unshare true (join)': () => timeCommand([tspod, 'unshare', 'true'], env),
};
if (commandExists('podman')) {
  cases['podman unshare true (create)'] = () => {
    spawnSync('podman', ['system', 'migrate'], { env: process.env });
    return timeCommand(['podman', 'unshare', 'true']);
  };
  cases['podman unshare true (join)'] = () => timeCommand(['podman', 'unshare', 'true']);
}

try {
  const results = interleave(cases, runs);
  const rows: (string | number)[][] = [['case', 'runs', 'min ms', 'median ms']];
  for (const [name, xs] of Object.entries(results)) rows.push([name, xs.length, min(xs).toFixed(1), median(xs).toFixed(1)]);
  printTable(rows);
  const m = (k: string) => (results[k] ? +median(results[k]).toFixed(1) : null);
  console.log(
    JSON.stringify({
      runs,
      nativeCreateMs: m('launcher --create-userns'),
      tspodCreateMs: m('tspod unshare true (create)'),
      tspodJoinMs: m('tspod unshare true (join)'),
      podmanCreateMs: m('podman unshare true (create)'),
      podmanJoinMs: m('podman unshare true (join)'),
    }),
  );
} finally {
  stopPause();
  fs.rmSync(home, { recursive: true, force: true });
}
