/**
 * `tspod save`: an image as a docker-archive (manifest.json, <config>.json,
 * <diffID>.tar uncompressed layers, repositories; what `docker load` and `podman load`
 * read) or an oci-archive (an OCI image layout in a tar: the stored manifest, config and
 * compressed layer blobs byte for byte, so every digest is kept). Image IDs are kept in
 * both (the config is written unchanged).
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { decompressChunks, writeTar, type TarWriteEntry } from '../core/index.js';
import { compressionForMediaType } from '../core/index.js';
import { type ImageRecord, ImageStore, splitName } from '../storage/image-store.js';
import { TspodError } from '../util/errors.js';
import { parseManifest } from './manifest.js';
import { MediaType } from './media-types.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

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

function* entriesFor(store: ImageStore, images: Array<{ rec: ImageRecord; names: string[] }>, format: ArchiveFormat): Generator<TarWriteEntry> {
  const layerDb = store.readLayers().layers;
  if (format === 'oci-archive') {
    yield fileEntry('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    yield dirEntry('blobs/');
    yield dirEntry('blobs/sha256/');
    const written = new Set<string>();
    const manifests = [];
    for (const { rec, names } of images) {
      const mbytes = store.manifestBytes(rec);
      const m = parseManifest(mbytes, rec.manifestMediaType);
      if (m.kind !== 'image') throw new TspodError(`image ${rec.id.slice(0, 12)} has no image manifest; pull it again`);
      for (const d of [...m.layers.map((l) => ({ digest: l.digest, size: l.size })), { digest: m.config.digest, size: m.config.size }]) {
        if (written.has(d.digest)) continue;
        written.add(d.digest);
        yield { header: { name: `blobs/sha256/${d.digest.slice(7)}`, type: 'file', mode: 0o644, size: d.size, mtime: MTIME, ...OWNER }, body: blobStream(store, d.digest) };
      }
      if (!written.has(rec.digest)) {
        written.add(rec.digest);
        yield fileEntry(`blobs/sha256/${rec.digest.slice(7)}`, mbytes);
      }
      const tagged = names.filter((n) => !n.includes('@'));
      for (const n of tagged.length > 0 ? tagged : ['']) {
        manifests.push({
          mediaType: rec.manifestMediaType,
          digest: rec.digest,
          size: mbytes.length,
          ...(n ? { annotations: { 'org.opencontainers.image.ref.name': splitName(n).tag, 'io.containerd.image.name': n } } : {}),
        });
      }
    }
    yield fileEntry('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests })));
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

/** Write the archive to `out` (a file stream or stdout). */
export async function saveImages(storageRoot: string, refs: string[], format: ArchiveFormat, out: Writable): Promise<void> {
  const store = new ImageStore(storageRoot);
  const images = refs.map((r) => {
    const rec = store.get(r);
    // Podman saves the name given when it is a name, else all the image's names.
    const given = rec.names.find((n) => n === r || splitName(n).repository.endsWith(`/${r.split(':')[0]}`));
    return { rec, names: given ? [given] : rec.names };
  });
  if (format === 'oci-archive' && images.length > 1) throw new TspodError('an oci-archive holds one image; save several images as a docker-archive (--multi-image-archive)');
  for await (const chunk of writeTar(entriesFor(store, images, format))) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
}
