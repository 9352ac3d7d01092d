/**
 * Safe access to a container's file system from the host side (inside the rootless
 * namespace): paths are resolved as the container would resolve them, symlinks
 * included, but never by the kernel against the host's root. Each component is
 * looked up relative to a directory file descriptor with O_NOFOLLOW, through
 * `/proc/self/fd/N/NAME` (the openat() Node lacks); a symlink's target is read and
 * resolved again from the container's root, `..` never climbs above it. A running
 * container may swap a directory for a symlink at any time: the O_NOFOLLOW opens
 * then fail instead of following it.
 *
 * Used by `cp` (both directions); the same walker and writer carry tar streams
 * (`cp -` to and from standard input and output).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TarEntry, TarWriteEntry } from '../core/tar.js';
import { native } from '../native/addon.js';
import { TspodError, isErrno } from '../util/errors.js';
import { log } from '../util/log.js';

/** O_PATH (x86_64 and arm64 share the value): an fd that only names a file. */
const O_PATH = 0o10000000;
const { O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
const MAX_SYMLINKS = 40;

export const fdPath = (fd: number, name = ''): string => (name ? `/proc/self/fd/${fd}/${name}` : `/proc/self/fd/${fd}`);

/**
 * O_NOFOLLOW for a path, except a bare `/proc/self/fd/N`: that magic link names a
 * directory already vetted (opening it with O_NOFOLLOW would fail with ELOOP).
 */
const noFollow = (host: string): number => (/^\/proc\/self\/fd\/\d+$/.test(host) ? 0 : O_NOFOLLOW);

/** A resolved place: `host` names it for the kernel without following a final symlink. */
export interface Location {
  /** A host path to the place: `/proc/self/fd/N/NAME`, or a mount's source. */
  host: string;
  /** The container path it resolved to (symlinks expanded). */
  path: string;
  /** lstat of the place; undefined when it does not exist (its parent does). */
  stat?: fs.Stats;
}

/** A bind mount or volume of a stopped container: its destination shows the source. */
export interface MountMap {
  destination: string;
  source: string;
}

export class ContainerRoot {
  private readonly fds: number[] = [];
  private readonly rootFd: number;

  constructor(
    root: string,
    private readonly mounts: MountMap[] = [],
  ) {
    this.rootFd = this.keep(fs.openSync(root, O_PATH | O_DIRECTORY));
  }

  private keep(fd: number): number {
    this.fds.push(fd);
    return fd;
  }

  close(): void {
    for (const fd of this.fds.splice(0)) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
  }

  /**
   * Resolve `ctrPath` in the container. Intermediate symlinks are always followed
   * (inside the root); the final one when `followFinal`. A missing final component
   * gives a Location without `stat`; a missing or non-directory parent throws ENOENT/ENOTDIR.
   */
  resolve(ctrPath: string, followFinal: boolean): Location {
    let stack: { fd: number; path: string }[] = [{ fd: this.rootFd, path: '/' }];
    let todo = ctrPath.split('/').filter((c) => c !== '' && c !== '.');
    let links = 0;
    for (;;) {
      const cur = stack[stack.length - 1];
      if (todo.length === 0) return { host: fdPath(cur.fd), path: cur.path, stat: fs.statSync(fdPath(cur.fd)) };
      const c = todo.shift()!;
      if (c === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const childPath = path.posix.join(cur.path, c);
      const last = todo.length === 0;
      const mount = this.mounts.find((m) => m.destination === childPath);
      if (mount) {
        // The user's own source path, its symlinks resolved once here.
        const source = fs.realpathSync(mount.source);
        const st = fs.statSync(source);
        if (last) return { host: source, path: childPath, stat: st };
        if (!st.isDirectory()) throw errno('ENOTDIR', childPath);
        stack.push({ fd: this.keep(fs.openSync(source, O_PATH | O_DIRECTORY)), path: childPath });
        continue;
      }
      const host = fdPath(cur.fd, c);
      const st = fs.lstatSync(host, { throwIfNoEntry: false });
      if (!st) {
        if (last) return { host, path: childPath };
        throw errno('ENOENT', childPath);
      }
      if (st.isSymbolicLink() && (!last || followFinal)) {
        if (++links > MAX_SYMLINKS) throw errno('ELOOP', childPath);
        const target = fs.readlinkSync(host);
        if (target.startsWith('/')) stack = [stack[0]];
        todo = [...target.split('/').filter((x) => x !== '' && x !== '.'), ...todo];
        continue;
      }
      if (last) return { host, path: childPath, stat: st };
      if (!st.isDirectory()) throw errno('ENOTDIR', childPath);
      // O_NOFOLLOW: a directory swapped for a symlink since the lstat fails here.
      stack.push({ fd: this.keep(fs.openSync(host, O_PATH | O_DIRECTORY | O_NOFOLLOW)), path: childPath });
    }
  }
}

function errno(code: string, p: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${p}`) as NodeJS.ErrnoException;
  e.code = code;
  e.path = p;
  return e;
}

// ---------------------------------------------------------------- reading

/** statfs types of proc, sysfs, devpts, cgroup, cgroup2, mqueue, securityfs, debugfs, tracefs, bpf. */
const KERNEL_FS = new Set([0x9fa0, 0x62656572, 0x1cd1, 0x27e0eb, 0x63677270, 0x19800202, 0x73636673, 0x64626720, 0x74726163, 0xcafe4a11]);

/** Overlay's own attributes (and SELinux labels, which belong to the receiving side) are not copied. */
const skippedXattr = (name: string) => /^(user|trusted)\.(overlay|fuseoverlayfs)\./.test(name) || name === 'security.selinux';

/**
 * A file's extended attributes, the way the kernel shows them to us (user.* and
 * security.capability in the user namespace); none when it has none or they cannot be read.
 */
function readXattrs(host: string, isDir: boolean): Record<string, Buffer> | undefined {
  // A bare /proc/self/fd/N is the magic link itself: name the directory behind it.
  const file = isDir && !noFollow(host) ? `${host}/.` : host;
  let names: string[];
  try {
    names = native().llistxattr(file);
  } catch {
    return undefined;
  }
  const out: Record<string, Buffer> = {};
  for (const name of names) {
    if (skippedXattr(name)) continue;
    try {
      const v = native().lgetxattr(file, name);
      if (v) out[name] = v;
    } catch {
      // vanished or not ours to read
    }
  }
  return Object.keys(out).length ? out : undefined;
}

export interface WalkOptions {
  /** The archive name of the top entry ('.' for "the contents of"). */
  name: string;
  /** Leave out the top directory's own entry (copying the contents of a directory). */
  skipTop?: boolean;
  /** Give device nodes as entries (from the host, where rootless Podman fails to make them) instead of leaving them out. */
  devices?: boolean;
}

/**
 * The entries of a tree as tar entries, top first. `host` must not be a symlink
 * the caller has not vetted (a Location's host, or a path of the user's own).
 * Directories are entered through O_NOFOLLOW descriptors.
 */
export async function* walkTree(host: string, opts: WalkOptions): AsyncGenerator<TarWriteEntry> {
  const hardlinks = new Map<string, string>();
  yield* walk(host, opts.name, opts.skipTop ?? false, hardlinks, opts.devices ?? false);
}

async function* walk(host: string, name: string, skipSelf: boolean, hardlinks: Map<string, string>, devices: boolean): AsyncGenerator<TarWriteEntry> {
  // lstat, except on a bare /proc/self/fd/N (itself a link to the vetted directory).
  const st = noFollow(host) ? fs.lstatSync(host) : fs.statSync(host);
  const xattrs = st.isSymbolicLink() ? undefined : readXattrs(host, st.isDirectory());
  const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), ...(xattrs ? { xattrs } : {}) };
  if (st.isDirectory()) {
    if (!skipSelf) yield { header: { ...base, type: 'directory' } };
    const fd = fs.openSync(host, O_RDONLY | O_DIRECTORY | noFollow(host));
    try {
      // The kernel's file systems (proc, sysfs, devpts, cgroup, mqueue) hold no files to copy.
      if (KERNEL_FS.has(fs.statfsSync(fdPath(fd)).type)) return;
      const names = fs.readdirSync(fdPath(fd)).sort();
      for (const n of names) yield* walk(fdPath(fd, n), name === '.' ? n : `${name}/${n}`, false, hardlinks, devices);
    } finally {
      fs.closeSync(fd);
    }
    return;
  }
  if (st.isSymbolicLink()) {
    yield { header: { ...base, type: 'symlink', linkname: fs.readlinkSync(host) } };
    return;
  }
  if (st.isFile()) {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = hardlinks.get(key);
      if (first !== undefined) {
        yield { header: { ...base, type: 'hardlink', linkname: first } };
        return;
      }
      hardlinks.set(key, name);
    }
    const fd = fs.openSync(host, O_RDONLY | O_NOFOLLOW);
    yield { header: { ...base, type: 'file', size: st.size }, body: fileBody(fd, st.size) };
    return;
  }
  if (st.isFIFO()) yield { header: { ...base, type: 'fifo' } };
  if (devices && (st.isCharacterDevice() || st.isBlockDevice())) {
    const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
    const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n));
    yield { header: { ...base, type: st.isCharacterDevice() ? 'chardev' : 'blockdev', devmajor: major, devminor: minor } };
  }
  // sockets (and, out of a container, devices) are not copied, as rootless Podman's copier leaves them out
}

/** Exactly `size` bytes of an open file (zeros if it shrank meanwhile); closes it. */
async function* fileBody(fd: number, size: number): AsyncGenerator<Buffer> {
  try {
    let done = 0;
    while (done < size) {
      const buf = Buffer.alloc(Math.min(size - done, 1 << 20));
      const n = fs.readSync(fd, buf, 0, buf.length, done);
      if (n === 0) {
        yield Buffer.alloc(size - done);
        return;
      }
      done += n;
      yield buf.subarray(0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------- writing

export interface WriterOptions {
  /** Owner for everything written: a fixed pair, or 'keep' the entries' own ids, or 'none' (the caller's). */
  owner: { uid: number; gid: number } | 'keep' | 'none';
  /** Replace a directory with a non-directory and the reverse (cp --overwrite). */
  overwrite: boolean;
  /** For messages: "container web" or "the host". */
  where: string;
}

/** One entry to write, from a walker or a tar stream. */
interface WriteItem {
  name: string;
  type: TarEntry['header']['type'];
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname?: string;
  body?: AsyncIterable<Uint8Array> | Uint8Array | Iterable<Uint8Array>;
  xattrs?: Record<string, Uint8Array>;
}

/**
 * Writes entries under one destination directory, never following a symlink met
 * on the way: every parent is opened with O_NOFOLLOW from the destination's own
 * descriptor, and an existing symlink in the place of a new file is replaced, not
 * written through.
 */
export class TreeWriter {
  private readonly dirs = new Map<string, number>();
  private readonly dirTimes: { rel: string; mtime: number }[] = [];

  constructor(
    dest: string,
    private readonly opts: WriterOptions,
  ) {
    // O_NOFOLLOW: a directory a running container swaps for a symlink after it was resolved is refused.
    this.dirs.set('', fs.openSync(dest, O_PATH | O_DIRECTORY | noFollow(dest)));
  }

  close(): void {
    // Directory times last: writing into a directory changes its mtime.
    for (const d of this.dirTimes.reverse()) {
      try {
        const { parent, base } = this.place(d.rel);
        fs.lutimesSync(fdPath(parent, base), d.mtime, d.mtime);
      } catch {
        // best effort
      }
    }
    for (const fd of this.dirs.values()) fs.closeSync(fd);
    this.dirs.clear();
  }

  private dir(rel: string): number {
    const have = this.dirs.get(rel);
    if (have !== undefined) return have;
    const parent = this.dir(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel));
    const base = path.posix.basename(rel);
    const host = fdPath(parent, base);
    let fd: number;
    try {
      fd = fs.openSync(host, O_PATH | O_DIRECTORY | O_NOFOLLOW);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw this.fail(rel, err);
      fs.mkdirSync(host, 0o755);
      this.chown(host, { uid: 0, gid: 0 });
      fd = fs.openSync(host, O_PATH | O_DIRECTORY | O_NOFOLLOW);
    }
    if (this.dirs.size > 256) {
      // Bound the open descriptors on deep or wide trees.
      for (const [k, v] of this.dirs) if (k !== '') fs.closeSync(v);
      for (const k of [...this.dirs.keys()]) if (k !== '') this.dirs.delete(k);
    }
    this.dirs.set(rel, fd);
    return fd;
  }

  private place(rel: string): { parent: number; base: string } {
    const d = path.posix.dirname(rel);
    return { parent: this.dir(d === '.' ? '' : d), base: path.posix.basename(rel) };
  }

  private fail(rel: string, err: unknown): TspodError {
    if (err instanceof TspodError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') return new TspodError(`cannot write "${rel}" to ${this.opts.where}: a part of its path is not a directory (a symlink is not followed)`);
    return new TspodError(`cannot write "${rel}" to ${this.opts.where}: ${(err as Error).message}`);
  }

  private chown(host: string, e: { uid: number; gid: number }): void {
    const o = this.opts.owner;
    if (o === 'none') return;
    const { uid, gid } = o === 'keep' ? e : o;
    fs.lchownSync(host, uid, gid);
  }

  /** Remove what is in the way of a new entry of `isDir` kind. */
  private clear(host: string, rel: string, isDir: boolean): boolean {
    const st = fs.lstatSync(host, { throwIfNoEntry: false });
    if (!st) return false;
    if (st.isDirectory() && isDir) return true;
    if (st.isDirectory() !== isDir && !this.opts.overwrite) {
      throw new TspodError(
        isDir
          ? `cannot overwrite non-directory "${rel}" in ${this.opts.where} with a directory; use --overwrite to replace it`
          : `cannot overwrite directory "${rel}" in ${this.opts.where} with a non-directory; use --overwrite to replace it`,
      );
    }
    fs.rmSync(host, { recursive: true, force: true });
    return false;
  }

  async write(e: WriteItem): Promise<void> {
    const rel = normalizeName(e.name);
    try {
      if (rel === '') {
        if (e.type === 'directory') this.chmodDir('', e);
        return;
      }
      const { parent, base } = this.place(rel);
      const host = fdPath(parent, base);
      switch (e.type) {
        case 'directory': {
          if (!this.clear(host, rel, true)) fs.mkdirSync(host, e.mode & 0o777);
          // A new descriptor: the cached one may name what was just replaced.
          const old = this.dirs.get(rel);
          if (old !== undefined) {
            fs.closeSync(old);
            this.dirs.delete(rel);
          }
          this.chmodDir(rel, e);
          return;
        }
        case 'file': {
          this.clear(host, rel, false);
          const fd = fs.openSync(host, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
          try {
            const body = e.body instanceof Uint8Array ? [e.body] : (e.body ?? []);
            for await (const chunk of body as AsyncIterable<Uint8Array>) {
              let off = 0;
              while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
            }
            this.chown(host, e);
            fs.fchmodSync(fd, e.mode & 0o7777);
            this.setXattrs(host, rel, e);
            fs.futimesSync(fd, e.mtime, e.mtime);
          } finally {
            fs.closeSync(fd);
          }
          return;
        }
        case 'fifo': {
          this.clear(host, rel, false);
          // Node has no mkfifo: mkfifo(1) makes it in the directory we pass it as its fd 3 (never through a symlink).
          const r = spawnSync('mkfifo', ['-m', (e.mode & 0o777).toString(8), '--', fdPath(3, base)], { stdio: ['ignore', 'ignore', 'pipe', parent], encoding: 'utf8' });
          if (r.status !== 0) throw new TspodError(`cannot create the fifo "${rel}" in ${this.opts.where}: ${(r.stderr || String(r.error)).trim()}`);
          this.chown(host, e);
          fs.chmodSync(host, e.mode & 0o7777);
          this.setXattrs(host, rel, e);
          fs.lutimesSync(host, e.mtime, e.mtime);
          return;
        }
        case 'chardev':
        case 'blockdev':
          // As rootless Podman's copier: the user namespace may not make devices, and the copy fails.
          throw new TspodError(`cannot create the device "${rel}" in ${this.opts.where}: operation not permitted (a rootless user namespace cannot make device nodes)`);
        case 'symlink':
          this.clear(host, rel, false);
          fs.symlinkSync(e.linkname ?? '', host);
          this.chown(host, e);
          fs.lutimesSync(host, e.mtime, e.mtime);
          return;
        case 'hardlink': {
          this.clear(host, rel, false);
          const target = normalizeName(e.linkname ?? '');
          const t = this.place(target);
          const tst = fs.lstatSync(fdPath(t.parent, t.base), { throwIfNoEntry: false });
          if (!tst || tst.isDirectory()) throw new TspodError(`the hard link "${rel}" points at "${e.linkname}", which is not a file written by this copy`);
          fs.linkSync(fdPath(t.parent, t.base), host);
          return;
        }
        default:
          return;
      }
    } catch (err) {
      throw this.fail(rel, err);
    }
  }

  private chmodDir(rel: string, e: WriteItem): void {
    const fd = this.dir(rel);
    const host = fdPath(fd);
    this.chown(host, e);
    fs.chmodSync(host, e.mode & 0o7777);
    this.setXattrs(`${host}/.`, rel, e);
    this.dirTimes.push({ rel, mtime: e.mtime });
  }

  /** Extended attributes where the kernel lets us set them (user.*, security.capability with CAP_SETFCAP); others are left out. */
  private setXattrs(host: string, rel: string, e: WriteItem): void {
    for (const [name, value] of Object.entries(e.xattrs ?? {})) {
      if (skippedXattr(name)) continue;
      try {
        native().lsetxattr(host, name, Buffer.from(value.buffer, value.byteOffset, value.length));
      } catch (err) {
        log.debug(`cp: not setting ${name} on ${rel} in ${this.opts.where}: ${(err as Error).message}`);
      }
    }
  }
}

/** An archive name as a relative path below the destination; `..` and absolute names refused. */
function normalizeName(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new TspodError(`refusing the archive entry "${name}": it climbs out of the destination with ".."`);
  return parts.join('/');
}

/** Write entries (from walkTree or readTar) with a TreeWriter. */
export async function writeEntries(writer: TreeWriter, entries: AsyncIterable<TarWriteEntry | TarEntry> | Iterable<TarWriteEntry | TarEntry>): Promise<void> {
  for await (const e of entries) {
    const h = e.header;
    if ('whiteout' in e && e.whiteout) continue;
    await writer.write({
      name: h.name,
      type: h.type,
      mode: h.mode ?? 0o644,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      mtime: Math.floor(h.mtime ?? Date.now() / 1000),
      ...(h.linkname ? { linkname: h.linkname } : {}),
      ...(h.xattrs && Object.keys(h.xattrs).length ? { xattrs: h.xattrs } : {}),
      ...(h.type === 'file' ? { body: typeof e.body === 'function' ? e.body() : e.body } : {}),
    });
  }
}
