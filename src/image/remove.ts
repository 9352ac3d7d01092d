/** `rmi` and `image prune`: untag or delete images, refusing those containers use. */
import { type ImageRecord, IMAGE_IN_USE, ImageStore, NO_SUCH_IMAGE, imageUsers, lookupImage, normalizeName } from '../storage/image-store.js';
import { TspodError } from '../util/errors.js';

export interface RemoveReport {
  untagged: string[];
  deleted: string[];
}

/**
 * Remove what `nameOrId` names: by a name of an image with several names, only that
 * name goes (Podman's behaviour); otherwise the image and what only it referenced.
 */
export async function removeImage(store: ImageStore, nameOrId: string, opts: { force: boolean }): Promise<RemoveReport> {
  const db = store.readImages();
  const rec = lookupImage(db, nameOrId);
  if (!rec) throw new TspodError(`${nameOrId}: image not known`, { exitCode: NO_SUCH_IMAGE });
  const byId = isIdLike(nameOrId, rec);
  if (!byId && rec.names.length > 1) {
    const name = matchingName(rec, nameOrId);
    if (name) {
      await store.removeNames(rec.id, [name]);
      return { untagged: [name], deleted: [] };
    }
  }
  if (byId && rec.names.length > 1 && !opts.force) {
    throw new TspodError(
      `unable to delete image "${rec.id}" by ID with more than one tag (${JSON.stringify(rec.names)}): please force removal`,
      { exitCode: 125 },
    );
  }
  return deleteImage(store, rec);
}

export async function deleteImage(store: ImageStore, rec: ImageRecord): Promise<RemoveReport> {
  const users = imageUsers(store.storageRoot, rec.id);
  if (users.length > 0) {
    throw new TspodError(
      `image used by ${users[0]}: image is in use by a container: remove the container first ('tspod rm -f ${users[0]!.slice(0, 12)}') or force-remove the image with it ('tspod rmi -f')`,
      { exitCode: IMAGE_IN_USE },
    );
  }
  const { rec: removed } = await store.removeImage(rec.id);
  return { untagged: removed.names, deleted: [removed.id] };
}

function isIdLike(input: string, rec: ImageRecord): boolean {
  const hex = input.replace(/^sha256:/, '');
  return /^[a-f0-9]{3,64}$/.test(hex) && rec.id.startsWith(hex) && !rec.names.some((n) => matchesName(n, input));
}

function matchesName(name: string, input: string): boolean {
  try {
    return normalizeName(input) === name;
  } catch {
    return false;
  }
}

/** The stored name `input` refers to (it may be short: busybox -> docker.io/library/busybox:latest). */
function matchingName(rec: ImageRecord, input: string): string | undefined {
  const one = { version: 1 as const, images: {} as Record<string, ImageRecord> };
  for (const n of rec.names) {
    one.images = { [rec.id]: { ...rec, names: [n] } };
    if (lookupImage(one, input)) return n;
  }
  return undefined;
}

/** `image prune`: dangling images (all unused with `all`); images containers use stay. */
export async function pruneImages(store: ImageStore, opts: { all: boolean; filter?: (r: ImageRecord) => boolean }): Promise<string[]> {
  const removed: string[] = [];
  // Repeat: removing an image can make no other one dangling here (no parent images), so one pass suffices.
  for (const rec of store.list()) {
    if (!opts.all && rec.names.length > 0) continue;
    if (opts.filter && !opts.filter(rec)) continue;
    if (imageUsers(store.storageRoot, rec.id).length > 0) continue;
    await store.removeImage(rec.id);
    removed.push(rec.id);
  }
  return removed;
}
