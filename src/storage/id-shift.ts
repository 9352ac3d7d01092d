/**
 * Image layers for a container with a user namespace of its own (--userns=keep-id,
 * --uidmap, --userns=auto): the same trees with every owner moved to the rootless id
 * the container's mapping puts it at, so image files still belong to root (and to
 * their other users) inside. This is Podman's fallback for rootless kernel overlay.
 *
 * Why a copy: an idmapped mount (mount_setattr MOUNT_ATTR_IDMAP) is what a privileged
 * engine uses, but rootless it is refused here (kernel 6.18, measured): on the layer
 * directories (ext4, a superblock of the initial user namespace) EPERM; on the
 * overlay mount and on fuse-overlayfs EINVAL (neither filesystem allows idmapping);
 * only a tmpfs made inside the namespace accepts it.
 *
 * The copy lives beside the container's writable layer (container-rootfs/<cid>/mapped),
 * is made once and goes away with the container; `idmap.json` there records the
 * mapping so every later mount of that root filesystem uses the same trees.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../util/errors.js';
import { writeFileAtomic } from './atomic.js';
import type { IdRange } from '../runtime/id-mappings.js';

export interface IdMap {
  uidMap: IdRange[];
  gidMap: IdRange[];
}

function mapId(id: number, ranges: IdRange[]): number {
  for (const r of ranges) if (id >= r.container && id < r.container + r.size) return r.host + (id - r.container);
  return id; // an id the container does not map keeps its owner (it shows as nobody inside)
}

/**
 * Move every owner in `root` through the mapping, in place. Hard-linked inodes are
 * moved once; setuid/setgid bits, which chown clears, are put back.
 */
export function shiftOwners(root: string, map: IdMap): number {
  const seen = new Set<string>();
  let count = 0;
  const visit = (p: string) => {
    const st = fs.lstatSync(p);
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    const uid = mapId(st.uid, map.uidMap);
    const gid = mapId(st.gid, map.gidMap);
    if (uid !== st.uid || gid !== st.gid) {
      fs.lchownSync(p, uid, gid);
      if (st.isFile() && st.mode & 0o6000) fs.chmodSync(p, st.mode & 0o7777);
      count++;
    }
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name));
  };
  visit(root);
  return count;
}

/** The mapping a container's root filesystem was prepared with, if any. */
export function readIdMap(containerDir: string): IdMap | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(containerDir, 'idmap.json'), 'utf8')) as IdMap;
  } catch {
    return undefined;
  }
}

/**
 * Owner-shifted copies of `lowers` (top first) under `containerDir/mapped`, made once;
 * returns their paths in the same order.
 */
export function mappedLowerDirs(containerDir: string, lowers: string[], map: IdMap): string[] {
  const dest = path.join(containerDir, 'mapped');
  const out = lowers.map((_, i) => path.join(dest, String(i)));
  if (fs.existsSync(dest)) return out;
  const staging = `${dest}.tmp`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { mode: 0o700 });
  lowers.forEach((lower, i) => {
    const target = path.join(staging, String(i));
    fs.mkdirSync(target);
    const r = spawnSync('cp', ['-a', '--reflink=auto', '--', `${lower}/.`, `${target}/`], { encoding: 'utf8' });
    if (r.status !== 0) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw new TspodError(`cannot copy an image layer for the container's user namespace: ${(r.stderr || String(r.error)).trim()}`);
    }
    shiftOwners(target, map);
  });
  fs.renameSync(staging, dest);
  return out;
}

export function recordIdMap(containerDir: string, map: IdMap): void {
  writeFileAtomic(path.join(containerDir, 'idmap.json'), JSON.stringify(map), 0o600);
}
