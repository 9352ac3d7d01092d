/**
 * The transports that are files rather than registries, as `pull` and `push` take them
 * (Podman's containers/image transports):
 *   oci:PATH[:REF]            an OCI image layout directory (REF: its ref.name annotation)
 *   oci-archive:PATH[:REF]    the same in a tar
 *   docker-archive:PATH[:NAME:TAG|:@N]  `docker save`'s format
 *   dir:PATH                  manifest.json, version and blobs named by hex digest
 * Pulling reads them through load's engine (layers verified and unpacked like pulled
 * ones; configs byte for byte, so image IDs are kept); pushing writes the stored blobs.
 * Names follow Podman 4: oci: -> localhost/<path>, oci-archive: -> its annotation,
 * docker-archive: -> its RepoTags, dir: -> none (the image is known by its ID).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImageStore, type ImageRecord } from '../storage/image-store.js';
import type { UnpackForm } from '../storage/unpack.js';
import { TspodError } from '../util/errors.js';
import { extractArchive, loadDocker, loadOci, type LoadedImage } from './load.js';
import { parseManifest } from './manifest.js';
import { disposeQuietly } from './pull.js';
import { parseImageReference, parseTransportReference, type TransportReference } from './reference.js';
import { dirEntries, ociLayoutEntries, saveImages, writeEntriesToDir } from './save.js';

export type LocalTransport = Exclude<TransportReference, { transport: 'docker' } | { transport: 'containers-storage' }>;

/** The reference as a local transport, or undefined for a registry (docker://) reference. */
export function localTransport(input: string): LocalTransport | undefined {
  if (!/^(oci|oci-archive|docker-archive|dir):/.test(input)) return undefined;
  return parseTransportReference(input) as LocalTransport;
}

function requireExists(p: string, what: string): void {
  if (!fs.existsSync(p)) throw new TspodError(`${what} ${p} does not exist`);
}

/** podman names an image pulled from oci:PATH after its path: localhost/<path>:latest. */
function nameForLayoutPath(p: string): string[] {
  try {
    const r = parseImageReference(`localhost/${path.resolve(p).replace(/^\/+/, '')}`);
    return [`${r.registry}/${r.repository}:latest`];
  } catch {
    return []; // a path that is no valid image name (upper case, ...): known by its ID only
  }
}

/** Pull (copy into the store) the image a local transport reference names. */
export async function pullLocal(storageRoot: string, t: LocalTransport, driver: 'overlay' | 'vfs'): Promise<{ image: LoadedImage; record: ImageRecord }> {
  const store = new ImageStore(storageRoot);
  store.checkDriver(driver);
  await store.cleanStale();
  const form: UnpackForm = driver === 'vfs' ? 'vfs' : 'overlay';
  const staging = await store.stage('pull-local');
  let loaded: LoadedImage[];
  try {
    switch (t.transport) {
      case 'oci-archive':
      case 'docker-archive': {
        requireExists(t.path, 'the archive');
        const root = await extractArchive(fs.createReadStream(t.path), staging.dir);
        if (t.transport !== 'docker-archive') {
          if (!fs.existsSync(path.join(root, 'oci-layout'))) throw new TspodError(`${t.path} is not an oci-archive (it has no oci-layout file)`);
          loaded = await loadOci(store, root, form, { ...(t.refName ? { refName: t.refName } : {}), single: true, what: t.path });
        } else {
          if (!fs.existsSync(path.join(root, 'manifest.json'))) throw new TspodError(`${t.path} is not a docker-archive (it has no manifest.json)`);
          loaded = await loadDocker(store, root, form, { ...(t.image ? { image: t.image.toString() } : {}), ...(t.index !== undefined ? { index: t.index } : {}) });
          if (loaded.length > 1) loaded = loaded.slice(0, 1);
        }
        break;
      }
      case 'oci': {
        requireExists(t.path, 'the OCI layout');
        if (!fs.existsSync(path.join(t.path, 'oci-layout'))) throw new TspodError(`${t.path} is not an OCI image layout (it has no oci-layout file)`);
        // A copy: installing a layer moves its blob file into the store.
        const root = path.join(staging.dir, 'layout');
        fs.cpSync(t.path, root, { recursive: true });
        loaded = await loadOci(store, root, form, { ...(t.refName ? { refName: t.refName } : {}), names: nameForLayoutPath(t.path), single: true, what: t.path });
        break;
      }
      case 'dir': {
        requireExists(t.path, 'the directory');
        loaded = [await loadDir(store, t.path, staging.dir, form)];
        break;
      }
    }
  } finally {
    disposeQuietly(staging);
  }
  const image = loaded[0]!;
  return { image, record: store.get(image.id) };
}

/** dir:PATH as an OCI layout with one unnamed image, so loadOci does the work. */
async function loadDir(store: ImageStore, dir: string, stagingDir: string, form: UnpackForm): Promise<LoadedImage> {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) throw new TspodError(`${dir} is not a dir: image (it has no manifest.json)`);
  const bytes = fs.readFileSync(manifestFile);
  let mediaType: string;
  try {
    mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? '';
  } catch {
    throw new TspodError(`${manifestFile} is not JSON; the dir: image is corrupt`);
  }
  const m = parseManifest(bytes, mediaType);
  if (m.kind !== 'image') throw new TspodError(`${manifestFile} is a manifest list; tspod reads one image from a dir: directory`);
  const root = path.join(stagingDir, 'layout');
  const blobs = path.join(root, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  for (const d of [...m.layers, m.config]) {
    const src = path.join(dir, d.digest.slice(7));
    if (!fs.existsSync(src)) throw new TspodError(`the blob ${d.digest} named in ${manifestFile} is missing from ${dir}`);
    fs.copyFileSync(src, path.join(blobs, d.digest.slice(7)));
  }
  const digest = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
  fs.writeFileSync(path.join(blobs, digest.slice(7)), bytes);
  fs.writeFileSync(path.join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(root, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: m.mediaType, digest, size: bytes.length }] }));
  const [img] = await loadOci(store, root, form, { names: [], what: dir });
  return img!;
}

/** Push (write) a stored image to a local transport. */
export async function pushLocal(storageRoot: string, source: string, t: LocalTransport): Promise<void> {
  const store = new ImageStore(storageRoot);
  const rec = store.get(source);
  switch (t.transport) {
    case 'dir':
      await writeEntriesToDir(t.path, dirEntries(store, rec, false));
      return;
    case 'oci':
      await writeEntriesToDir(t.path, ociLayoutEntries(store, [{ rec, ...(t.refName ? { annotations: { 'org.opencontainers.image.ref.name': t.refName } } : {}) }]));
      return;
    case 'oci-archive':
    case 'docker-archive': {
      const tmp = path.join(path.dirname(path.resolve(t.path)), `.${path.basename(t.path)}.${process.pid}.tmp`);
      const out = fs.createWriteStream(tmp, { mode: 0o644 });
      try {
        if (t.transport === 'docker-archive') {
          await saveImages(storageRoot, [rec.id], 'docker-archive', out, { extraNames: t.image ? [t.image.toString()] : rec.names.filter((n) => !n.includes('@')) });
        } else {
          await writeOciArchive(store, rec, t.refName, out);
        }
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
        fs.renameSync(tmp, t.path);
      } catch (err) {
        out.destroy();
        fs.rmSync(tmp, { force: true });
        throw err;
      }
      return;
    }
  }
}

async function writeOciArchive(store: ImageStore, rec: ImageRecord, refName: string | undefined, out: fs.WriteStream): Promise<void> {
  const { writeTar } = await import('../core/index.js');
  const entries = ociLayoutEntries(store, [{ rec, ...(refName ? { annotations: { 'org.opencontainers.image.ref.name': refName } } : {}) }]);
  for await (const chunk of writeTar(entries)) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
}
