import { describe, expect, it } from 'vitest';
import { compressChunks } from '../../../src/core/compress.js';
import { decompressChunks, decompressSync, WasmDecoder } from '../../../src/core/decompress.js';
import { core, discardCore } from '../../../src/core/wasm.js';
import { TspodError } from '../../../src/util/errors.js';
import { randomBytes, rng, run, sampleData, splitRandom } from './helpers.js';

const zstd = (args: string[], input: Uint8Array) => run('zstd', ['-q', '-c', ...args], input);

async function streamed(parts: Uint8Array[]): Promise<Buffer> {
  async function* src() {
    yield* parts;
  }
  const out: Buffer[] = [];
  for await (const o of decompressChunks(src(), 'zstd')) out.push(o);
  return Buffer.concat(out);
}

describe('zstd decoder (differential against the zstd CLI)', () => {
  const data = sampleData(1_500_000, 11);

  for (const args of [['-1'], ['-3'], ['-19'], ['--ultra', '-22'], ['--no-check'], ['-3', '--long=27'], ['--fast=5'], ['-6', '-B64KiB']]) {
    it(`decodes zstd ${args.join(' ')} in random chunk splits`, async () => {
      const z = zstd(args, data);
      expect((await streamed(splitRandom(z, args.length * 13))).equals(data)).toBe(true);
    });
  }

  it('decodes what zstd writes to a pipe with a 128 MiB window (--long=27, unknown size)', async () => {
    // Piped input: no content size in the header, so the frame declares the full 2^27 window.
    const z = zstd(['--long=27', '-'], data);
    expect((await streamed([z])).equals(data)).toBe(true);
  });

  it('rejects windows above 128 MiB (--long=28) with a clear error', () => {
    const z = run('zstd', ['-q', '-c', '--long=28', '-'], data.subarray(0, 1000));
    expect(() => decompressSync(z, 'zstd')).toThrow(/128 MiB/);
  });

  it('handles multiple frames, empty frames and skippable frames', async () => {
    const a = sampleData(200_000, 1);
    const b = randomBytes(70_000, 2);
    const skip = Buffer.alloc(8 + 13);
    skip.writeUInt32LE(0x184d2a53, 0);
    skip.writeUInt32LE(13, 4);
    const joined = Buffer.concat([skip, zstd(['-3'], a), zstd([], Buffer.alloc(0)), skip, zstd(['-19'], b), skip]);
    expect(run('zstd', ['-q', '-dc'], joined).equals(Buffer.concat([a, b]))).toBe(true);
    expect((await streamed(splitRandom(joined, 5, 5000))).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('detects a content checksum mismatch', () => {
    const z = Buffer.from(zstd(['-3'], data));
    z[z.length - 2] ^= 0x40;
    expect(() => run('zstd', ['-q', '-dc'], z)).toThrow();
    expect(() => decompressSync(z, 'zstd')).toThrow(/checksum/i);
  });

  it('rejects truncation at any point and empty or foreign input', () => {
    const z = zstd(['-3'], sampleData(20_000, 4));
    for (let cut = 0; cut < z.length; cut += Math.max(1, Math.floor(z.length / 97))) {
      expect(() => decompressSync(z.subarray(0, cut), 'zstd'), `cut ${cut}`).toThrow(TspodError);
    }
    expect(() => decompressSync(Buffer.from('hello, not zstd'), 'zstd')).toThrow(/Unknown frame descriptor|zstd/);
  });

  it('fuzz: corrupted frames fail cleanly or agree with the zstd CLI', () => {
    const r = rng(99);
    const src = zstd(['-3'], sampleData(50_000, 8));
    const deadline = Date.now() + 8000;
    let n = 0;
    while (Date.now() < deadline && n < 300) {
      n++;
      const z = Buffer.from(src);
      const flips = 1 + Math.floor(r() * 4);
      for (let i = 0; i < flips; i++) z[Math.floor(r() * z.length)] = Math.floor(r() * 256);
      let ours: Buffer | Error;
      try {
        ours = decompressSync(z, 'zstd');
      } catch (e) {
        expect(e).toBeInstanceOf(TspodError);
        ours = e as Error;
      }
      let cli: Buffer | Error;
      try {
        cli = run('zstd', ['-q', '-dc'], z);
      } catch (e) {
        cli = e as Error;
      }
      if (Buffer.isBuffer(ours)) {
        expect(Buffer.isBuffer(cli) && cli.equals(ours), `case ${n}`).toBe(true);
      } else {
        expect(Buffer.isBuffer(cli), `case ${n}: CLI accepted what we rejected: ${ours.message}`).toBe(false);
      }
    }
  });

  it('output arrives in bounded pieces, pulled on demand', () => {
    const z = zstd(['-19'], Buffer.alloc(50_000_000));
    const dec = new WasmDecoder('zstd');
    let pieces = 0;
    let total = 0;
    for (const piece of dec.feed(z, true)) {
      expect(piece.length).toBeLessThanOrEqual(256 * 1024);
      pieces++;
      total += piece.length;
    }
    dec.free();
    expect(total).toBe(50_000_000);
    expect(pieces).toBeGreaterThan(150);
  });

  for (const level of [1, 3, 19]) {
    it(`compressor at level ${level}: the zstd CLI decodes it, with a content checksum`, async () => {
      const d = sampleData(1_000_000, level);
      async function* src() {
        yield* splitRandom(d, level);
      }
      const parts: Buffer[] = [];
      for await (const p of compressChunks(src(), 'zstd', { level })) parts.push(p);
      const z = Buffer.concat(parts);
      expect(z.length).toBeLessThan(d.length);
      expect(run('zstd', ['-q', '-dc'], z).equals(d)).toBe(true);
      // Frame header descriptor: Content_Checksum_flag (bit 2) is set.
      expect(z.readUInt32LE(0)).toBe(0xfd2fb528);
      expect(z[4] & 4).toBe(4);
      expect(decompressSync(z, 'zstd').equals(d)).toBe(true);
    });
  }

  it('survives the core memory growing under a call (compressor input staging)', async () => {
    discardCore();
    const c = core();
    const d = sampleData(1_000_000, 9);
    let grewDuringStaging = false;
    async function* src() {
      // Leave the allocator almost no free space, so staging the first 128 KiB piece
      // must grow the memory (and detach any view taken before).
      const grows = () => {
        const start = c.memory.buffer.byteLength;
        let k = 0;
        while (c.memory.buffer.byteLength === start) {
          c.alloc(4096);
          k++;
        }
        return k;
      };
      grows();
      const k = grows();
      for (let i = 0; i < k - 3; i++) c.alloc(4096);
      const before = c.memory.buffer.byteLength;
      yield d.subarray(0, 500_000);
      grewDuringStaging = c.memory.buffer.byteLength > before;
      yield d.subarray(500_000);
    }
    const parts: Buffer[] = [];
    for await (const p of compressChunks(src(), 'zstd', { level: 3 })) parts.push(p);
    expect(grewDuringStaging).toBe(true);
    expect(run('zstd', ['-q', '-dc'], Buffer.concat(parts)).equals(d)).toBe(true);
    discardCore();
  });

  it('a skippable frame that claims 4 GiB and stops short is an error, not a wait', () => {
    const skip = Buffer.alloc(8 + 1000);
    skip.writeUInt32LE(0x184d2a50, 0);
    skip.writeUInt32LE(0xffffffff, 4);
    expect(() => decompressSync(skip, 'zstd')).toThrow(/unexpected end/);
  });
});
