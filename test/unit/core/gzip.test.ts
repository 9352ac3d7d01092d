import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompressChunks, decompressSync } from '../../../src/core/decompress.js';
import { TspodError } from '../../../src/util/errors.js';
import { randomBytes, rng, run, sampleData, splitRandom } from './helpers.js';

async function streamed(parts: Uint8Array[]): Promise<Buffer> {
  async function* src() {
    yield* parts;
  }
  const out: Buffer[] = [];
  for await (const o of decompressChunks(src(), 'gzip', { gzipImpl: 'wasm' })) out.push(o);
  return Buffer.concat(out);
}

function member(data: Buffer, opts: { flags?: number; extra?: Buffer; name?: string; comment?: string; level?: number } = {}): Buffer {
  const flags = opts.flags ?? 0;
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 0, 3])];
  if (flags & 4) {
    const x = opts.extra ?? Buffer.from('XYZ');
    const len = Buffer.alloc(2);
    len.writeUInt16LE(x.length);
    parts.push(len, x);
  }
  if (flags & 8) parts.push(Buffer.from(`${opts.name ?? 'file.tar'}\0`, 'latin1'));
  if (flags & 16) parts.push(Buffer.from(`${opts.comment ?? 'a comment'}\0`, 'latin1'));
  if (flags & 2) {
    const hcrc = Buffer.alloc(2);
    hcrc.writeUInt16LE(zlib.crc32(Buffer.concat(parts)) & 0xffff);
    parts.push(hcrc);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(data), 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([...parts, zlib.deflateRawSync(data, { level: opts.level ?? 6 }), trailer]);
}

describe('gzip inflater (differential against gzip and Node zlib)', () => {
  const data = sampleData(2_000_000, 21);

  for (const level of ['-1', '-6', '-9']) {
    it(`decodes gzip ${level} in random chunk splits`, async () => {
      const gz = run('gzip', ['-c', '-n', level], data);
      expect((await streamed(splitRandom(gz, Number(level.slice(1))))).equals(data)).toBe(true);
    });
  }

  const strategies: [string, zlib.ZlibOptions][] = [
    ['stored (level 0)', { level: 0 }],
    ['Huffman only', { strategy: zlib.constants.Z_HUFFMAN_ONLY }],
    ['RLE', { strategy: zlib.constants.Z_RLE }],
    ['fixed codes', { strategy: zlib.constants.Z_FIXED }],
    ['filtered, small window', { strategy: zlib.constants.Z_FILTERED, windowBits: 9 }],
    ['level 9, memLevel 9', { level: 9, memLevel: 9 }],
  ];
  for (const [name, opts] of strategies) {
    it(`decodes zlib ${name}`, async () => {
      for (const d of [data.subarray(0, 300_000), randomBytes(100_000, 3), Buffer.alloc(0), Buffer.from('a')]) {
        const gz = zlib.gzipSync(d, opts);
        expect(decompressSync(gz, 'gzip').equals(d)).toBe(true);
        expect((await streamed(splitRandom(gz, d.length))).equals(d)).toBe(true);
      }
    });
  }

  it('decodes multi-member streams with every header field, and zero padding after the end', async () => {
    const a = sampleData(100_000, 1);
    const b = randomBytes(40_000, 2);
    const c = Buffer.alloc(0);
    const all = Buffer.concat([
      member(a, { flags: 8 }),
      member(b, { flags: 4 | 8 | 16 | 2, extra: randomBytes(300, 9) }),
      member(c, { flags: 16 }),
      run('gzip', ['-c'], a),
    ]);
    const want = Buffer.concat([a, b, c, a]);
    expect(run('gzip', ['-dc'], all).equals(want)).toBe(true);
    expect(zlib.gunzipSync(all).equals(want)).toBe(true);
    expect((await streamed(splitRandom(all, 3, 3000))).equals(want)).toBe(true);
    expect(decompressSync(Buffer.concat([all, Buffer.alloc(1000)]), 'gzip').equals(want)).toBe(true);
    expect(() => decompressSync(Buffer.concat([all, Buffer.from('junk')]), 'gzip')).toThrow(/trailing garbage/);
  });

  for (const coreCrc of [false, true]) {
    it(`checks CRC32 and ISIZE of every member (CRC32 by ${coreCrc ? 'the core' : 'the host'})`, () => {
      const one = run('gzip', ['-c'], data.subarray(0, 100_000));
      const gz = Buffer.concat([one, one]);
      expect(decompressSync(gz, 'gzip', { coreCrc }).length).toBe(200_000);
      for (const at of [one.length - 8, gz.length - 8]) {
        const badCrc = Buffer.from(gz);
        badCrc[at] ^= 1;
        expect(() => decompressSync(badCrc, 'gzip', { coreCrc })).toThrow(/CRC32 mismatch/);
      }
      for (const at of [one.length - 1, gz.length - 1]) {
        const badLen = Buffer.from(gz);
        badLen[at] ^= 1;
        expect(() => decompressSync(badLen, 'gzip', { coreCrc })).toThrow(/ISIZE/);
      }
      // A flipped byte inside a stored block changes the data but not its structure.
      const d = randomBytes(5000, 1);
      const stored = zlib.gzipSync(d, { level: 0 });
      stored[stored.length - 100] ^= 0xff;
      expect(() => decompressSync(stored, 'gzip', { coreCrc })).toThrow(/CRC32 mismatch/);
    });
  }

  it('rejects truncation at any point and foreign input', () => {
    const gz = run('gzip', ['-c'], sampleData(30_000, 4));
    for (let cut = 0; cut < gz.length; cut += Math.max(1, Math.floor(gz.length / 150))) {
      expect(() => decompressSync(gz.subarray(0, cut), 'gzip'), `cut ${cut}`).toThrow(TspodError);
    }
    expect(() => decompressSync(Buffer.from('plain text'), 'gzip')).toThrow(/not in gzip format/);
    expect(() => decompressSync(Buffer.alloc(0), 'gzip')).toThrow(/empty/);
  });

  it('fuzz: corrupted streams fail cleanly, and whatever we accept zlib accepts identically', () => {
    const r = rng(5);
    const srcs = [zlib.gzipSync(sampleData(40_000, 6)), zlib.gzipSync(sampleData(40_000, 7), { strategy: zlib.constants.Z_FIXED })];
    const deadline = Date.now() + 8000;
    let n = 0;
    let accepted = 0;
    while (Date.now() < deadline && n < 3000) {
      n++;
      const gz = Buffer.from(srcs[n % 2]);
      const flips = 1 + Math.floor(r() * 3);
      for (let i = 0; i < flips; i++) gz[10 + Math.floor(r() * (gz.length - 10))] ^= 1 << Math.floor(r() * 8);
      let ours: Buffer | undefined;
      try {
        ours = decompressSync(gz, 'gzip');
      } catch (e) {
        expect(e).toBeInstanceOf(TspodError);
      }
      let theirs: Buffer | undefined;
      try {
        theirs = zlib.gunzipSync(gz);
      } catch {
        theirs = undefined;
      }
      if (ours) {
        accepted++;
        expect(theirs && theirs.equals(ours), `case ${n}`).toBe(true);
      }
    }
    expect(n).toBeGreaterThan(50);
  });

  it('fuzz: random bytes after a valid header never hang or crash', () => {
    const r = rng(77);
    for (let k = 0; k < 300; k++) {
      const body = randomBytes(Math.floor(r() * 5000), k);
      const gz = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), body]);
      try {
        decompressSync(gz, 'gzip');
      } catch (e) {
        expect(e).toBeInstanceOf(TspodError);
      }
    }
  });

  it('Node zlib is selectable and gives the same bytes', async () => {
    const gz = run('gzip', ['-c'], data);
    async function* src() {
      yield* splitRandom(gz, 1);
    }
    const out: Buffer[] = [];
    for await (const o of decompressChunks(src(), 'gzip', { gzipImpl: 'node' })) out.push(o);
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it('bounds the header: a 2 MB file name is refused, not buffered forever', async () => {
    const hdr = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3]), Buffer.alloc(2_000_000, 0x41)]);
    await expect(streamed(splitRandom(hdr, 1))).rejects.toThrow(/gzip header too large/);
  });
});
