/**
 * Manifests, indexes and image configs: types, parsers and platform selection.
 *
 * Handles Docker v2 schema 2 manifests and manifest lists, OCI image manifests and OCI
 * indexes. Docker schema 1 is refused with a clear message.
 */
import fs from 'node:fs';
import os from 'node:os';
import { TspodError } from '../util/errors.js';
import {
  MediaType,
  isImageManifestMediaType,
  isIndexMediaType,
  isSchema1MediaType,
  stripParams,
} from './media-types.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  kind: 'image';
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
  artifactType?: string;
}

export interface ImageIndex {
  kind: 'index';
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export type Manifest = ImageManifest | ImageIndex;

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: unknown;
  [key: string]: unknown;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  [key: string]: unknown;
}

const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && DIGEST_RE.test(s) && (!s.startsWith('sha256:') || /^sha256:[a-f0-9]{64}$/.test(s));
}

function invalid(what: string, detail: string): TspodError {
  return new TspodError(`invalid ${what}: ${detail}; the registry or image is corrupt, or the format is not supported`);
}

function parseJson(bytes: Uint8Array | string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw invalid(what, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(what, 'not a JSON object');
  return v as Record<string, unknown>;
}

function parseDescriptor(v: unknown, what: string): Descriptor {
  if (typeof v !== 'object' || v === null) throw invalid(what, 'descriptor is not an object');
  const d = v as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw invalid(what, 'descriptor without mediaType');
  if (!isDigest(d.digest)) throw invalid(what, `descriptor with malformed digest ${JSON.stringify(d.digest)}`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw invalid(what, `descriptor ${d.digest} has an invalid size`);
  }
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (Array.isArray(d.urls)) out.urls = d.urls.filter((u): u is string => typeof u === 'string');
  if (d.annotations && typeof d.annotations === 'object') out.annotations = d.annotations as Record<string, string>;
  if (typeof d.artifactType === 'string') out.artifactType = d.artifactType;
  if (d.platform !== undefined) {
    const p = d.platform as Record<string, unknown>;
    if (typeof p !== 'object' || p === null || typeof p.os !== 'string' || typeof p.architecture !== 'string') {
      throw invalid(what, `descriptor ${d.digest} has an invalid platform`);
    }
    out.platform = { os: p.os, architecture: p.architecture };
    if (typeof p.variant === 'string' && p.variant !== '') out.platform.variant = p.variant;
    if (typeof p['os.version'] === 'string') out.platform['os.version'] = p['os.version'];
    if (Array.isArray(p['os.features'])) out.platform['os.features'] = p['os.features'] as string[];
  }
  return out;
}

export function schema1Error(): TspodError {
  return new TspodError(
    'the image uses the deprecated Docker schema 1 manifest format, which tspod does not support; ask its publisher to push it again with a current tool',
  );
}

/**
 * Parse manifest bytes. `mediaTypeHint` is the Content-Type the registry sent (or the
 * descriptor's mediaType); the document's own `mediaType` field wins when present.
 */
export function parseManifest(bytes: Uint8Array | string, mediaTypeHint?: string): Manifest {
  if (mediaTypeHint && isSchema1MediaType(mediaTypeHint)) throw schema1Error();
  const doc = parseJson(bytes, 'manifest');
  if (doc.schemaVersion === 1) throw schema1Error();
  if (doc.schemaVersion !== 2) throw invalid('manifest', `unsupported schemaVersion ${JSON.stringify(doc.schemaVersion)}`);
  let mt: string | undefined = typeof doc.mediaType === 'string' ? stripParams(doc.mediaType) : undefined;
  if (mt && isSchema1MediaType(mt)) throw schema1Error();
  const hint = mediaTypeHint ? stripParams(mediaTypeHint) : undefined;
  if (!mt) {
    if (hint && (isIndexMediaType(hint) || isImageManifestMediaType(hint))) mt = hint;
    else if (Array.isArray(doc.manifests)) mt = MediaType.OciIndex;
    else if (doc.config !== undefined) mt = MediaType.OciManifest;
    else throw invalid('manifest', 'neither an image manifest nor an index');
  }
  if (isIndexMediaType(mt)) {
    if (!Array.isArray(doc.manifests)) throw invalid('manifest list', '"manifests" is missing');
    const idx: ImageIndex = {
      kind: 'index',
      schemaVersion: 2,
      mediaType: mt,
      manifests: doc.manifests.map((m) => parseDescriptor(m, 'manifest list')),
    };
    if (doc.annotations && typeof doc.annotations === 'object') idx.annotations = doc.annotations as Record<string, string>;
    return idx;
  }
  if (isImageManifestMediaType(mt)) {
    if (!Array.isArray(doc.layers)) throw invalid('manifest', '"layers" is missing');
    const m: ImageManifest = {
      kind: 'image',
      schemaVersion: 2,
      mediaType: mt,
      config: parseDescriptor(doc.config, 'manifest'),
      layers: doc.layers.map((l) => parseDescriptor(l, 'manifest')),
    };
    if (doc.annotations && typeof doc.annotations === 'object') m.annotations = doc.annotations as Record<string, string>;
    if (doc.subject !== undefined) m.subject = parseDescriptor(doc.subject, 'manifest');
    if (typeof doc.artifactType === 'string') m.artifactType = doc.artifactType;
    return m;
  }
  throw invalid('manifest', `unsupported media type ${mt}`);
}

/** Parse and check an image config (the JSON a manifest's config descriptor points to). */
export function parseImageConfig(bytes: Uint8Array | string): ImageConfig {
  const doc = parseJson(bytes, 'image config');
  if (typeof doc.architecture !== 'string' || typeof doc.os !== 'string') {
    throw invalid('image config', 'architecture or os is missing');
  }
  const rootfs = doc.rootfs as Record<string, unknown> | undefined;
  if (!rootfs || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids) || !rootfs.diff_ids.every(isDigest)) {
    throw invalid('image config', 'rootfs.diff_ids is missing or malformed');
  }
  if (doc.history !== undefined && !Array.isArray(doc.history)) throw invalid('image config', 'history is not a list');
  return doc as unknown as ImageConfig;
}

/** Layers of a manifest must line up with the config's diff_ids. */
export function checkConfigMatchesManifest(manifest: ImageManifest, config: ImageConfig): void {
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw invalid(
      'image',
      `the manifest has ${manifest.layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
}

// ---------------------------------------------------------------- platforms

/** Map Node's process.arch to the Go architecture names OCI uses. */
export function goArch(nodeArch: string = process.arch, endianness: 'BE' | 'LE' = os.endianness()): string {
  switch (nodeArch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'arm':
      return 'arm';
    case 'arm64':
      return 'arm64';
    case 'ppc64':
      return endianness === 'LE' ? 'ppc64le' : 'ppc64';
    case 'ppc':
      return 'ppc';
    case 's390x':
      return 's390x';
    case 'riscv64':
      return 'riscv64';
    case 'loong64':
      return 'loong64';
    case 'mips':
      return 'mips';
    case 'mipsel':
      return 'mipsle';
    default:
      return nodeArch;
  }
}

/** The platform of this host: linux/amd64, linux/arm64/v8, linux/arm/v7... */
export function hostPlatform(
  nodeArch: string = process.arch,
  nodePlatform: string = process.platform,
  armVersion: unknown = (process.config.variables as Record<string, unknown>).arm_version,
): Platform {
  const p: Platform = { os: nodePlatform === 'win32' ? 'windows' : nodePlatform, architecture: goArch(nodeArch) };
  if (p.architecture === 'arm64') p.variant = 'v8';
  if (p.architecture === 'arm') p.variant = `v${armVersion ?? '7'}`;
  return p;
}

/** x86-64 microarchitecture level (1-4) from CPU flags, as containers/image detects it. */
export function amd64LevelFromFlags(flags: ReadonlySet<string>): number {
  const has = (...f: string[]) => f.every((x) => flags.has(x));
  if (!has('cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3')) return 1;
  if (!has('avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave')) return 2;
  if (!has('avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl')) return 3;
  return 4;
}

let cachedLevel: number | undefined;

/** This host's x86-64 level (1 when unknown); read once from /proc/cpuinfo. */
export function hostAmd64Level(): number {
  if (cachedLevel === undefined) {
    cachedLevel = 1;
    try {
      const text = fs.readFileSync('/proc/cpuinfo', 'utf8');
      const line = /^flags\s*:(.*)$/m.exec(text);
      if (line) cachedLevel = amd64LevelFromFlags(new Set(line[1]!.trim().split(/\s+/)));
    } catch {
      // not Linux, or /proc unavailable
    }
  }
  return cachedLevel;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** `linux/arm64/v8` -> Platform. Missing parts come from `defaults`. */
export function parsePlatform(s: string, defaults: Platform = hostPlatform()): Platform {
  const parts = s.split('/');
  if (parts.length > 3 || parts.some((x) => x === '')) {
    throw new TspodError(`invalid platform "${s}": expected os/arch or os/arch/variant`);
  }
  if (parts.length === 1) return { os: parts[0]!, architecture: defaults.architecture, ...(defaults.variant ? { variant: defaults.variant } : {}) };
  const p: Platform = { os: parts[0]!, architecture: parts[1]! };
  if (parts[2]) p.variant = parts[2];
  return p;
}

/**
 * Variants acceptable for a wanted arch/variant, best first (as containers/image does:
 * an arm/v7 host also runs v6 and v5 images; arm64 images often carry no variant).
 */
export function compatibleVariants(architecture: string, variant: string | undefined, amd64Level?: number): (string | undefined)[] {
  const v = variant || undefined;
  if (architecture === 'amd64' && v === undefined && amd64Level && amd64Level > 1) {
    // an x86-64-v3 host runs v3, v2 and v1 images, preferring the most specific
    const levels = [];
    for (let l = Math.min(4, amd64Level); l >= 1; l--) levels.push(`v${l}`);
    return [...levels, undefined];
  }
  if (architecture === 'arm') {
    const order = ['v8', 'v7', 'v6', 'v5'];
    const i = order.indexOf(v ?? 'v7');
    return i < 0 ? [v] : [...order.slice(i), undefined];
  }
  if (architecture === 'arm64') return v === undefined || v === 'v8' ? ['v8', undefined] : [v, undefined];
  if (architecture === 'amd64') {
    const order = ['v4', 'v3', 'v2', 'v1'];
    const i = order.indexOf(v ?? 'v1');
    return i < 0 ? [v, undefined] : [...order.slice(i), undefined];
  }
  return v === undefined ? [undefined] : [v, undefined];
}

/**
 * Choose the manifest for `want` (default: this host) from an index / manifest list.
 * Entries without a platform and attestation entries (`unknown/unknown`) are skipped.
 */
export function selectPlatform(index: ImageIndex, want: Partial<Platform> = {}, opts: { amd64Level?: number } = {}): Descriptor {
  const host = hostPlatform();
  const wantOs = want.os ?? host.os;
  const wantArch = want.architecture ?? host.architecture;
  const wantVariant = want.variant ?? (want.architecture === undefined || want.architecture === host.architecture ? host.variant : undefined);
  const level = opts.amd64Level ?? (wantArch === 'amd64' && host.architecture === 'amd64' && want.variant === undefined ? hostAmd64Level() : undefined);
  const variants = compatibleVariants(wantArch, wantVariant, level);
  const candidates = index.manifests.filter(
    (m) => m.platform && m.platform.os === wantOs && m.platform.architecture === wantArch && isImageManifestMediaType(stripParams(m.mediaType)),
  );
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const m of candidates) {
    const rank = variants.indexOf(m.platform!.variant || undefined);
    if (rank >= 0 && rank < bestRank) {
      best = m;
      bestRank = rank;
    }
  }
  if (best) return best;
  const available = index.manifests
    .filter((m) => m.platform && m.platform.os !== 'unknown')
    .map((m) => formatPlatform(m.platform!));
  const wanted = formatPlatform({ os: wantOs, architecture: wantArch, ...(wantVariant ? { variant: wantVariant } : {}) });
  throw new TspodError(
    `no image for platform ${wanted} in the manifest list (available: ${available.length ? [...new Set(available)].join(', ') : 'none'}); choose one with --platform`,
  );
}
