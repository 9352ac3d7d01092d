/**
 * `tspod push`: the stored blobs and manifest, byte for byte, so the registry gets the
 * same digests the image was pulled (or loaded) with: each layer blob is checked for
 * existence, mounted from the source repository when it is on the same registry, or
 * uploaded; then the config and the manifest (PUT by tag, or by digest).
 */
import fs from 'node:fs';
import { ImageStore } from '../storage/image-store.js';
import { splitName } from '../storage/image-store.js';
import { TspodError } from '../util/errors.js';
import { parseManifest } from './manifest.js';
import { type Progress, newClient } from './pull.js';
import { parseImageReference } from './reference.js';

export interface PushOptions {
  storageRoot: string;
  tlsVerify?: boolean;
  creds?: string;
  authFile?: string;
  certDir?: string;
  progress: Progress;
}

export async function pushImage(source: string, destination: string | undefined, opts: PushOptions): Promise<{ digest: string; reference: string }> {
  const store = new ImageStore(opts.storageRoot);
  const rec = store.get(source);
  const { localTransport, pushLocal } = await import('./local-transports.js');
  const local = destination === undefined ? undefined : localTransport(destination);
  if (local) {
    // Podman's lines for a copy to oci:, oci-archive:, docker-archive: or dir:.
    const p = opts.progress;
    p.line('Getting image source signatures');
    await pushLocal(opts.storageRoot, rec.id, local);
    p.line('Writing manifest to image destination');
    return { digest: rec.digest, reference: destination! };
  }
  let destText = destination ?? source;
  destText = destText.replace(/^docker:\/\//, '');
  if (/^[a-z-]+:/.test(destText) && !/^[^/]*:\d/.test(destText) && !destText.includes('/')) {
    throw new TspodError(`pushing to "${destText}" is not supported; push to a registry reference (docker://...) or use 'tspod save'`);
  }
  const dest = parseImageReference(destination === undefined && /^[a-f0-9]{12,64}$/.test(source) ? (rec.names[0] ?? source) : destText);
  const manifestBytes = store.manifestBytes(rec);
  const manifest = parseManifest(manifestBytes, rec.manifestMediaType);
  if (manifest.kind !== 'image') throw new TspodError(`the stored manifest of image ${rec.id.slice(0, 12)} is not an image manifest; pull the image again`);
  const client = newClient(dest, { tlsVerify: opts.tlsVerify, creds: opts.creds, authFile: opts.authFile, certDir: opts.certDir });
  const p = opts.progress;
  try {
    p.line('Getting image source signatures');
    // Same registry: offer the repositories the image came from for a cross-repository mount.
    const mountFrom = rec.names.map((n) => splitName(n).repository).filter((r) => r.startsWith(`${dest.registry}/`)).map((r) => r.slice(dest.registry.length + 1)).filter((r) => r !== dest.repository);
    for (const layer of manifest.layers) {
      const file = store.blobPath(layer.digest);
      if (!fs.existsSync(file)) throw new TspodError(`the blob ${layer.digest} of image ${rec.id.slice(0, 12)} is missing from the store; pull the image again`);
      const r = await client.putBlob(dest.repository, { size: layer.size, open: () => fs.createReadStream(file) }, { digest: layer.digest, ...(mountFrom.length ? { mountFrom } : {}) });
      p.line(`Copying blob ${layer.digest.slice(0, 19)} ${r.via === 'uploaded' ? 'done' : 'skipped: already exists'}`);
    }
    const configFile = store.blobPath(manifest.config.digest);
    await client.putBlob(dest.repository, { size: manifest.config.size, open: () => fs.createReadStream(configFile) }, { digest: manifest.config.digest });
    p.line(`Copying config ${manifest.config.digest.slice(0, 19)} done`);
    p.line('Writing manifest to image destination');
    const ref = dest.digest ? { repository: dest.repository, digest: dest.digest } : { repository: dest.repository, tag: dest.effectiveTag ?? 'latest' };
    if (dest.digest && dest.digest !== rec.digest) throw new TspodError(`cannot push image ${rec.id.slice(0, 12)} to ${dest.toString()}: its manifest digest is ${rec.digest}`);
    const digest = await client.putManifest(ref, manifestBytes, rec.manifestMediaType);
    if (digest !== rec.digest) throw new TspodError(`the registry stored the manifest as ${digest}, not ${rec.digest}; the push is not faithful`);
    return { digest, reference: dest.toString() };
  } finally {
    client.close();
  }
}
