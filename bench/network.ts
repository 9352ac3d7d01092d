// Networking, tspod vs podman (--runtime runc) in the same run:
// - the time a network mode adds to `run --rm ... true` (none vs pasta vs slirp4netns);
// - TCP throughput host -> container through a published port.
// Usage (as an unprivileged user): npm run bench -- network [--runs N] [--mb MB] [--throughput (only the throughput cases)]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeBusyboxRootfs } from '../test/helpers/rootfs.js';
import { commandExists, interleave, median, min, printTable, requireUnprivileged, timeCommand } from './_stats.js';

requireUnprivileged('network');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const runs = arg('--runs', 10);
const megabytes = arg('--mb', 256);
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const tspod = path.join(root, 'bin', 'tspod');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-bench-network-'));
const runDir = path.join(home, 'run');
fs.mkdirSync(runDir, { mode: 0o700 });
const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: runDir };
const rootfs = makeBusyboxRootfs(home);
const podman = commandExists('podman') && commandExists('runc') ? ['podman', '--runtime', 'runc'] : undefined;

// A TCP sink: reads each connection to its end, answers with the byte count.
const SINK_C = `
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0) { perror("listen"); return 1; }
  static char buf[1 << 16];
  for (;;) {
    int c = accept(s, 0, 0);
    if (c < 0) continue;
    long long total = 0; ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) total += n;
    dprintf(c, "%lld\\n", total);
    close(c);
  }
}
`;
fs.writeFileSync(path.join(home, 'sink.c'), SINK_C);
execFileSync('cc', ['-static', '-O2', '-o', path.join(rootfs, 'bin', 'sink'), path.join(home, 'sink.c')]);

const T = (args: string[]) => () => timeCommand([tspod, ...args], env);
const P = (args: string[]) => () => timeCommand([...podman!, ...args], process.env);
const works = (cmd: string[], e: NodeJS.ProcessEnv) => spawnSync(cmd[0], cmd.slice(1), { env: e }).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Send `bytes` to 127.0.0.1:port and wait for the sink's count; MB/s. */
function pushOnce(port: number, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20);
    const start = process.hrtime.bigint();
    const sock = net.connect(port, '127.0.0.1');
    let reply = '';
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
      sock.end();
    };
    sock.on('connect', pump);
    sock.on('data', (d) => (reply += d));
    sock.on('error', reject);
    sock.on('close', () => {
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      if (Number(reply.trim()) !== sent) return reject(new Error(`the sink counted ${reply.trim() || 'nothing'} of ${sent} bytes`));
      resolve(sent / 1e6 / secs);
    });
  });
}

/** The network helpers a case starts (forwarders, slirp4netns, pasta, monitors), by process name. */
const HELPER = /^(tspod-launch|tspod-monitor|slirp4netns|pasta|pasta\.avx2|passt\.avx2|rootlessport|rootlessport-ch|conmon)$/;
const pidsNow = () => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
const readOr = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
/** user+sys ms of processes (10 ms ticks), gone ones counting 0. */
const cpuMsOf = (pids: string[]) =>
  pids.reduce((sum, p) => {
    const stat = readOr(`/proc/${p}/stat`);
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return stat ? sum + (Number(f[11]) + Number(f[12])) * 10 : sum;
  }, 0);

interface ThroughputCase {
  label: string;
  cli: string[];
  env: NodeJS.ProcessEnv;
  mode: string;
}

/**
 * One sink container per case, all started first; then rounds of one push per
 * case, so tspod's and podman's figures are A/B pairs taken at the same moment
 * on a shared machine; then they are removed.
 */
const helperCpuMsPerGB: Record<string, number[]> = {};
async function throughputs(cases: ThroughputCase[]): Promise<Record<string, number[]>> {
  const live: { label: string; port: number; rm: () => void; helpers: string[] }[] = [];
  const out: Record<string, number[]> = {};
  try {
    for (const [i, c] of cases.entries()) {
      const port = await freePort();
      const name = `bench-sink-${i}`;
      const before = new Set(pidsNow());
      const engine = (args: string[]) => spawnSync(c.cli[0], [...c.cli.slice(1), ...args], { env: c.env, encoding: 'utf8' });
      const r = engine(['run', '-d', '--name', name, '--network', c.mode, '-p', `127.0.0.1:${port}:5001`, '--rootfs', rootfs, 'sink', '5001']);
      const rm = () => void engine(['rm', '-f', '-t', '0', name]);
      if (r.status !== 0) {
        console.error(`${c.label}: cannot start (${r.stderr.trim().split('\n').pop()})`);
        rm();
        continue;
      }
      // What this start left running (the sink and other people's processes aside): the helpers whose CPU counts.
      const helpers = pidsNow().filter((p) => !before.has(p) && HELPER.test(readOr(`/proc/${p}/comm`).trim()));
      live.push({ label: c.label, port, rm, helpers });
      // Wait for the port to carry a connection through to the sink.
      for (let k = 0; k < 100; k++) {
        try {
          await pushOnce(port, 1 << 20);
          break;
        } catch {
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    }
    for (let round = 0; round < Math.max(3, Math.min(runs, 5)); round++) {
      for (const s of live) {
        const cpu0 = cpuMsOf(s.helpers);
        (out[s.label] ??= []).push(await pushOnce(s.port, megabytes * 1e6));
        (helperCpuMsPerGB[s.label] ??= []).push(((cpuMsOf(s.helpers) - cpu0) * 1e3) / megabytes);
      }
    }
    return out;
  } finally {
    for (const s of live) s.rm();
  }
}

const runTrue = (mode: string) => ['run', '--rm', '--network', mode, '--rootfs', rootfs, 'true'];
// tspod's default pasta comes from a pool of one pre-started pasta (src/network/pasta-pool.ts):
// "pool warm" waits (untimed) until an entry is ready, "pool empty" turns the pool off (pasta starts per run, as before).
const pool = path.join(runDir, 'tspod', 'netpool');
const poolReady = () => fs.existsSync(pool) && fs.readdirSync(pool).some((n) => n.startsWith('ready-')) && !fs.readdirSync(pool).some((n) => n.startsWith('new-'));
const warmPool = () => {
  if (!poolReady()) spawnSync(tspod, runTrue('pasta'), { env });
  for (let i = 0; i < 200 && !poolReady(); i++) spawnSync('sleep', ['0.05']);
  if (!poolReady()) throw new Error('the pasta pool did not get an entry ready');
};
const coldEnv = { ...env, TSPOD_PASTA_POOL_IDLE: '0' };
// CPU time (user+sys) of each timed command and its waited-for children, from our cutime/cstime
// (10 ms ticks): on a shared machine it moves less than wall time. Helpers that daemonize are not in it.
const cpu: Record<string, number[]> = {};
const childCpuMs = () => {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[16 - 3]) + Number(f[17 - 3])) * 10;
};
const withCpu = (name: string, f: () => number, before?: () => void) => () => {
  before?.();
  const c0 = childCpuMs();
  const ms = f();
  (cpu[name] ??= []).push(childCpuMs() - c0);
  return ms;
};
const cases: Record<string, () => number> = {};
const add = (name: string, f: () => number, before?: () => void) => (cases[name] = withCpu(name, f, before));
add('tspod run --rm --network none true', T(runTrue('none')));
add('tspod run --rm --network pasta true (pool warm)', T(runTrue('pasta')), warmPool);
add('tspod run --rm --network pasta true (pool empty)', () => timeCommand([tspod, ...runTrue('pasta')], coldEnv));
add('tspod run --rm --network slirp4netns true', T(runTrue('slirp4netns')));
const podmanPasta = podman && works([...podman, ...runTrue('pasta')], process.env);
if (podman) {
  add('podman run --rm --network none true', P(runTrue('none')));
  if (podmanPasta) add('podman run --rm --network pasta true', P(runTrue('pasta')));
  add('podman run --rm --network slirp4netns true', P(runTrue('slirp4netns')));
}

try {
  spawnSync(tspod, ['unshare', 'true'], { env });
  // A tree without the pool (an older build) has no warm case to measure: say so instead of failing.
  if (!process.argv.includes('--throughput')) {
    try {
      warmPool();
    } catch {
      console.error('the pasta pool is not in use in this build: no "pool warm" case');
      delete cases['tspod run --rm --network pasta true (pool warm)'];
    }
  }
  const results: Record<string, number[]> = process.argv.includes('--throughput') ? {} : interleave(cases, runs);

  const tpCases: ThroughputCase[] = [
    { label: 'tspod pasta', cli: [tspod], env, mode: 'pasta' },
    { label: 'tspod slirp4netns (default: rootlesskit ports)', cli: [tspod], env, mode: 'slirp4netns' },
    { label: 'tspod slirp4netns:port_handler=slirp4netns', cli: [tspod], env, mode: 'slirp4netns:port_handler=slirp4netns' },
  ];
  if (podman) {
    if (podmanPasta) tpCases.push({ label: 'podman pasta', cli: podman, env: process.env, mode: 'pasta' });
    tpCases.push({ label: 'podman slirp4netns (default: rootlesskit ports)', cli: podman, env: process.env, mode: 'slirp4netns' });
    tpCases.push({ label: 'podman slirp4netns:port_handler=slirp4netns', cli: podman, env: process.env, mode: 'slirp4netns:port_handler=slirp4netns' });
  }
  const tp = await throughputs(tpCases);

  const rows: (string | number)[][] = [['case', 'runs', 'min ms', 'median ms', 'median CPU ms']];
  // The first round is the warm-up, which interleave drops from the wall times.
  for (const [name, xs] of Object.entries(results)) rows.push([name, xs.length, min(xs).toFixed(1), median(xs).toFixed(1), median(cpu[name].slice(1)).toFixed(0)]);
  printTable(rows);
  const tpRows: (string | number)[][] = [[`throughput host -> container (${megabytes} MB)`, 'runs', 'median MB/s', 'helpers CPU ms/GB']];
  for (const [name, xs] of Object.entries(tp)) tpRows.push([name, xs.length, median(xs).toFixed(0), median(helperCpuMsPerGB[name] ?? [NaN]).toFixed(0)]);
  printTable(tpRows);
  const m = (k: string) => (results[k] ? median(results[k]) : NaN);
  const added = (cli: string, mode: string) => +(m(`${cli} run --rm --network ${mode} true`) - m(`${cli} run --rm --network none true`)).toFixed(1);
  const mt = (k: string) => (tp[k] ? median(tp[k]) : NaN);
  console.log(
    JSON.stringify({
      runs,
      tspodPastaAddsMs: +(m('tspod run --rm --network pasta true (pool warm)') - m('tspod run --rm --network none true')).toFixed(1),
      tspodPastaColdAddsMs: +(m('tspod run --rm --network pasta true (pool empty)') - m('tspod run --rm --network none true')).toFixed(1),
      tspodSlirpAddsMs: added('tspod', 'slirp4netns'),
      podmanSlirpAddsMs: podman ? added('podman', 'slirp4netns') : null,
      podmanPastaAddsMs: podmanPasta ? added('podman', 'pasta') : null,
      runNoneVsPodman: podman ? +(m('tspod run --rm --network none true') / m('podman run --rm --network none true')).toFixed(2) : null,
      tspodDefaultVsPodmanDefaultThroughput: podman
        ? +(mt('tspod pasta') / (podmanPasta ? mt('podman pasta') : mt('podman slirp4netns (default: rootlesskit ports)'))).toFixed(2)
        : null,
      tspodSlirpVsPodmanSlirpThroughput: podman
        ? +(mt('tspod slirp4netns (default: rootlesskit ports)') / mt('podman slirp4netns (default: rootlesskit ports)')).toFixed(2)
        : null,
      // Round by round (the two pushes of a round are moments apart): tspod / podman, default slirp4netns ports.
      tspodSlirpVsPodmanSlirpPairs: podman
        ? (tp['tspod slirp4netns (default: rootlesskit ports)'] ?? []).map((x, i) => +(x / (tp['podman slirp4netns (default: rootlesskit ports)']?.[i] ?? NaN)).toFixed(2))
        : null,
    }),
  );
} finally {
  if (podman) spawnSync(podman[0], [...podman.slice(1), 'rm', '-f', 'bench-sink'], { stdio: 'ignore' });
  spawnSync(tspod, ['rm', '-a', '-f'], { env });
  spawnSync(tspod, ['system', 'migrate'], { env }); // ends the pool's idle pasta with the pause process
  spawnSync(tspod, ['unshare', 'rm', '-rf', home], { env });
  fs.rmSync(home, { recursive: true, force: true });
}
