import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const TSPOD_BIN = path.join(REPO_ROOT, 'bin', 'tspod');

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * An isolated tspod world for one suite: its own HOME, XDG dirs and runtime
 * directory, hence its own store and its own pause process.
 */
export class TspodSandbox {
  readonly home: string;
  readonly runDir: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(name: string, opts: { xdgRuntime?: boolean; extraEnv?: NodeJS.ProcessEnv } = {}) {
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), `tspod-test-${name}-`));
    const xdgRuntime = path.join(this.home, 'run');
    fs.mkdirSync(xdgRuntime, { mode: 0o700 });
    const tmp = path.join(this.home, 'tmp');
    fs.mkdirSync(tmp, { mode: 0o700 });
    this.env = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: this.home,
      USER: os.userInfo().username,
      LANG: 'C.UTF-8',
      TMPDIR: tmp,
      ...(opts.xdgRuntime === false ? {} : { XDG_RUNTIME_DIR: xdgRuntime }),
      ...opts.extraEnv,
    };
    this.runDir =
      opts.xdgRuntime === false ? path.join(tmp, `tspod-run-${process.getuid?.()}`) : path.join(xdgRuntime, 'tspod');
  }

  run(args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeout?: number } = {}): RunResult {
    const r = spawnSync(TSPOD_BIN, args, {
      env: { ...this.env, ...opts.env },
      input: opts.input,
      encoding: 'utf8',
      timeout: opts.timeout ?? 60_000,
      maxBuffer: 256 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    return { status: r.status ?? 128 + (r.signal ? os.constants.signals[r.signal] : 0), stdout: r.stdout, stderr: r.stderr };
  }

  runAsync(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(TSPOD_BIN, args, { env: { ...this.env, ...opts.env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ status: code ?? 125, stdout, stderr }));
    });
  }

  pauseRecord(): { pid: number; startTime: number } | undefined {
    try {
      const [pid, startTime] = fs.readFileSync(path.join(this.runDir, 'pause.pid'), 'utf8').trim().split(/\s+/).map(Number);
      return { pid, startTime };
    } catch {
      return undefined;
    }
  }

  /**
   * End the pasta pool's keepers and pastas (RUNROOT/netpool): a replacement
   * entry a last `run` started in the background would otherwise still be
   * writing into the pool while its directory is removed (ENOTEMPTY).
   */
  stopPastaPool(): void {
    const pool = path.join(this.runDir, 'netpool');
    const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    for (let i = 0; i < 200; i++) {
      let entries: string[];
      try {
        entries = fs.readdirSync(pool);
      } catch {
        return;
      }
      const live = entries.flatMap((name) =>
        ['keeper.pid', 'pasta.pid'].flatMap((file) => {
          try {
            const pid = Number(fs.readFileSync(path.join(pool, name, file), 'utf8').trim());
            // Only our own processes: a pid file can outlive its process, and the number be reused.
            const ours = file === 'pasta.pid' ? /^pas/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8')) : fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--netpool');
            return pid > 1 && ours ? [pid] : [];
          } catch {
            return [];
          }
        }),
      );
      if (live.length === 0) return;
      for (const pid of live) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      sleep(25);
    }
  }

  /** Stop this sandbox's pause process and delete its files. */
  dispose(): void {
    this.stopPastaPool();
    const rec = this.pauseRecord();
    // Files made inside the namespace by subordinate ids can only be removed from inside it.
    if (rec) spawnSync(TSPOD_BIN, ['unshare', 'rm', '-rf', this.home], { env: this.env });
    if (rec) {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(this.home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
