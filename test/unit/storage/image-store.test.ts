import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TarEntry, TarHeader } from '../../../src/core/index.js';
import { humanSize } from '../../../src/image/present.js';
import { imageFilter, sortRows } from '../../../src/image/filters.js';
import { type ImageDb, type ImageRecord, lookupImage, normalizeName, splitName } from '../../../src/storage/image-store.js';
import { chainIDs, layerRefCounts } from '../../../src/storage/layer-store.js';
import { LayerUnpacker, safeComponents } from '../../../src/storage/unpack.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-unit-storage-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const hex = (c: string) => c.repeat(64);
function image(id: string, names: string[], created = '2024-01-01T00:00:00Z', extra: Partial<ImageRecord> = {}): ImageRecord {
  return { id, names, digest: `sha256:${hex('d')}`, digests: [`sha256:${hex('d')}`], manifestMediaType: 'x', layers: [], created, added: created, size: 1, ...extra };
}

describe('names and lookup', () => {
  const db: ImageDb = {
    version: 1,
    images: {
      [hex('a')]: image(hex('a'), ['docker.io/library/busybox:latest', '127.0.0.1:5000/fixtures/busybox:v1']),
      [hex('b')]: image(hex('b'), ['localhost/myapp:latest'], '2024-02-01T00:00:00Z'),
      [hex('c')]: image(hex('c'), [], '2023-01-01T00:00:00Z', { digest: `sha256:${hex('e')}`, digests: [`sha256:${hex('e')}`] }),
    },
  };

  it('finds by full ID, sha256: ID, unique prefix, full and short names, digest', () => {
    expect(lookupImage(db, hex('a'))?.id).toBe(hex('a'));
    expect(lookupImage(db, `sha256:${hex('b')}`)?.id).toBe(hex('b'));
    expect(lookupImage(db, 'cccc')?.id).toBe(hex('c'));
    expect(lookupImage(db, 'busybox')?.id).toBe(hex('a'));
    expect(lookupImage(db, 'docker.io/busybox:latest')?.id).toBe(hex('a'));
    expect(lookupImage(db, 'fixtures/busybox:v1')?.id).toBe(hex('a'));
    expect(lookupImage(db, 'myapp')?.id).toBe(hex('b'));
    expect(lookupImage(db, `busybox@sha256:${hex('d')}`)?.id).toBe(hex('a'));
    expect(lookupImage(db, 'busybox:v2')).toBeUndefined();
    expect(lookupImage(db, 'quay.io/busybox')).toBeUndefined();
    expect(lookupImage(db, 'nosuch')).toBeUndefined();
  });

  it('normalizes names as Podman tags them and splits them for the table', () => {
    expect(normalizeName('myapp')).toBe('localhost/myapp:latest');
    expect(normalizeName('me/app:1')).toBe('localhost/me/app:1');
    expect(normalizeName('quay.io/me/app')).toBe('quay.io/me/app:latest');
    expect(splitName('127.0.0.1:5000/a/b:v1')).toEqual({ repository: '127.0.0.1:5000/a/b', tag: 'v1' });
    expect(splitName(`quay.io/a@sha256:${hex('f')}`)).toEqual({ repository: 'quay.io/a', tag: '<none>', digest: `sha256:${hex('f')}` });
  });

  it('filters and sorts like podman images', () => {
    const all = Object.values(db.images);
    const ids = (f: string[]) => all.filter(imageFilter(f, all)).map((i) => i.id[0]).sort();
    expect(ids(['dangling=true'])).toEqual(['c']);
    expect(ids(['reference=busybox'])).toEqual(['a']);
    expect(ids(['reference=*/fixtures/*'])).toEqual(['a']);
    expect(ids(['reference=myapp:latest'])).toEqual(['b']);
    expect(ids(['before=myapp'])).toEqual(['a', 'c']);
    expect(ids(['since=busybox'])).toEqual(['b']);
    expect(() => ids(['nope=1'])).toThrow(/unsupported image filter "nope"/);
    const rows = [{ Repository: 'b', Tag: 't', Id: '2', Created: 1, rawSize: 5 }, { Repository: 'a', Tag: 't', Id: '1', Created: 2, rawSize: 9 }];
    expect(sortRows(rows, 'repository').map((r) => r.Repository)).toEqual(['a', 'b']);
    expect(sortRows(rows, 'created').map((r) => r.Created)).toEqual([2, 1]);
    expect(sortRows(rows, 'size').map((r) => r.rawSize)).toEqual([5, 9]);
  });

  it('prints sizes as Go units.HumanSizeWithPrecision(3)', () => {
    expect(humanSize(512)).toBe('512 B');
    expect(humanSize(4_510_000)).toBe('4.51 MB');
    expect(humanSize(1_234)).toBe('1.23 kB');
    expect(humanSize(1_000_000_000)).toBe('1 GB');
  });
});

describe('layers', () => {
  it('computes chain IDs as the OCI image spec does', () => {
    const d = [`sha256:${hex('1')}`, `sha256:${hex('2')}`];
    const c = chainIDs(d);
    expect(c[0]).toBe(d[0]);
    expect(c[1]).toBe(`sha256:${crypto.createHash('sha256').update(`${d[0]} ${d[1]}`).digest('hex')}`);
    expect(layerRefCounts([{ layers: c }, { layers: [c[0]!] }]).get(c[0]!)).toBe(2);
  });

  it('refuses names that are absolute or contain ..', () => {
    expect(safeComponents('./a/b/', 'x')).toEqual(['a', 'b']);
    expect(() => safeComponents('/etc/passwd', 'layer x')).toThrow('layer x is not a safe layer: the entry "/etc/passwd" is an absolute path; refusing to unpack it (the image is corrupt or malicious)');
    expect(() => safeComponents('a/../../b', 'x')).toThrow(/contains "\.\."/);
  });
});

function entry(h: Partial<TarHeader> & { name: string; type: TarHeader['type'] }, body = ''): TarEntry {
  const header: TarHeader = {
    mode: h.type === 'directory' ? 0o755 : 0o644, uid: process.getuid!(), gid: process.getgid!(), size: Buffer.byteLength(body), mtime: 1_700_000_000,
    linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, xattrs: {}, pax: {}, ...h,
  };
  return { header, body: async function* () { if (body) yield Buffer.from(body); } } as unknown as TarEntry;
}

async function* list(entries: TarEntry[]) {
  yield* entries;
}

describe('LayerUnpacker (vfs form: applied on the tree below)', () => {
  it('applies whiteouts and opaque directories by deleting, keeps what the layer adds', async () => {
    const root = path.join(tmp, 'vfs');
    fs.mkdirSync(path.join(root, 'data'), { recursive: true });
    fs.writeFileSync(path.join(root, 'old.txt'), 'old');
    fs.writeFileSync(path.join(root, 'data', 'a.txt'), 'a');
    const u = new LayerUnpacker(root, { form: 'vfs', what: 'layer t' });
    await u.unpack(list([
      entry({ name: '.wh.old.txt', type: 'file' }),
      entry({ name: 'data/', type: 'directory' }),
      entry({ name: 'data/new.txt', type: 'file' }, 'new'),
      entry({ name: 'data/.wh..wh..opq', type: 'file' }),
      entry({ name: 'bin/sh', type: 'symlink', linkname: 'busybox' }),
      entry({ name: 'data/link', type: 'hardlink', linkname: 'data/new.txt' }),
      entry({ name: 'x', type: 'file', mode: 0o4755 }, '#!'),
    ]));
    expect(fs.existsSync(path.join(root, 'old.txt'))).toBe(false);
    expect(fs.readdirSync(path.join(root, 'data')).sort()).toEqual(['link', 'new.txt']);
    expect(fs.statSync(path.join(root, 'data', 'link')).ino).toBe(fs.statSync(path.join(root, 'data', 'new.txt')).ino);
    expect(fs.readlinkSync(path.join(root, 'bin', 'sh'))).toBe('busybox');
    expect(fs.statSync(path.join(root, 'x')).mode & 0o7777).toBe(0o4755);
    expect(Math.floor(fs.statSync(path.join(root, 'data')).mtimeMs / 1000)).toBe(1_700_000_000);
  });

  it('refuses a write through a symlink and leaves the target alone', async () => {
    const root = path.join(tmp, 'sym');
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(root);
    fs.mkdirSync(outside);
    const u = new LayerUnpacker(root, { form: 'vfs', what: 'layer t' });
    await expect(u.unpack(list([entry({ name: 'l', type: 'symlink', linkname: outside }), entry({ name: 'l/f', type: 'file' }, 'x')]))).rejects.toThrow(
      'layer t is not a safe layer: an entry is written through the symlink "l"; refusing to unpack it (the image is corrupt or malicious)',
    );
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});
