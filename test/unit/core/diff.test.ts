import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLayerFromDiff, diffEntries } from '../../../src/core/diff.js';
import { openLayerStream } from '../../../src/core/layer.js';
import { randomBytes, run } from './helpers.js';

let dir: string;
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const noXattrs = () => ({});

function write(root: string, rel: string, data: string | Buffer, mtime = 1_600_000_000) {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  fs.utimesSync(p, mtime, mtime);
}

/** Snapshot a tree: path -> type, mode, size, content hash or link target. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.lstatSync(path.join(root, r));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(r);
      } else if (st.isSymbolicLink()) out[r] = `link ${fs.readlinkSync(path.join(root, r))}`;
      else out[r] = `file ${mode} ${createHash('sha256').update(fs.readFileSync(path.join(root, r))).digest('hex').slice(0, 12)}`;
    }
  };
  walk('');
  return out;
}

/** A minimal OCI applier (test oracle): whiteouts remove, opaque dirs are emptied, others replace. */
async function apply(blob: string, target: string) {
  for await (const e of openLayerStream(fs.createReadStream(blob))) {
    const h = e.header;
    const name = h.name.replace(/\/$/, '');
    const full = path.join(target, name);
    if (e.whiteout) {
      const t = path.join(target, e.whiteout.path);
      if (e.whiteout.kind === 'file') fs.rmSync(t, { recursive: true, force: true });
      else for (const n of fs.existsSync(t) ? fs.readdirSync(t) : []) fs.rmSync(path.join(t, n), { recursive: true, force: true });
      continue;
    }
    const cur = fs.lstatSync(full, { throwIfNoEntry: false });
    if (cur && !(cur.isDirectory() && h.type === 'directory')) fs.rmSync(full, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(full), { recursive: true });
    if (h.type === 'directory') {
      fs.mkdirSync(full, { recursive: true });
      fs.chmodSync(full, h.mode);
    } else if (h.type === 'symlink') fs.symlinkSync(h.linkname, full);
    else if (h.type === 'hardlink') fs.linkSync(path.join(target, h.linkname), full);
    else if (h.type === 'file') {
      const parts: Buffer[] = [];
      for await (const c of e.body()) parts.push(Buffer.from(c));
      fs.writeFileSync(full, Buffer.concat(parts), { mode: h.mode });
      fs.chmodSync(full, h.mode);
    }
  }
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-diff-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('layer differ: two trees (vfs)', () => {
  let lower: string;
  let upper: string;
  beforeAll(() => {
    lower = path.join(dir, 'lower');
    upper = path.join(dir, 'upper');
    for (const root of [lower, upper]) {
      write(root, 'etc/hostname', 'base\n');
      write(root, 'etc/keep/a', 'same\n');
      write(root, 'usr/lib/big', randomBytes(200_000, 1));
      write(root, 'var/gone/x', 'x');
      write(root, 'var/gone/y', 'y');
      write(root, 'typechange', 'file');
      write(root, 'deep/unchanged/tree/f', 'f');
      write(root, 'deep/changed/tree/g', 'g');
    }
    write(upper, 'etc/hostname', 'changed\n', 1_700_000_000);
    write(upper, 'etc/new file', 'new\n');
    fs.rmSync(path.join(upper, 'var/gone'), { recursive: true });
    fs.rmSync(path.join(upper, 'typechange'));
    write(upper, 'typechange/inner', 'now a dir');
    write(upper, 'deep/changed/tree/g', 'G!', 1_700_000_000);
    fs.symlinkSync('/etc/hostname', path.join(upper, 'etc/link'));
    fs.linkSync(path.join(upper, 'etc/new file'), path.join(upper, 'etc/hard'));
    fs.chmodSync(path.join(upper, 'usr/lib/big'), 0o600);
    // Only a directory's mtime differs: not a change (the trees above were also made at different times).
    fs.utimesSync(path.join(upper, 'deep/unchanged'), 1_700_000_000, 1_700_000_000);
  });

  it('lists only the changes, parents first, one whiteout per removed tree', async () => {
    const names: string[] = [];
    for await (const e of diffEntries({ kind: 'trees', lower, upper }, { readXattrs: noXattrs })) names.push(`${e.header.type} ${e.header.name}`);
    expect(names).toEqual([
      'directory deep',
      'directory deep/changed',
      'directory deep/changed/tree',
      'file deep/changed/tree/g',
      'directory etc',
      'hardlink etc/hard',
      'file etc/hostname',
      'symlink etc/link',
      'file etc/new file',
      'directory typechange',
      'file typechange/inner',
      'directory usr',
      'directory usr/lib',
      'file usr/lib/big',
      'directory var',
      'file var/.wh.gone',
    ].map((s) => s.replace('hardlink etc/hard', 'file etc/hard').replace('file etc/new file', 'hardlink etc/new file')));
  });

  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    it(`${compression}: applying the layer to lower gives upper; digests are right and stable`, async () => {
      const out = path.join(dir, `layer.${compression}`);
      const r = await createLayerFromDiff({ kind: 'trees', lower, upper }, { compression, output: out, readXattrs: noXattrs });
      const blob = fs.readFileSync(out);
      expect(r.digest).toBe(sha(blob));
      expect(r.size).toBe(blob.length);
      const tar = compression === 'gzip' ? run('gzip', ['-dc'], blob) : compression === 'zstd' ? run('zstd', ['-q', '-dc'], blob) : blob;
      expect(r.diffID).toBe(sha(tar));
      expect(r.mediaType).toMatch(compression === 'none' ? /tar$/ : new RegExp(`tar\\+${compression}$`));
      // GNU tar and bsdtar read it.
      expect(run('tar', ['-tf', '-'], tar).toString()).toContain('var/.wh.gone');
      expect(run('bsdtar', ['-tf', '-'], tar).toString()).toContain('etc/new file');
      // Deterministic.
      const again = await createLayerFromDiff({ kind: 'trees', lower, upper }, { compression, output: `${out}.2`, readXattrs: noXattrs });
      expect(again.digest).toBe(r.digest);
      // Semantics: lower + layer == upper.
      const target = path.join(dir, `applied-${compression}`);
      fs.cpSync(lower, target, { recursive: true });
      await apply(out, target);
      expect(snapshot(target)).toEqual(snapshot(upper));
    });
  }
});

describe('layer differ: overlay upper directory', () => {
  it('turns 0/0 devices into whiteouts and opaque directories into .wh..wh..opq', async () => {
    const upper = path.join(dir, 'ovl');
    write(upper, 'etc/passwd', 'root:x:0:0\n');
    write(upper, 'opaque/new', 'n');
    const canMknod = spawnSync('mknod', [path.join(upper, 'etc/shadow'), 'c', '0', '0']).status === 0;
    const xattrs = (f: string): Record<string, Buffer> => (f.endsWith('/opaque') ? { 'user.overlay.opaque': Buffer.from('y'), 'user.keep': Buffer.from('v') } : {});
    const names: string[] = [];
    for await (const e of diffEntries({ kind: 'overlay', upper }, { readXattrs: xattrs })) {
      names.push(`${e.header.type} ${e.header.name}${e.header.xattrs ? ` ${Object.keys(e.header.xattrs).join(',')}` : ''}`);
    }
    // Whiteouts take the place of the device they replace (sorted by the original name).
    expect(names).toEqual([
      'directory etc',
      'file etc/passwd',
      ...(canMknod ? ['file etc/.wh.shadow'] : []),
      'directory opaque user.keep',
      'file opaque/.wh..wh..opq',
      'file opaque/new',
    ]);
    const out = path.join(dir, 'ovl.tar.zst');
    const r = await createLayerFromDiff({ kind: 'overlay', upper }, { compression: 'zstd', output: out, readXattrs: xattrs });
    const listing = run('tar', ['--zstd', '-tvf', out]).toString();
    expect(listing).toContain('opaque/.wh..wh..opq');
    expect(r.entries).toBe(names.length);
  });
});
