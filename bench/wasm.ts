/**
 * `npm run bench -- wasm [--quick] [--runs N] [--mb N] [--only gunzip|zstd|sha256]`:
 * the WebAssembly core against
 * the obvious alternatives, same data, same run, interleaved rounds.
 *
 * Data: a tar of /usr (cut to N MB) made at bench time in a temporary directory and
 * compressed with the gzip and zstd programs (zstd default level and --long=27).
 * Full: 100 MB, 7 runs; --quick: 16 MB, 5 runs. Each round runs every case once
 * (interleaved); round 0 verifies every output's length and digest and is not counted.
 * Reported: MB/s of uncompressed output (1 MB = 10^6 bytes), min, median and max over
 * the runs. The last line is JSON: same-run ratios of medians.
 */
import { execSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import * as fflate from 'fflate';
import { decompressChunks } from '../src/core/decompress.js';
import { createHasher } from '../src/core/digest.js';
import { median, printTable } from './_stats.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argVal = (name: string): number | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const runs = argVal('--runs') ?? (quick ? 5 : 7);
const mb = argVal('--mb') ?? (quick ? 16 : 100);
const CHUNK = 64 * 1024;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-bench-wasm-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function sh(cmd: string): void {
  execSync(cmd, { stdio: ['ignore', 'ignore', 'inherit'], shell: '/bin/bash' });
}

// The programs run from one helper shell started before the data is loaded: forking
// this big process for every run would leave its memory copy-on-write, and the case
// after each fork would pay page-fault costs that are not its own. The helper times
// each command itself ($EPOCHREALTIME) and reports the seconds.
const helper = spawn('/bin/bash', [], { stdio: ['pipe', 'pipe', 'inherit'] });
const helperLines = createInterface({ input: helper.stdout! });
const helperIt = helperLines[Symbol.asyncIterator]();
async function cli(cmd: string): Promise<number> {
  helper.stdin!.write(`s=$EPOCHREALTIME; ( ${cmd} ); r=$?; e=$EPOCHREALTIME; echo "__T__ $r $s $e"\n`);
  for (;;) {
    const { value, done } = await helperIt.next();
    if (done) throw new Error('bench helper shell exited');
    const m = /^__T__ (\d+) ([\d.]+) ([\d.]+)$/.exec(value);
    if (!m) continue;
    if (m[1] !== '0') throw new Error(`${cmd} failed (${m[1]})`);
    return Number(m[3]) - Number(m[2]);
  }
}

const t0 = Date.now();
const tarPath = path.join(tmp, 'data.tar');
// tar exits non-zero when head closes the pipe: that is expected.
sh(`set +o pipefail; tar -cf - -C / usr/bin usr/include usr/lib/x86_64-linux-gnu usr/lib/python3 2>/dev/null | head -c ${mb * 1_000_000} > ${tarPath}`);
sh(`gzip -6 -c ${tarPath} > ${tarPath}.gz`);
sh(`zstd -q -3 -T1 -c ${tarPath} > ${tarPath}.zst`);
sh(`zstd -q -3 -T1 --long=27 -c ${tarPath} > ${tarPath}.long.zst`);
const raw = fs.readFileSync(tarPath);
const gz = fs.readFileSync(`${tarPath}.gz`);
const zst = fs.readFileSync(`${tarPath}.zst`);
const zstLong = fs.readFileSync(`${tarPath}.long.zst`);
const size = raw.length;
const rawDigest = createHash('sha256').update(raw).digest('hex');
console.log(
  `data: ${(size / 1e6).toFixed(1)} MB tar of /usr; gzip -6 ${(gz.length / 1e6).toFixed(1)} MB, zstd -3 ${(zst.length / 1e6).toFixed(1)} MB, zstd -3 --long=27 ${(zstLong.length / 1e6).toFixed(1)} MB; ${runs} runs (prepared in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
);

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += CHUNK) out.push(buf.subarray(i, i + CHUNK));
  return out;
}
const gzChunks = chunks(gz);
const zstChunks = chunks(zst);
const zstLongChunks = chunks(zstLong);
const rawChunks = chunks(raw);

/** Consume a stream of output, checking the total length and digest. */
function checker(): { add(b: Uint8Array): void; done(): void } {
  const h = createHash('sha256');
  let n = 0;
  return {
    add(b) {
      n += b.length;
      h.update(b);
    },
    done() {
      const d = h.digest('hex');
      if (n !== size || d !== rawDigest) throw new Error(`wrong output: ${n} bytes, sha256 ${d}`);
    },
  };
}
// Digest checks cost the same for every method; they run outside the timed region
// by collecting the output lengths only while timing, and verifying in round 0.
let verify = true;

async function wasmDecode(cs: Buffer[], kind: 'gzip' | 'zstd'): Promise<void> {
  const c = verify ? checker() : undefined;
  let n = 0;
  async function* src() {
    yield* cs;
  }
  for await (const out of decompressChunks(src(), kind, { gzipImpl: 'wasm' })) {
    n += out.length;
    c?.add(out);
  }
  if (n !== size) throw new Error(`wasm ${kind}: ${n} bytes`);
  c?.done();
}

async function streamDecode(make: () => Duplex, cs: Buffer[]): Promise<void> {
  const c = verify ? checker() : undefined;
  let n = 0;
  await pipeline(
    Readable.from(cs),
    make(),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        n += chunk.length;
        c?.add(chunk);
        cb();
      },
    }),
  );
  if (n !== size) throw new Error(`stream: ${n} bytes`);
  c?.done();
}

function fflateGunzip(): void {
  const c = verify ? checker() : undefined;
  let n = 0;
  const g = new fflate.Gunzip((d) => {
    n += d.length;
    c?.add(d);
  });
  for (let i = 0; i < gzChunks.length; i++) g.push(gzChunks[i], i === gzChunks.length - 1);
  if (n !== size) throw new Error(`fflate: ${n} bytes`);
  c?.done();
}


const require = createRequire(import.meta.url);
type ZstdStreams = { ZstdDecompressTransform: new () => Duplex };
const zstdCodecStreams: ZstdStreams = await new Promise((resolve) =>
  (require('zstd-codec/lib/zstd-stream.js') as { run(f: (s: ZstdStreams) => void): void }).run(resolve),
);

function hashWith(impl: 'node' | 'wasm'): void {
  const h = createHasher(impl);
  for (const c of rawChunks) h.update(c);
  const d = h.digestHex();
  if (d !== rawDigest) throw new Error(`sha256 ${impl}: wrong digest`);
}

type Case = { group: string; name: string; run: () => Promise<void | number> | void | number };
const cases: Case[] = [
  { group: 'gunzip', name: 'wasm core (tspod)', run: () => wasmDecode(gzChunks, 'gzip') },
  { group: 'gunzip', name: 'zlib.createGunzip', run: () => streamDecode(() => zlib.createGunzip(), gzChunks) },
  {
    group: 'gunzip',
    name: 'zlib.gunzipSync',
    run: () => {
      const out = zlib.gunzipSync(gz);
      if (out.length !== size) throw new Error('gunzipSync');
    },
  },
  { group: 'gunzip', name: 'fflate Gunzip', run: fflateGunzip },
  { group: 'gunzip', name: 'gzip -dc (CLI)', run: () => cli(`gzip -dc ${tarPath}.gz > /dev/null`) },
  { group: 'zstd', name: 'wasm core (tspod)', run: () => wasmDecode(zstChunks, 'zstd') },
  { group: 'zstd', name: 'wasm core, --long=27 data', run: () => wasmDecode(zstLongChunks, 'zstd') },
  {
    group: 'zstd',
    name: 'zstd-codec stream',
    run: () => streamDecode(() => new zstdCodecStreams.ZstdDecompressTransform(), zstChunks),
  },
  { group: 'zstd', name: 'zstd -dc (CLI)', run: () => cli(`zstd -q -dc ${tarPath}.zst > /dev/null`) },
  { group: 'zstd', name: 'zstd -dc --long=27 (CLI)', run: () => cli(`zstd -q -dc --long=27 ${tarPath}.long.zst > /dev/null`) },
  { group: 'sha256', name: 'node:crypto', run: () => hashWith('node') },
  { group: 'sha256', name: 'wasm core (tspod)', run: () => hashWith('wasm') },
  { group: 'sha256', name: 'sha256sum (CLI)', run: () => cli(`sha256sum ${tarPath} > /dev/null`) },
];

const onlyIdx = args.indexOf('--only');
if (onlyIdx >= 0) {
  const keep = args[onlyIdx + 1];
  for (let i = cases.length - 1; i >= 0; i--) if (cases[i].group !== keep) cases.splice(i, 1);
}
const results = new Map<Case, number[]>(cases.map((c) => [c, []]));
// Round 0 verifies every output (length and digest) and warms up; it is not counted.
for (let round = 0; round <= runs; round++) {
  verify = round === 0;
  for (const c of cases) {
    const start = process.hrtime.bigint();
    const self = await c.run();
    const s = typeof self === 'number' ? self : Number(process.hrtime.bigint() - start) / 1e9;
    if (round > 0) results.get(c)!.push(size / 1e6 / s);
  }
}

const rows: (string | number)[][] = [['op', 'implementation', 'min MB/s', 'median MB/s', 'max MB/s']];
for (const c of cases) {
  const xs = results.get(c)!;
  rows.push([c.group, c.name, Math.min(...xs).toFixed(0), median(xs).toFixed(0), Math.max(...xs).toFixed(0)]);
}
printTable(rows);
const med = (group: string, name: string) => {
  const c = cases.find((x) => x.group === group && x.name === name);
  return c ? median(results.get(c)!) : NaN;
};
const r2 = (x: number) => Math.round(x * 100) / 100;
helper.stdin!.end();
console.log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(
  JSON.stringify({
    zstdVsCodec: r2(med('zstd', 'wasm core (tspod)') / med('zstd', 'zstd-codec stream')),
    zstdVsCli: r2(med('zstd', 'wasm core (tspod)') / med('zstd', 'zstd -dc (CLI)')),
    gzipVsNodeZlib: r2(med('gunzip', 'wasm core (tspod)') / med('gunzip', 'zlib.createGunzip')),
    sha256WasmVsNode: r2(med('sha256', 'wasm core (tspod)') / med('sha256', 'node:crypto')),
  }),
);
