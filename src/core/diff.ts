/**
 * Layer diffing: a container's changes -> an OCI layer tar (whiteouts, opaque
 * directories), deterministic, compressed (gzip or zstd), with its digest and
 * diffID computed in the same pass.
 *
 * Two sources of changes:
 *  - an overlay upper directory (kernel overlay with userxattr, or fuse-overlayfs):
 *    0/0 character devices are whiteouts, `user.overlay.opaque=y` (or
 *    `trusted.overlay.opaque`, `user.fuseoverlayfs.opaque`) marks opaque directories;
 *  - two trees (the vfs driver): everything added, changed or removed in `upper`
 *    relative to `lower`.
 * Output is deterministic: entries sorted by name, no atimes/ctimes, pax headers
 * only where ustar cannot hold a value, the same compressor settings.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { TspodError } from '../util/errors.js';
import { compressChunks } from './compress.js';
import type { Compression } from './decompress.js';
import { createHasher, type HashImpl } from './digest.js';
import { mediaTypeFor } from './layer.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, writeTar, type TarWriteEntry, type TarWriteHeader } from './tar.js';

export type XattrReader = (file: string) => Record<string, Buffer>;

export type DiffSource = { kind: 'overlay'; upper: string } | { kind: 'trees'; lower: string; upper: string };

export interface DiffOptions {
  /** Extended attributes of a path (default: the native addon's llistxattr/lgetxattr, if built). */
  readXattrs?: XattrReader;
}

export interface LayerFromDiffOptions extends DiffOptions {
  compression: Compression;
  level?: number;
  /** Where the compressed layer goes: a file path (written atomically by the caller's choice) or a stream. */
  output: string | Writable;
  hashImpl?: HashImpl;
}

export interface LayerFromDiffResult {
  /** Digest of the compressed blob. */
  digest: string;
  /** Digest of the uncompressed tar. */
  diffID: string;
  size: number;
  uncompressedSize: number;
  mediaType: string;
  entries: number;
}

const OPAQUE_XATTRS = ['user.overlay.opaque', 'trusted.overlay.opaque', 'user.fuseoverlayfs.opaque'];
/** Overlay's own bookkeeping never goes into a layer. */
const isOverlayXattr = (k: string) => /^(user|trusted)\.(overlay|fuseoverlayfs)\./.test(k);

let defaultReader: XattrReader | undefined;
async function nativeXattrReader(): Promise<XattrReader> {
  if (defaultReader) return defaultReader;
  try {
    const { native } = await import('../native/addon.js');
    const a = native();
    defaultReader = (file) => {
      const out: Record<string, Buffer> = {};
      let names: string[];
      try {
        names = a.llistxattr(file);
      } catch {
        return out;
      }
      for (const n of names) {
        try {
          const v = a.lgetxattr(file, n);
          if (v) out[n] = v;
        } catch {
          /* vanished or not readable: skip */
        }
      }
      return out;
    };
  } catch {
    defaultReader = () => ({});
  }
  return defaultReader;
}

function devOf(rdev: number): { devmajor: number; devminor: number } {
  return {
    devmajor: ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff),
    devminor: (rdev & 0xff) | ((rdev >>> 12) & ~0xff),
  };
}

function sortedNames(dir: string): string[] {
  return fs.readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

interface Walker {
  xattrs: XattrReader;
  hardlinks: Map<string, string>;
}

/** The tar entry for one path as it is on disk (undefined for sockets). */
function entryFor(w: Walker, full: string, name: string, st: fs.Stats): TarWriteEntry | undefined {
  const base: Omit<TarWriteHeader, 'type'> = {
    name,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: Math.floor(st.mtimeMs / 1000),
  };
  const xattrs: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(w.xattrs(full))) if (!isOverlayXattr(k)) xattrs[k] = v;
  const withX = Object.keys(xattrs).length ? { xattrs } : {};
  if (st.isDirectory()) return { header: { ...base, ...withX, type: 'directory' } };
  if (st.isSymbolicLink()) return { header: { ...base, ...withX, type: 'symlink', linkname: fs.readlinkSync(full) } };
  if (st.isFIFO()) return { header: { ...base, ...withX, type: 'fifo' } };
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    return { header: { ...base, ...withX, type: st.isCharacterDevice() ? 'chardev' : 'blockdev', ...devOf(st.rdev) } };
  }
  if (st.isFile()) {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = w.hardlinks.get(key);
      if (first !== undefined) return { header: { ...base, ...withX, type: 'hardlink', linkname: first } };
      w.hardlinks.set(key, name);
    }
    return { header: { ...base, ...withX, type: 'file', size: st.size }, body: fileBody(full, st.size) };
  }
  return undefined; // sockets cannot be in a layer
}

async function* fileBody(full: string, size: number): AsyncGenerator<Buffer> {
  const fh = await fs.promises.open(full, 'r');
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(left, 1 << 20));
      const { bytesRead } = await fh.read(buf, 0, buf.length, size - left);
      if (bytesRead === 0) break;
      left -= bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

function whiteoutEntry(name: string, st?: fs.Stats): TarWriteEntry {
  return { header: { name, type: 'file', size: 0, mode: 0o600, mtime: st ? Math.floor(st.mtimeMs / 1000) : 0 } };
}

const join = (dir: string, n: string) => (dir ? `${dir}/${n}` : n);

async function* overlayEntries(w: Walker, root: string, rel: string): AsyncGenerator<TarWriteEntry> {
  for (const n of sortedNames(path.join(root, rel))) {
    const name = join(rel, n);
    const full = path.join(root, name);
    const st = fs.lstatSync(full);
    if (st.isCharacterDevice() && st.rdev === 0) {
      yield whiteoutEntry(join(rel, `${WHITEOUT_PREFIX}${n}`), st);
      continue;
    }
    const e = entryFor(w, full, name, st);
    if (!e) continue;
    yield e;
    if (st.isDirectory()) {
      const xs = w.xattrs(full);
      const opaque = OPAQUE_XATTRS.some((k) => xs[k]?.toString() === 'y');
      if (opaque && !fs.existsSync(path.join(full, OPAQUE_WHITEOUT))) yield whiteoutEntry(join(name, OPAQUE_WHITEOUT), st);
      yield* overlayEntries(w, root, name);
    }
  }
}

function sameXattrs(a: Record<string, Buffer>, b: Record<string, Buffer>): boolean {
  const ka = Object.keys(a).filter((k) => !isOverlayXattr(k)).sort();
  const kb = Object.keys(b).filter((k) => !isOverlayXattr(k)).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k].equals(b[k]));
}

function changed(w: Walker, lf: string, uf: string, l: fs.Stats, u: fs.Stats): boolean {
  const kind = (s: fs.Stats) => s.mode & 0o170000;
  if (kind(l) !== kind(u) || (l.mode & 0o7777) !== (u.mode & 0o7777) || l.uid !== u.uid || l.gid !== u.gid) return true;
  // A directory's mtime is not a change, as in containers/storage's ChangesDirs: it moves whenever
  // a child is added or removed (those changes bring their parents along), and a tree copied at a
  // different second would otherwise put every directory in the layer.
  if (u.isDirectory()) return !sameXattrs(w.xattrs(lf), w.xattrs(uf));
  if (l.size !== u.size || l.mtimeMs !== u.mtimeMs || l.rdev !== u.rdev) return true;
  if (u.isSymbolicLink() && fs.readlinkSync(lf) !== fs.readlinkSync(uf)) return true;
  return !sameXattrs(w.xattrs(lf), w.xattrs(uf));
}

async function* allEntries(w: Walker, root: string, rel: string): AsyncGenerator<TarWriteEntry> {
  for (const n of sortedNames(path.join(root, rel))) {
    const name = join(rel, n);
    const st = fs.lstatSync(path.join(root, name));
    const e = entryFor(w, path.join(root, name), name, st);
    if (e) yield e;
    if (st.isDirectory()) yield* allEntries(w, root, name);
  }
}

async function* treeEntries(w: Walker, lower: string, upper: string, rel: string, parents: TarWriteEntry[]): AsyncGenerator<TarWriteEntry> {
  const lnames = fs.existsSync(path.join(lower, rel)) ? new Set(sortedNames(path.join(lower, rel))) : new Set<string>();
  const unames = sortedNames(path.join(upper, rel));
  const all = [...new Set([...lnames, ...unames])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const uset = new Set(unames);
  // Parent directories of a change are written (once, before it) so their metadata travels too.
  function* flushParents(): Generator<TarWriteEntry> {
    for (const p of parents.splice(0)) yield p;
  }
  for (const n of all) {
    const name = join(rel, n);
    const lf = path.join(lower, name);
    const uf = path.join(upper, name);
    if (!uset.has(n)) {
      yield* flushParents();
      yield whiteoutEntry(join(rel, `${WHITEOUT_PREFIX}${n}`));
      continue;
    }
    const u = fs.lstatSync(uf);
    const l = lnames.has(n) ? fs.lstatSync(lf) : undefined;
    if (!l || !l.isDirectory() || !u.isDirectory()) {
      if (!l || changed(w, lf, uf, l, u)) {
        const e = entryFor(w, uf, name, u);
        if (e) {
          yield* flushParents();
          yield e;
        }
        if (u.isDirectory()) yield* allEntries(w, upper, name);
      }
      continue;
    }
    // Directory in both: write it if it changed, and look inside either way.
    const e = entryFor(w, uf, name, u)!;
    if (changed(w, lf, uf, l, u)) {
      yield* flushParents();
      yield e;
      yield* treeEntries(w, lower, upper, name, parents);
    } else {
      parents.push(e);
      yield* treeEntries(w, lower, upper, name, parents);
      const i = parents.indexOf(e);
      if (i >= 0) parents.splice(i); // nothing below changed: drop it (and anything after)
    }
  }
}

/** The entries of the layer for a set of changes, in order. */
export async function* diffEntries(src: DiffSource, opts: DiffOptions = {}): AsyncGenerator<TarWriteEntry> {
  const w: Walker = { xattrs: opts.readXattrs ?? (await nativeXattrReader()), hardlinks: new Map() };
  for (const d of src.kind === 'overlay' ? [src.upper] : [src.lower, src.upper]) {
    if (!fs.statSync(d, { throwIfNoEntry: false })?.isDirectory()) {
      throw new TspodError(`Cannot compute the container's changes: ${d} is not a directory.`);
    }
  }
  if (src.kind === 'overlay') yield* overlayEntries(w, src.upper, '');
  else yield* treeEntries(w, src.lower, src.upper, '', []);
}

/**
 * Write the layer for a set of changes: tar -> diffID hash -> compress -> digest hash
 * -> output, in one pass with backpressure.
 */
export async function createLayerFromDiff(src: DiffSource, opts: LayerFromDiffOptions): Promise<LayerFromDiffResult> {
  const diffHash = createHasher(opts.hashImpl);
  const blobHash = createHasher(opts.hashImpl);
  let uncompressedSize = 0;
  let size = 0;
  let entries = 0;
  async function* counted(): AsyncGenerator<TarWriteEntry> {
    for await (const e of diffEntries(src, opts)) {
      entries++;
      yield e;
    }
  }
  async function* tarBytes(): AsyncGenerator<Buffer> {
    for await (const b of writeTar(counted())) {
      diffHash.update(b);
      uncompressedSize += b.length;
      yield b;
    }
  }
  const out = typeof opts.output === 'string' ? fs.createWriteStream(opts.output) : opts.output;
  const done = new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.once('finish', resolve);
  });
  try {
    for await (const piece of compressChunks(tarBytes(), opts.compression, { level: opts.level })) {
      blobHash.update(piece);
      size += piece.length;
      if (!out.write(piece)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    out.end();
    await done;
  } catch (err) {
    out.destroy();
    throw err;
  }
  return {
    digest: `sha256:${blobHash.digestHex()}`,
    diffID: `sha256:${diffHash.digestHex()}`,
    size,
    uncompressedSize,
    mediaType: mediaTypeFor(opts.compression),
    entries,
  };
}
