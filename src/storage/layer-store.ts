/**
 * Layers: unpacked trees keyed by chain ID, shared by every image whose layer chain
 * starts the same way.
 *
 *   layers/layers.json            { version: 1, layers: { <chainID>: LayerRecord } }
 *   layers/<chainID hex>/diff     the unpacked tree
 *                                 overlay: this layer only, in the kernel overlay's
 *                                 userxattr form (0/0 char-device whiteouts,
 *                                 user.overlay.opaque=y);
 *                                 vfs: the flattened root filesystem up to this layer.
 *   blobs/sha256/<hex>            the compressed layer blob as the registry served it,
 *                                 so push and save give back identical digests.
 *
 * Keyed by chain ID rather than diff ID: a vfs tree depends on every layer below it,
 * and keeping one rule for both drivers makes a store's layers interchangeable with
 * containers/storage's notion. A layer is referenced by the images listing its chain
 * ID; the reference count is computed from images.json under the store lock (never
 * stored, so it cannot drift).
 */
import crypto from 'node:crypto';
import path from 'node:path';

export interface LayerRecord {
  /** sha256 chain ID (the key). */
  id: string;
  parent?: string;
  diffID: string;
  /** Digest of the compressed blob kept in blobs/ (equal to diffID for uncompressed layers). */
  digest: string;
  compressedSize: number;
  mediaType: string;
  /** Bytes of the uncompressed tar. */
  size: number;
  created: string;
}

export interface LayerDb {
  version: 1;
  layers: Record<string, LayerRecord>;
}

/** chain[0] = diffID[0]; chain[n] = sha256(chain[n-1] + " " + diffID[n]). */
export function chainIDs(diffIDs: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIDs) {
    const prev = out.at(-1);
    out.push(prev === undefined ? d : `sha256:${crypto.createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

export function hexOf(digest: string): string {
  return digest.startsWith('sha256:') ? digest.slice(7) : digest;
}

export function layerDir(storageRoot: string, chainID: string): string {
  return path.join(storageRoot, 'layers', hexOf(chainID));
}

export function layerDiffDir(storageRoot: string, chainID: string): string {
  return path.join(layerDir(storageRoot, chainID), 'diff');
}

/** How many images reference each layer. */
export function layerRefCounts(images: Iterable<{ layers: string[] }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const img of images) for (const l of new Set(img.layers)) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts;
}
