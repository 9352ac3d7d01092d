/**
 * What `images`, `image inspect` and `history` print, in Podman's shapes.
 */
import type { ImageConfig } from './manifest.js';
import type { ImageRecord } from '../storage/image-store.js';
import { ImageStore, splitName } from '../storage/image-store.js';
import { humanDuration } from '../format/human.js';
import type { LayerRecord } from '../storage/layer-store.js';

/** Go's units.HumanSizeWithPrecision(size, 3): decimal units, 3 significant digits ("4.51MB"). */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${i === 0 ? ' B' : ` ${units[i]}`}`;
}

export function since(iso: string, now = Date.now()): string {
  return `${humanDuration(now - Date.parse(iso))} ago`;
}

export function repoTags(rec: ImageRecord): string[] {
  return rec.names.filter((n) => !n.includes('@'));
}

export function repoDigests(rec: ImageRecord): string[] {
  const repos = [...new Set(rec.names.map((n) => splitName(n).repository))];
  const out: string[] = [];
  for (const r of repos) for (const d of rec.digests) out.push(`${r}@${d}`);
  return [...new Set(out)];
}

/** One `images` row per name (one `<none>` row for a dangling image), Podman's template fields. */
export function imageRows(rec: ImageRecord, config: ImageConfig | undefined, opts: { noTrunc: boolean }, now = Date.now()) {
  const names = rec.names.length > 0 ? rec.names : [''];
  const seen = new Set<string>();
  const rows = [];
  for (const n of names) {
    const s = n ? splitName(n) : { repository: '<none>', tag: '<none>' };
    const key = `${s.repository}:${s.tag}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({
      ID: opts.noTrunc ? `sha256:${rec.id}` : rec.id.slice(0, 12),
      Id: rec.id,
      ParentId: '',
      Repository: s.repository,
      Tag: s.tag,
      Digest: rec.digest,
      Digests: rec.digests,
      Created: Math.floor(Date.parse(rec.created) / 1000),
      CreatedSince: since(rec.created, now),
      CreatedAt: new Date(rec.created),
      CreatedTime: new Date(rec.created),
      Size: humanSize(rec.size),
      VirtualSize: humanSize(rec.size),
      SharedSize: 0,
      Labels: config?.config?.Labels ?? {},
      Containers: 0,
      Names: rec.names,
      History: rec.namesHistory ?? [],
      Dangling: rec.names.length === 0,
      ReadOnly: false,
      IsReadOnly: false,
      rawSize: rec.size,
    });
  }
  return rows;
}

/** `images --format json`: one object per image, Podman's ImageSummary. */
export function imageSummaryJson(rec: ImageRecord, config: ImageConfig | undefined) {
  return {
    Id: rec.id,
    ParentId: '',
    RepoTags: rec.names.length > 0 ? repoTags(rec) : null,
    RepoDigests: repoDigests(rec),
    Size: rec.size,
    SharedSize: 0,
    VirtualSize: rec.size,
    Labels: config?.config?.Labels ?? {},
    Containers: 0,
    Names: rec.names.length > 0 ? rec.names : undefined,
    Digest: rec.digest,
    History: rec.namesHistory ?? [],
    Created: Math.floor(Date.parse(rec.created) / 1000),
    CreatedAt: rec.created,
    Dangling: rec.names.length === 0,
  };
}

/** `image inspect`: Podman's ImageData. */
export function inspectImage(store: ImageStore, rec: ImageRecord, driver: string) {
  const config = store.config(rec);
  const c = config.config ?? {};
  return {
    Id: rec.id,
    Digest: rec.digest,
    RepoTags: repoTags(rec),
    RepoDigests: repoDigests(rec),
    Parent: '',
    Comment: (config.comment as string | undefined) ?? '',
    Created: rec.created,
    Config: c,
    Version: (config.docker_version as string | undefined) ?? '',
    Author: config.author ?? '',
    Architecture: config.architecture,
    Os: config.os,
    ...(config.variant ? { Variant: config.variant } : {}),
    Size: rec.size,
    VirtualSize: rec.size,
    GraphDriver: {
      Name: driver,
      Data: graphDriverData(store.storageRoot, rec.layers, driver),
    },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Labels: c.Labels ?? null,
    Annotations: {},
    ManifestType: rec.manifestMediaType,
    User: c.User ?? '',
    History: config.history ?? [],
    NamesHistory: rec.namesHistory ?? [],
  };
}

function graphDriverData(storageRoot: string, chain: string[], driver: string): Record<string, string> {
  const dir = (c: string) => `${storageRoot}/layers/${c.replace(/^sha256:/, '')}/diff`;
  if (chain.length === 0) return {};
  if (driver === 'vfs') return { Dir: dir(chain.at(-1)!) };
  const lower = chain.slice(0, -1).reverse().map(dir);
  return { UpperDir: dir(chain.at(-1)!), ...(lower.length > 0 ? { LowerDir: lower.join(':') } : {}) };
}

/** `history` rows, newest first, as Podman prints them. */
export function historyRows(rec: ImageRecord, config: ImageConfig, layers: Record<string, LayerRecord>, opts: { noTrunc: boolean; human: boolean }, now = Date.now()) {
  const hist = config.history && config.history.length > 0 ? config.history : rec.layers.map(() => ({}) as NonNullable<ImageConfig['history']>[number]);
  let layerIndex = 0;
  const rows = hist.map((h) => {
    let size = 0;
    if (!h.empty_layer) {
      const chain = rec.layers[layerIndex++];
      size = chain ? (layers[chain]?.size ?? 0) : 0;
    }
    const createdBy = h.created_by ?? '';
    const created = h.created ?? rec.created;
    return {
      ID: '<missing>',
      Created: opts.human ? since(created, now) : created,
      CreatedAt: new Date(created),
      CreatedSince: since(created, now),
      CreatedBy: opts.noTrunc || createdBy.length <= 45 ? createdBy : `${createdBy.slice(0, 42)}...`,
      Size: opts.human ? humanSize(size) : String(size),
      Comment: h.comment ?? '',
      Tags: null as string[] | null,
      rawSize: size,
      rawCreated: created,
      rawCreatedBy: createdBy,
    };
  });
  rows.reverse();
  if (rows[0]) {
    rows[0].ID = opts.noTrunc ? rec.id : rec.id.slice(0, 12);
    rows[0].Tags = repoTags(rec);
  }
  return rows;
}

/** `tspod inspect NAME` when NAME is no container: the image's inspect JSON, or undefined when there is no such image. */
export function inspectImageIfKnown(storageRoot: string, defaultDriver: string, name: string): ReturnType<typeof inspectImage> | undefined {
  const store = new ImageStore(storageRoot);
  const rec = store.find(name);
  return rec ? inspectImage(store, rec, store.driver() ?? defaultDriver) : undefined;
}
