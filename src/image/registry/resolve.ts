/**
 * From a reference to an image manifest and its config: fetch the manifest, pick the
 * platform when it is an index / manifest list, fetch and check the config.
 */
import { TspodError } from '../../util/errors.js';
import {
  type ImageConfig,
  type ImageManifest,
  type Platform,
  checkConfigMatchesManifest,
  parseImageConfig,
  parseManifest,
  selectPlatform,
} from '../manifest.js';
import type { RegistryClient } from './client.js';
import type { RegistryRef } from './types.js';

/** Image configs larger than this are refused. */
export const CONFIG_SIZE_LIMIT = 16 * 1024 * 1024;

export interface ResolvedImage {
  /** Set when the reference named an index / manifest list. */
  index?: { digest: string; mediaType: string; bytes: Buffer };
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDigest: string;
  manifestMediaType: string;
  config: ImageConfig;
  configBytes: Buffer;
}

export async function resolveImage(
  client: RegistryClient,
  ref: RegistryRef,
  opts: { platform?: Partial<Platform>; onManifest?: (layers: ReadonlyArray<{ size: number }>) => void } = {},
): Promise<ResolvedImage> {
  const top = await client.getManifest(ref);
  let parsed = parseManifest(top.bytes, top.mediaType);
  let index: ResolvedImage['index'];
  let cur = top;
  if (parsed.kind === 'index') {
    index = { digest: top.digest, mediaType: top.mediaType, bytes: top.bytes };
    const d = selectPlatform(parsed, opts.platform);
    cur = await client.getManifest({ repository: ref.repository, digest: d.digest });
    if (cur.bytes.length !== d.size) {
      throw new TspodError(`manifest ${d.digest} of ${ref.repository} is ${cur.bytes.length} bytes but the index says ${d.size}; the image is corrupt`);
    }
    parsed = parseManifest(cur.bytes, cur.mediaType);
    if (parsed.kind !== 'image') {
      throw new TspodError(`the manifest list of ${ref.repository} points to another list (${d.digest}); nested indexes are not supported`);
    }
  }
  const manifest = parsed;
  if (manifest.config.size > CONFIG_SIZE_LIMIT) {
    throw new TspodError(`the image config of ${ref.repository} is ${manifest.config.size} bytes, more than the ${CONFIG_SIZE_LIMIT}-byte limit; refusing it`);
  }
  // The layers are known before the config's round trip: the caller may get ready for them.
  opts.onManifest?.(manifest.layers);
  const stream = await client.getBlob(ref.repository, manifest.config.digest, { size: manifest.config.size });
  const parts: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) parts.push(c);
  const configBytes = Buffer.concat(parts);
  const config = parseImageConfig(configBytes);
  checkConfigMatchesManifest(manifest, config);
  return {
    ...(index ? { index } : {}),
    manifest,
    manifestBytes: cur.bytes,
    manifestDigest: cur.digest,
    manifestMediaType: cur.mediaType,
    config,
    configBytes,
  };
}
