import { describe, expect, it } from 'vitest';
import { digestBytes, newDigester, parseDigest } from '../../../../src/image/registry/digest.js';

describe('digests', () => {
  it('hashes incrementally like in one go', () => {
    const d = newDigester();
    d.update(Buffer.from('hello '));
    d.update(Buffer.from('world'));
    expect(d.digest()).toBe('sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    expect(digestBytes('hello world')).toBe('sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    expect(digestBytes('', 'sha512')).toMatch(/^sha512:cf83e135/);
  });

  it('validates digests', () => {
    expect(parseDigest(`sha256:${'a'.repeat(64)}`)).toEqual({ algorithm: 'sha256', hex: 'a'.repeat(64) });
    expect(() => parseDigest('sha256:abc')).toThrow(/invalid digest/);
    expect(() => parseDigest(`sha256:${'A'.repeat(64)}`)).toThrow(/invalid digest/);
    expect(() => parseDigest(`md5:${'a'.repeat(32)}`)).toThrow(/unsupported digest/);
    expect(() => parseDigest('latest')).toThrow(/unsupported digest/);
  });
});
