/**
 * Unpack one layer's tar entries into a directory, inside the rootless user namespace
 * (ownership is set with lchown; the namespace maps the ids).
 *
 * Two forms:
 *   - 'overlay': the directory holds only this layer (the kernel overlay's lower dir,
 *     userxattr form): `.wh.NAME` becomes a 0/0 character device NAME, `.wh..wh..opq`
 *     becomes `user.overlay.opaque=y` on the directory;
 *   - 'vfs': the directory already holds the flattened tree of the layers below; the
 *     layer is applied on top: whiteouts delete, opaque directories lose what the lower
 *     layers put in them.
 *
 * Hostile archives: every name is checked (no absolute paths, no `..`); every parent
 * directory is walked with lstat from the root and must be a real directory (never a
 * symlink), files are created with O_EXCL|O_NOFOLLOW; hardlink targets must be inside
 * the layer. Anything else fails with a TspodError and the caller throws the staging
 * directory away: nothing is written outside `root`.
 *
 * Speed: regular files (body in memory, up to 1 MiB), symlinks and (when the root starts
 * empty) directories are created by the native addon on libuv's thread pool, in batches
 * of entries applied in order (per file: create O_EXCL|O_NOFOLLOW, write, fchown, fchmod,
 * futimens, close), while the main thread goes on fetching, hashing, decompressing and
 * parsing: a two-stage pipeline. Batches run one after the other (a chain), never side
 * by side: creating inodes is kernel CPU here (ext4's inode allocator), parallel
 * creators only contended for it, and one job per entry cost more in thread hand-offs
 * than it saved. TSPOD_UNPACK=sync keeps everything on the main thread (A/B measurements).
 * A job only ever creates a new name in a directory already checked (or made earlier in
 * the chain); anything that removes or replaces an existing path, links to one, or works
 * on the tree from the main thread first waits for every job (drain/syncPoint), so no
 * checked directory can change under a pending job.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TarEntry, TarHeader } from '../core/index.js';
import { native } from '../native/addon.js';
import { TspodError, isErrno } from '../util/errors.js';
import { log } from '../util/log.js';

export type UnpackForm = 'overlay' | 'vfs';

export interface UnpackOptions {
  form: UnpackForm;
  /** For messages: "layer sha256:abcd...". */
  what: string;
  /** The directory starts empty (overlay staging): only names this unpacker made can exist. */
  emptyRoot?: boolean;
}

/** Entries per batch, and what batches in flight may hold (bounds memory). */
const BATCH_ENTRIES = 64;
const BATCH_BYTES = 1 << 20;
const MAX_PENDING = 4;
const MAX_PENDING_BYTES = 2 << 20;
/** Files up to this size are gathered in memory and written off the main thread (MAX_PENDING_BYTES bounds what waits). */
const ASYNC_FILE_MAX = 1 << 20;

/** [kind (0 file, 1 symlink, 2 directory), path, chunks | link target | null, uid, gid, mode, mtime] */
type BatchOp = [0 | 1 | 2, string, Buffer[] | string | null, number, number, number, number];

export interface UnpackStats {
  entries: number;
  skippedDevices: number;
}

const O_NOFOLLOW = fs.constants.O_NOFOLLOW;
const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';

async function gather(entry: TarEntry): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry.body()) chunks.push(chunk);
  return chunks;
}

/** No xattrs (without building the array of keys Object.keys would make per entry). */
function isEmpty(o: Record<string, unknown>): boolean {
  for (const _ in o) return false;
  return true;
}

function hostile(what: string, detail: string): TspodError {
  return new TspodError(`${what} is not a safe layer: ${detail}; refusing to unpack it (the image is corrupt or malicious)`);
}

/**
 * A tar entry name as a list of components, or a TspodError: no absolute paths, no `..`,
 * no NUL. `./` prefixes and empty components are dropped.
 */
export function safeComponents(name: string, what: string, kind = 'entry'): string[] {
  if (name.includes('\0')) throw hostile(what, `the ${kind} name ${JSON.stringify(name)} contains a NUL byte`);
  if (name.startsWith('/')) throw hostile(what, `the ${kind} ${JSON.stringify(name)} is an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw hostile(what, `the ${kind} ${JSON.stringify(name)} contains ".."`);
  return parts;
}

export class LayerUnpacker {
  /** Directories known to be real directories (relative paths), to spare lstat calls. */
  private readonly dirs = new Set<string>(['']);
  /** Directory mtimes, applied last (deepest first) since writing inside changes them. */
  private readonly dirTimes = new Map<string, number>();
  /** Paths this layer created (vfs: an opaque directory keeps them). */
  private readonly created = new Set<string>();
  /** overlay: whiteout devices this layer made. */
  private readonly whiteouts = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private pendingBytes = 0;
  /** Entries not handed out yet, and who they are for messages. */
  private batch: BatchOp[] = [];
  private batchInfo: Array<{ rel: string; uid: number; gid: number }> = [];
  private batchBytes = 0;
  /** The last job handed out: the next one starts when it has settled. */
  private tail: Promise<void> = Promise.resolve();
  private failure: { err: unknown } | undefined;
  private readonly offThread = typeof native().unpackBatch === 'function' && process.env.TSPOD_UNPACK !== 'sync';
  /**
   * Directories are jobs too when the root starts empty: the chain keeps each one before
   * what goes inside, and every step done here on the main thread first waits for the
   * chain (syncPoint), since its directory may still be a job.
   */
  private get dirJobs(): boolean {
    return this.offThread && this.opts.emptyRoot === true;
  }
  readonly stats: UnpackStats = { entries: 0, skippedDevices: 0 };

  readonly root: string;

  constructor(
    root: string,
    readonly opts: UnpackOptions,
  ) {
    this.root = path.resolve(root);
  }

  /** root/rel: rel is made of checked components (safeComponents), so no path.join (its normaliser ran for every entry, and V8 spent ~20 ms compiling it in a Debian pull). */
  private abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /**
   * Make sure every component of `parts` is a real directory under root (creating
   * missing ones as root:root 0755), never following a symlink.
   */
  private async ensureDir(parts: string[]): Promise<string> {
    let rel = '';
    for (const p of parts) {
      const next = rel === '' ? p : `${rel}/${p}`;
      if (!this.dirs.has(next)) {
        const abs = this.abs(next);
        let st: fs.Stats | undefined;
        if (!this.opts.emptyRoot || this.known(next)) {
          // A pending job may be creating this very name: let it land before looking.
          if (this.known(next)) await this.drain();
          st = fs.lstatSync(abs, { throwIfNoEntry: false });
        }
        if (st === undefined) {
          if (this.dirJobs) await this.submit([2, abs, null, 0, 0, 0o755, 0], next, 0);
          else fs.mkdirSync(abs, { mode: 0o755 });
          this.created.add(next);
        } else if (st.isSymbolicLink()) {
          throw hostile(this.opts.what, `an entry is written through the symlink ${JSON.stringify(next)}`);
        } else if (!st.isDirectory()) {
          throw hostile(this.opts.what, `an entry is written below ${JSON.stringify(next)}, which is not a directory`);
        }
        this.dirs.add(next);
      }
      rel = next;
    }
    return rel;
  }

  private known(rel: string): boolean {
    return this.created.has(rel) || this.whiteouts.has(rel);
  }

  /**
   * Make room for an entry at rel: nothing to do when nothing can be there; otherwise
   * wait for the jobs in flight (one may be writing there or below) and remove it.
   */
  private async clear(rel: string, keepDir: boolean): Promise<void> {
    if (!this.known(rel)) {
      if (this.opts.emptyRoot) return;
      // vfs: the lower layers' tree is there; what they left can have no pending job.
      const st = fs.lstatSync(this.abs(rel), { throwIfNoEntry: false });
      if (!st || (keepDir && st.isDirectory())) return;
    } else if (keepDir && this.dirs.has(rel)) {
      return;
    }
    await this.drain();
    this.removeExisting(rel, keepDir);
  }

  /** Remove whatever is at rel (not following symlinks); forget cached dirs under it. */
  private removeExisting(rel: string, keepDir: boolean): void {
    const abs = this.abs(rel);
    // Nearly every entry is new: no ENOENT exception (and its stack trace) per entry.
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      if (keepDir) return;
      fs.rmSync(abs, { recursive: true, force: true });
      this.forgetDirs(rel);
    } else {
      fs.unlinkSync(abs);
    }
  }

  private forgetDirs(rel: string): void {
    this.dirs.delete(rel);
    const prefix = `${rel}/`;
    for (const d of this.dirs) if (d.startsWith(prefix)) this.dirs.delete(d);
  }

  /** Unpack every entry; the caller checks the digests when the iteration ends. */
  async unpack(entries: AsyncIterable<TarEntry>): Promise<UnpackStats> {
    try {
      for await (const entry of entries) {
        this.stats.entries++;
        await this.entry(entry);
      }
      await this.finish();
    } finally {
      await this.settle();
    }
    return this.stats;
  }

  /**
   * One tar entry. Each type has a method of its own: V8 optimises this dispatcher and
   * the per-type paths separately, and small functions compile at a fraction of the
   * cost of one large one (one async method with every case took ~90 ms of compiler
   * time, twice, in a Debian pull: it was thrown away when the first symlink came).
   */
  async entry(entry: TarEntry): Promise<void> {
    const h = entry.header;
    const parts = safeComponents(h.name, this.opts.what);
    if (parts.length === 0) {
      // The root directory itself: keep its metadata for the end.
      if (h.type === 'directory') this.dirTimes.set('', h.mtime);
      return;
    }
    const base = parts[parts.length - 1]!;
    const parentRel = await this.ensureDir(parts.slice(0, -1));
    if (base.startsWith(WH_PREFIX)) return this.whiteoutEntry(h.name, parentRel, base, h.mtime);
    const rel = parentRel === '' ? base : `${parentRel}/${base}`;
    if (this.failure) await this.drain();
    switch (h.type) {
      case 'directory':
        return this.directoryEntry(h, rel);
      case 'file':
        return this.fileEntry(entry, rel);
      case 'symlink':
        return this.symlinkEntry(h, rel);
      case 'hardlink':
        return this.hardlinkEntry(h, rel);
      case 'fifo':
        return this.fifoEntry(h, rel);
      case 'chardev':
      case 'blockdev':
        // Device nodes cannot be created in a user namespace (Podman skips them too).
        this.stats.skippedDevices++;
        log.debug(`${this.opts.what}: skipping device ${rel} (${h.devmajor}:${h.devminor}): devices cannot be created rootless`);
        return;
      default:
        throw hostile(this.opts.what, `the entry ${JSON.stringify(h.name)} has an unsupported type`);
    }
  }

  private async whiteoutEntry(name: string, parentRel: string, base: string, mtime: number): Promise<void> {
    if (base === WH_OPAQUE) return this.opaque(parentRel);
    if (base.startsWith(`${WH_PREFIX}${WH_PREFIX}`)) {
      log.debug(`${this.opts.what}: ignoring aufs metadata entry ${name}`);
      return;
    }
    const target = base.slice(WH_PREFIX.length);
    if (target === '' || target === '.' || target === '..') throw hostile(this.opts.what, `the whiteout ${JSON.stringify(name)} names no file`);
    return this.whiteout(parentRel, target, mtime);
  }

  private async directoryEntry(h: TarHeader, rel: string): Promise<void> {
    const abs = this.abs(rel);
    await this.clear(rel, true);
    this.created.add(rel);
    if (this.dirJobs && isEmpty(h.xattrs)) {
      // Kept in order with the jobs for what goes inside (one chain).
      await this.submit([2, abs, null, h.uid, h.gid, h.mode & 0o7777, 0], rel, 0);
      this.dirs.add(rel);
      this.dirTimes.set(rel, h.mtime);
      return;
    }
    await this.syncPoint();
    try {
      fs.mkdirSync(abs, { mode: 0o700 });
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    this.dirs.add(rel);
    this.own(abs, h.uid, h.gid, rel);
    fs.chmodSync(abs, h.mode & 0o7777);
    this.xattrs(abs, h.xattrs);
    this.dirTimes.set(rel, h.mtime);
  }

  private async fileEntry(entry: TarEntry, rel: string): Promise<void> {
    const h = entry.header;
    const abs = this.abs(rel);
    await this.clear(rel, false);
    this.created.add(rel);
    if (this.offThread && h.size <= ASYNC_FILE_MAX && isEmpty(h.xattrs)) {
      const whole = entry.bodyIfBuffered?.();
      const chunks: Buffer[] = whole ? [whole] : await gather(entry);
      await this.submit([0, abs, chunks, h.uid, h.gid, h.mode & 0o7777, h.mtime], rel, h.size);
      return;
    }
    return this.writeFileHere(entry, abs, rel);
  }

  /** A big file (or one with xattrs) written by the main thread itself, after the jobs that make its directory. */
  private async writeFileHere(entry: TarEntry, abs: string, rel: string): Promise<void> {
    const h = entry.header;
    await this.syncPoint();
    const fd = fs.openSync(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600);
    try {
      for await (const chunk of entry.body()) {
        let off = 0;
        while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
      }
      fs.fchownSync(fd, h.uid, h.gid);
      fs.fchmodSync(fd, h.mode & 0o7777);
    } catch (err) {
      throw this.ownError(err, h.uid, h.gid, rel);
    } finally {
      fs.closeSync(fd);
    }
    this.xattrs(abs, h.xattrs);
    fs.utimesSync(abs, h.mtime, h.mtime);
  }

  private async symlinkEntry(h: TarHeader, rel: string): Promise<void> {
    const abs = this.abs(rel);
    await this.clear(rel, false);
    this.created.add(rel);
    if (this.offThread && isEmpty(h.xattrs)) {
      await this.submit([1, abs, h.linkname, h.uid, h.gid, 0, h.mtime], rel, 0);
      return;
    }
    await this.syncPoint();
    fs.symlinkSync(h.linkname, abs);
    this.own(abs, h.uid, h.gid, rel);
    this.xattrs(abs, h.xattrs);
    fs.lutimesSync(abs, h.mtime, h.mtime);
  }

  private async hardlinkEntry(h: TarHeader, rel: string): Promise<void> {
    const what = this.opts.what;
    const targetParts = safeComponents(h.linkname, what, 'hardlink target');
    if (targetParts.length === 0) throw hostile(what, `the hardlink ${JSON.stringify(h.name)} points to the layer root`);
    // The target may be a job in flight, and the link must see the finished file.
    await this.drain();
    const targetParent = this.ensureExistingDir(targetParts.slice(0, -1), h.linkname);
    const targetRel = targetParent === '' ? targetParts.at(-1)! : `${targetParent}/${targetParts.at(-1)!}`;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(this.abs(targetRel));
    } catch {
      throw hostile(what, `the hardlink ${JSON.stringify(h.name)} points to ${JSON.stringify(h.linkname)}, which is not in the layer`);
    }
    if (st.isDirectory()) throw hostile(what, `the hardlink ${JSON.stringify(h.name)} points to a directory`);
    if (targetRel === rel) return;
    await this.clear(rel, false);
    this.created.add(rel);
    fs.linkSync(this.abs(targetRel), this.abs(rel));
  }

  private async fifoEntry(h: TarHeader, rel: string): Promise<void> {
    const abs = this.abs(rel);
    await this.clear(rel, false);
    await this.syncPoint();
    this.created.add(rel);
    const r = spawnSync('mkfifo', ['-m', (h.mode & 0o777).toString(8), '--', abs], { encoding: 'utf8' });
    if (r.status !== 0) throw new TspodError(`cannot create the fifo ${rel} of ${this.opts.what}: ${(r.stderr || String(r.error)).trim()}`);
    this.own(abs, h.uid, h.gid, rel);
    fs.chmodSync(abs, h.mode & 0o7777);
    fs.utimesSync(abs, h.mtime, h.mtime);
  }

  /** Walk an existing directory path (for hardlink targets) without creating or following anything. */
  private ensureExistingDir(parts: string[], linkname: string): string {
    let rel = '';
    for (const p of parts) {
      const next = rel === '' ? p : `${rel}/${p}`;
      if (!this.dirs.has(next)) {
        let st: fs.Stats;
        try {
          st = fs.lstatSync(this.abs(next));
        } catch {
          throw hostile(this.opts.what, `a hardlink points to ${JSON.stringify(linkname)}, which is not in the layer`);
        }
        if (!st.isDirectory() || st.isSymbolicLink()) {
          throw hostile(this.opts.what, `a hardlink target ${JSON.stringify(linkname)} goes through ${JSON.stringify(next)}, which is not a directory`);
        }
        this.dirs.add(next);
      }
      rel = next;
    }
    return rel;
  }

  private async whiteout(parentRel: string, name: string, mtime: number): Promise<void> {
    const rel = parentRel === '' ? name : `${parentRel}/${name}`;
    await this.clear(rel, false);
    this.forgetDirs(rel);
    this.created.delete(rel);
    if (this.opts.form === 'vfs') return;
    await this.syncPoint();
    this.whiteouts.add(rel);
    const abs = this.abs(rel);
    native().mknodChar(abs, 0, 0, 0);
    fs.lutimesSync(abs, mtime, mtime);
  }

  private async opaque(dirRel: string): Promise<void> {
    if (this.opts.form === 'overlay') {
      await this.syncPoint();
      native().lsetxattr(this.abs(dirRel), 'user.overlay.opaque', Buffer.from('y'));
    } else {
      // Lower content goes now; what this layer already put there stays (and what it
      // adds later is kept since it is created after).
      await this.drain();
      const dir = this.abs(dirRel);
      for (const name of fs.readdirSync(dir)) {
        const rel = dirRel === '' ? name : `${dirRel}/${name}`;
        if (this.created.has(rel)) continue;
        fs.rmSync(path.join(dir, name), { recursive: true, force: true });
        this.forgetDirs(rel);
      }
    }
  }

  private own(abs: string, uid: number, gid: number, rel: string): void {
    try {
      fs.lchownSync(abs, uid, gid);
    } catch (err) {
      throw this.ownError(err, uid, gid, rel);
    }
  }

  private ownError(err: unknown, uid: number, gid: number, rel: string): unknown {
    if (isErrno(err, 'EINVAL')) {
      return new TspodError(
        `cannot give ${rel} of ${this.opts.what} the owner ${uid}:${gid}: the id is not mapped in the rootless user namespace (potentially insufficient UIDs or GIDs in /etc/subuid and /etc/subgid); add a larger range and run 'tspod system migrate'`,
      );
    }
    return err;
  }

  private xattrs(abs: string, xattrs: Record<string, Buffer>): void {
    for (const [name, value] of Object.entries(xattrs)) {
      if (name.startsWith('trusted.') || name.startsWith('user.overlay.')) {
        log.debug(`${this.opts.what}: not setting ${name} on ${abs}`);
        continue;
      }
      try {
        native().lsetxattr(abs, name, value);
      } catch (err) {
        log.debug(`${this.opts.what}: cannot set xattr ${name} on ${abs}: ${(err as Error).message}`);
      }
    }
  }

  /** Queue an entry for the thread pool; a full batch is handed out (waiting while too many are in flight). */
  private async submit(op: BatchOp, rel: string, bytes: number): Promise<void> {
    if (this.failure) throw this.failure.err;
    this.batch.push(op);
    this.batchInfo.push({ rel, uid: op[3], gid: op[4] });
    this.batchBytes += bytes;
    if (this.batch.length >= BATCH_ENTRIES || this.batchBytes >= BATCH_BYTES) await this.flush();
  }

  /** Hand the queued entries out as one job, after the previous one (a chain). */
  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const ops = this.batch;
    const info = this.batchInfo;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchInfo = [];
    this.batchBytes = 0;
    this.pendingBytes += bytes;
    const p: Promise<void> = this.tail.then(() => native().unpackBatch(ops)).then(
      () => undefined,
      (err: unknown) => {
        const e = err as { syscall?: string; index?: number };
        const who = info[e.index ?? 0];
        this.failure ??= { err: who && /chown/.test(String(e.syscall)) ? this.ownError(err, who.uid, who.gid, who.rel) : err };
      },
    );
    const tracked = p.finally(() => {
      this.pending.delete(tracked);
      this.pendingBytes -= bytes;
    });
    this.pending.add(tracked);
    this.tail = tracked;
    while (this.pending.size >= MAX_PENDING || this.pendingBytes > MAX_PENDING_BYTES) await Promise.race(this.pending);
    if (this.failure) throw this.failure.err;
  }

  /** Before a step on the main thread that needs the directories: wait for the jobs (directory jobs only). */
  private async syncPoint(): Promise<void> {
    if (this.dirJobs && (this.pending.size > 0 || this.batch.length > 0)) await this.drain();
  }

  /** Hand out what is queued and wait for every job; throw the first failure. */
  async drain(): Promise<void> {
    if (!this.failure) await this.flush();
    await this.settle();
    if (this.failure) throw this.failure.err;
  }

  /** Wait for every job in flight, whatever happened; what is still queued is dropped (before the staging directory is removed). */
  async settle(): Promise<void> {
    this.batch = [];
    this.batchInfo = [];
    this.batchBytes = 0;
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  /** Directory times last, deepest first (after the jobs in flight: writing inside changes them). */
  async finish(): Promise<void> {
    await this.drain();
    const dirs = [...this.dirTimes.entries()].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
    for (const [rel, mtime] of dirs) {
      try {
        fs.utimesSync(this.abs(rel), mtime, mtime);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
  }
}

/** Unpack a layer stream into `root` (which must exist). */
export async function unpackLayer(root: string, entries: AsyncIterable<TarEntry>, opts: UnpackOptions): Promise<UnpackStats> {
  return new LayerUnpacker(root, opts).unpack(entries);
}
