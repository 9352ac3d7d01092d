/**
 * The image store under the storage root:
 *
 *   storage.json               { driver }: the graph driver this store's layers are laid out for
 *   storage.lock               flock taken (exclusively) for every change to the two databases
 *   images/images.json         { version: 1, images: { <id hex>: ImageRecord } }
 *   layers/layers.json, layers/<chain hex>/diff     (see layer-store.ts)
 *   blobs/sha256/<hex>         manifests, configs and compressed layer blobs as pulled,
 *                              byte for byte, so push and save keep every digest
 *   tmp/<name> + tmp/<name>.lock   staging: a pull unpacks a layer into tmp/<name> while
 *                              holding the flock on tmp/<name>.lock, then renames it into
 *                              layers/ under the store lock. A staging directory whose lock
 *                              is free belongs to a dead process and is removed by the next
 *                              command that changes the store.
 *
 * An image's ID is the hex digest of its config (as Podman's). Order of commits: blobs,
 * then the layer tree (rename), then layers.json, then images.json: a crash leaves at
 * worst an unreferenced blob or layer, never an image record pointing at missing data.
 * Databases are replaced atomically (write, fsync, rename).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isImageId, parseImageReference, type ImageReference } from '../image/reference.js';
import type { ImageConfig, ContainerConfig as OciContainerConfig } from '../image/manifest.js';
import { TspodError, isErrno } from '../util/errors.js';
import { log } from '../util/log.js';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { FileLock, withLock } from './lock.js';
import { type LayerDb, type LayerRecord, hexOf, layerDir, layerRefCounts } from './layer-store.js';

export interface ImageRecord {
  /** Hex config digest (64 characters). */
  id: string;
  /** Fully qualified references (`registry/repo:tag` or `registry/repo@sha256:...`), newest first. */
  names: string[];
  /** Digest of the image manifest kept in blobs/. */
  digest: string;
  /** Every manifest (and index) digest this image was pulled by. */
  digests: string[];
  manifestMediaType: string;
  /** Chain IDs, bottom layer first. */
  layers: string[];
  /** The config's `created`, or when the image was stored. */
  created: string;
  /** When the image was written to this store. */
  added: string;
  /** Sum of the uncompressed layer sizes plus the config and manifest. */
  size: number;
  namesHistory?: string[];
}

export interface ImageDb {
  version: 1;
  images: Record<string, ImageRecord>;
}

export interface StoreMeta {
  driver: 'overlay' | 'vfs';
}

/** Exit status Podman uses when an image is not known. */
export const NO_SUCH_IMAGE = 1;
/** Exit status of rmi when a container uses the image. */
export const IMAGE_IN_USE = 2;

export class ImageStore {
  readonly imagesFile: string;
  readonly layersFile: string;
  readonly lockFile: string;
  readonly metaFile: string;
  readonly tmpDir: string;
  readonly blobDir: string;

  constructor(readonly storageRoot: string) {
    this.imagesFile = path.join(storageRoot, 'images', 'images.json');
    this.layersFile = path.join(storageRoot, 'layers', 'layers.json');
    this.lockFile = path.join(storageRoot, 'storage.lock');
    this.metaFile = path.join(storageRoot, 'storage.json');
    this.tmpDir = path.join(storageRoot, 'tmp');
    this.blobDir = path.join(storageRoot, 'blobs', 'sha256');
  }

  // ---------------------------------------------------------------- databases

  readImages(): ImageDb {
    const db = readJsonFile<ImageDb>(this.imagesFile, { version: 1, images: {} });
    if (typeof db !== 'object' || db === null || typeof db.images !== 'object') {
      throw new TspodError(`the image database ${this.imagesFile} is damaged; move it aside to start afresh`);
    }
    return db;
  }

  readLayers(): LayerDb {
    const db = readJsonFile<LayerDb>(this.layersFile, { version: 1, layers: {} });
    if (typeof db !== 'object' || db === null || typeof db.layers !== 'object') {
      throw new TspodError(`the layer database ${this.layersFile} is damaged; move it aside to start afresh`);
    }
    return db;
  }

  /** Read-modify-write both databases under the store lock; layers are written first. */
  async mutate<T>(fn: (images: ImageDb, layers: LayerDb) => T | Promise<T>): Promise<T> {
    this.ensureDirs();
    return withLock(this.lockFile, async () => {
      const images = this.readImages();
      const layers = this.readLayers();
      const beforeI = JSON.stringify(images);
      const beforeL = JSON.stringify(layers);
      const result = await fn(images, layers);
      if (JSON.stringify(layers) !== beforeL) writeJsonAtomic(this.layersFile, layers);
      if (JSON.stringify(images) !== beforeI) writeJsonAtomic(this.imagesFile, images);
      return result;
    });
  }

  ensureDirs(): void {
    for (const d of [path.dirname(this.imagesFile), path.dirname(this.layersFile), this.tmpDir, this.blobDir]) {
      fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    }
  }

  /** The driver the store's layers are laid out for; recorded on first use. */
  driver(): StoreMeta['driver'] | undefined {
    return readJsonFile<StoreMeta | null>(this.metaFile, null)?.driver;
  }

  /** Record the driver, or refuse one different from what the layers are laid out for. */
  checkDriver(driver: StoreMeta['driver']): void {
    const have = this.driver();
    if (have === undefined) {
      fs.mkdirSync(this.storageRoot, { recursive: true, mode: 0o700 });
      writeJsonAtomic(this.metaFile, { driver });
      return;
    }
    if (have !== driver) {
      throw new TspodError(
        `the store ${this.storageRoot} holds layers for the ${have} driver, not ${driver}; use --storage-driver ${have}, or remove the images ('tspod rmi -a') to switch`,
      );
    }
  }

  // ---------------------------------------------------------------- staging

  /** A private staging directory under tmp/, locked while this process works in it. */
  async stage(kind: string): Promise<Staging> {
    this.ensureDirs();
    const name = `${kind}-${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
    const dir = path.join(this.tmpDir, name);
    // Lock first, then the directory: a cleaner that sees the directory finds the lock held.
    const lock = await FileLock.acquire(`${dir}.lock`);
    fs.mkdirSync(dir, { mode: 0o700 });
    return Staging.track(new Staging(dir, lock));
  }

  /**
   * Remove staging directories left by dead processes, and layer directories that no
   * record points to (a crash between the rename and the database write). Must run
   * inside the user namespace (the files belong to subordinate ids).
   */
  async cleanStale(): Promise<number> {
    let removed = 0;
    let names: string[];
    try {
      names = fs.readdirSync(this.tmpDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return 0;
      throw err;
    }
    for (const name of names) {
      if (name.endsWith('.lock')) continue;
      const dir = path.join(this.tmpDir, name);
      const lock = FileLock.tryAcquire(`${dir}.lock`);
      if (!lock) continue;
      try {
        log.debug(`removing stale staging directory ${dir}`);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(`${dir}.lock`, { force: true });
        removed++;
      } finally {
        lock.release();
      }
    }
    await this.mutate((_images, layers) => {
      const known = new Set(Object.keys(layers.layers).map(hexOf));
      let entries: string[] = [];
      try {
        entries = fs.readdirSync(path.join(this.storageRoot, 'layers'));
      } catch {
        // none yet
      }
      for (const e of entries) {
        if (!/^[a-f0-9]{64}$/.test(e) || known.has(e)) continue;
        log.debug(`removing unrecorded layer directory ${e}`);
        fs.rmSync(path.join(this.storageRoot, 'layers', e), { recursive: true, force: true });
        removed++;
      }
    });
    return removed;
  }

  // ---------------------------------------------------------------- blobs

  blobPath(digest: string): string {
    return path.join(this.blobDir, hexOf(digest));
  }

  hasBlob(digest: string): boolean {
    return fs.existsSync(this.blobPath(digest));
  }

  readBlob(digest: string): Buffer {
    try {
      return fs.readFileSync(this.blobPath(digest));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new TspodError(`the blob ${digest} is missing from the store; pull the image again`);
      throw err;
    }
  }

  /** Store small bytes (manifests, configs) by their digest. */
  writeBlob(bytes: Uint8Array, digest?: string): string {
    const d = digest ?? `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
    this.ensureDirs();
    if (!this.hasBlob(d)) writeFileAtomic(this.blobPath(d), bytes, 0o644);
    return d;
  }

  /** Move a verified blob file into blobs/ (`synced`: the caller has fsynced it already). */
  commitBlobFile(file: string, digest: string, opts: { synced?: boolean } = {}): void {
    this.ensureDirs();
    if (!opts.synced) {
      const fd = fs.openSync(file, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    fs.renameSync(file, this.blobPath(digest));
  }

  // ---------------------------------------------------------------- layers

  hasLayer(chainID: string): boolean {
    return this.readLayers().layers[chainID] !== undefined;
  }

  /**
   * Move an unpacked tree (staging/diff) and its blob into place and record it. When the
   * layer appeared meanwhile (a concurrent pull), the staged copy is dropped.
   */
  async commitLayer(staging: Staging, rec: LayerRecord, blobFile: string | undefined, opts: { blobSynced?: boolean } = {}): Promise<void> {
    await this.mutate((_images, layers) => {
      if (layers.layers[rec.id]) return;
      if (rec.parent && !layers.layers[rec.parent]) {
        throw new TspodError(`layer ${rec.id} was unpacked on ${rec.parent}, which was removed meanwhile; pull again`);
      }
      if (blobFile && fs.existsSync(blobFile) && !this.hasBlob(rec.digest)) this.commitBlobFile(blobFile, rec.digest, { synced: opts.blobSynced });
      const dest = layerDir(this.storageRoot, rec.id);
      fs.rmSync(dest, { recursive: true, force: true });
      fs.mkdirSync(dest, { mode: 0o700 });
      fs.renameSync(path.join(staging.dir, 'diff'), path.join(dest, 'diff'));
      layers.layers[rec.id] = rec;
    });
  }

  // ---------------------------------------------------------------- images

  list(): ImageRecord[] {
    return Object.values(this.readImages().images).sort((a, b) => b.created.localeCompare(a.created) || a.id.localeCompare(b.id));
  }

  /**
   * Store an image record; names it takes are removed from other images (which become
   * dangling when they lose their last name), as containers/storage does.
   */
  async putImage(rec: ImageRecord): Promise<ImageRecord> {
    return this.mutate((images, layers) => {
      for (const l of rec.layers) {
        if (!layers.layers[l]) throw new TspodError(`layer ${l} of image ${rec.id} is missing from the store; pull again`);
      }
      const old = images.images[rec.id];
      const merged: ImageRecord = old
        ? {
            ...old,
            names: dedupe([...rec.names, ...old.names]),
            digests: dedupe([...old.digests, ...rec.digests]),
            namesHistory: dedupe([...rec.names, ...(old.namesHistory ?? [])]),
          }
        : { ...rec, namesHistory: dedupe([...rec.names, ...(rec.namesHistory ?? [])]) };
      takeNames(images, merged.id, rec.names);
      images.images[rec.id] = merged;
      return merged;
    });
  }

  /** Podman's lookup: full ID or unique ID prefix, then names (short names match any registry). */
  find(nameOrId: string): ImageRecord | undefined {
    return lookupImage(this.readImages(), nameOrId);
  }

  get(nameOrId: string): ImageRecord {
    const rec = this.find(nameOrId);
    if (!rec) throw new TspodError(`${nameOrId}: image not known`, { exitCode: NO_SUCH_IMAGE });
    return rec;
  }

  config(rec: ImageRecord): ImageConfig {
    return JSON.parse(this.readBlob(`sha256:${rec.id}`).toString('utf8')) as ImageConfig;
  }

  manifestBytes(rec: ImageRecord): Buffer {
    return this.readBlob(rec.digest);
  }

  async addNames(nameOrId: string, names: string[]): Promise<ImageRecord> {
    const full = names.map((n) => normalizeName(n));
    return this.mutate((images) => {
      const rec = lookupImage(images, nameOrId);
      if (!rec) throw new TspodError(`${nameOrId}: image not known`, { exitCode: NO_SUCH_IMAGE });
      takeNames(images, rec.id, full);
      rec.names = dedupe([...rec.names, ...full]);
      rec.namesHistory = dedupe([...full, ...(rec.namesHistory ?? [])]);
      return rec;
    });
  }

  /** Remove names (all of them when `names` is empty). */
  async removeNames(nameOrId: string, names: string[]): Promise<{ rec: ImageRecord; removed: string[] }> {
    return this.mutate((images) => {
      const rec = lookupImage(images, nameOrId);
      if (!rec) throw new TspodError(`${nameOrId}: image not known`, { exitCode: NO_SUCH_IMAGE });
      let removed: string[];
      if (names.length === 0) {
        removed = rec.names;
        rec.names = [];
      } else {
        removed = [];
        for (const n of names) {
          const full = normalizeName(n);
          if (!rec.names.includes(full)) {
            throw new TspodError(`${n}: tag not known for image ${rec.id.slice(0, 12)}`, { exitCode: NO_SUCH_IMAGE });
          }
          removed.push(full);
        }
        rec.names = rec.names.filter((n) => !removed.includes(n));
      }
      return { rec, removed };
    });
  }

  /**
   * Delete an image record, then the layers and blobs nothing references any more.
   * Must run inside the user namespace (layer files belong to subordinate ids).
   */
  async removeImage(id: string): Promise<{ rec: ImageRecord; layersRemoved: string[] }> {
    const trash: string[] = [];
    const result = await this.mutate((images, layers) => {
      const rec = images.images[id];
      if (!rec) throw new TspodError(`${id}: image not known`, { exitCode: NO_SUCH_IMAGE });
      delete images.images[id];
      const counts = layerRefCounts(Object.values(images.images));
      const layersRemoved: string[] = [];
      // Top first: a vfs child must go before its parent.
      for (const l of [...rec.layers].reverse()) {
        if ((counts.get(l) ?? 0) > 0 || !layers.layers[l]) continue;
        const hasChildren = Object.values(layers.layers).some((o) => o.parent === l && !layersRemoved.includes(o.id) && o.id !== l && (counts.get(o.id) ?? 0) > 0);
        if (hasChildren) continue;
        layersRemoved.push(l);
      }
      const removedRecs = layersRemoved.map((l) => layers.layers[l]!);
      for (const l of layersRemoved) delete layers.layers[l];
      // Move the trees aside now (cheap renames, under the lock); delete them after.
      for (const l of layersRemoved) {
        const src = layerDir(this.storageRoot, l);
        if (!fs.existsSync(src)) continue;
        const dst = path.join(this.tmpDir, `trash-${hexOf(l).slice(0, 12)}-${crypto.randomBytes(4).toString('hex')}`);
        fs.renameSync(src, dst);
        trash.push(dst);
      }
      // Blobs no remaining record uses.
      const usedBlobs = new Set<string>();
      for (const img of Object.values(images.images)) {
        usedBlobs.add(`sha256:${img.id}`);
        usedBlobs.add(img.digest);
        // Layer blobs the remaining manifests name (a loaded image may name other blobs than the layer records).
        try {
          const m = JSON.parse(this.readBlob(img.digest).toString('utf8')) as { layers?: Array<{ digest?: string }> };
          for (const l of m.layers ?? []) if (typeof l.digest === 'string') usedBlobs.add(l.digest);
        } catch {
          // a missing manifest keeps nothing
        }
      }
      for (const lr of Object.values(layers.layers)) usedBlobs.add(lr.digest);
      for (const d of [`sha256:${rec.id}`, rec.digest, ...removedRecs.map((r) => r.digest)]) {
        if (!usedBlobs.has(d)) fs.rmSync(this.blobPath(d), { force: true });
      }
      return { rec, layersRemoved };
    });
    for (const t of trash) fs.rmSync(t, { recursive: true, force: true });
    return result;
  }
}

/** Signals that end a command (Ctrl-C, kill, a closed terminal): staging goes first. */
const ENDING_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class Staging {
  /** Staging directories of this process not disposed yet. */
  private static live = new Set<Staging>();

  constructor(
    readonly dir: string,
    private lock: FileLock | undefined,
  ) {}

  /**
   * Ctrl-C in the middle of a pull leaves nothing behind: while any staging directory
   * is live, an ending signal removes them all, then ends the process by the same
   * signal (exit status 128+N, as without the handler). Without this the directory
   * stayed until the next store operation's cleanStale().
   */
  static track(s: Staging): Staging {
    if (Staging.live.size === 0) for (const sig of ENDING_SIGNALS) process.on(sig, Staging.onSignal);
    Staging.live.add(s);
    return s;
  }

  private static onSignal(sig: NodeJS.Signals): void {
    for (const s of [...Staging.live]) {
      try {
        s.dispose(3);
      } catch {
        // the next store operation's cleanStale() removes what is left
      }
    }
    for (const other of ENDING_SIGNALS) process.off(other, Staging.onSignal);
    process.kill(process.pid, sig);
  }

  /**
   * Remove the directory and release the lock (whatever happened). `retries`: the
   * thread pool may still be creating files in it (a signal's cleanup).
   */
  dispose(retries = 0): void {
    try {
      fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: retries, retryDelay: 20 });
      fs.rmSync(`${this.dir}.lock`, { force: true });
    } finally {
      this.lock?.release();
      this.lock = undefined;
      Staging.live.delete(this);
      if (Staging.live.size === 0) for (const sig of ENDING_SIGNALS) process.off(sig, Staging.onSignal);
    }
  }
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

function takeNames(images: ImageDb, ownerId: string, names: string[]): void {
  for (const other of Object.values(images.images)) {
    if (other.id === ownerId) continue;
    const before = other.names.length;
    other.names = other.names.filter((n) => !names.includes(n));
    if (other.names.length !== before) log.debug(`names moved from image ${other.id.slice(0, 12)} to ${ownerId.slice(0, 12)}`);
  }
}

/**
 * A name as stored: fully qualified. Short names get `localhost/` as Podman's `tag`
 * does (`tspod tag img myapp` names it localhost/myapp:latest).
 */
export function normalizeName(input: string): string {
  const ref = parseImageReference(input);
  if (ref.isShortName) {
    const short = ref.shortName ?? ref.repository;
    return parseImageReference(`localhost/${short}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`).toString();
  }
  return ref.toString();
}

/** Split a stored name into repository and tag (`<none>` for a digest-only name). */
export function splitName(name: string): { repository: string; tag: string; digest?: string } {
  const at = name.indexOf('@');
  const digest = at >= 0 ? name.slice(at + 1) : undefined;
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return { repository: base.slice(0, colon), tag: base.slice(colon + 1), ...(digest ? { digest } : {}) };
  return { repository: base, tag: '<none>', ...(digest ? { digest } : {}) };
}

export function lookupImage(db: ImageDb, nameOrId: string): ImageRecord | undefined {
  const input = nameOrId.trim();
  const all = Object.values(db.images).sort((a, b) => b.created.localeCompare(a.created));
  const hex = input.startsWith('sha256:') ? input.slice(7) : input;
  if (/^[a-f0-9]{64}$/.test(hex) || isImageId(input)) return db.images[hex];
  if (/^[a-f0-9]{3,63}$/.test(hex)) {
    const matches = all.filter((i) => i.id.startsWith(hex));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1 && input.startsWith('sha256:')) {
      throw new TspodError(`${input}: image ID prefix is ambiguous (${matches.length} images match); give more digits`);
    }
  }
  let ref: ImageReference;
  try {
    ref = parseImageReference(input);
  } catch {
    return undefined;
  }
  const matchRef = (candidate: (name: string) => boolean): ImageRecord | undefined => {
    for (const img of all) if (img.names.some(candidate)) return img;
    return undefined;
  };
  if (ref.digest) {
    for (const img of all) {
      if (!img.digests.includes(ref.digest) && img.digest !== ref.digest) continue;
      const repos = img.names.map((n) => splitName(n).repository);
      if (ref.isShortName ? repos.some((r) => repoMatchesShort(r, ref)) : repos.includes(ref.name)) return img;
      if (img.names.length === 0 && !ref.isShortName) return img;
    }
    return undefined;
  }
  const tag = ref.effectiveTag ?? 'latest';
  const full = ref.toString();
  const exact = matchRef((n) => n === full);
  if (exact || !ref.isShortName) return exact;
  // Short names: localhost/ first, then any registry's repository ending in the name.
  return (
    matchRef((n) => n === `localhost/${ref.shortName ?? ref.repository}:${tag}`) ??
    matchRef((n) => {
      const s = splitName(n);
      return s.tag === tag && repoMatchesShort(s.repository, ref);
    })
  );
}

function repoMatchesShort(repository: string, ref: ImageReference): boolean {
  const short = ref.shortName ?? ref.repository;
  const withoutRegistry = repository.slice(repository.indexOf('/') + 1);
  return withoutRegistry === short || withoutRegistry.endsWith(`/${short}`) || withoutRegistry === ref.repository;
}

// ---------------------------------------------------------------- for `run IMAGE`

export interface LocalImage {
  id: string;
  names: string[];
  /** The OCI image config's `config` (Env, Cmd, Entrypoint, WorkingDir, User, StopSignal, Volumes, ExposedPorts, Labels). */
  config: OciContainerConfig;
  /** The whole OCI image config (architecture, os, rootfs, history). */
  imageConfig: ImageConfig;
  /** Chain IDs, bottom first. */
  layers: string[];
}

/** Find a stored image by name or ID for `run`/`create`; a TspodError (exit 1) when unknown. */
export function resolveImage(storageRoot: string, nameOrId: string): LocalImage {
  const store = new ImageStore(storageRoot);
  const rec = store.get(nameOrId);
  const imageConfig = store.config(rec);
  return { id: rec.id, names: rec.names, config: imageConfig.config ?? {}, imageConfig, layers: rec.layers };
}

/**
 * The containers that use an image: those whose record carries `config.imageId` (the
 * field `run IMAGE` is to set), plus those with a rootfs prepared by rootfs.ts.
 */
export function imageUsers(storageRoot: string, imageId: string): string[] {
  const users = new Set<string>();
  const db = readJsonFile<{ containers?: Record<string, { id: string; config?: Record<string, unknown> }> }>(
    path.join(storageRoot, 'containers', 'containers.json'),
    {},
  );
  for (const c of Object.values(db.containers ?? {})) {
    if (c.config?.imageId === imageId || c.config?.imageId === `sha256:${imageId}`) users.add(c.id);
  }
  const rootfsDir = path.join(storageRoot, 'container-rootfs');
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(rootfsDir);
  } catch {
    // none
  }
  for (const cid of entries) {
    try {
      if (fs.readFileSync(path.join(rootfsDir, cid, 'image'), 'utf8').trim() === imageId) users.add(cid);
    } catch {
      // no marker
    }
  }
  return [...users];
}
