import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { TspodError } from '../util/errors.js';
import { packageRoot } from '../util/paths.js';

/** The syscalls the addon adds to Node (native/src/addon.cc). */
export interface NativeAddon {
  flockSync(fd: number, op: number): boolean;
  flock(fd: number, op: number): Promise<void>;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount(target: string, flags?: number): void;
  mknodChar(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  /**
   * On the thread pool, in order: [kind, path, chunks | link target | null, uid, gid, mode, mtime]
   * (0 file: open O_CREAT|O_EXCL|O_NOFOLLOW, write, fchown, fchmod, futimens, close;
   * 1 symlink, lchown, lutimes; 2 mkdir (an existing directory kept), lchown, chmod).
   * Rejects with the first failure (its `index`); later entries are not applied.
   */
  unpackBatch(ops: Array<[number, string, Buffer[] | string | null, number, number, number, number]>): Promise<void>;
  /** pipe2(O_CLOEXEC): [read end, write end]. */
  pipe(): [number, number];
  /** posix_spawn (no fork of Node's memory); the child's fd i is fds[i], -1 meaning /dev/null. */
  spawnProcess(file: string, argv: string[], fds: number[], newSession: boolean): number;
  /** waitpid(WNOHANG): null while the child runs. */
  reapChild(pid: number): { code: number; signal: number } | null;
  /** Read a pipe on Node's loop: each chunk as it comes, null at its end (then the fd is closed). */
  watchReadable(fd: number, onData: (chunk: Buffer | null) => void): { close(): void; unref(): void };
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MNT_DETACH = 2;

let addon: NativeAddon | undefined;

/** Loaded on first use: commands that never lock or mount don't pay for it. */
export function native(): NativeAddon {
  if (addon) return addon;
  const file = path.join(packageRoot(), 'native', 'build', 'Release', 'tspod_native.node');
  if (!fs.existsSync(file)) {
    throw new TspodError(`tspod's native addon is missing (${file}); run 'npm run build:native' in ${packageRoot()}`);
  }
  addon = createRequire(import.meta.url)(file) as NativeAddon;
  return addon;
}
