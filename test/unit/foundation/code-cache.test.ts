import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWithCodeCache } from '../../../src/code-cache.js';

describe('V8 code cache per command word', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-code-cache-'));
  const bundle = path.join(dir, 'cli.cjs');
  fs.writeFileSync(bundle, 'exports.main = async (argv) => argv.length; exports.other = () => 42;\n');
  const cacheFile = (flavour: string) => path.join(dir, `cli.cjs.${process.version}-${process.arch}.${flavour}.v8cache`);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Each load in a fresh Node, as each command is: within one process V8's in-memory
  // compilation cache answers for the same source, whether the cache file is good or not.
  const loader = path.join(dir, 'code-cache.cjs');
  fs.writeFileSync(loader, transformSync(fs.readFileSync(new URL('../../../src/code-cache.ts', import.meta.url), 'utf8'), { loader: 'ts', format: 'cjs' }).code);
  const runner = [
    `const { loadWithCodeCache } = require(${JSON.stringify(loader)});`,
    'const [bundle, flavour, ...argv] = process.argv.slice(1);',
    'const loaded = loadWithCodeCache(bundle, { useCache: true, flavour });',
    'loaded.cli.main(argv).then((n) => { loaded.done(); process.stdout.write(String(n)); });',
  ].join('\n');
  const runFresh = (flavour: string, ...argv: string[]): string => {
    const r = spawnSync(process.execPath, ['-e', runner, bundle, flavour, ...argv], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.stderr).toBe('');
    return r.stdout;
  };
  /** A cache file's bytes, inode and mtime. */
  const now = (file: string) => {
    const st = fs.statSync(file);
    return { bytes: fs.readFileSync(file), ino: st.ino, mtimeMs: st.mtimeMs };
  };
  /** The same, after setting its mtime far back: any write since then shows, in place or by rename. */
  const markOld = (file: string) => {
    fs.utimesSync(file, new Date('2001-01-01T00:00:00Z'), new Date('2001-01-01T00:00:00Z'));
    return now(file);
  };

  it('writes a cache for the word that ran, beside the bundle; a later process takes it and leaves it untouched', () => {
    expect(runFresh('run', 'a', 'b')).toBe('2');
    expect(fs.statSync(cacheFile('run')).size).toBeGreaterThan(0);
    const before = markOld(cacheFile('run'));
    expect(runFresh('run')).toBe('0');
    expect(runFresh('run', 'c')).toBe('1');
    // V8 took the cache: not a byte, not the file, not its mtime changed.
    expect(now(cacheFile('run'))).toEqual(before);
  });

  it('rewrites a cache made for other source (V8 rejects it), and keeps the new one', () => {
    const stale = markOld(cacheFile('run'));
    fs.writeFileSync(bundle, 'exports.main = async (argv) => argv.length + 100; exports.other = () => 43;\n');
    expect(runFresh('run')).toBe('100');
    const remade = now(cacheFile('run'));
    expect(remade.mtimeMs).toBeGreaterThan(stale.mtimeMs);
    expect(remade.bytes.equals(stale.bytes)).toBe(false);
    const kept = markOld(cacheFile('run'));
    expect(runFresh('run', 'x')).toBe('101');
    expect(now(cacheFile('run'))).toEqual(kept);
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
