/**
 * `tspod cp`: copy between a container and the host, or a tar stream (`-`), with
 * docker/podman cp's rules:
 *  - SRC a file: to an existing directory DEST it goes in as DEST/NAME; otherwise it
 *    becomes DEST (whose parent must exist; a DEST ending in `/` must be a directory);
 *  - SRC a directory: into an existing directory DEST as DEST/NAME, or as DEST when
 *    that does not exist; SRC ending in `/.` copies its contents instead.
 * Paths in the container are resolved in its own root (symlinks included, see
 * container-fs.ts): a running container through /proc/PID/root (its mounts as it sees
 * them), a stopped one through its mounted root filesystem plus its bind mounts and
 * volumes. Symlinks named as SRC or DEST are followed, as Podman does.
 * Ownership: files copied into a container belong to the container's user (its
 * primary uid and gid) unless --archive=false keeps the source's ids; files copied
 * out belong to the user running tspod.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { GlobalContext } from '../cli/context.js';
import { TspodError, isErrno } from '../util/errors.js';
import { ContainerRoot, type Location, type MountMap, TreeWriter, walkTree, writeEntries } from './container-fs.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';

export interface CopyOptions {
  /** -a/--archive (default true): chown what goes into the container to its user. */
  archive: boolean;
  overwrite: boolean;
  /** For `-`: where the tar stream comes from or goes to (default stdin/stdout). */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}

export interface CopyTarget {
  container?: string;
  path: string;
}

/** `CTR:PATH` names a container's path; a path starting with `/` or `.` (or without `:`) is the host's. */
export function parseCopyTarget(arg: string): CopyTarget {
  if (arg === '-') return { path: '-' };
  const colon = arg.indexOf(':');
  if (colon > 0 && !arg.startsWith('/') && !arg.startsWith('.') && !arg.slice(0, colon).includes('/')) {
    return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || '/' };
  }
  return { path: arg };
}

/** A container's file system, opened for one copy. */
interface ContainerSide {
  rec: ContainerRecord;
  root: ContainerRoot;
  owner: { uid: number; gid: number };
}

async function openContainer(store: ContainerStore, nameOrId: string): Promise<ContainerSide> {
  const { reconcile, containerRootfsPath } = await import('./lifecycle.js');
  const found = store.find(nameOrId);
  // Podman's cp says so with 125, not the 1 of commands that only look containers up.
  if (!found) throw new TspodError(`container "${nameOrId}" does not exist`);
  const rec = await reconcile(store, found);
  const rootfs = await containerRootfsPath(store, rec);
  const { resolveUser } = await import('./user.js');
  const user = resolveUser(rec.config.user, rootfs);
  // With a user namespace of its own, the container's ids are stored as the rootless ids its mapping gives.
  const { hostIdOf } = await import('./id-mappings.js');
  const ns = rec.config.userns;
  const owner = ns ? { uid: hostIdOf(user.uid, ns.uidMap) ?? user.uid, gid: hostIdOf(user.gid, ns.gidMap) ?? user.gid } : { uid: user.uid, gid: user.gid };
  const running = rec.state.status === 'running' && rec.state.pid > 0 && fs.existsSync(`/proc/${rec.state.pid}/root`);
  if (running) return { rec, root: new ContainerRoot(`/proc/${rec.state.pid}/root`), owner };
  // Stopped: the root filesystem, with the paths its bind mounts and volumes would cover.
  const { VolumeStore } = await import('./volumes.js');
  const volumes = new VolumeStore(store.storageRoot);
  const mounts: MountMap[] = [];
  for (const m of rec.config.mounts ?? []) {
    if (m.kind === 'bind') mounts.push({ destination: path.posix.normalize(m.destination), source: m.source });
    else if (m.kind === 'volume') {
      const vol = volumes.get(m.source);
      if (vol) mounts.push({ destination: path.posix.normalize(m.destination), source: vol.Mountpoint });
    }
  }
  return { rec, root: new ContainerRoot(rootfs, mounts), owner };
}

/** A device or socket named as the source: nothing a rootless copy can carry (Podman's copier copies no items). */
function refuseSpecial(st: fs.Stats, p: string, where: string): void {
  const kind = st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : undefined;
  if (kind) throw new TspodError(`cannot copy "${p}" from ${where}: it is ${kind}, which a rootless copy does not carry`);
}

const notFound = (p: string, where: string) => new TspodError(`"${p}" could not be found on ${where}: no such file or directory`);

/** Resolve a container path, mapping lookup failures to Podman's message. */
function resolveIn(side: ContainerSide, p: string, followFinal: boolean): Location {
  try {
    return side.root.resolve(p.startsWith('/') ? p : `/${p}`, followFinal);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw notFound(p, `container ${side.rec.name}`);
    if (isErrno(err, 'ELOOP')) throw new TspodError(`"${p}" in container ${side.rec.name} has too many levels of symbolic links`);
    throw err;
  }
}

/** A host path: symlinks followed (the user's own files). */
function resolveHost(p: string): Location {
  const abs = path.resolve(p);
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    // Missing: its parent must exist.
    try {
      const parent = fs.realpathSync(path.dirname(abs));
      if (!fs.statSync(parent).isDirectory()) throw notFound(p, 'the host');
      return { host: path.join(parent, path.basename(abs)), path: path.join(parent, path.basename(abs)) };
    } catch (e) {
      if (e instanceof TspodError) throw e;
      throw notFound(p, 'the host');
    }
  }
  return { host: real, path: real, stat: fs.lstatSync(real) };
}

/** Which directory receives the copy, and under which name (undefined: the contents go straight in). */
function plan(src: { given: string; loc: Location }, dest: { given: string; loc: Location; parent: () => string }, where: { src: string; dest: string }) {
  const srcStat = src.loc.stat!;
  const srcIsDir = srcStat.isDirectory();
  const contentsOnly = srcIsDir && /(^|\/)\.$/.test(src.given);
  if (!srcIsDir && src.given.endsWith('/')) throw new TspodError(`"${src.given}" on ${where.src} is not a directory`);
  const destStat = dest.loc.stat;
  const srcName = path.posix.basename(src.given.replace(/\/+\.?$/, '')) || path.posix.basename(src.loc.path) || '.';
  if (destStat?.isDirectory()) {
    // Copying "/" itself into a directory copies its contents, as there is no name to give it.
    return contentsOnly || srcName === '.' ? { dir: dest.loc.host, name: '.', skipTop: true } : { dir: dest.loc.host, name: srcName };
  }
  if (destStat) {
    if (srcIsDir) throw new TspodError(`cannot copy directory "${src.given}" onto "${dest.given}" on ${where.dest}: it exists and is not a directory`);
    return { dir: dest.parent(), name: path.posix.basename(dest.loc.path) };
  }
  if (dest.given.endsWith('/')) throw notFound(dest.given, where.dest);
  // New name: a directory's contents go into a directory of that name.
  return { dir: dest.parent(), name: path.posix.basename(dest.loc.path), skipTop: false };
}

export async function copy(ctx: GlobalContext, srcArg: string, destArg: string, opts: CopyOptions): Promise<void> {
  const src = parseCopyTarget(srcArg);
  const dest = parseCopyTarget(destArg);
  if (src.container && dest.container) throw new TspodError('copying between containers is not supported: copy to the host first');
  if (!src.container && !dest.container) {
    throw new TspodError(`one of "${srcArg}" and "${destArg}" must name a container path (CONTAINER:PATH)`);
  }
  const { openStore } = await import('./lifecycle.js');
  const store = openStore(ctx);
  const side = await openContainer(store, (src.container ?? dest.container)!);
  const ctrWhere = `container ${side.rec.name}`;
  try {
    if (src.container) {
      const from = resolveIn(side, src.path, true);
      if (!from.stat) throw notFound(src.path, ctrWhere);
      refuseSpecial(from.stat, src.path, ctrWhere);
      if (dest.path === '-') {
        const { writeTar } = await import('../core/tar.js');
        const contents = from.stat.isDirectory() && /(^|\/)\.$/.test(src.path);
        const name = contents ? '.' : path.posix.basename(from.path) || '.';
        const out = opts.stdout ?? process.stdout;
        await pipeline(Readable.from(writeTar(walkTree(from.host, { name, skipTop: contents }))), out);
        return;
      }
      const to = resolveHost(dest.path);
      const p = plan({ given: src.path, loc: from }, { given: dest.path, loc: to, parent: () => path.dirname(to.host) }, { src: ctrWhere, dest: 'the host' });
      await transfer(from.host, p, { owner: 'none', overwrite: opts.overwrite, where: 'the host' });
      return;
    }
    // Into the container.
    const to = resolveIn(side, dest.path, true);
    const parentOf = () => resolveIn(side, path.posix.dirname(to.path), true).host;
    if (src.path === '-') {
      if (!to.stat?.isDirectory()) throw new TspodError(`"${dest.path}" in ${ctrWhere} must be an existing directory to extract a tar stream into`);
      const { readTar, decompressChunks, sniffCompression } = await import('../core/index.js');
      const input = (opts.stdin ?? process.stdin) as AsyncIterable<Buffer>;
      const writer = new TreeWriter(to.host, { owner: opts.archive ? side.owner : 'keep', overwrite: opts.overwrite, where: ctrWhere });
      try {
        await writeEntries(writer, readTar(sniffed(input, sniffCompression, decompressChunks), { what: 'the tar stream on standard input' }));
      } finally {
        writer.close();
      }
      return;
    }
    const from = resolveHost(src.path);
    if (!from.stat) throw notFound(src.path, 'the host');
    const p = plan({ given: src.path, loc: from }, { given: dest.path, loc: to, parent: parentOf }, { src: 'the host', dest: ctrWhere });
    // Devices from the host come along and fail to be made, as with rootless Podman.
    await transfer(from.host, { ...p, devices: true }, { owner: opts.archive ? side.owner : 'keep', overwrite: opts.overwrite, where: ctrWhere });
  } finally {
    side.root.close();
  }
}

async function transfer(
  srcHost: string,
  p: { dir: string; name: string; skipTop?: boolean; devices?: boolean },
  w: ConstructorParameters<typeof TreeWriter>[1],
): Promise<void> {
  const writer = new TreeWriter(p.dir, w);
  try {
    await writeEntries(writer, walkTree(srcHost, { name: p.name, skipTop: p.skipTop ?? false, devices: p.devices ?? false }));
  } finally {
    writer.close();
  }
}

/** A tar stream, plain or compressed (docker cp accepts gzip, bzip2 is not supported here). */
async function* sniffed(
  input: AsyncIterable<Buffer>,
  sniff: (b: Uint8Array) => 'none' | 'gzip' | 'zstd' | string,
  decompress: (src: AsyncIterable<Uint8Array>, c: never) => AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) break;
    head = Buffer.concat([head, r.value]);
  }
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (head.length) yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const c = sniff(head);
  yield* c === 'none' ? rest() : decompress(rest(), c as never);
}
