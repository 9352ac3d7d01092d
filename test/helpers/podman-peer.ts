import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Real podman as the interop peer, kept to a test's own directory: its HOME, and a
 * store (vfs, runc, cgroupfs, file events) under DIR/proot and DIR/prun. podman
 * refuses a runroot longer than 50 characters: keep DIR short (os.tmpdir()-based).
 */
export class PodmanPeer {
  readonly env: NodeJS.ProcessEnv;
  /** podman's global options for this store, for commands built by hand (podman unshare sh -c ...). */
  readonly store: string[];

  constructor(
    readonly dir: string,
    opts: { tmp?: string } = {},
  ) {
    const home = path.join(dir, 'podman-home');
    fs.mkdirSync(home, { recursive: true });
    this.env = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', TMPDIR: opts.tmp ?? dir };
    this.store = ['--root', path.join(dir, 'proot'), '--runroot', path.join(dir, 'prun'), '--storage-driver', 'vfs', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
  }

  /** The result of a podman command, whatever its status. */
  spawn(args: string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv; maxBuffer?: number } = {}): SpawnSyncReturns<string> {
    return spawnSync('podman', [...this.store, ...args], {
      env: { ...this.env, ...opts.env },
      encoding: 'utf8',
      timeout: opts.timeout ?? 120_000,
      ...(opts.maxBuffer ? { maxBuffer: opts.maxBuffer } : {}),
    });
  }

  /** The stdout of a podman command that must succeed. */
  run(args: string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv; maxBuffer?: number } = {}): string {
    const r = this.spawn(args, opts);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Remove the store (its files belong to subordinate ids) and stop podman's pause process. */
  dispose(): void {
    this.spawn(['unshare', 'rm', '-rf', path.join(this.dir, 'proot'), path.join(this.dir, 'prun')], { timeout: 60_000 });
    this.spawn(['system', 'migrate'], { timeout: 60_000 });
  }
}
