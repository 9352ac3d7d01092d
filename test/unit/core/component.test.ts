import { createHash } from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sampleData } from './helpers.js';

// The jco-transpiled component (wasm/dist/jco) is the same core behind the component
// model's canonical ABI; check it loads and agrees with the host.
describe('component built with jco', () => {
  it('SHA256SUMS lists every file in wasm/dist with its checksum', () => {
    const dist = new URL('../../../wasm/dist/', import.meta.url);
    const lines = fs.readFileSync(new URL('SHA256SUMS', dist), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) {
      const [hex, name] = line.split(/\s+/);
      const actual = createHash('sha256').update(fs.readFileSync(new URL(name, dist))).digest('hex');
      expect(actual, name).toBe(hex);
    }
  });

  it('exports sha256 and decompress through the canonical ABI', async () => {
    const m = (await import('../../../wasm/dist/jco/tspod_core.js')) as unknown as {
      sha256(d: Uint8Array): Uint8Array;
      decompress(kind: number, d: Uint8Array): Uint8Array;
    };
    const data = sampleData(300_000, 5);
    expect(Buffer.from(m.sha256(data)).toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(Buffer.from(m.decompress(1, zlib.gzipSync(data))).equals(data)).toBe(true);
    expect(() => m.decompress(1, Buffer.from('not gzip at all'))).toThrow();
  });
});
