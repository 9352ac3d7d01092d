/**
 * `tspod load`: a docker-archive or oci-archive (plain or gzip-compressed tar, from a
 * file or stdin) into the store. The archive is extracted into a staging directory
 * (regular files only, names checked), then each image's layers are verified and
 * unpacked like pulled ones. Configs are kept byte for byte, so image IDs are kept; an
 * oci-archive's manifest and compressed blobs are kept too (same digests on push); a
 * docker-archive's uncompressed layers become the blobs of a new OCI manifest.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { decompressChunks, readTar, sniffCompression } from '../core/index.js';
import { type ImageRecord, ImageStore, normalizeName } from '../storage/image-store.js';
import { chainIDs } from '../storage/layer-store.js';
import { safeComponents, type UnpackForm } from '../storage/unpack.js';
import { TspodError } from '../util/errors.js';
import { type Descriptor, hostPlatform, parseImageConfig, parseManifest, selectPlatform } from './manifest.js';
import { MediaType } from './media-types.js';
import { copyTree, decodeLayerOffThread, disposeQuietly, installLayer, writeAll } from './pull.js';
import { layerDiffDir } from '../storage/layer-store.js';
import { parseImageReference } from './reference.js';

export interface LoadedImage {
  id: string;
  names: string[];
}

function sha256File(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return `sha256:${h.digest('hex')}`;
}

async function* sniffed(input: Readable): AsyncGenerator<Uint8Array> {
  const it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) break;
    head = Buffer.concat([head, r.value]);
  }
  if (head.length === 0) throw new TspodError('the archive to load is empty; give a docker-archive or oci-archive with -i or on stdin');
  const compression = sniffCompression(head);
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  yield* compression === 'none' ? rest() : decompressChunks(rest(), compression);
}

export async function loadArchive(storageRoot: string, input: Readable, driver: 'overlay' | 'vfs'): Promise<LoadedImage[]> {
  const store = new ImageStore(storageRoot);
  store.checkDriver(driver);
  await store.cleanStale();
  const extract = await store.stage('load');
  try {
    const root = await extractArchive(input, extract.dir);
    const form: UnpackForm = driver === 'vfs' ? 'vfs' : 'overlay';
    if (fs.existsSync(path.join(root, 'oci-layout'))) return await loadOci(store, root, form);
    if (fs.existsSync(path.join(root, 'manifest.json'))) return await loadDocker(store, root, form);
    throw new TspodError('the archive is neither a docker-archive (manifest.json) nor an oci-archive (oci-layout); save it with tspod save or podman save');
  } finally {
    disposeQuietly(extract);
  }
}

/** Extract an archive (plain, gzip or zstd tar) into `<dir>/archive`: regular files only, names checked. */
export async function extractArchive(input: Readable, dir: string): Promise<string> {
  const root = path.join(dir, 'archive');
  fs.mkdirSync(root);
  for await (const e of readTar(sniffed(input), { what: 'the archive' })) {
    const parts = safeComponents(e.header.name, 'the archive');
    if (e.header.type !== 'file' || parts.length === 0) continue;
    const file = path.join(root, ...parts);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o644);
    try {
      for await (const c of e.body()) writeAll(fd, c);
    } finally {
      fs.closeSync(fd);
    }
  }
  return root;
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TspodError(`the archive's ${what} is missing or not JSON (${(err as Error).message}); the archive is corrupt`);
  }
}

interface ImageToLoad {
  configBytes: Buffer;
  configDigest: string;
  manifestBytes: Buffer;
  manifestMediaType: string;
  layers: Array<{ desc: { digest: string; size: number; mediaType: string }; file: string }>;
  names: string[];
}

async function install(store: ImageStore, img: ImageToLoad, form: UnpackForm): Promise<LoadedImage> {
  const config = parseImageConfig(img.configBytes);
  const diffIDs = config.rootfs.diff_ids;
  if (diffIDs.length !== img.layers.length) throw new TspodError(`the image config lists ${diffIDs.length} layers but the archive has ${img.layers.length}; the archive is corrupt`);
  const chain = chainIDs(diffIDs);
  let parentDone: Promise<void> = Promise.resolve();
  for (let i = 0; i < img.layers.length; i++) {
    const { desc, file } = img.layers[i]!;
    if (store.hasLayer(chain[i]!)) {
      // Keep this archive's blob too: the manifest written for it names it.
      if (!store.hasBlob(desc.digest) && fs.existsSync(file)) store.commitBlobFile(file, desc.digest);
      continue;
    }
    const src = fs.existsSync(file) ? file : store.blobPath(desc.digest);
    const staging = await store.stage('layer');
    try {
      const diff = path.join(staging.dir, 'diff');
      fs.mkdirSync(diff, { mode: 0o755 });
      if (form === 'vfs' && i > 0) await copyTree(layerDiffDir(store.storageRoot, chain[i - 1]!), diff);
      await installLayer(store, staging, fs.createReadStream(src, { highWaterMark: 1 << 20 }), {
        desc,
        diffID: diffIDs[i]!,
        chainID: chain[i]!,
        ...(i > 0 ? { parent: chain[i - 1]! } : {}),
        form,
        parentDone,
        // One layer at a time here: each is the only one in flight.
        offThread: decodeLayerOffThread(desc.size, desc.size),
      }, src === file ? file : undefined);
    } finally {
      disposeQuietly(staging);
    }
    parentDone = Promise.resolve();
  }
  store.writeBlob(img.configBytes, img.configDigest);
  const manifestDigest = store.writeBlob(img.manifestBytes);
  const sizes = store.readLayers().layers;
  const rec: ImageRecord = {
    id: img.configDigest.slice(7),
    names: img.names,
    digest: manifestDigest,
    digests: [manifestDigest],
    manifestMediaType: img.manifestMediaType,
    layers: chain,
    created: config.created ?? new Date().toISOString(),
    added: new Date().toISOString(),
    size: chain.reduce((n, c) => n + (sizes[c]?.size ?? 0), 0) + img.configBytes.length,
  };
  const stored = await store.putImage(rec);
  return { id: stored.id, names: img.names };
}

/** Which images of a docker-archive to load: all, the one tagged `image`, or the `index`th (docker-archive:PATH:NAME / :@N). */
export interface DockerArchiveSelection {
  image?: string;
  index?: number;
}

export async function loadDocker(store: ImageStore, root: string, form: UnpackForm, select: DockerArchiveSelection = {}): Promise<LoadedImage[]> {
  const list = readJson(path.join(root, 'manifest.json'), 'manifest.json');
  if (!Array.isArray(list) || list.length === 0) throw new TspodError("the archive's manifest.json lists no image; the archive is corrupt");
  type Entry = { Config?: string; RepoTags?: string[] | null; Layers?: string[] };
  let entries = list as Entry[];
  if (select.index !== undefined) {
    if (select.index >= entries.length) throw new TspodError(`the archive holds ${entries.length} image(s): there is no image @${select.index}`);
    entries = [entries[select.index]!];
  } else if (select.image !== undefined) {
    const want = normalizeName(select.image);
    entries = entries.filter((e) => (e.RepoTags ?? []).some((t) => normalizeName(t) === want || parseImageReference(t).toString() === parseImageReference(select.image!).toString()));
    if (entries.length === 0) throw new TspodError(`the archive has no image tagged ${select.image}`);
  }
  const out: LoadedImage[] = [];
  for (const entry of entries) {
    if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) throw new TspodError("an entry of the archive's manifest.json has no Config or Layers; the archive is corrupt");
    const configFile = path.join(root, ...safeComponents(entry.Config, 'the archive'));
    const configBytes = fs.readFileSync(configFile);
    const configDigest = `sha256:${crypto.createHash('sha256').update(configBytes).digest('hex')}`;
    const layers = entry.Layers.map((l) => {
      const file = path.join(root, ...safeComponents(l, 'the archive'));
      if (!fs.existsSync(file)) throw new TspodError(`the layer ${l} named in the archive's manifest.json is missing; the archive is corrupt`);
      const head = Buffer.alloc(4);
      const fd = fs.openSync(file, 'r');
      fs.readSync(fd, head, 0, 4, 0);
      fs.closeSync(fd);
      const c = sniffCompression(head);
      const mediaType = c === 'gzip' ? MediaType.OciLayerGzip : c === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayerTar;
      return { desc: { digest: sha256File(file), size: fs.statSync(file).size, mediaType }, file };
    });
    const manifestBytes = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
      layers: layers.map((l) => l.desc),
    }));
    const names = (entry.RepoTags ?? []).map((t) => parseImageReference(t).toString());
    out.push(await install(store, { configBytes, configDigest, manifestBytes, manifestMediaType: MediaType.OciManifest, layers, names }, form));
  }
  return out;
}

/**
 * `refName`: only the manifest annotated with that `org.opencontainers.image.ref.name`
 * (oci:PATH:REF); `names`: the names to give instead of those in the annotations.
 */
export interface OciLayoutSelection {
  refName?: string;
  names?: string[];
  /** Refuse a layout with several images when no refName picks one (pull, not load). */
  single?: boolean;
  /** What to call the layout in messages. */
  what?: string;
}

export async function loadOci(store: ImageStore, root: string, form: UnpackForm, select: OciLayoutSelection = {}): Promise<LoadedImage[]> {
  const blob = (d: string) => path.join(root, 'blobs', ...safeComponents(d.replace(':', '/'), 'the archive'));
  const index = readJson(path.join(root, 'index.json'), 'index.json') as { manifests?: Descriptor[] };
  let tops = index.manifests ?? [];
  const what = select.what ?? 'the archive';
  if (select.refName !== undefined) {
    tops = tops.filter((t) => t.annotations?.['org.opencontainers.image.ref.name'] === select.refName);
    if (tops.length === 0) throw new TspodError(`no image named ${JSON.stringify(select.refName)} in ${what}: no descriptor found for reference ${JSON.stringify(select.refName)}`);
  } else if (select.single && tops.length > 1) {
    throw new TspodError(`${what} holds ${tops.length} images; name one as PATH:NAME (its org.opencontainers.image.ref.name)`);
  }
  const out: LoadedImage[] = [];
  for (const top of tops) {
    let desc: Descriptor = top;
    let bytes = fs.readFileSync(blob(desc.digest));
    let m = parseManifest(bytes, desc.mediaType);
    if (m.kind === 'index') {
      desc = selectPlatform(m, hostPlatform());
      bytes = fs.readFileSync(blob(desc.digest));
      m = parseManifest(bytes, desc.mediaType);
      if (m.kind !== 'image') throw new TspodError('the archive holds a nested index; it is not supported');
    }
    const configBytes = fs.readFileSync(blob(m.config.digest));
    const configDigest = `sha256:${crypto.createHash('sha256').update(configBytes).digest('hex')}`;
    if (configDigest !== m.config.digest) throw new TspodError(`the config blob ${m.config.digest} in the archive does not match its digest; the archive is corrupt`);
    const layers = m.layers.map((l) => ({ desc: { digest: l.digest, size: l.size, mediaType: l.mediaType }, file: blob(l.digest) }));
    const ann = top.annotations ?? {};
    const names: string[] = [];
    const full = ann['io.containerd.image.name'];
    const refName = ann['org.opencontainers.image.ref.name'];
    if (select.names) names.push(...select.names);
    else if (full) names.push(normalizeName(full));
    else if (refName && /[/:]/.test(refName)) names.push(normalizeName(refName));
    out.push(await install(store, { configBytes, configDigest, manifestBytes: bytes, manifestMediaType: desc.mediaType ?? m.mediaType, layers, names }, form));
  }
  if (out.length === 0) throw new TspodError("the archive's index.json lists no image; the archive is corrupt");
  return out;
}
