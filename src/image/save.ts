/**
 * `tspod save`: an image as a docker-archive (manifest.json, <config>.json,
 * <diffID>.tar uncompressed layers, repositories; what `docker load` and `podman load`
 * read) or an oci-archive (an OCI image layout in a tar: the stored manifest, config and
 * compressed layer blobs byte for byte, so every digest is kept). Image IDs are kept in
 * both (the config is written unchanged).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { decompressChunks, writeTar, type TarWriteEntry } from '../core/index.js';
import { compressionForMediaType } from '../core/index.js';
import { type ImageRecord, ImageStore, normalizeName, splitName } from '../storage/image-store.js';
import { TspodError } from '../util/errors.js';
import { parseManifest } from './manifest.js';
import { MediaType } from './media-types.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';
/** `save --format`: the archives, or the same layouts as directories (oci-dir, and docker-dir: the dir: transport with a Docker v2s2 manifest). */
export type SaveFormat = ArchiveFormat | 'oci-dir' | 'docker-dir';

const MTIME = 0;
// Entries belong to the user who saves (as the files of an archive made by `tar` would):
// unprivileged readers (skopeo, podman) chown to these ids when they extract.
const OWNER = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

function fileEntry(name: string, bytes: Buffer): TarWriteEntry {
  return { header: { name, type: 'file', mode: 0o644, size: bytes.length, mtime: MTIME, ...OWNER }, body: [bytes] };
}

function dirEntry(name: string): TarWriteEntry {
  return { header: { name, type: 'directory', mode: 0o755, mtime: MTIME, ...OWNER } };
}

function blobStream(store: ImageStore, digest: string): fs.ReadStream {
  const file = store.blobPath(digest);
  if (!fs.existsSync(file)) throw new TspodError(`the blob ${digest} is missing from the store; pull the image again`);
  return fs.createReadStream(file, { highWaterMark: 1 << 20 });
}

/** One image in an OCI layout: its index.json descriptor gets these annotations (none: no name). */
export interface OciLayoutItem {
  rec: ImageRecord;
  annotations?: Record<string, string>;
}

/** The annotations Podman's save writes for a name: the full name as ref.name when it is the only one asked for, else the tag. */
function ociAnnotationsFor(names: string[]): Array<Record<string, string> | undefined> {
  const tagged = names.filter((n) => !n.includes('@'));
  if (tagged.length === 0) return [undefined];
  return tagged.map((n) => ({ 'org.opencontainers.image.ref.name': splitName(n).tag, 'io.containerd.image.name': n }));
}

/**
 * An image's manifest as an OCI layout must hold it: OCI manifests byte for byte; a
 * Docker v2s2 manifest converted to OCI media types (the config and layer blobs, and so
 * the image ID and layer digests, stay the same; the manifest digest changes), as
 * containers/image does when copying to oci: or oci-archive:.
 */
export function ociManifestFor(store: ImageStore, rec: ImageRecord): { bytes: Buffer; mediaType: string } {
  const bytes = store.manifestBytes(rec);
  if (rec.manifestMediaType === MediaType.OciManifest) return { bytes, mediaType: MediaType.OciManifest };
  const m = parseManifest(bytes, rec.manifestMediaType);
  if (m.kind !== 'image') throw new TspodError(`image ${rec.id.slice(0, 12)} has no image manifest; pull it again`);
  const layerType: Record<string, string> = {
    [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
    [MediaType.DockerLayerTar]: MediaType.OciLayerTar,
    [MediaType.DockerLayerZstd]: MediaType.OciLayerZstd,
    [MediaType.DockerForeignLayerGzip]: MediaType.OciNonDistributableLayerGzip,
    [MediaType.DockerForeignLayerTar]: MediaType.OciNonDistributableLayerTar,
  };
  const converted = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: m.config.digest, size: m.config.size },
    layers: m.layers.map((l) => ({ mediaType: layerType[l.mediaType] ?? l.mediaType, digest: l.digest, size: l.size, ...(l.urls ? { urls: l.urls } : {}) })),
  };
  return { bytes: Buffer.from(JSON.stringify(converted)), mediaType: MediaType.OciManifest };
}

/** The files of an OCI image layout holding `items` (oci-archive, oci-dir, push oci:). */
export function* ociLayoutEntries(store: ImageStore, items: OciLayoutItem[]): Generator<TarWriteEntry> {
  yield fileEntry('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  yield dirEntry('blobs/');
  yield dirEntry('blobs/sha256/');
  const written = new Set<string>();
  const manifests = [];
  for (const { rec, annotations } of items) {
    const { bytes: mbytes, mediaType } = ociManifestFor(store, rec);
    const m = parseManifest(mbytes, mediaType);
    if (m.kind !== 'image') throw new TspodError(`image ${rec.id.slice(0, 12)} has no image manifest; pull it again`);
    for (const d of [...m.layers.map((l) => ({ digest: l.digest, size: l.size })), { digest: m.config.digest, size: m.config.size }]) {
      if (written.has(d.digest)) continue;
      written.add(d.digest);
      yield { header: { name: `blobs/sha256/${d.digest.slice(7)}`, type: 'file', mode: 0o644, size: d.size, mtime: MTIME, ...OWNER }, body: blobStream(store, d.digest) };
    }
    const digest = `sha256:${crypto.createHash('sha256').update(mbytes).digest('hex')}`;
    if (!written.has(digest)) {
      written.add(digest);
      yield fileEntry(`blobs/sha256/${digest.slice(7)}`, mbytes);
    }
    manifests.push({ mediaType, digest, size: mbytes.length, ...(annotations ? { annotations } : {}) });
  }
  yield fileEntry('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests })));
}

/**
 * The files of containers/image's dir: transport: `version`, `manifest.json` and each
 * blob under its hex digest. `docker`: the manifest as Docker v2s2 (save --format
 * docker-dir), else the stored manifest byte for byte (push dir:).
 */
export function* dirEntries(store: ImageStore, rec: ImageRecord, docker: boolean): Generator<TarWriteEntry> {
  let mbytes = store.manifestBytes(rec);
  const m = parseManifest(mbytes, rec.manifestMediaType);
  if (m.kind !== 'image') throw new TspodError(`image ${rec.id.slice(0, 12)} has no image manifest; pull it again`);
  if (docker && rec.manifestMediaType !== MediaType.DockerManifest) {
    const layerType: Record<string, string> = {
      [MediaType.OciLayerGzip]: MediaType.DockerLayerGzip,
      [MediaType.OciLayerTar]: MediaType.DockerLayerTar,
      [MediaType.OciNonDistributableLayerGzip]: MediaType.DockerForeignLayerGzip,
      [MediaType.OciNonDistributableLayerTar]: MediaType.DockerForeignLayerTar,
    };
    const layers = m.layers.map((l) => {
      const t = layerType[l.mediaType];
      if (!t) throw new TspodError(`image ${rec.id.slice(0, 12)} has a ${l.mediaType} layer, which a Docker v2s2 manifest cannot describe; save it as oci-dir or oci-archive`);
      return { mediaType: t, size: l.size, digest: l.digest, ...(l.urls ? { urls: l.urls } : {}) };
    });
    mbytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.DockerManifest as string, config: { mediaType: MediaType.DockerConfig, size: m.config.size, digest: m.config.digest }, layers }));
  }
  yield fileEntry('version', Buffer.from('Directory Transport Version: 1.1\n'));
  const written = new Set<string>();
  for (const d of [...m.layers, m.config]) {
    if (written.has(d.digest)) continue;
    written.add(d.digest);
    yield { header: { name: d.digest.slice(7), type: 'file', mode: 0o644, size: d.size, mtime: MTIME, ...OWNER }, body: blobStream(store, d.digest) };
  }
  yield fileEntry('manifest.json', mbytes);
}

/**
 * Write layout entries into a directory (created if missing). An existing OCI layout's
 * index.json is merged: descriptors whose ref.name is written again are replaced, the
 * others kept (as skopeo and podman do for oci:DIR:NAME). Files are written beside and
 * renamed, so a reader never sees half a blob.
 */
export async function writeEntriesToDir(dir: string, entries: Iterable<TarWriteEntry>): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (const e of entries) {
    const target = path.join(dir, ...e.header.name.split('/').filter((p) => p !== ''));
    if (e.header.type === 'directory') {
      fs.mkdirSync(target, { recursive: true });
      continue;
    }
    let body = Array.isArray(e.body) ? Buffer.concat(e.body as Uint8Array[]) : e.body;
    if (e.header.name === 'index.json' && body instanceof Uint8Array && fs.existsSync(target)) {
      body = mergeIndex(fs.readFileSync(target, 'utf8'), Buffer.from(body).toString('utf8'), target);
    }
    const tmp = `${target}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      if (body instanceof Uint8Array) writeAllSync(fd, body);
      else if (body) for await (const c of body as AsyncIterable<Uint8Array>) writeAllSync(fd, c);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, target);
  }
}

function writeAllSync(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
}

function mergeIndex(existingText: string, addedText: string, file: string): Buffer {
  let existing: { manifests?: Array<{ annotations?: Record<string, string> }> };
  try {
    existing = JSON.parse(existingText);
  } catch {
    throw new TspodError(`${file} is not JSON; it is not an OCI image layout to add to`);
  }
  const added = JSON.parse(addedText) as { manifests: Array<{ annotations?: Record<string, string> }> };
  const refOf = (d: { annotations?: Record<string, string> }) => d.annotations?.['org.opencontainers.image.ref.name'];
  const replaced = new Set(added.manifests.map(refOf).filter((r): r is string => r !== undefined));
  const kept = (existing.manifests ?? []).filter((d) => {
    const r = refOf(d);
    return r === undefined || !replaced.has(r);
  });
  return Buffer.from(JSON.stringify({ ...existing, schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...kept, ...added.manifests] }));
}

function* entriesFor(store: ImageStore, images: Array<{ rec: ImageRecord; names: string[] }>, format: ArchiveFormat): Generator<TarWriteEntry> {
  const layerDb = store.readLayers().layers;
  if (format === 'oci-archive') {
    yield* ociLayoutEntries(store, images.flatMap(({ rec, names }) => ociAnnotationsFor(names).map((annotations) => ({ rec, ...(annotations ? { annotations } : {}) }))));
    return;
  }
  const manifestJson = [];
  const repositories: Record<string, Record<string, string>> = {};
  const written = new Set<string>();
  for (const { rec, names } of images) {
    const config = store.readBlob(`sha256:${rec.id}`);
    yield fileEntry(`${rec.id}.json`, config);
    const m = parseManifest(store.manifestBytes(rec), rec.manifestMediaType);
    if (m.kind !== 'image') throw new TspodError(`image ${rec.id.slice(0, 12)} has no image manifest; pull it again`);
    const layerFiles = [];
    for (let i = 0; i < rec.layers.length; i++) {
      const lr = layerDb[rec.layers[i]!];
      if (!lr) throw new TspodError(`layer ${rec.layers[i]} of image ${rec.id.slice(0, 12)} is missing; pull the image again`);
      const name = `${lr.diffID.slice(7)}.tar`;
      layerFiles.push(name);
      if (written.has(name)) continue;
      written.add(name);
      const compression = compressionForMediaType(lr.mediaType);
      yield { header: { name, type: 'file', mode: 0o644, size: lr.size, mtime: MTIME, ...OWNER }, body: decompressChunks(blobStream(store, lr.digest), compression) };
    }
    const tags = names.filter((n) => !n.includes('@'));
    manifestJson.push({ Config: `${rec.id}.json`, RepoTags: tags, Layers: layerFiles });
    for (const t of tags) {
      const { repository, tag } = splitName(t);
      (repositories[repository] ??= {})[tag] = rec.layers.length > 0 ? layerDb[rec.layers.at(-1)!]!.diffID.slice(7) : rec.id;
    }
  }
  yield fileEntry('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
  if (Object.keys(repositories).length > 0) yield fileEntry('repositories', Buffer.from(JSON.stringify(repositories)));
}

/**
 * The images to save, with the names each is saved under (Podman: the name given when it
 * is one, else all its names); an image asked for twice (by two of its names) is saved
 * once with both, as Podman's multi-image docker-archive holds it.
 */
export function imagesToSave(store: ImageStore, refs: string[]): Array<{ rec: ImageRecord; names: string[] }> {
  const byId = new Map<string, { rec: ImageRecord; names: string[] }>();
  for (const r of refs) {
    const rec = store.get(r);
    const given = rec.names.find((n) => n === r || splitName(n).repository.endsWith(`/${r.split(':')[0]}`));
    const names = given ? [given] : rec.names;
    const seen = byId.get(rec.id);
    if (seen) seen.names.push(...names.filter((n) => !seen.names.includes(n)));
    else byId.set(rec.id, { rec, names: [...names] });
  }
  return [...byId.values()];
}

/** Write the archive to `out` (a file stream or stdout). */
export async function saveImages(
  storageRoot: string,
  refs: string[],
  format: ArchiveFormat,
  out: Writable,
  opts: { extraNames?: string[]; additionalTags?: string[] } = {},
): Promise<void> {
  const store = new ImageStore(storageRoot);
  const images = imagesToSave(store, refs);
  if (opts.extraNames && images.length === 1) images[0]!.names = [...opts.extraNames, ...images[0]!.rec.names.filter((n) => !opts.extraNames!.includes(n))];
  // `save IMAGE NAME...` without -m: the other names tag the one image (docker-archive
  // only; Podman ignores them for the OCI formats), normalized as `tag` does, sorted.
  if (opts.additionalTags?.length && format === 'docker-archive' && images.length === 1) {
    const names = new Set([...images[0]!.names, ...opts.additionalTags.map(normalizeName)]);
    images[0]!.names = [...names].filter((n) => !n.includes('@')).sort();
  }
  if (format === 'oci-archive' && images.length > 1) throw new TspodError('an oci-archive holds one image; save several images as a docker-archive (--multi-image-archive)');
  for await (const chunk of writeTar(entriesFor(store, images, format))) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
}

/**
 * `save --format oci-dir|docker-dir -o DIR`: the first image as an OCI layout directory
 * (ref.name: its full name, as Podman writes) or as a dir: directory with a Docker v2s2
 * manifest.
 */
export async function saveToDir(storageRoot: string, refs: string[], format: 'oci-dir' | 'docker-dir', dir: string): Promise<void> {
  const store = new ImageStore(storageRoot);
  const [first] = imagesToSave(store, refs);
  if (!first) throw new TspodError('no image to save');
  const name = first.names.find((n) => !n.includes('@'));
  const entries = format === 'oci-dir'
    ? ociLayoutEntries(store, [{ rec: first.rec, ...(name ? { annotations: { 'org.opencontainers.image.ref.name': name } } : {}) }])
    : dirEntries(store, first.rec, true);
  await writeEntriesToDir(dir, entries);
}
