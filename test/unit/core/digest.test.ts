import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDigester, createHasher, parseDigest, sha256Digest } from '../../../src/core/digest.js';
import { TspodError } from '../../../src/util/errors.js';
import { randomBytes, rng, splitRandom } from './helpers.js';

const vectors: [string, string][] = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  [
    'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  ],
];

describe('sha256', () => {
  for (const impl of ['node', 'wasm'] as const) {
    it(`${impl}: FIPS 180 vectors`, () => {
      for (const [msg, hex] of vectors) expect(sha256Digest(Buffer.from(msg), impl)).toBe(`sha256:${hex}`);
      const h = createHasher(impl);
      const a = Buffer.alloc(1000, 'a');
      for (let i = 0; i < 1000; i++) h.update(a);
      expect(h.digestHex()).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
    });
  }

  it('wasm matches node:crypto on every length 0..300 and on random splits', () => {
    const data = randomBytes(300, 1);
    for (let n = 0; n <= 300; n++) {
      expect(sha256Digest(data.subarray(0, n), 'wasm')).toBe(sha256Digest(data.subarray(0, n), 'node'));
    }
    const r = rng(7);
    for (let k = 0; k < 20; k++) {
      const big = randomBytes(Math.floor(r() * 700_000), k);
      const h = createHasher('wasm');
      for (const c of splitRandom(big, k)) h.update(c);
      expect(h.digestHex()).toBe(createHash('sha256').update(big).digest('hex'));
    }
  });
});

describe('Digester', () => {
  const data = randomBytes(100_000, 3);
  const good = `sha256:${createHash('sha256').update(data).digest('hex')}`;

  for (const impl of ['node', 'wasm'] as const) {
    it(`${impl}: verifies incrementally and rejects a mismatch`, () => {
      const d = createDigester(good, { impl, what: 'layer' });
      for (const c of splitRandom(data, 2)) d.update(c);
      expect(d.bytes).toBe(data.length);
      expect(d.verify()).toBe(good);

      const bad = createDigester(good, { impl, what: 'layer' });
      bad.update(data.subarray(1));
      expect(() => bad.verify()).toThrow(TspodError);
      expect(() => bad.verify()).toThrow(/layer is corrupt.*sha256:[0-9a-f]{64}/);
    });
  }

  it('rejects other algorithms and malformed digests with clear messages', () => {
    expect(() => createDigester(`sha512:${'a'.repeat(128)}`)).toThrow(/unsupported algorithm "sha512".*sha256 digests only/);
    expect(() => createDigester('md5:abc')).toThrow(TspodError);
    expect(() => parseDigest('sha256:XYZ')).toThrow(/not a valid sha256 digest/);
    expect(() => parseDigest(`sha256:${'A'.repeat(64)}`)).toThrow(TspodError);
    expect(() => parseDigest('abc')).toThrow(/not of the form/);
    expect(parseDigest(good)).toEqual({ algorithm: 'sha256', hex: good.slice(7) });
  });
});
