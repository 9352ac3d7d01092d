import fs from 'node:fs';
import path from 'node:path';
import { LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, native } from '../native/addon.js';

/**
 * An flock(2) on a lock file. flock locks belong to the open file description,
 * so they are released by the kernel when the process dies: a crashed tspod
 * never leaves a store locked.
 */
export class FileLock {
  private constructor(
    readonly path: string,
    private fd: number | undefined,
  ) {}

  /** Wait for the lock (off the main thread, so signals are still handled). */
  static async acquire(lockPath: string, opts: { shared?: boolean } = {}): Promise<FileLock> {
    const fd = openLockFile(lockPath);
    try {
      await native().flock(fd, opts.shared ? LOCK_SH : LOCK_EX);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return new FileLock(lockPath, fd);
  }

  /** Take the lock if free; undefined when another process holds it. */
  static tryAcquire(lockPath: string, opts: { shared?: boolean } = {}): FileLock | undefined {
    const fd = openLockFile(lockPath);
    let got = false;
    try {
      got = native().flockSync(fd, (opts.shared ? LOCK_SH : LOCK_EX) | LOCK_NB);
    } finally {
      if (!got) fs.closeSync(fd);
    }
    return got ? new FileLock(lockPath, fd) : undefined;
  }

  release(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      native().flockSync(fd, LOCK_UN);
    } finally {
      fs.closeSync(fd);
    }
  }
}

function openLockFile(lockPath: string): number {
  fs.mkdirSync(path.dirname(lockPath), { recursive: true, mode: 0o700 });
  return fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
}

/** Run fn while holding the lock; released however fn ends. */
export async function withLock<T>(lockPath: string, fn: () => Promise<T> | T, opts: { shared?: boolean } = {}): Promise<T> {
  const lock = await FileLock.acquire(lockPath, opts);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
