// Container start-up and listing, tspod vs podman (--runtime runc) in the same run.
// Usage (as an unprivileged user): npm run bench -- containers [--runs N]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeBusyboxRootfs } from '../test/helpers/rootfs.js';
import { commandExists, interleave, median, min, printTable, requireUnprivileged, timeCommand } from './_stats.js';

requireUnprivileged('containers');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const tspod = path.join(root, 'bin', 'tspod');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-bench-containers-'));
const runDir = path.join(home, 'run');
fs.mkdirSync(runDir, { mode: 0o700 });
const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: runDir };
const rootfs = makeBusyboxRootfs(home);
const podman = commandExists('podman') && commandExists('runc') ? ['podman', '--runtime', 'runc'] : undefined;
const podmanEnv = process.env;

const T = (args: string[]) => () => timeCommand([tspod, ...args], env);
const P = (args: string[]) => () => timeCommand([...podman!, ...args], podmanEnv);
const createStart = (cmd: string[], e: NodeJS.ProcessEnv) => () => {
  const id = spawnSync(cmd[0], [...cmd.slice(1), 'create', '--network', 'none', '--rootfs', rootfs, 'true'], { env: e, encoding: 'utf8' }).stdout.trim();
  const ms = timeCommand([...cmd, 'start', id], e);
  spawnSync(cmd[0], [...cmd.slice(1), 'rm', '-f', id], { env: e });
  return ms;
};

// The same image in both stores: the embedded default image, loaded from its archive.
const imageTar = path.join(root, 'dist', 'busybox-image.tar');
const IMG = 'localhost/busybox:latest';
spawnSync(tspod, ['load', '-q', '-i', imageTar], { env, stdio: 'ignore' });
if (podman) spawnSync('podman', ['load', '-q', '-i', imageTar], { stdio: 'ignore' });

const cases: Record<string, () => number> = {
  'tspod run --rm --network none IMG true': T(['run', '--rm', '--network', 'none', IMG, 'true']),
  'tspod run --rm IMG true (default network)': T(['run', '--rm', IMG, 'true']),
  "tspod run --rm IMG sh -c 'echo hi'": T(['run', '--rm', '--network', 'none', IMG, 'sh', '-c', 'echo hi']),
  'tspod run --rm --network none true': T(['run', '--rm', '--network', 'none', '--rootfs', rootfs, 'true']),
  "tspod run --rm sh -c 'echo hi'": T(['run', '--rm', '--network', 'none', '--rootfs', rootfs, 'sh', '-c', 'echo hi']),
  'tspod start (after create)': createStart([tspod], env),
};
if (podman) {
  cases['podman run --rm --network none IMG true'] = P(['run', '--rm', '--network', 'none', IMG, 'true']);
  cases['podman run --rm IMG true (default network)'] = P(['run', '--rm', IMG, 'true']);
  cases["podman run --rm IMG sh -c 'echo hi'"] = P(['run', '--rm', '--network', 'none', IMG, 'sh', '-c', 'echo hi']);
  cases['podman run --rm --network none true'] = P(['run', '--rm', '--network', 'none', '--rootfs', rootfs, 'true']);
  cases["podman run --rm sh -c 'echo hi'"] = P(['run', '--rm', '--network', 'none', '--rootfs', rootfs, 'sh', '-c', 'echo hi']);
  cases['podman start (after create)'] = createStart(podman, podmanEnv);
}

try {
  // Warm both: the first tspod command creates the rootless namespace.
  spawnSync(tspod, ['unshare', 'true'], { env });
  const results = interleave(cases, runs);

  // ps -a with 100 containers in each store.
  for (let i = 0; i < 100; i++) {
    spawnSync(tspod, ['create', '--network', 'none', '--rootfs', rootfs, 'true'], { env });
    if (podman) spawnSync(podman[0], [...podman.slice(1), 'create', '--label', 'tspod-bench=1', '--network', 'none', '--rootfs', rootfs, 'true']);
  }
  const psCases: Record<string, () => number> = { 'tspod ps -a (100 containers)': T(['ps', '-a']) };
  if (podman) psCases['podman ps -a (100+ containers)'] = P(['ps', '-a']);
  Object.assign(results, interleave(psCases, runs));

  // Resident memory of one detached container's monitor.
  const id = spawnSync(tspod, ['run', '-d', '--network', 'none', '--rootfs', rootfs, 'sleep', '60'], { env, encoding: 'utf8' }).stdout.trim();
  const inspect = JSON.parse(spawnSync(tspod, ['inspect', id], { env, encoding: 'utf8' }).stdout)[0];
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${inspect.State.ConmonPid}/status`, 'utf8'))?.[1]);
  spawnSync(tspod, ['rm', '-f', id], { env });

  const rows: (string | number)[][] = [['case', 'runs', 'min ms', 'median ms']];
  for (const [name, xs] of Object.entries(results)) rows.push([name, xs.length, min(xs).toFixed(1), median(xs).toFixed(1)]);
  printTable(rows);
  const m = (k: string) => (results[k] ? median(results[k]) : NaN);
  const ratio = (a: string, b: string) => +(m(a) / m(b)).toFixed(2);
  console.log(
    JSON.stringify({
      runs,
      runImageTrueVsPodman: podman ? ratio('tspod run --rm --network none IMG true', 'podman run --rm --network none IMG true') : null,
      runImageDefaultNetworkVsPodman: podman ? ratio('tspod run --rm IMG true (default network)', 'podman run --rm IMG true (default network)') : null,
      runImageEchoVsPodman: podman ? ratio("tspod run --rm IMG sh -c 'echo hi'", "podman run --rm IMG sh -c 'echo hi'") : null,
      runTrueVsPodman: podman ? ratio('tspod run --rm --network none true', 'podman run --rm --network none true') : null,
      runEchoVsPodman: podman ? ratio("tspod run --rm sh -c 'echo hi'", "podman run --rm sh -c 'echo hi'") : null,
      startVsPodman: podman ? ratio('tspod start (after create)', 'podman start (after create)') : null,
      psVsPodman: podman ? ratio('tspod ps -a (100 containers)', 'podman ps -a (100+ containers)') : null,
      monitorRssKb: rssKb,
    }),
  );
} finally {
  if (podman) spawnSync('sh', ['-c', `podman rm -f $(podman ps -aq --filter label=tspod-bench=1) >/dev/null 2>&1`]);
  spawnSync(tspod, ['rm', '-a', '-f'], { env });
  spawnSync(tspod, ['system', 'migrate'], { env });
  spawnSync(tspod, ['unshare', 'rm', '-rf', home], { env });
  spawnSync(tspod, ['system', 'migrate'], { env });
  fs.rmSync(home, { recursive: true, force: true });
}
