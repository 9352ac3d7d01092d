import fs from 'node:fs';
import { withLock } from '../storage/lock.js';
import { TspodError } from '../util/errors.js';
import { setFrozen } from './cgroup.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import { reconcile } from './lifecycle.js';

/**
 * pause/unpause: freeze or thaw the container's own cgroup, under the
 * container's lock, and record it as paused or running. Podman's messages and
 * exit code (125) when the state is wrong or there is no cgroup to freeze.
 */
export async function setContainerPaused(store: ContainerStore, nameOrId: string, paused: boolean): Promise<ContainerRecord> {
  const id = store.get(nameOrId).id;
  return withLock(store.lockPath(id), async () => {
    const rec = await reconcile(store, store.get(id));
    if (paused && rec.state.status === 'paused') throw new TspodError(`${rec.id} is already paused: container state improper`);
    if (paused && rec.state.status !== 'running') throw new TspodError(`"${rec.id}" is not running, can't pause: container state improper`);
    if (!paused && rec.state.status !== 'paused') throw new TspodError(`"${rec.id}" is not paused, can't unpause: container state improper`);
    const dir = rec.state.cgroupPath;
    if (!dir || !fs.existsSync(dir)) {
      throw new TspodError(
        'can not pause containers on rootless containers with cgroup V1: this container does not have a cgroup; run tspod from a cgroup v2 directory delegated to your user (see `tspod info`) and start the container again',
      );
    }
    await setFrozen(dir, paused);
    return store.update(id, (r) => (r.state.status = paused ? 'paused' : 'running'));
  });
}
