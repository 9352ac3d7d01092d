/**
 * `tspod mount` / `unmount`: a container's root filesystem mounted for the user (in
 * the rootless namespace's mount namespace, hence visible inside `tspod unshare`),
 * with a counter of explicit mounts (container-rootfs/<id>/mountcount) so that each
 * `mount` needs its `unmount`, and an unmount never takes the root filesystem from
 * under a running container.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GlobalContext } from '../cli/context.js';
import { withLock } from '../storage/lock.js';
import { TspodError } from '../util/errors.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';

function countFile(ctx: GlobalContext, id: string): string {
  return path.join(ctx.storageRoot, 'container-rootfs', id, 'mountcount');
}

function readCount(file: string): number {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

async function writeCount(file: string, n: number): Promise<void> {
  const { writeFileAtomic } = await import('../storage/atomic.js');
  if (n <= 0) fs.rmSync(file, { force: true });
  else writeFileAtomic(file, `${n}\n`, 0o600);
}

/** Mount (or count one more mount of) a container's root filesystem; its path. */
/** Podman's mount and unmount say 125 for an unknown container. */
function lookup(store: ContainerStore, nameOrId: string): ContainerRecord {
  const rec = store.find(nameOrId);
  if (!rec) throw new TspodError(`no container with name or ID "${nameOrId}" found: no such container`);
  return rec;
}

export async function mountContainer(ctx: GlobalContext, store: ContainerStore, nameOrId: string): Promise<string> {
  const rec = lookup(store, nameOrId);
  if (!rec.config.imageId) return rec.config.rootfs; // a --rootfs directory is always "mounted"
  const { containerRootfsPath } = await import('./lifecycle.js');
  return withLock(store.lockPath(rec.id), async () => {
    const rootfs = await containerRootfsPath(store, rec);
    const file = countFile(ctx, rec.id);
    await writeCount(file, readCount(file) + 1);
    return rootfs;
  });
}

/** Whether the container's root filesystem is mounted now (overlay) or counted as mounted (vfs). */
export async function mountedPath(ctx: GlobalContext, rec: ContainerRecord): Promise<string | undefined> {
  if (!rec.config.imageId) return undefined;
  const { containerRootfsDir, isMounted } = await import('../storage/rootfs.js');
  const dir = containerRootfsDir(ctx.storageRoot, rec.id);
  const merged = path.join(dir, 'merged');
  if (isMounted(merged)) return merged;
  const vfs = path.join(dir, 'rootfs');
  if (readCount(countFile(ctx, rec.id)) > 0 && fs.existsSync(vfs)) return vfs;
  return undefined;
}

/**
 * Take back one mount (all of them with `force`); the root filesystem is unmounted
 * when none is left and the container is not running.
 */
export async function unmountContainer(ctx: GlobalContext, store: ContainerStore, nameOrId: string, force: boolean): Promise<ContainerRecord> {
  const { reconcile } = await import('./lifecycle.js');
  const rec = await reconcile(store, lookup(store, nameOrId));
  if (!rec.config.imageId) return rec;
  await withLock(store.lockPath(rec.id), async () => {
    const file = countFile(ctx, rec.id);
    const left = force ? 0 : Math.max(0, readCount(file) - 1);
    await writeCount(file, left);
    const now = store.find(rec.id);
    if (left === 0 && now && now.state.status !== 'running') {
      const { releaseContainerRootfs } = await import('../storage/rootfs.js');
      releaseContainerRootfs(ctx.storageRoot, rec.id);
    }
  });
  return rec;
}

/**
 * Podman refuses `mount` outside `podman unshare` in rootless mode (the path means
 * nothing outside the namespace), except with vfs. We are inside when the process
 * that started us is in our user namespace too; the launcher's own join does not count.
 */
export async function requireInsideUnshare(ctx: GlobalContext, command: string): Promise<void> {
  const { inRootlessNamespace, isRootless } = await import('../util/paths.js');
  if (!isRootless()) return;
  const { ImageStore } = await import('../storage/image-store.js');
  if (new ImageStore(ctx.storageRoot).driver() === 'vfs' || ctx.storageDriver === 'vfs') return;
  let inside = false;
  if (inRootlessNamespace()) {
    try {
      inside = fs.readlinkSync(`/proc/${process.ppid}/ns/user`) === fs.readlinkSync('/proc/self/ns/user');
    } catch {
      inside = false;
    }
  }
  if (!inside) throw new TspodError(`cannot run command "tspod ${command}" in rootless mode, must execute \`tspod unshare\` first`);
}
