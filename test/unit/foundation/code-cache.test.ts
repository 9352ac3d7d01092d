import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWithCodeCache } from '../../../src/code-cache.js';

describe('V8 code cache per command word', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-code-cache-'));
  const bundle = path.join(dir, 'cli.cjs');
  fs.writeFileSync(bundle, 'exports.main = async (argv) => argv.length; exports.other = () => 42;\n');
  const cacheFile = (flavour: string) => path.join(dir, `cli.cjs.${process.version}-${process.arch}.${flavour}.v8cache`);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes a cache for the word that ran, beside the bundle, and reuses it untouched', async () => {
    const first = loadWithCodeCache<{ main: (a: string[]) => Promise<number> }>(bundle, { useCache: true, flavour: 'run' });
    expect(await first.cli.main(['a', 'b'])).toBe(2);
    first.done();
    const made = fs.statSync(cacheFile('run'));
    expect(made.size).toBeGreaterThan(0);

    const second = loadWithCodeCache<{ main: (a: string[]) => Promise<number> }>(bundle, { useCache: true, flavour: 'run' });
    expect(await second.cli.main([])).toBe(0);
    second.done();
    // V8 took the cache: nothing was written again.
    expect(fs.statSync(cacheFile('run')).ino).toBe(made.ino);
  });

  it('keeps another word apart, and remakes a cache V8 refuses', () => {
    const ps = loadWithCodeCache(bundle, { useCache: true, flavour: 'ps' });
    ps.done();
    expect(fs.existsSync(cacheFile('ps'))).toBe(true);
    fs.writeFileSync(cacheFile('ps'), 'not a cache');
    // New source, so V8's in-memory compilation cache (one process here) cannot answer instead.
    fs.writeFileSync(bundle, 'exports.main = async () => 7;\n');
    const again = loadWithCodeCache(bundle, { useCache: true, flavour: 'ps' });
    again.done();
    expect(fs.readFileSync(cacheFile('ps')).toString('latin1')).not.toBe('not a cache');
  });
});
