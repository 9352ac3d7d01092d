/**
 * `ps --size`: a container's writable-layer size and its root filesystem's
 * total size, as Podman's ListContainer Size reports them (rwSize, rootFsSize).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerRecord } from './container-store.js';

export interface ContainerSize {
  rootFsSize: number;
  rwSize: number;
}

/** Bytes under dir, as containers/storage counts a diff: every non-directory once (hard links by inode). */
export function treeSize(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return; // gone meanwhile, or unreadable: count what can be read
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      try {
        const st = fs.lstatSync(p, { bigint: false });
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1) {
          if (seen.has(key)) continue;
          seen.add(key);
        }
        total += st.size;
      } catch {
        // removed while we walked
      }
    }
  };
  walk(dir);
  return total;
}

/**
 * rwSize: what the container wrote (its overlay upper dir); rootFsSize: its image
 * plus that. A vfs or --rootfs container has no separate layer: its copy is its root
 * filesystem, and what it wrote is the part beyond the image's size.
 */
export async function containerSize(storageRoot: string, rec: ContainerRecord): Promise<ContainerSize> {
  const { ImageStore } = await import('../storage/image-store.js');
  const { containerRootfsDir } = await import('../storage/rootfs.js');
  const store = new ImageStore(storageRoot);
  const image = rec.config.imageId ? store.readImages().images[rec.config.imageId.replace(/^sha256:/, '')] : undefined;
  const imageSize = image?.size ?? 0;
  if (!rec.config.imageId) {
    const whole = treeSize(rec.config.rootfs);
    return { rootFsSize: whole, rwSize: 0 };
  }
  const dir = containerRootfsDir(storageRoot, rec.id);
  if (store.driver() === 'vfs') {
    const whole = treeSize(dir);
    return { rootFsSize: Math.max(whole, imageSize), rwSize: Math.max(0, whole - imageSize) };
  }
  const rw = treeSize(path.join(dir, 'diff'));
  return { rootFsSize: imageSize + rw, rwSize: rw };
}
