// Shell completion latency: `tspod __complete` against `podman __complete` in the
// same run, each with the same number of containers in its own store.
// Usage (as an unprivileged user): npm run bench -- completion [--runs N] [--containers N]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeBusyboxRootfs } from '../test/helpers/rootfs.js';
import { commandExists, interleave, median, min, printTable, requireUnprivileged, timeCommand } from './_stats.js';

requireUnprivileged('completion');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const runs = arg('--runs', 20);
const count = arg('--containers', 50);
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const tspod = path.join(root, 'bin', 'tspod');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-bench-completion-'));
const runDir = path.join(home, 'run');
fs.mkdirSync(runDir, { mode: 0o700 });
// Both engines get a fresh store of their own under this HOME.
const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_RUNTIME_DIR: runDir, XDG_DATA_HOME: path.join(home, 'data'), XDG_CONFIG_HOME: path.join(home, 'config') };
const rootfs = makeBusyboxRootfs(home);
const podman = commandExists('podman');

const T = (args: string[]) => () => timeCommand([tspod, ...args], env);
const P = (args: string[]) => () => timeCommand(['podman', ...args], env);

try {
  for (let i = 0; i < count; i++) {
    const c = spawnSync(tspod, ['create', '--name', `bench${i}`, '--network', 'none', '--rootfs', rootfs, 'true'], { env, encoding: 'utf8' });
    if (c.status !== 0) throw new Error(`tspod create failed: ${c.stderr}`);
    if (podman) spawnSync('podman', ['create', '--name', `bench${i}`, '--network', 'none', '--rootfs', rootfs, 'true'], { env });
  }
  const check = spawnSync(tspod, ['__complete', 'rm', 'bench0'], { env, encoding: 'utf8' }).stdout;
  if (!check.includes('bench0\t')) throw new Error(`tspod __complete did not list the containers: ${check}`);

  // The shell scripts run `tspod __complete` with NODE_EXTRA_CA_CERTS emptied (completion makes
  // no TLS connection, and Node reads that bundle at start-up): measured both ways.
  const scriptEnv = { ...env, NODE_EXTRA_CA_CERTS: '' };
  const cases: Record<string, () => number> = {
    'node -e 0': () => timeCommand([process.execPath, '-e', '0'], env),
    'tspod __complete rm ""': T(['__complete', 'rm', '']),
    'tspod __complete rm "" (as the scripts call it)': () => timeCommand([tspod, '__complete', 'rm', ''], scriptEnv),
    'tspod __complete start b': T(['__complete', 'start', 'b']),
    'tspod __complete run --network ""': T(['__complete', 'run', '--network', '']),
  };
  if (podman) {
    cases['podman __complete rm ""'] = P(['__complete', 'rm', '']);
    cases['podman __complete start b'] = P(['__complete', 'start', 'b']);
    cases['podman __complete run --network ""'] = P(['__complete', 'run', '--network', '']);
  }
  const results = interleave(cases, runs, 2);
  const rows: (string | number)[][] = [['case', 'runs', 'min ms', 'median ms']];
  for (const [name, xs] of Object.entries(results)) rows.push([name, xs.length, min(xs).toFixed(1), median(xs).toFixed(1)]);
  console.log(`${count} containers in each store`);
  printTable(rows);
  const m = (k: string) => median(results[k]);
  const ratio = (what: string) => (podman ? +(m(`tspod __complete ${what}`) / m(`podman __complete ${what}`)).toFixed(2) : null);
  console.log(
    JSON.stringify({
      runs,
      containers: count,
      tspodRmMedianMs: +m('tspod __complete rm ""').toFixed(1),
      podmanRmMedianMs: podman ? +m('podman __complete rm ""').toFixed(1) : null,
      rmVsPodman: ratio('rm ""'),
      rmAsScriptsCallItVsPodman: podman ? +(m('tspod __complete rm "" (as the scripts call it)') / m('podman __complete rm ""')).toFixed(2) : null,
      nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset',
      startVsPodman: ratio('start b'),
      networkVsPodman: ratio('run --network ""'),
    }),
  );
} finally {
  spawnSync(tspod, ['rm', '-a', '-f'], { env });
  if (podman) {
    spawnSync('podman', ['rm', '-a', '-f'], { env });
    spawnSync('podman', ['system', 'reset', '--force'], { env });
    // podman's pause process for this runtime directory
    try {
      process.kill(Number(fs.readFileSync(path.join(runDir, 'libpod', 'tmp', 'pause.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // none left
    }
  }
  const pause = (() => {
    try {
      return Number(fs.readFileSync(path.join(runDir, 'tspod', 'pause.pid'), 'utf8').trim().split(/\s+/)[0]);
    } catch {
      return 0;
    }
  })();
  spawnSync(tspod, ['unshare', 'rm', '-rf', home], { env });
  if (pause) {
    try {
      process.kill(pause, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(home, { recursive: true, force: true });
}
