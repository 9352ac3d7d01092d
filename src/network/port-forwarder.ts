import fs from 'node:fs';
import path from 'node:path';

/**
 * The port forwarder of a container (`tspod-launch --portfwd`, see portfwd.c):
 * it ends by itself when the container's first process does; teardown ends it
 * at once and waits, so the host ports are free when `rm -f` returns.
 */
export function portForwarderPidFile(runDir: string): string {
  return path.join(runDir, 'portfwd.pid');
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(') ') + 2] !== 'Z';
  } catch {
    return false;
  }
}

export function stopPortForwarder(runDir: string, waitMs = 2000): void {
  const pidFile = portForwarderPidFile(runDir);
  let pid = 0;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    // Its command line names its pid file: a stale file never names another container's forwarder.
    if (!(pid > 1 && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(pidFile))) pid = 0;
  } catch {
    pid = 0;
  }
  if (pid) {
    try {
      process.kill(pid, 'SIGTERM');
      for (const deadline = Date.now() + waitMs; running(pid) && Date.now() < deadline; ) sleep(5);
    } catch {
      // already gone
    }
  }
  fs.rmSync(pidFile, { force: true });
}
