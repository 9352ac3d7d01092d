import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLayerStream } from '../../../src/core/layer.js';
import { claimDecodeThread, decodeThreadsStarted, decodeWorkerPath, prestartDecodeThread, releaseDecodeThread } from '../../../src/core/off-thread.js';
import { core } from '../../../src/core/wasm.js';
import { TspodError } from '../../../src/util/errors.js';
import { randomBytes, rng, run, sampleData } from './helpers.js';

let dir: string;
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let tarBuf: Buffer;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-layer-'));
  const t = path.join(dir, 'tree');
  fs.mkdirSync(path.join(t, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(t, 'etc/os-release'), 'ID=test\n');
  fs.writeFileSync(path.join(t, 'data.bin'), sampleData(3_000_000, 4));
  fs.writeFileSync(path.join(t, 'etc/.wh.passwd'), '');
  fs.symlinkSync('os-release', path.join(t, 'etc/link'));
  tarBuf = run('tar', ['--format=pax', '-cf', '-', '-C', t, '.']);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function chunked(b: Buffer, seed = 1): AsyncIterable<Buffer> {
  return (async function* () {
    const r = rng(seed);
    for (let i = 0; i < b.length; ) {
      const n = 1 + Math.floor(r() * 100_000);
      yield b.subarray(i, i + n);
      i += n;
    }
  })();
}

async function consume(gen: AsyncGenerator<import('../../../src/core/tar.js').TarEntry, unknown>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of gen) {
    const h = createHash('sha256');
    for await (const c of e.body()) h.update(c);
    out.set(e.header.name, e.whiteout ? `whiteout:${e.whiteout.path}` : `${e.header.type}:${h.digest('hex').slice(0, 8)}`);
  }
  return out;
}

// Every case twice: decoded on the main thread, and on the worker thread (src/core/off-thread.ts).
for (const offThread of [false, true]) describe(offThread ? 'openLayerStream, decoding on a worker thread' : 'openLayerStream', () => {
  if (offThread) {
    beforeAll(() => expect(fs.existsSync(decodeWorkerPath()), 'dist/decode-worker.cjs: run npm run build first').toBe(true));
    afterAll(() => expect(decodeThreadsStarted()).toBeGreaterThan(60));
  }

  const variants: [string, string, string[] | null][] = [
    ['tar+gzip', 'application/vnd.oci.image.layer.v1.tar+gzip', ['gzip', '-c']],
    ['tar+zstd', 'application/vnd.oci.image.layer.v1.tar+zstd', ['zstd', '-q', '-c']],
    ['docker gzip', 'application/vnd.docker.image.rootfs.diff.tar.gzip', ['gzip', '-9', '-c']],
    ['tar', 'application/vnd.oci.image.layer.v1.tar', null],
  ];
  for (const [name, mediaType, cmd] of variants) {
    it(`${name}: entries stream out and both digests verify`, async () => {
      const blob = cmd ? run(cmd[0], cmd.slice(1), tarBuf) : tarBuf;
      let info: { size: number } | undefined;
      const entries = await consume(openLayerStream(chunked(blob), { offThread, mediaType, digest: sha(blob), diffID: sha(tarBuf), onComplete: (i) => (info = i) }));
      expect(entries.get('./etc/os-release')).toMatch(/^file:/);
      expect(entries.get('./etc/link')).toMatch(/^symlink:/);
      expect(entries.get('./etc/.wh.passwd')).toBe('whiteout:etc/passwd');
      expect(entries.get('./data.bin')).toBe(`file:${createHash('sha256').update(sampleData(3_000_000, 4)).digest('hex').slice(0, 8)}`);
      expect(info!.size).toBe(tarBuf.length);
      // Sniffed, without a media type.
      expect((await consume(openLayerStream(chunked(blob, 2), { offThread, digest: sha(blob) }))).size).toBe(entries.size);
    });
  }

  it('rejects a wrong digest or diffID after streaming, with a clear error', async () => {
    const blob = run('gzip', ['-c'], tarBuf);
    const mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip';
    await expect(consume(openLayerStream(chunked(blob), { offThread, mediaType, digest: sha(Buffer.from('x')) }))).rejects.toThrow(/layer sha256:.* is corrupt/);
    await expect(consume(openLayerStream(chunked(blob), { offThread, mediaType, digest: sha(blob), diffID: sha(blob) }))).rejects.toThrow(/uncompressed layer .* is corrupt/);
    await expect(consume(openLayerStream(chunked(blob), { offThread, mediaType, digest: 'sha512:abcd' }))).rejects.toThrow(/unsupported algorithm/);
    await expect(consume(openLayerStream(chunked(blob), { offThread, mediaType: 'application/vnd.oci.image.config.v1+json' }))).rejects.toThrow(/Unsupported layer media type/);
  });

  it('rejects truncated, corrupt and mislabelled blobs with TspodErrors, never hangs', async () => {
    const r = rng(11);
    for (const cmd of [['gzip', '-c'], ['zstd', '-q', '-c']]) {
      const blob = run(cmd[0], cmd.slice(1), tarBuf);
      for (let k = 0; k < 25; k++) {
        const m = Buffer.from(blob.subarray(0, k % 2 ? Math.floor(r() * blob.length) : blob.length));
        if (k % 2 === 0) for (let i = 0; i < 3; i++) m[Math.floor(r() * m.length)] ^= 1 + Math.floor(r() * 255);
        await expect(consume(openLayerStream(chunked(m, k), { offThread, digest: sha(blob), diffID: sha(tarBuf) }))).rejects.toThrow(TspodError);
      }
    }
    const zst = run('zstd', ['-q', '-c'], tarBuf);
    await expect(consume(openLayerStream(chunked(zst), { offThread, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }))).rejects.toThrow(/not in gzip format/);
    await expect(consume(openLayerStream(chunked(randomBytes(10000, 1)), { offThread }))).rejects.toThrow(TspodError);
  });

  it('caps decompression bombs when asked', async () => {
    const bomb = run('zstd', ['-q', '-19', '-c'], Buffer.alloc(50_000_000));
    await expect(consume(openLayerStream(chunked(bomb), { offThread, maxUncompressedSize: 10_000_000 }))).rejects.toThrow(/limit/);
  });

  for (const [name, cmd] of [
    ['gzip', ['gzip', '-1', '-c']],
    ['zstd --long=27', ['zstd', '-q', '-1', '--long=27', '-c']],
  ] as const) {
    it(`${name}: memory stays constant on a 400 MB layer`, async () => {
      const big = path.join(dir, 'big');
      fs.mkdirSync(big, { recursive: true });
      spawnSync('truncate', ['-s', '400M', path.join(big, 'zeros')]);
      fs.writeFileSync(path.join(big, 'noise'), randomBytes(2_000_000, 5));
      const blobPath = path.join(dir, `big.${name.split(' ')[0]}`);
      const r = spawnSync('bash', ['-c', `tar -cf - -C ${big} . | ${cmd.join(' ')} > ${blobPath}`]);
      expect(r.status).toBe(0);
      const blob = fs.readFileSync(blobPath);
      // Retained JS-side buffers (after a forced GC, so garbage not yet collected does
      // not count), not counting the core's own memory (checked separately).
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as () => void;
      const jsBuffers = () => {
        gc();
        return process.memoryUsage().arrayBuffers - (offThread ? 0 : core().memory.buffer.byteLength);
      };
      const baseline = jsBuffers();
      let peak = 0;
      let total = 0;
      let next = 0;
      for await (const e of openLayerStream(fs.createReadStream(blobPath, { highWaterMark: 256 * 1024 }), { offThread, digest: sha(blob) })) {
        for await (const c of e.body()) {
          total += c.length;
          if (total >= next) {
            peak = Math.max(peak, jsBuffers() - baseline);
            next += 50 * 1024 * 1024;
          }
        }
      }
      expect(total).toBe(400 * 1024 * 1024 + 2_000_000);
      // A few MiB in flight, whatever the layer size (400 MB here). The bound leaves room
      // for array buffers V8 frees lazily after a GC (seen up to ~40 MiB under load).
      expect(peak).toBeLessThan(64 * 1024 * 1024);
      if (!offThread) expect(core().memory.buffer.byteLength).toBeLessThan(160 * 1024 * 1024);
    });
  }

  it('stopping early frees the decoder and closes the source', async () => {
    const p = path.join(dir, 'early.tar.zst');
    fs.writeFileSync(p, run('zstd', ['-q', '-c'], tarBuf));
    const src = fs.createReadStream(p, { highWaterMark: 16 * 1024 });
    for await (const e of openLayerStream(src, { offThread })) {
      expect(e.header.name).toBeTruthy();
      break;
    }
    await new Promise((r) => setImmediate(r));
    expect(src.destroyed).toBe(true);
    // The thread is free again for the next layer.
    if (offThread) {
      expect(claimDecodeThread()).toBe(true);
      releaseDecodeThread();
    }
  });

  if (offThread) {
    it('a pre-started thread is the one the next layer uses', async () => {
      prestartDecodeThread();
      const before = decodeThreadsStarted();
      prestartDecodeThread(); // one at most
      expect(decodeThreadsStarted()).toBe(before);
      const blob = run('gzip', ['-c'], tarBuf);
      const entries = await consume(openLayerStream(chunked(blob), { offThread, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(blob), diffID: sha(tarBuf) }));
      expect(entries.get('./etc/os-release')).toMatch(/^file:/);
      expect(decodeThreadsStarted()).toBe(before);
      // Taken: the next layer starts its own.
      await consume(openLayerStream(chunked(blob), { offThread, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(blob) }));
      expect(decodeThreadsStarted()).toBe(before + 1);
    });

    it('holds the source back while the consumer is slow (bounded memory, both ways)', async () => {
      // 48 MiB of uncompressed tar: output is input, so only the bounds limit what is read ahead.
      const t = path.join(dir, 'slow');
      fs.mkdirSync(t, { recursive: true });
      fs.writeFileSync(path.join(t, 'a'), randomBytes(24 << 20, 7));
      fs.writeFileSync(path.join(t, 'b'), randomBytes(24 << 20, 8));
      const tar = run('tar', ['-cf', '-', '-C', t, 'a', 'b']);
      let pulled = 0;
      const source = (async function* () {
        for (let i = 0; i < tar.length; i += 64 * 1024) {
          pulled += Math.min(64 * 1024, tar.length - i);
          yield tar.subarray(i, i + 64 * 1024);
        }
      })();
      let seen = 0;
      const aheadWhilePaused: number[] = [];
      for await (const e of openLayerStream(source, { offThread, digest: sha(tar), diffID: sha(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar' })) {
        for await (const c of e.body()) {
          seen += c.length;
          if (aheadWhilePaused.length < 3 && seen > (aheadWhilePaused.length + 1) * (8 << 20)) {
            await new Promise((r) => setTimeout(r, 300));
            aheadWhilePaused.push(pulled - seen);
          }
        }
      }
      expect(seen).toBe(48 << 20);
      // What was read beyond what the consumer had: the two bounds (1 + 2 MiB) and the pieces in hand, never the rest of the layer.
      for (const ahead of aheadWhilePaused) expect(ahead).toBeLessThan(6 << 20);
      expect(aheadWhilePaused).toHaveLength(3);
    });
  }
});
