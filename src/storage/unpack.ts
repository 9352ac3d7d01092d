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
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TarEntry } from '../core/index.js';
import { native } from '../native/addon.js';
import { TspodError, isErrno } from '../util/errors.js';
import { log } from '../util/log.js';

export type UnpackForm = 'overlay' | 'vfs';

export interface UnpackOptions {
  form: UnpackForm;
  /** For messages: "layer sha256:abcd...". */
  what: string;
}

export interface UnpackStats {
  entries: number;
  skippedDevices: number;
}

const O_NOFOLLOW = fs.constants.O_NOFOLLOW;
const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';

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
  /** vfs: paths this layer created (an opaque directory keeps them). */
  private readonly created = new Set<string>();
  readonly stats: UnpackStats = { entries: 0, skippedDevices: 0 };

  constructor(
    readonly root: string,
    readonly opts: UnpackOptions,
  ) {}

  private abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  /**
   * Make sure every component of `parts` is a real directory under root (creating
   * missing ones as root:root 0755), never following a symlink.
   */
  private ensureDir(parts: string[]): string {
    let rel = '';
    for (const p of parts) {
      const next = rel === '' ? p : `${rel}/${p}`;
      if (!this.dirs.has(next)) {
        const abs = this.abs(next);
        let st: fs.Stats | undefined;
        try {
          st = fs.lstatSync(abs);
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err;
        }
        if (st === undefined) {
          fs.mkdirSync(abs, { mode: 0o755 });
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
    for await (const entry of entries) {
      this.stats.entries++;
      await this.entry(entry);
    }
    this.finish();
    return this.stats;
  }

  async entry(entry: TarEntry): Promise<void> {
    const h = entry.header;
    const what = this.opts.what;
    const parts = safeComponents(h.name, what);
    if (parts.length === 0) {
      // The root directory itself: keep its metadata for the end.
      if (h.type === 'directory') this.dirTimes.set('', h.mtime);
      return;
    }
    const base = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);

    if (base.startsWith(WH_PREFIX)) {
      const parentRel = this.ensureDir(parentParts);
      if (base === WH_OPAQUE) {
        this.opaque(parentRel);
      } else if (base.startsWith(`${WH_PREFIX}${WH_PREFIX}`)) {
        log.debug(`${what}: ignoring aufs metadata entry ${h.name}`);
      } else {
        const target = base.slice(WH_PREFIX.length);
        if (target === '' || target === '.' || target === '..') throw hostile(what, `the whiteout ${JSON.stringify(h.name)} names no file`);
        this.whiteout(parentRel, target, h.mtime);
      }
      return;
    }

    const parentRel = this.ensureDir(parentParts);
    const rel = parentRel === '' ? base : `${parentRel}/${base}`;
    const abs = this.abs(rel);
    this.created.add(rel);

    switch (h.type) {
      case 'directory': {
        this.removeExisting(rel, true);
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
        return;
      }
      case 'file': {
        this.removeExisting(rel, false);
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
        return;
      }
      case 'symlink': {
        this.removeExisting(rel, false);
        fs.symlinkSync(h.linkname, abs);
        this.own(abs, h.uid, h.gid, rel);
        this.xattrs(abs, h.xattrs);
        fs.lutimesSync(abs, h.mtime, h.mtime);
        return;
      }
      case 'hardlink': {
        const targetParts = safeComponents(h.linkname, what, 'hardlink target');
        if (targetParts.length === 0) throw hostile(what, `the hardlink ${JSON.stringify(h.name)} points to the layer root`);
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
        this.removeExisting(rel, false);
        fs.linkSync(this.abs(targetRel), abs);
        return;
      }
      case 'fifo': {
        this.removeExisting(rel, false);
        const r = spawnSync('mkfifo', ['-m', (h.mode & 0o777).toString(8), '--', abs], { encoding: 'utf8' });
        if (r.status !== 0) throw new TspodError(`cannot create the fifo ${rel} of ${what}: ${(r.stderr || String(r.error)).trim()}`);
        this.own(abs, h.uid, h.gid, rel);
        fs.chmodSync(abs, h.mode & 0o7777);
        fs.utimesSync(abs, h.mtime, h.mtime);
        return;
      }
      case 'chardev':
      case 'blockdev': {
        // Device nodes cannot be created in a user namespace (Podman skips them too).
        this.created.delete(rel);
        this.stats.skippedDevices++;
        log.debug(`${what}: skipping device ${rel} (${h.devmajor}:${h.devminor}): devices cannot be created rootless`);
        return;
      }
      default:
        throw hostile(what, `the entry ${JSON.stringify(h.name)} has an unsupported type`);
    }
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

  private whiteout(parentRel: string, name: string, mtime: number): void {
    const rel = parentRel === '' ? name : `${parentRel}/${name}`;
    this.removeExisting(rel, false);
    this.forgetDirs(rel);
    if (this.opts.form === 'vfs') return;
    const abs = this.abs(rel);
    native().mknodChar(abs, 0, 0, 0);
    fs.lutimesSync(abs, mtime, mtime);
  }

  private opaque(dirRel: string): void {
    if (this.opts.form === 'overlay') {
      native().lsetxattr(this.abs(dirRel), 'user.overlay.opaque', Buffer.from('y'));
    } else {
      // Lower content goes now; what this layer already put there stays (and what it
      // adds later is kept since it is created after).
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

  /** Directory times last, deepest first. */
  finish(): void {
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
