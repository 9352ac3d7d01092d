// Pull and unpack from a loopback registry, tspod vs podman, a fresh store each run.
// Images: the busybox image, Debian's minbase root filesystem (debootstrap, made as root by
// test/setup/debian-minbase.sh and cached; pushed as one gzip layer), and a multi-layer
// image of a few hundred MB made from /usr (pushed with skopeo, which gzips the layers),
// and the same directories as one layer ("one").
// Usage (as an unprivileged user): npm run bench -- pull [--runs N] [--only busybox,debian,big,one]
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RegistryClient } from '../src/image/registry/client.js';
import { debianMinbaseImage, pushImage } from '../test/helpers/image-fixtures.js';
import { startRegistry } from '../test/helpers/registry-server.js';
import { commandExists, median, min, printTable, requireUnprivileged } from './_stats.js';

requireUnprivileged('pull');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
// --only busybox,debian: a subset of the cases (the big images take minutes per run).
const onlyArg = process.argv.indexOf('--only');
const cases = onlyArg > 0 ? process.argv[onlyArg + 1]!.split(',') : ['busybox', 'debian', 'big', 'one'];
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const tspod = path.join(root, 'bin', 'tspod');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-bench-pull-'));

/** A docker-archive whose layers are tars of the given directories (each its own layer, or `oneLayer`: all in one). */
function buildArchive(dirs: string[], out: string, opts: { oneLayer?: boolean } = {}): void {
  const dir = path.join(work, `archive-${path.basename(out)}`);
  fs.mkdirSync(dir);
  const diffIds: string[] = [];
  const layers: string[] = [];
  (opts.oneLayer ? [dirs] : dirs.map((d) => [d])).forEach((d, i) => {
    const file = path.join(dir, `layer${i}.tar`);
    execFileSync('tar', ['--create', '--file', file, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--ignore-failed-read', ...d], { stdio: 'ignore' });
    diffIds.push(`sha256:${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`);
    layers.push(`layer${i}.tar`);
  });
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const id = crypto.createHash('sha256').update(config).digest('hex');
  fs.writeFileSync(path.join(dir, `${id}.json`), config);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify([{ Config: `${id}.json`, RepoTags: ['bench/big:latest'], Layers: layers }]));
  execFileSync('tar', ['--create', '--file', out, '--directory', dir, '.']);
}

/** Wall time (ms), CPU time (user+sys, ms, all threads and children) and peak RSS (kB) of one command, via GNU time. */
function measure(cmd: string[], env: NodeJS.ProcessEnv): { ms: number; cpuMs: number; rssKb: number } {
  const timeFile = path.join(work, 'time.out');
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, ...cmd], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr.toString().slice(-400)}`);
  const [user, sys, rss] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { ms, cpuMs: (user! + sys!) * 1000, rssKb: rss! };
}

/** What each run leaves (its stores), removed after the last run or on a failure. */
const cleanups: Array<() => void> = [];
const runCleanups = () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
};
const registry = await startRegistry({ mode: 'plain' });
try {
  const big = path.join(work, 'big.tar');
  const one = path.join(work, 'one.tar');
  // "big": the same directories as five layers; "one": as a single layer (the largest one the bench has).
  const bigDirs = ['/usr/share/doc', '/usr/share/locale', '/usr/include', '/usr/lib/python3', '/usr/share/perl'];
  if (cases.includes('big')) buildArchive(bigDirs, big);
  if (cases.includes('one')) buildArchive(bigDirs, one, { oneLayer: true });
  const small = path.join(root, 'dist', 'busybox-image.tar');
  for (const [file, name] of [[big, 'bench/big:latest'], [one, 'bench/one:latest'], [small, 'bench/busybox:latest']]) {
    if (!cases.includes(name.slice(6, -7))) continue;
    execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${file}`, `docker://${registry.host}/${name}`]);
  }
  const debian = debianMinbaseImage(path.join(work, 'debian'));
  const client = new RegistryClient({ registry: registry.host, tlsVerify: false, certDirs: [] });
  await pushImage(client, 'bench/debian', 'latest', debian);
  client.close();
  const podman = commandExists('podman');
  const results: Record<string, { ms: number[]; cpu: number[]; rss: number[] }> = {};
  const record = (k: string, m: { ms: number; cpuMs: number; rssKb: number }) => {
    results[k] ??= { ms: [], cpu: [], rss: [] };
    results[k].ms.push(m.ms);
    results[k].cpu.push(m.cpuMs);
    results[k].rss.push(m.rssKb);
  };
  // The stores are removed at the end, not between runs: this machine's ext4 has no
  // journal, and its inode allocator then skips inodes deleted in the last 60 s (360 s
  // while their block is dirty), one inode-table lookup each, so a pull right after
  // the last run's ~10,000 files were deleted paid seconds of kernel time for it
  // (Debian pull, sys time: tspod 0.6-0.8 s after no deletion, 1.2-2.7 s right after one;
  // podman 1.4 s and 3.4 s), whichever tool came first paying most.
  const pullWith = {
    tspod: (image: string, env: NodeJS.ProcessEnv, home: string) => {
      spawnSync(tspod, ['unshare', 'true'], { env });
      record(`tspod pull ${image}`, measure([tspod, 'pull', '-q', '--tls-verify=false', `${registry.host}/${image}`], env));
      // Its pause process goes now; the store (files of subordinate ids) at the end.
      spawnSync(tspod, ['system', 'migrate'], { env });
      cleanups.push(() => {
        spawnSync(tspod, ['unshare', 'rm', '-rf', path.join(home, '.local')], { env });
        spawnSync(tspod, ['system', 'migrate'], { env });
      });
    },
    podman: (image: string, env: NodeJS.ProcessEnv, home: string) => {
      // podman refuses a runroot longer than 50 characters.
      const podmanRun = fs.mkdtempSync('/tmp/pr-');
      const store = ['--root', path.join(home, 'podman-root'), '--runroot', podmanRun];
      record(`podman pull ${image}`, measure(['podman', ...store, 'pull', '-q', '--tls-verify=false', `${registry.host}/${image}`], env));
      cleanups.push(() => {
        spawnSync('podman', [...store, 'system', 'reset', '-f'], { env });
        fs.rmSync(podmanRun, { recursive: true, force: true });
      });
    },
  };
  for (let i = 0; i < runs; i++) {
    for (const image of cases.map((c) => `bench/${c}`)) {
      const home = fs.mkdtempSync(path.join(work, 'home-'));
      const runDir = path.join(home, 'run');
      fs.mkdirSync(runDir, { mode: 0o700 });
      // A fresh store for every run, but one cache directory for all (tspod keeps its V8
      // code cache there when dist/ is not writable): a user's ~/.cache outlives a pull.
      const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: runDir, XDG_CACHE_HOME: path.join(work, 'cache') };
      // Each tool first in every other run; the last run's writes reach the disk before the next is timed.
      const order: Array<keyof typeof pullWith> = !podman ? ['tspod'] : i % 2 === 0 ? ['tspod', 'podman'] : ['podman', 'tspod'];
      for (const tool of order) {
        spawnSync('sync');
        pullWith[tool](image, env, home);
      }
      cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
    }
  }
  runCleanups();
  const rows: (string | number)[][] = [['case', 'runs', 'min ms', 'median ms', 'median CPU ms', 'median peak RSS MB']];
  for (const [k, v] of Object.entries(results)) rows.push([k, v.ms.length, min(v.ms).toFixed(0), median(v.ms).toFixed(0), median(v.cpu).toFixed(0), (median(v.rss) / 1024).toFixed(1)]);
  printTable(rows);
  const ratio = (image: string) => (results[`podman pull ${image}`] ? +(median(results[`tspod pull ${image}`].ms) / median(results[`podman pull ${image}`].ms)).toFixed(2) : null);
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(
    JSON.stringify({
      runs,
      bigImageMB: fs.existsSync(big) ? +(fs.statSync(big).size / 1e6).toFixed(0) : null,
      debianLayerMB: +(debian.layers[0]!.size / 1e6).toFixed(0),
      busyboxVsPodman: ratio('bench/busybox'),
      debianVsPodman: ratio('bench/debian'),
      bigVsPodman: ratio('bench/big'),
      oneLayerVsPodman: ratio('bench/one'),
      tspodPeakRssMB: +(Math.max(...Object.entries(results).filter(([k]) => k.startsWith('tspod')).flatMap(([, v]) => v.rss)) / 1024).toFixed(1),
    }),
  );
} finally {
  runCleanups();
  await registry.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
