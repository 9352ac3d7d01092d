/**
 * A container's root filesystem from an image in the store, for `run IMAGE`:
 *
 *   container-rootfs/<cid>/image    the image ID (written first: rmi sees the use at once)
 *   overlay: container-rootfs/<cid>/{diff,work,merged}  upper dir, work dir, mount point;
 *            lower dirs are the image's layer trees, top first; kernel overlay mounted
 *            with `userxattr` (the layers are in that form), or fuse-overlayfs
 *   vfs:     container-rootfs/<cid>/rootfs  a copy (cp -a) of the image's top layer tree,
 *            which for vfs is the flattened root filesystem
 *
 * Call inside the rootless user namespace (after requireUserNamespace()). Mounts live in
 * the namespace's mount namespace, held by the pause process, so they outlive this
 * command; prepare is idempotent (an existing mount is reused) and release unmounts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { MNT_DETACH, native } from '../native/addon.js';
import { TspodError, isErrno } from '../util/errors.js';
import { log } from '../util/log.js';
import { ImageStore, NO_SUCH_IMAGE } from './image-store.js';
import { layerDiffDir } from './layer-store.js';
import { withLock } from './lock.js';
import { type IdMap, mappedLowerDirs, readIdMap, recordIdMap, shiftOwners } from './id-shift.js';

export interface PreparedRootfs {
  /** The directory to pivot_root into. */
  rootfs: string;
  driver: 'overlay' | 'vfs';
  /** 'kernel' or 'fuse-overlayfs' for overlay. */
  mountProgram?: string;
  /** The writable layer (overlay upper dir, or the vfs copy): what `diff`/`commit` read. */
  upperDir: string;
  /** Unmount (and keep the container's changes); same as releaseContainerRootfs(..., { remove: false }). */
  cleanup(): void;
}

export interface PrepareOptions {
  /** 'overlay' | 'vfs'; default: the store's driver, else the probe's. */
  driver?: 'overlay' | 'vfs';
  /** For overlay: 'fuse-overlayfs' to use it instead of the kernel's. */
  mountProgram?: string;
  /** The container has a user namespace of its own: owners are shifted for it (id-shift.ts). */
  idMap?: IdMap;
}

export function containerRootfsDir(storageRoot: string, containerId: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(containerId)) throw new TspodError(`invalid container ID "${containerId}"`);
  return path.join(storageRoot, 'container-rootfs', containerId);
}

/** Whether `dir` is a mount point in this mount namespace. */
export function isMounted(dir: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  const want = dir.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return text.split('\n').some((l) => l.split(' ')[4] === want);
}

export async function prepareContainerRootfs(
  storageRoot: string,
  runRoot: string,
  imageId: string,
  containerId: string,
  opts: PrepareOptions = {},
): Promise<PreparedRootfs> {
  const store = new ImageStore(storageRoot);
  const dir = containerRootfsDir(storageRoot, containerId);
  let driver = opts.driver ?? store.driver();
  let mountProgram = opts.mountProgram;
  if (driver === undefined || (driver === 'overlay' && mountProgram === undefined)) {
    const { chooseGraphDriver } = await import('./driver-probe.js');
    const probe = chooseGraphDriver(storageRoot, runRoot, os.release(), driver);
    driver = probe.driver;
    mountProgram = probe.mountProgram;
  }
  const id = imageId.replace(/^sha256:/, '');
  // Under the store lock: the image cannot be removed between the check and the marker.
  const layers = await withLock(store.lockFile, () => {
    const rec = store.readImages().images[id];
    if (!rec) throw new TspodError(`${imageId}: image not known`, { exitCode: NO_SUCH_IMAGE });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'image'), `${id}\n`);
    return rec.layers;
  });
  const cleanup = () => releaseContainerRootfs(storageRoot, containerId);
  // A mapping recorded at the first mount holds for every later one, whoever mounts.
  const idMap = readIdMap(dir) ?? opts.idMap;
  if (idMap && !readIdMap(dir)) recordIdMap(dir, idMap);

  if (driver === 'vfs') {
    const rootfs = path.join(dir, 'rootfs');
    if (!fs.existsSync(rootfs)) {
      const staging = `${rootfs}.tmp`;
      fs.rmSync(staging, { recursive: true, force: true });
      fs.mkdirSync(staging, { mode: 0o755 });
      const top = layers.at(-1);
      if (top) {
        const r = spawnSync('cp', ['-a', '--reflink=auto', '--', `${layerDiffDir(storageRoot, top)}/.`, `${staging}/`], { encoding: 'utf8' });
        if (r.status !== 0) throw new TspodError(`cannot copy the image's root filesystem for container ${containerId}: ${(r.stderr || String(r.error)).trim()}`);
      }
      if (idMap) shiftOwners(staging, idMap);
      fs.renameSync(staging, rootfs);
    }
    return { rootfs, driver, upperDir: rootfs, cleanup };
  }

  const upper = path.join(dir, 'diff');
  const work = path.join(dir, 'work');
  const merged = path.join(dir, 'merged');
  for (const d of [upper, work, merged]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  if (isMounted(merged)) return { rootfs: merged, driver, ...(mountProgram ? { mountProgram } : {}), upperDir: upper, cleanup };

  let lowers = [...layers].reverse().map((l) => layerDiffDir(storageRoot, l));
  if (lowers.length === 0) {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty, { recursive: true, mode: 0o755 });
    lowers = [empty];
  }
  if (idMap) {
    lowers = mappedLowerDirs(dir, lowers, idMap);
    // The upper directory's root is the container's "/": root's inside.
    const root = shiftedRootOwner(idMap);
    fs.chownSync(upper, root.uid, root.gid);
  }
  // Mount data is limited to a page: with many layers, use short links (l/N -> layer).
  let data = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`;
  if (data.length > 3800) {
    const links = path.join(dir, 'l');
    fs.rmSync(links, { recursive: true, force: true });
    fs.mkdirSync(links);
    lowers = lowers.map((l, i) => {
      fs.symlinkSync(l, path.join(links, String(i)));
      return path.join(links, String(i));
    });
    data = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`;
    if (data.length > 4000) throw new TspodError(`image ${id.slice(0, 12)} has too many layers (${layers.length}) to mount; flatten it (tspod build --squash) or use --storage-driver vfs`);
  }
  if (mountProgram === 'fuse-overlayfs') {
    const r = spawnSync('fuse-overlayfs', ['-o', data, merged], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new TspodError(`cannot mount the root filesystem of container ${containerId} with fuse-overlayfs: ${(r.stderr || String(r.error)).trim()}`);
    }
  } else {
    try {
      native().mount('overlay', merged, 'overlay', 0, `${data},userxattr`);
    } catch (err) {
      throw new TspodError(`cannot mount the root filesystem of container ${containerId} (overlay): ${(err as Error).message}; try --storage-driver vfs`, { cause: err });
    }
  }
  log.debug(`mounted rootfs of ${containerId} at ${merged} (${lowers.length} layers)`);
  return { rootfs: merged, driver, ...(mountProgram ? { mountProgram } : {}), upperDir: upper, cleanup };
}

function shiftedRootOwner(map: IdMap): { uid: number; gid: number } {
  const at = (ranges: IdMap['uidMap']) => ranges.find((r) => r.container === 0)?.host ?? 0;
  return { uid: at(map.uidMap), gid: at(map.gidMap) };
}

/**
 * Unmount a container's root filesystem; with `remove`, delete its writable layer and the
 * marker too (container removal), which releases the image for rmi.
 */
export function releaseContainerRootfs(storageRoot: string, containerId: string, opts: { remove?: boolean } = {}): void {
  const dir = containerRootfsDir(storageRoot, containerId);
  const merged = path.join(dir, 'merged');
  if (isMounted(merged)) {
    try {
      native().umount(merged, MNT_DETACH);
    } catch (err) {
      if (!isErrno(err, 'EINVAL') && !isErrno(err, 'ENOENT')) throw err;
    }
  }
  if (opts.remove) {
    // The marker goes last: until the tree is gone, the image stays in use.
    for (const name of ['merged', 'diff', 'work', 'rootfs', 'rootfs.tmp', 'l', 'empty']) {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
