import fs from 'node:fs';
import path from 'node:path';
import { inspectCgroups } from '../system/cgroups.js';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';

/**
 * Per-container cgroups, for pause/unpause. As Podman does with the cgroupfs
 * manager, a container gets a child cgroup of the cgroup v2 directory the user
 * was delegated: the one this process is in (/proc/self/cgroup), when it is on
 * a cgroup2 mount and writable by us. Without one (cgroup v1, or nothing
 * delegated) containers share our cgroup and cannot be paused.
 */
export function delegatedCgroup(): string | undefined {
  const report = inspectCgroups();
  return report.delegated && report.ownCgroup ? report.ownCgroup : undefined;
}

/** Make (or reuse) the container's cgroup; undefined when nothing is delegated to us. */
export function createContainerCgroup(id: string): string | undefined {
  const parent = delegatedCgroup();
  if (!parent) return undefined;
  const dir = path.join(parent, `tspod-${id}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    // The container still runs, in our cgroup; only pause is unavailable for it.
    log.debug(`cannot create the cgroup ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): the container cannot be paused`);
    return undefined;
  }
  return dir;
}

/** Remove a container's cgroup once its processes are gone (the monitor usually did). */
export function removeContainerCgroup(dir: string | undefined): void {
  if (!dir) return;
  try {
    fs.rmdirSync(dir);
  } catch {
    // already gone, or still busy: the next start reuses it
  }
}

/** Freeze or thaw every process of the container's cgroup, and wait until the kernel says it is done. */
export async function setFrozen(dir: string, frozen: boolean): Promise<void> {
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.freeze'), frozen ? '1' : '0');
  } catch (err) {
    throw new TspodError(`cannot ${frozen ? 'freeze' : 'thaw'} the cgroup ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const deadline = Date.now() + 5000;
  const want = `frozen ${frozen ? 1 : 0}`;
  for (;;) {
    let events = '';
    try {
      events = fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8');
    } catch {
      return; // the cgroup went away with its container
    }
    if (events.split('\n').includes(want)) return;
    if (Date.now() > deadline) throw new TspodError(`the cgroup ${dir} did not become ${frozen ? 'frozen' : 'thawed'} within 5 seconds`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
