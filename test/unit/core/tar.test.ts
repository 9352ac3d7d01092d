import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeTarPath, readTar, tarHeader, writeTar, type TarEntry, type TarWriteEntry } from '../../../src/core/tar.js';
import { TspodError } from '../../../src/util/errors.js';
import { randomBytes, rng, run } from './helpers.js';

let dir: string;
let tree: string;
let hasXattr = false;
let hasFifo = false;
const isRoot = process.getuid?.() === 0;

const longDir = `d${'x'.repeat(90)}/e${'y'.repeat(90)}/f${'z'.repeat(90)}`;
const longTarget = `../${'t'.repeat(150)}/target`;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-tar-'));
  tree = path.join(dir, 'tree');
  const w = (p: string, data: string | Buffer, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(tree, p)), { recursive: true });
    fs.writeFileSync(path.join(tree, p), data, { mode });
    fs.chmodSync(path.join(tree, p), mode);
  };
  w('a/file.txt', 'hello tar\n');
  w('a/empty', '');
  w('a/big.bin', randomBytes(300_000, 1));
  w('a/setuid', '#!/bin/sh\n', 0o4755);
  w('a/ünïcödé ñame.txt', 'utf8\n');
  w(`${longDir}/${'n'.repeat(120)}.txt`, 'long name\n');
  w('a/.wh.deleted', '');
  w('a/sub/.wh..wh..opq', '');
  fs.symlinkSync('file.txt', path.join(tree, 'a/link'));
  fs.symlinkSync(longTarget, path.join(tree, 'a/longlink'));
  fs.linkSync(path.join(tree, 'a/file.txt'), path.join(tree, 'a/hard'));
  fs.mkdirSync(path.join(tree, 'emptydir'), { mode: 0o700 });
  hasFifo = spawnSync('mkfifo', [path.join(tree, 'a/fifo')]).status === 0;
  if (isRoot) spawnSync('mknod', [path.join(tree, 'a/null'), 'c', '1', '3']);
  hasXattr =
    spawnSync('python3', ['-c', `import os; os.setxattr(${JSON.stringify(path.join(tree, 'a/file.txt'))}, 'user.tspod', b'\\x00bin\\xffary')`]).status === 0;
  // Deterministic mtimes
  spawnSync('find', [tree, '-exec', 'touch', '-h', '-d', '@1700000000', '{}', '+']);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Seen {
  type: string;
  size: number;
  sha?: string;
  link?: string;
  mode: number;
  mtime: number;
  xattrs: Record<string, string>;
  whiteout?: string;
}

async function readAll(source: AsyncIterable<Uint8Array>): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>();
  for await (const e of readTar(source)) {
    const h = e.header;
    const seen: Seen = { type: h.type, size: h.size, mode: h.mode, mtime: h.mtime, xattrs: {} };
    if (h.type === 'file') {
      const hash = createHash('sha256');
      let n = 0;
      for await (const c of e.body()) {
        hash.update(c);
        n += c.length;
      }
      expect(n).toBe(h.size);
      seen.sha = hash.digest('hex');
    }
    if (h.linkname) seen.link = h.type === 'hardlink' ? normalizeTarPath(h.linkname) : h.linkname;
    for (const [k, v] of Object.entries(h.xattrs)) seen.xattrs[k] = v.toString('hex');
    if (e.whiteout) seen.whiteout = `${e.whiteout.kind}:${e.whiteout.path}`;
    out.set(normalizeTarPath(h.name), seen);
  }
  return out;
}

async function* fileChunks(p: string, seed = 1): AsyncGenerator<Buffer> {
  const data = fs.readFileSync(p);
  const r = rng(seed);
  for (let i = 0; i < data.length; ) {
    const n = 1 + Math.floor(r() * 20000);
    yield data.subarray(i, i + n);
    i += n;
  }
}

function expectTree(entries: Map<string, Seen>, opts: { xattrs: boolean }) {
  const f = entries.get('a/file.txt')!;
  const hard = entries.get('a/hard')!;
  // One of the two names is the file, the other a hardlink to it.
  const [file, link] = f.type === 'file' ? [f, hard] : [hard, f];
  expect(file.type).toBe('file');
  expect(file.sha).toBe(createHash('sha256').update('hello tar\n').digest('hex'));
  expect(link.type).toBe('hardlink');
  expect(['a/file.txt', 'a/hard']).toContain(link.link);
  expect(entries.get('a/empty')).toMatchObject({ type: 'file', size: 0 });
  expect(entries.get('a/big.bin')).toMatchObject({ type: 'file', size: 300_000, sha: createHash('sha256').update(randomBytes(300_000, 1)).digest('hex') });
  expect(entries.get('a/setuid')!.mode).toBe(0o4755);
  expect(entries.get('a/ünïcödé ñame.txt')).toMatchObject({ type: 'file', size: 5 });
  expect(entries.get(`${longDir}/${'n'.repeat(120)}.txt`)).toMatchObject({ type: 'file', size: 10 });
  expect(entries.get(longDir)).toMatchObject({ type: 'directory' });
  expect(entries.get('a/link')).toMatchObject({ type: 'symlink', link: 'file.txt' });
  expect(entries.get('a/longlink')).toMatchObject({ type: 'symlink', link: longTarget });
  expect(entries.get('emptydir')).toMatchObject({ type: 'directory', mode: 0o700 });
  expect(entries.get('a/.wh.deleted')!.whiteout).toBe('file:a/deleted');
  expect(entries.get('a/sub/.wh..wh..opq')!.whiteout).toBe('opaque:a/sub');
  if (hasFifo) expect(entries.get('a/fifo')).toMatchObject({ type: 'fifo', size: 0 });
  if (isRoot && entries.has('a/null')) expect(entries.get('a/null')!.type).toBe('chardev');
  expect(Math.floor(entries.get('a/big.bin')!.mtime)).toBe(1700000000);
  if (opts.xattrs && hasXattr) expect(file.xattrs['user.tspod'] ?? f.xattrs['user.tspod']).toBe(Buffer.from('\0bin\xffary', 'latin1').toString('hex'));
}

describe('tar reader against GNU tar and bsdtar', () => {
  const makers: [string, string, string[], boolean][] = [
    ['GNU tar --format=gnu', 'tar', ['--format=gnu', '-cf'], false],
    ['GNU tar --format=pax --xattrs', 'tar', ['--format=pax', '--xattrs', '--xattrs-include=*', '-cf'], true],
    ['GNU tar --format=posix, big ids and mtime', 'tar', ['--format=posix', '--owner=big:3000000', '--group=big:3000001', '-cf'], false],
    ['bsdtar (default format)', 'bsdtar', ['-cf'], true],
    ['bsdtar --format=pax', 'bsdtar', ['--format=pax', '-cf'], true],
    ['bsdtar --format=gnutar', 'bsdtar', ['--format=gnutar', '-cf'], false],
  ];
  for (const [name, cmd, args, xattrs] of makers) {
    it(`reads ${name}`, async () => {
      const out = path.join(dir, `${name.replace(/\W+/g, '_')}.tar`);
      run(cmd, [...args, out, '-C', tree, 'a', 'emptydir', longDir.split('/')[0]]);
      const entries = await readAll(fileChunks(out));
      expectTree(entries, { xattrs });
      if (name.includes('big ids')) {
        const e = readTar(fileChunks(out));
        for await (const x of e) {
          expect(x.header.uid).toBe(3000000);
          expect(x.header.gid).toBe(3000001);
        }
      }
    });
  }

  it('reads GNU tar base-256 numbers (gnu format, uid >= 2^21, mtime beyond 2242)', async () => {
    const out = path.join(dir, 'b256.tar');
    run('tar', ['--format=gnu', '--owner=big:3000000', '--group=big:3000001', '--mtime=@9999999999', '-cf', out, '-C', tree, 'a/file.txt']);
    const all: TarEntry['header'][] = [];
    for await (const e of readTar(fileChunks(out))) all.push(e.header);
    expect(all[0]).toMatchObject({ name: 'a/file.txt', uid: 3000000, gid: 3000001, mtime: 9999999999 });
  });
});

describe('tar writer, read back by GNU tar and bsdtar', () => {
  const entries = (): TarWriteEntry[] => [
    { header: { name: 'dir', type: 'directory', mode: 0o755, mtime: 1 } },
    { header: { name: 'dir/file', type: 'file', size: 5, mode: 0o640, uid: 1000, gid: 1000, mtime: 1700000000 }, body: Buffer.from('hello') },
    { header: { name: `dir/${'L'.repeat(200)}/${'m'.repeat(150)}`, type: 'file', size: 3, mtime: 2 }, body: Buffer.from('abc') },
    { header: { name: 'dir/sym', type: 'symlink', linkname: `/${'s'.repeat(300)}`, mtime: 3 } },
    { header: { name: 'dir/hard', type: 'hardlink', linkname: 'dir/file', mtime: 4 } },
    { header: { name: 'dir/fifo', type: 'fifo', mtime: 5 } },
    { header: { name: 'dir/null', type: 'chardev', devmajor: 1, devminor: 3, mode: 0o666 } },
    { header: { name: 'dir/bigids', type: 'file', size: 0, uid: 5_000_000, gid: 6_000_000, mtime: 99999999999 } },
    { header: { name: 'dir/xattr', type: 'file', size: 1, xattrs: { 'user.k': Buffer.from([0, 1, 255]), 'security.capability': Buffer.from('cap') } }, body: Buffer.from('x') },
    { header: { name: 'dir/.wh.gone', type: 'file', size: 0 } },
    { header: { name: 'dir/.wh..wh..opq', type: 'file', size: 0 } },
    { header: { name: 'dir/ünï', type: 'file', size: 0, uname: 'user', gname: 'group' } },
  ];

  async function archive(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const b of writeTar(entries())) parts.push(b);
    return Buffer.concat(parts);
  }

  it('is deterministic and round-trips through our reader', async () => {
    const a = await archive();
    expect(a.equals(await archive())).toBe(true);
    expect(a.length % 512).toBe(0);
    const back: TarEntry['header'][] = [];
    for await (const e of readTar([a])) back.push(e.header);
    const want = entries();
    expect(back.map((h) => normalizeTarPath(h.name))).toEqual(want.map((e) => e.header.name));
    expect(back[3].linkname).toBe(want[3].header.linkname);
    expect(back[6]).toMatchObject({ type: 'chardev', devmajor: 1, devminor: 3 });
    expect(back[7]).toMatchObject({ uid: 5_000_000, gid: 6_000_000, mtime: 99999999999 });
    expect(back[8].xattrs['user.k']).toEqual(Buffer.from([0, 1, 255]));
  });

  it('gives a body at once when it is buffered, and through body() when it is not', async () => {
    const big = Buffer.alloc(3000, 'b');
    const parts: Buffer[] = [];
    const list: TarWriteEntry[] = [
      { header: { name: 'd', type: 'directory' } },
      { header: { name: 'd/small', type: 'file', size: 5 }, body: Buffer.from('hello') },
      { header: { name: 'd/big', type: 'file', size: big.length }, body: big },
    ];
    for await (const b of writeTar(list)) parts.push(b);
    const a = Buffer.concat(parts);
    // Whole: every body is in memory. In 1000-byte pieces: the big one is not.
    for (const pieces of [[a], Array.from({ length: Math.ceil(a.length / 1000) }, (_, i) => a.subarray(i * 1000, i * 1000 + 1000))]) {
      const got: Array<[string, number, boolean]> = [];
      for await (const e of readTar(pieces)) {
        const whole = e.bodyIfBuffered?.();
        const body: Buffer[] = whole ? [whole] : [];
        if (!whole) for await (const c of e.body()) body.push(c);
        else if (e.header.type === 'file') await expect(e.body().next()).rejects.toThrow(/read twice/);
        got.push([normalizeTarPath(e.header.name), Buffer.concat(body).length, whole !== undefined]);
        if (e.header.name === 'd/big') expect(Buffer.concat(body).equals(big)).toBe(true);
      }
      expect(got).toEqual([['d', 0, true], ['d/small', 5, true], ['d/big', 3000, pieces.length === 1]]);
    }
  });

  for (const cmd of ['tar', 'bsdtar']) {
    it(`${cmd} lists it with the same names, types, sizes and ids`, async () => {
      const p = path.join(dir, `ours-${cmd}.tar`);
      fs.writeFileSync(p, await archive());
      const names = run(cmd, ['-tf', p]).toString().trim().split('\n').map(normalizeTarPath);
      expect(names).toEqual(entries().map((e) => e.header.name));
      const verbose = run(cmd, ['--numeric-owner', '-tvf', p]).toString();
      expect(verbose).toMatch(/5000000(\/|\s+)6000000/);
      expect(verbose).toMatch(/^c/m);
      expect(verbose).toMatch(/^p/m);
      expect(verbose).toMatch(/^h|link to/m);
      // Extract and compare contents.
      const x = path.join(dir, `x-${cmd}`);
      fs.mkdirSync(x);
      const args = cmd === 'tar' ? ['-xf', p, '-C', x, '--exclude=dir/null'] : ['--no-xattrs', '-xf', p, '-C', x, '--exclude', 'dir/null'];
      run(cmd, args);
      expect(fs.readFileSync(path.join(x, 'dir/file'), 'utf8')).toBe('hello');
      expect(fs.readFileSync(path.join(x, `dir/${'L'.repeat(200)}/${'m'.repeat(150)}`), 'utf8')).toBe('abc');
      expect(fs.readlinkSync(path.join(x, 'dir/sym'))).toBe(`/${'s'.repeat(300)}`);
      expect(fs.statSync(path.join(x, 'dir/hard')).ino).toBe(fs.statSync(path.join(x, 'dir/file')).ino);
    });
  }
});

describe('tar reader on hostile input', () => {
  async function collect(data: Buffer): Promise<number> {
    let n = 0;
    for await (const e of readTar([data])) {
      for await (const c of e.body()) n += c.length;
      n++;
    }
    return n;
  }

  it('rejects truncation, bad checksums, bad numbers, sparse files and oversized metadata', async () => {
    const good = Buffer.concat([tarHeader({ name: 'f', type: 'file', size: 1000 }), randomBytes(1000, 2), Buffer.alloc(24), Buffer.alloc(1024)]);
    expect(await collect(good)).toBe(1001);
    for (const cut of [100, 512, 700, 1535]) await expect(collect(good.subarray(0, cut))).rejects.toThrow(TspodError);
    const badSum = Buffer.from(good);
    badSum[0] ^= 1;
    await expect(collect(badSum)).rejects.toThrow(/checksum/);
    const sparse = tarHeader({ name: 's', type: 'file', size: 0 });
    sparse[156] = 'S'.charCodeAt(0);
    fixSum(sparse);
    await expect(collect(sparse)).rejects.toThrow(/sparse/);
    const hugeName = Buffer.from(tarHeader({ name: '././@LongLink', type: 'file', size: 50 << 20 }));
    hugeName[156] = 'L'.charCodeAt(0);
    fixSum(hugeName);
    await expect(collect(hugeName)).rejects.toThrow(/limit/);
    const badOctal = Buffer.from(tarHeader({ name: 'f', type: 'file', size: 0 }));
    badOctal.write('9', 124, 'latin1');
    fixSum(badOctal);
    await expect(collect(badOctal)).rejects.toThrow(/octal/);
  });

  it('fuzz: mutated archives end in entries or a TspodError, never a hang or a crash', async () => {
    const p = path.join(dir, 'fuzz.tar');
    run('tar', ['--format=pax', '-cf', p, '-C', tree, 'a']);
    const src = fs.readFileSync(p);
    const r = rng(3);
    const deadline = Date.now() + 5000;
    let n = 0;
    while (Date.now() < deadline && n < 500) {
      n++;
      const m = Buffer.from(src.subarray(0, Math.floor(r() * src.length) + 1));
      for (let i = 0; i < 4; i++) m[Math.floor(r() * m.length)] = Math.floor(r() * 256);
      try {
        await collect(m);
      } catch (e) {
        expect(e).toBeInstanceOf(TspodError);
      }
    }
  });
});

function fixSum(b: Buffer): void {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i];
  b.write(sum.toString(8).padStart(6, '0'), 148, 6, 'latin1');
  b[154] = 0;
}
