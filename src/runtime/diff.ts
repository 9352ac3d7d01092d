import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../util/errors.js';
import type { ContainerRecord } from './container-store.js';

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

/**
 * `tspod diff`: what a container changed, read from its overlay upper dir.
 * A 0/0 character device is a deletion; an opaque directory or an entry that
 * exists below is a change; anything else was added. Like Podman, the parent
 * directories of changed entries are reported as changed.
 */
export function overlayChanges(upper: string, lowers: string[], mountPoints: Set<string> = new Set()): Change[] {
  const changes = new Map<string, Change['kind']>();
  const existsBelow = (rel: string) => lowers.some((l) => fs.lstatSync(path.join(l, rel), { throwIfNoEntry: false }) !== undefined);
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(upper, rel), { withFileTypes: true })) {
      const childRel = path.posix.join(rel, entry.name);
      const abs = path.join(upper, childRel);
      const st = fs.lstatSync(abs);
      if (st.isCharacterDevice() && st.rdev === 0) changes.set(`/${childRel}`, 'D');
      else {
        changes.set(`/${childRel}`, existsBelow(childRel) ? 'C' : 'A');
        if (entry.isDirectory()) walk(childRel);
      }
    }
  };
  walk('');
  // Mount points the runtime made for itself are no change of the container's.
  for (const m of mountPoints) if (changes.get(m) === 'A') changes.delete(m);
  // Parents of changes that existed below count as changed, as Podman lists them.
  for (const p of [...changes.keys()]) {
    for (let dir = path.posix.dirname(p); dir !== '/'; dir = path.posix.dirname(dir)) {
      if (!changes.has(dir)) changes.set(dir, 'C');
    }
  }
  return [...changes].map(([p, kind]) => ({ kind, path: p })).sort((a, b) => a.path.localeCompare(b.path));
}

/** What every container has mounted, as Podman leaves its own mount points out of diff. */
const RUNTIME_MOUNT_POINTS = ['/dev', '/proc', '/sys', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/run/tspod-init'];

export async function containerChanges(storageRoot: string, rec: ContainerRecord): Promise<Change[]> {
  if (!rec.config.imageId) {
    throw new TspodError(`container ${rec.name} runs from a --rootfs directory, which tspod does not layer: there is nothing to compare with`);
  }
  const { ImageStore } = await import('../storage/image-store.js');
  const { layerDiffDir } = await import('../storage/layer-store.js');
  const { containerRootfsDir } = await import('../storage/rootfs.js');
  const store = new ImageStore(storageRoot);
  const image = store.readImages().images[rec.config.imageId.replace(/^sha256:/, '')];
  if (!image) throw new TspodError(`the image of container ${rec.name} is gone from the store`);
  const upper = path.join(containerRootfsDir(storageRoot, rec.id), 'diff');
  if (!fs.existsSync(upper)) return [];
  if (store.driver() === 'vfs') {
    throw new TspodError('tspod diff needs the overlay storage driver: with vfs the container has no separate layer of changes');
  }
  const mountPoints = new Set([...RUNTIME_MOUNT_POINTS, ...(rec.config.mounts ?? []).map((m) => m.destination)]);
  return overlayChanges(upper, [...image.layers].reverse().map((l) => layerDiffDir(storageRoot, l)), mountPoints);
}
