// The unpacker's thread-pool batches (native unpackBatch) against its main-thread path
// (TSPOD_UNPACK=sync): the same tree for entry sequences where order matters (a hardlink
// to a file still in a batch, a name replaced, a whiteout of a pending file, files in a
// read-only directory), and no write through a symlink that replaced a directory whose
// files were still being written. Runs as the invoking user (owners are its own ids).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TarEntry, TarHeader } from '../../../src/core/index.js';
import { LayerUnpacker } from '../../../src/storage/unpack.js';

const uid = process.getuid!();
const gid = process.getgid!();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-unpack-jobs-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

type Spec = { name: string; type: TarHeader['type']; mode?: number; body?: string; linkname?: string; mtime?: number; gid?: number };

function entry(s: Spec): TarEntry {
  const body = Buffer.from(s.body ?? '');
  const header: TarHeader = {
    name: s.name,
    type: s.type,
    mode: s.mode ?? (s.type === 'directory' ? 0o755 : 0o644),
    uid,
    gid: s.gid ?? gid,
    size: s.type === 'file' ? body.length : 0,
    mtime: s.mtime ?? 1_700_000_000.25,
    linkname: s.linkname ?? '',
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: {},
    pax: {},
  };
  // Bodies come through body() here (no bodyIfBuffered); readTar's buffered bodies go
  // through the pull and load suites.
  // In pieces of 256 KiB, as decompressed layers come.
  const pieces = async function* () {
    for (let off = 0; off < body.length; off += 256 << 10) yield body.subarray(off, off + (256 << 10));
  };
  return { header, body: s.type === 'file' ? pieces : async function* () {} };
}

async function unpack(mode: 'sync' | 'jobs', specs: Spec[], form: 'overlay' | 'vfs' = 'overlay'): Promise<string> {
  process.env.TSPOD_UNPACK = mode === 'sync' ? 'sync' : '';
  const root = fs.mkdtempSync(path.join(work, `${mode}-`));
  try {
    const u = new LayerUnpacker(root, { form, what: 'layer test', emptyRoot: form === 'overlay' });
    for (const s of specs) await u.entry(entry(s));
    await u.finish();
  } finally {
    delete process.env.TSPOD_UNPACK;
  }
  return root;
}

/** Names, types, modes, owners, sizes, mtimes, link targets, contents, link counts. */
function describeTree(root: string): string {
  return execFileSync('sh', ['-c', `cd "$1" && find . -mindepth 1 -printf '%p %y %m %U %G %s %T@ %n %l\\n' | sort && find . -type f -exec md5sum {} + | sort`, 'sh', root], { encoding: 'utf8' });
}

const ORDERED: Spec[] = [
  { name: 'a/', type: 'directory', mode: 0o750 },
  { name: 'a/one', type: 'file', body: 'first', mode: 0o4755 },
  { name: 'a/link-to-one', type: 'hardlink', linkname: 'a/one' },
  { name: 'a/sym', type: 'symlink', linkname: 'one' },
  { name: 'a/twice', type: 'file', body: 'old' },
  { name: 'a/twice', type: 'file', body: 'new and longer' },
  { name: 'a/was-file', type: 'file', body: 'x' },
  { name: 'a/was-file/', type: 'directory' },
  { name: 'a/was-file/inside', type: 'file', body: 'y' },
  { name: 'a/gone', type: 'file', body: 'z' },
  { name: 'a/.wh.gone', type: 'file' },
  { name: 'ro/', type: 'directory', mode: 0o555 },
  { name: 'ro/f', type: 'file', body: 'in a read-only directory', mode: 0o400 },
  { name: 'deep/er/than/declared/file', type: 'file', body: 'parents made on the way' },
  ...Array.from({ length: 200 }, (_, i): Spec => ({ name: `many/f${i}`, type: 'file', body: `file ${i}`.repeat(i), mtime: 1_600_000_000 + i })),
  // Directory entries after their contents (the directories exist already: kept, given owner, mode, time).
  { name: 'many/', type: 'directory', mode: 0o700 },
  ...['deep/', 'deep/er/', 'deep/er/than/', 'deep/er/than/declared/'].map((name): Spec => ({ name, type: 'directory', mode: 0o711 })),
  // Big files (over 1 MiB: the main thread writes them, after the jobs that make their directory).
  { name: 'big/setuid', type: 'file', body: 'big'.repeat(1_000_000), mode: 0o4755, mtime: 1_650_000_000 },
  { name: 'big/exactly-1MiB-and-1', type: 'file', body: 'y'.repeat((1 << 20) + 1), mode: 0o600 },
  { name: 'big/', type: 'directory', mode: 0o755 },
  // A setgid directory of another group: what is made in it inherits that group, and must get its own back.
  { name: 'sg/', type: 'directory', mode: 0o2775, gid: 4242 },
  { name: 'sg/file', type: 'file', body: 'root group', mode: 0o644 },
  { name: 'sg/big', type: 'file', body: 'z'.repeat(2_000_000), mode: 0o644 },
  { name: 'sg/sub/', type: 'directory', mode: 0o755 },
  { name: 'sg/sym', type: 'symlink', linkname: 'file' },
];

// The unpacker runs as root in the user namespace (chown to any mapped id, writes into 0555
// directories). As a plain user, as CI runs the unit tests, those calls fail: this suite needs
// root; the rootless image suites cover the same path inside the user namespace.
describe.runIf(uid === 0)('layer unpack on the thread pool', () => {
  it('gives the same tree as the main-thread path (overlay and vfs forms)', async () => {
    for (const form of ['overlay', 'vfs'] as const) {
      const specs = form === 'vfs' ? ORDERED.filter((s) => !s.name.includes('.wh.')) : ORDERED;
      const a = describeTree(await unpack('sync', specs, form));
      const b = describeTree(await unpack('jobs', specs, form));
      expect(b).toBe(a);
      expect(b).toContain('./a/link-to-one f 4755');
      expect(b).toMatch(/\.\/a\/one f 4755 \d+ \d+ 5 1700000000\.25\d* 2/);
      expect(b).toMatch(new RegExp(`\\./big/setuid f 4755 ${uid} ${gid} 3000000 1650000000\\.\\d* 1`));
      expect(b).toMatch(new RegExp(`\\./sg d 2775 ${uid} 4242 `));
      for (const name of ['file', 'big', 'sym']) expect(b).toMatch(new RegExp(`\\./sg/${name} [fl] \\d+ ${uid} ${gid} `));
      expect(b).toMatch(new RegExp(`\\./sg/sub d 755 ${uid} ${gid} `));
    }
  });

  it('refuses a write through a symlink that replaced a directory with files in flight; nothing lands outside', async () => {
    const outside = fs.mkdtempSync(path.join(work, 'outside-'));
    const specs: Spec[] = [
      { name: 'd/', type: 'directory' },
      ...Array.from({ length: 100 }, (_, i): Spec => ({ name: `d/f${i}`, type: 'file', body: 'pending' })),
      { name: 'd', type: 'symlink', linkname: outside },
      { name: 'd/escaped', type: 'file', body: 'must not be written' },
    ];
    await expect(unpack('jobs', specs)).rejects.toThrow(/not a safe layer: an entry is written through the symlink "d"/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it("rejects with a failing job's error, after the jobs in flight settle", async () => {
    const root = fs.mkdtempSync(path.join(work, 'fail-'));
    const u = new LayerUnpacker(root, { form: 'overlay', what: 'layer test', emptyRoot: true });
    const specs: Spec[] = [...Array.from({ length: 50 }, (_, i): Spec => ({ name: `f${i}`, type: 'file', body: 'ok' })), { name: 'x'.repeat(300), type: 'file', body: 'name too long' }];
    await expect(
      (async () => {
        for (const s of specs) await u.entry(entry(s));
        await u.finish();
      })(),
    ).rejects.toThrow(/open .*: File name too long/);
    await u.settle();
    expect(fs.readdirSync(root)).toHaveLength(50);
  });
});
