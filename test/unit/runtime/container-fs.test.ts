import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ContainerRoot, TreeWriter, walkTree, writeEntries } from '../../../src/runtime/container-fs.js';
import { parseCopyTarget } from '../../../src/runtime/cp.js';
import { parseUntil, pruneFilter } from '../../../src/runtime/prune.js';
import { DEFAULT_DESCRIPTORS, goDuration, parseDescriptors } from '../../../src/runtime/top.js';
import type { ContainerRecord } from '../../../src/runtime/container-store.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-cfs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fake container root with hostile links, beside a "host" directory they aim at. */
function makeRoot(): { root: string; hostDir: string } {
  const base = fs.mkdtempSync(path.join(tmp, 'r-'));
  const root = path.join(base, 'root');
  const hostDir = path.join(base, 'host');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'data', 'sub'), { recursive: true });
  fs.mkdirSync(hostDir);
  fs.writeFileSync(path.join(hostDir, 'secret'), 'host secret\n');
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  fs.symlinkSync('/', path.join(root, 'etc', 'escape'));
  fs.symlinkSync(hostDir, path.join(root, 'hostlink')); // absolute: the host's path, which the container lacks
  fs.symlinkSync('../../..', path.join(root, 'data', 'sub', 'up'));
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  return { root, hostDir };
}

describe('ContainerRoot.resolve', () => {
  it('resolves symlinks inside the root: absolute targets and .. never leave it', () => {
    const { root } = makeRoot();
    const r = new ContainerRoot(root);
    try {
      expect(r.resolve('/etc/escape/etc/passwd', true).path).toBe('/etc/passwd');
      expect(fs.readFileSync(r.resolve('/etc/escape/etc/passwd', true).host, 'utf8')).toMatch(/^root:/);
      expect(r.resolve('/data/sub/up/etc', true).path).toBe('/etc');
      expect(r.resolve('/../../../etc/passwd', true).path).toBe('/etc/passwd');
      // The host path the link names does not exist in the container: not found, never the host's file.
      expect(() => r.resolve('/hostlink/secret', true)).toThrow(/ENOENT/);
      const missing = r.resolve('/data/newfile', true);
      expect(missing.path).toBe('/data/newfile');
      expect(missing.stat).toBeUndefined();
      // Final links are kept unless asked to follow.
      expect(r.resolve('/etc/escape', false).stat?.isSymbolicLink()).toBe(true);
      expect(r.resolve('/etc/escape', true).path).toBe('/');
      expect(() => r.resolve('/loop1', true)).toThrow(/ELOOP/);
      expect(() => r.resolve('/etc/passwd/x', true)).toThrow(/ENOTDIR/);
    } finally {
      r.close();
    }
  });

  it('maps the destinations of mounts to their sources (a stopped container)', () => {
    const { root, hostDir } = makeRoot();
    const r = new ContainerRoot(root, [{ destination: '/mnt/vol', source: hostDir }]);
    try {
      fs.mkdirSync(path.join(root, 'mnt'));
      expect(fs.readFileSync(r.resolve('/mnt/vol/secret', true).host, 'utf8')).toBe('host secret\n');
    } finally {
      r.close();
    }
  });
});

describe('TreeWriter', () => {
  it('replaces symlinks in its way instead of writing through them, and refuses names with ..', async () => {
    const { root, hostDir } = makeRoot();
    fs.symlinkSync(path.join(hostDir, 'secret'), path.join(root, 'data', 'target'));
    fs.symlinkSync(hostDir, path.join(root, 'data', 'dirlink'));
    const w = new TreeWriter(path.join(root, 'data'), { owner: 'none', overwrite: false, where: 'the test' });
    const entries = [
      { header: { name: 'target', type: 'file' as const, size: 4, mode: 0o640, mtime: 1000 }, body: Buffer.from('new\n') },
      { header: { name: 'dirlink/x', type: 'file' as const, size: 2, mode: 0o644, mtime: 1000 }, body: Buffer.from('x\n') },
    ];
    await expect(writeEntries(w, entries)).rejects.toThrow(/a part of its path is not a directory/);
    w.close();
    expect(fs.readFileSync(path.join(root, 'data', 'target'), 'utf8')).toBe('new\n');
    expect(fs.lstatSync(path.join(root, 'data', 'target')).mode & 0o777).toBe(0o640);
    expect(fs.readFileSync(path.join(hostDir, 'secret'), 'utf8')).toBe('host secret\n');
    expect(fs.readdirSync(hostDir)).toEqual(['secret']);
    const w2 = new TreeWriter(path.join(root, 'data'), { owner: 'none', overwrite: false, where: 'the test' });
    await expect(writeEntries(w2, [{ header: { name: 'sub/../../x', type: 'file' as const, size: 0 } }])).rejects.toThrow(/climbs out/);
    w2.close();
  });

  it('copies a tree with walkTree: symlinks as links, hard links kept, times kept', async () => {
    const src = fs.mkdtempSync(path.join(tmp, 'src-'));
    fs.mkdirSync(path.join(src, 'd'));
    fs.writeFileSync(path.join(src, 'd', 'a'), 'a\n');
    fs.linkSync(path.join(src, 'd', 'a'), path.join(src, 'd', 'hard'));
    fs.symlinkSync('/nowhere', path.join(src, 'd', 'l'));
    fs.utimesSync(path.join(src, 'd', 'a'), 1_000_000, 1_000_000);
    const dest = fs.mkdtempSync(path.join(tmp, 'dst-'));
    const w = new TreeWriter(dest, { owner: 'none', overwrite: false, where: 'the test' });
    await writeEntries(w, walkTree(path.join(src, 'd'), { name: 'copy' }));
    w.close();
    expect(fs.readlinkSync(path.join(dest, 'copy', 'l'))).toBe('/nowhere');
    expect(fs.statSync(path.join(dest, 'copy', 'a')).ino).toBe(fs.statSync(path.join(dest, 'copy', 'hard')).ino);
    expect(fs.statSync(path.join(dest, 'copy', 'a')).mtimeMs).toBe(1_000_000_000);
  });
});

describe('cp, top and prune arguments', () => {
  it('tells container paths from host paths', () => {
    expect(parseCopyTarget('web:/etc/x')).toEqual({ container: 'web', path: '/etc/x' });
    expect(parseCopyTarget('web:')).toEqual({ container: 'web', path: '/' });
    expect(parseCopyTarget('./a:b')).toEqual({ path: './a:b' });
    expect(parseCopyTarget('/tmp/a:b')).toEqual({ path: '/tmp/a:b' });
    expect(parseCopyTarget('dir/a:b')).toEqual({ path: 'dir/a:b' });
    expect(parseCopyTarget('-')).toEqual({ path: '-' });
  });

  it("formats durations as Go's time.Duration does", () => {
    expect(goDuration(0)).toBe('0s');
    expect(goDuration(1.5e9)).toBe('1.5s');
    expect(goDuration(10e6)).toBe('10ms');
    expect(goDuration(65e9)).toBe('1m5s');
    expect(goDuration(3723.25e9)).toBe('1h2m3.25s');
    expect(goDuration(3600e9)).toBe('1h0m0s');
  });

  it("takes psgo's descriptors and AIX codes, and leaves ps options to ps", () => {
    expect(parseDescriptors([])).toEqual(DEFAULT_DESCRIPTORS);
    expect(parseDescriptors(['pid,user', 'args'])).toEqual(['pid', 'user', 'args']);
    expect(parseDescriptors(['%p', '%C', '%a'])).toEqual(['pid', 'pcpu', 'args']);
    expect(parseDescriptors(['-ef'])).toBeUndefined();
    expect(parseDescriptors(['pid', 'bogus'])).toBeUndefined();
  });

  it('filters prune candidates by label, label! and until', () => {
    const rec = (labels: Record<string, string>, created: string) => ({ labels, created, config: { labels } }) as unknown as ContainerRecord;
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(parseUntil('1h', now)).toBe(now - 3.6e6);
    expect(parseUntil('1h30m', now)).toBe(now - 5.4e6);
    expect(parseUntil('1700000000')).toBe(1_700_000_000_000);
    expect(parseUntil('2026-01-01T00:00:00Z')).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(() => parseUntil('yesterday')).toThrow(/invalid until filter/);
    const old = rec({ keep: 'yes' }, '2020-01-01T00:00:00Z');
    const fresh = rec({}, new Date().toISOString());
    expect(pruneFilter(['label=keep'])(old)).toBe(true);
    expect(pruneFilter(['label!=keep'])(old)).toBe(false);
    expect(pruneFilter(['label=keep=no'])(old)).toBe(false);
    expect(pruneFilter(['until=24h'])(old)).toBe(true);
    expect(pruneFilter(['until=24h'])(fresh)).toBe(false);
    expect(() => pruneFilter(['bogus=1'])).toThrow('bogus is an invalid filter');
  });
});
