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
 * The copies are shared by every container with the same mapping (all keep-id containers
 * of a user have the same one), as Podman keeps one mapped top layer per mapping:
 * mapped-layers/<hash of the mapping>/<hash of the layer path>, with a `.source` file
 * naming the layer; copies whose layer is gone (image removed) are swept when another
 * copy is made. `idmap.json` in the container's directory records its mapping, so every
 * later mount of that root filesystem uses the same trees, whoever mounts it.
 */
import crypto from 'node:crypto';
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

const hash = (text: string, n: number) => crypto.createHash('sha256').update(text).digest('hex').slice(0, n);

/**
 * Owner-shifted copies of `lowers` (top first), made once per layer and mapping;
 * returns their paths in the same order. `containerDir` is
 * <storage root>/container-rootfs/<cid>: its own empty lower is left as it is.
 */
export function mappedLowerDirs(containerDir: string, lowers: string[], map: IdMap): string[] {
  const root = path.join(path.dirname(path.dirname(containerDir)), 'mapped-layers');
  const byMapping = path.join(root, hash(JSON.stringify([map.uidMap, map.gidMap]), 16));
  fs.mkdirSync(byMapping, { recursive: true, mode: 0o700 });
  let made = false;
  const out = lowers.map((lower) => {
    if (lower.startsWith(containerDir + path.sep)) return lower;
    const dest = path.join(byMapping, hash(lower, 24));
    if (fs.existsSync(dest)) return dest;
    const staging = `${dest}.${process.pid}.tmp`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { mode: 0o755 });
    const r = spawnSync('cp', ['-a', '--reflink=auto', '--', `${lower}/.`, `${staging}/`], { encoding: 'utf8' });
    if (r.status !== 0) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw new TspodError(`cannot copy an image layer for the container's user namespace: ${(r.stderr || String(r.error)).trim()}`);
    }
    shiftOwners(staging, map);
    fs.writeFileSync(`${dest}.source`, lower);
    try {
      fs.renameSync(staging, dest);
    } catch {
      fs.rmSync(staging, { recursive: true, force: true }); // another start made it first
    }
    made = true;
    return dest;
  });
  if (made) sweepOrphans(root);
  return out;
}

/** Remove copies whose layer no longer exists (its image was removed). */
function sweepOrphans(root: string): void {
  for (const mapping of fs.readdirSync(root)) {
    const dir = path.join(root, mapping);
    for (const name of fs.readdirSync(dir)) {
      if (!name.endsWith('.source')) continue;
      const source = fs.readFileSync(path.join(dir, name), 'utf8');
      if (fs.existsSync(source)) continue;
      fs.rmSync(path.join(dir, name.slice(0, -'.source'.length)), { recursive: true, force: true });
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}

export function recordIdMap(containerDir: string, map: IdMap): void {
  writeFileAtomic(path.join(containerDir, 'idmap.json'), JSON.stringify(map), 0o600);
}
