/**
 * Image references, parsed and normalised as containers/image and distribution/reference
 * do, plus the transports Podman accepts (`docker://`, `oci:`, `oci-archive:`,
 * `docker-archive:`, `dir:`, `containers-storage:`).
 *
 *   busybox                 -> docker.io/library/busybox:latest   (short name)
 *   library/busybox         -> docker.io/library/busybox:latest   (short name)
 *   docker.io/busybox       -> docker.io/library/busybox:latest
 *   localhost/foo           -> localhost/foo:latest
 *   registry:5000/ns/repo:t -> registry:5000/ns/repo:t
 *   repo@sha256:<64 hex>    -> docker.io/library/repo@sha256:...
 *
 * A short name has no registry in what the user typed (the first path component has no
 * `.` or `:`, is not `localhost`, and is lower-case). Its `registry` here is Docker's
 * default, docker.io; before pulling, resolve it with registries.conf
 * (`RegistriesConf.resolveShortName`), as Podman does.
 */
import { TspodError } from '../util/errors.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;

const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const IMAGE_ID_RE = /^[a-f0-9]{64}$/;

/** Digest algorithms go-digest knows, with their hex lengths. */
const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function invalid(reason: string, input: string): TspodError {
  return new TspodError(`invalid reference format: ${reason} (${JSON.stringify(input)})`);
}

/** Whether `s` is a full image ID (64 lower-case hex digits, optionally `sha256:`-prefixed). */
export function isImageId(s: string): boolean {
  return IMAGE_ID_RE.test(s.startsWith('sha256:') ? s.slice(7) : s);
}

/** Validates a digest (`sha256:<64 hex>`); returns it or throws a TspodError. */
export function validateDigest(digest: string, input = digest): string {
  if (!DIGEST_RE.test(digest)) throw invalid('invalid checksum digest format', input);
  const [algorithm, hex] = digest.split(':') as [string, string];
  const want = DIGEST_LENGTHS[algorithm];
  if (want === undefined) throw invalid(`unsupported digest algorithm ${JSON.stringify(algorithm)}`, input);
  if (hex.length !== want) throw invalid(`invalid checksum digest length for ${algorithm} (want ${want} hex digits, got ${hex.length})`, input);
  if (!/^[a-f0-9]+$/.test(hex)) throw invalid('invalid checksum digest format (hex digits must be lower-case)', input);
  return digest;
}

/** Validates a tag; returns it or throws a TspodError. */
export function validateTag(tag: string, input = tag): string {
  if (!TAG_RE.test(tag)) throw invalid(`invalid tag ${JSON.stringify(tag)} (allowed: letters, digits, _ . - up to 128 characters, not starting with . or -)`, input);
  return tag;
}

/**
 * Splits a name into registry and path as distribution/reference's splitDockerDomain does.
 * Returns whether a registry was given explicitly.
 */
function splitDomain(name: string): { registry: string; path: string; explicit: boolean } {
  const i = name.indexOf('/');
  const first = i < 0 ? '' : name.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    let path = name;
    if (!path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
    return { registry: DEFAULT_REGISTRY, path, explicit: false };
  }
  let registry = first;
  let path = name.slice(i + 1);
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  return { registry, path, explicit: true };
}

/** A parsed, normalised image reference (docker transport form). */
export class ImageReference {
  constructor(
    /** Registry host[:port], e.g. `docker.io`, `quay.io`, `localhost:5000`. */
    readonly registry: string,
    /** Path inside the registry, e.g. `library/busybox`. */
    readonly repository: string,
    /** The tag as given, if any (see `effectiveTag`). */
    readonly tag: string | undefined,
    /** `algorithm:hex`, if given. */
    readonly digest: string | undefined,
    /** True when no registry was given, so registries.conf decides where it comes from. */
    readonly isShortName: boolean,
    /** For short names, the name as typed without tag/digest (`busybox`, `library/busybox`). */
    readonly shortName?: string,
  ) {}

  /** `registry/repository`, e.g. `docker.io/library/busybox`. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** The tag, defaulting to `latest` when neither tag nor digest was given. */
  get effectiveTag(): string | undefined {
    return this.tag ?? (this.digest ? undefined : DEFAULT_TAG);
  }

  /** Fully qualified: `docker.io/library/busybox:latest`, `quay.io/a/b@sha256:...`. */
  toString(): string {
    const tag = this.effectiveTag;
    return this.name + (tag ? `:${tag}` : '') + (this.digest ? `@${this.digest}` : '');
  }

  /** Docker's familiar form: `busybox:latest`, `user/app:1`, `quay.io/a/b:2`. */
  familiar(): string {
    let name = this.name;
    if (this.registry === DEFAULT_REGISTRY) {
      name = this.repository;
      const rest = name.startsWith(OFFICIAL_REPO_PREFIX) ? name.slice(OFFICIAL_REPO_PREFIX.length) : undefined;
      if (rest !== undefined && !rest.includes('/')) name = rest;
    }
    const tag = this.effectiveTag;
    return name + (tag ? `:${tag}` : '') + (this.digest ? `@${this.digest}` : '');
  }

  /** The same repository with another tag (and no digest). */
  withTag(tag: string): ImageReference {
    return new ImageReference(this.registry, this.repository, validateTag(tag), undefined, this.isShortName, this.shortName);
  }

  /** The same repository at a digest (keeping the tag). */
  withDigest(digest: string): ImageReference {
    return new ImageReference(this.registry, this.repository, this.tag, validateDigest(digest), this.isShortName, this.shortName);
  }

  /** The same reference in another registry/repository (used after short-name resolution). */
  withName(registry: string, repository: string): ImageReference {
    return new ImageReference(registry, repository, this.tag, this.digest, false);
  }
}

/**
 * Parses a docker-style reference (`[registry/]path[:tag][@digest]`), normalising it as
 * Podman does. Throws a TspodError for invalid references, e.g.
 * `invalid reference format: repository name must be lowercase ("Busybox")`.
 */
export function parseImageReference(input: string): ImageReference {
  const s = input.trim();
  if (s === '') throw invalid('repository name must have at least one component', input);
  if (IMAGE_ID_RE.test(s)) {
    throw new TspodError(`invalid repository name (${s}): a 64-character hexadecimal string is an image ID, not a name; use it where an image ID is accepted`);
  }
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = validateDigest(rest.slice(at + 1), input);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = validateTag(rest.slice(colon + 1), input);
    rest = rest.slice(0, colon);
  }
  if (rest === '') throw invalid('repository name must have at least one component', input);
  const { registry, path, explicit } = splitDomain(rest);
  if (explicit && !DOMAIN_RE.test(registry)) throw invalid(`invalid registry ${JSON.stringify(registry)}`, input);
  if (!PATH_RE.test(path)) {
    if (PATH_RE.test(path.toLowerCase())) throw invalid('repository name must be lowercase', input);
    throw invalid('repository names may contain only lower-case letters, digits and the separators . _ __ - /', input);
  }
  if (registry.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`, input);
  }
  return new ImageReference(registry, path, tag, digest, !explicit, explicit ? undefined : rest);
}

// ---- transports ----

export type TransportName = 'docker' | 'oci' | 'oci-archive' | 'docker-archive' | 'dir' | 'containers-storage';

export const TRANSPORTS: readonly TransportName[] = ['docker', 'oci', 'oci-archive', 'docker-archive', 'dir', 'containers-storage'];

export type TransportReference =
  /** `docker://ref` or a bare reference. */
  | { transport: 'docker'; image: ImageReference }
  /** `oci:PATH[:REF]`, `oci-archive:PATH[:REF]`: REF is the `org.opencontainers.image.ref.name` annotation. */
  | { transport: 'oci' | 'oci-archive'; path: string; refName?: string }
  /** `docker-archive:PATH[:NAME:TAG]` or `docker-archive:PATH:@INDEX`. */
  | { transport: 'docker-archive'; path: string; image?: ImageReference; index?: number }
  /** `dir:PATH`. */
  | { transport: 'dir'; path: string }
  /** `containers-storage:[STORE-SPEC]REF` where REF is a name, an image ID, or NAME@ID. */
  | { transport: 'containers-storage'; storeSpec?: string; image?: ImageReference; imageId?: string };

const OCI_REF_NAME_RE = /^[a-zA-Z0-9._:@/+-]+$/;

/** Formats a transport reference back to its command-line form. */
export function formatTransportReference(ref: TransportReference): string {
  switch (ref.transport) {
    case 'docker':
      return `docker://${ref.image.toString()}`;
    case 'oci':
    case 'oci-archive':
      return `${ref.transport}:${ref.path}${ref.refName ? `:${ref.refName}` : ''}`;
    case 'docker-archive':
      return `docker-archive:${ref.path}${ref.image ? `:${ref.image.toString()}` : ref.index !== undefined ? `:@${ref.index}` : ''}`;
    case 'dir':
      return `dir:${ref.path}`;
    case 'containers-storage': {
      const spec = ref.storeSpec ? `[${ref.storeSpec}]` : '';
      const name = ref.image ? ref.image.toString() : '';
      const id = ref.imageId ? (name ? `@${ref.imageId}` : ref.imageId) : '';
      return `containers-storage:${spec}${name}${id}`;
    }
  }
}

/**
 * Parses what `pull`, `push`, `save`, `load` and friends accept: a transport-prefixed
 * reference, or a bare reference meaning the docker transport. Prefixes that are not
 * known transports (e.g. `localhost:5000/x`) are read as registries.
 */
export function parseTransportReference(input: string): TransportReference {
  const colon = input.indexOf(':');
  const prefix = colon < 0 ? '' : input.slice(0, colon);
  const rest = colon < 0 ? '' : input.slice(colon + 1);
  switch (prefix) {
    case 'docker':
      if (!rest.startsWith('//')) {
        throw new TspodError(`invalid image reference ${JSON.stringify(input)}: the docker transport needs "docker://" followed by an image name`);
      }
      return { transport: 'docker', image: parseImageReference(rest.slice(2)) };
    case 'oci':
    case 'oci-archive': {
      const { path, image } = splitPathAndImage(rest);
      if (path === '') throw new TspodError(`invalid image reference ${JSON.stringify(input)}: ${prefix} needs a path, as in ${prefix}:/path/to/layout[:name]`);
      if (image !== undefined && !OCI_REF_NAME_RE.test(image)) {
        throw new TspodError(`invalid image reference ${JSON.stringify(input)}: ${JSON.stringify(image)} is not a valid image name in an OCI layout`);
      }
      return { transport: prefix, path, refName: image || undefined };
    }
    case 'docker-archive': {
      const { path, image } = splitPathAndImage(rest);
      if (path === '') throw new TspodError(`invalid image reference ${JSON.stringify(input)}: docker-archive needs a path, as in docker-archive:/path/to/file.tar[:name:tag]`);
      if (image === undefined || image === '') return { transport: 'docker-archive', path };
      if (image.startsWith('@')) {
        if (!/^@\d+$/.test(image)) throw new TspodError(`invalid image reference ${JSON.stringify(input)}: the image index after "@" must be a number`);
        return { transport: 'docker-archive', path, index: Number(image.slice(1)) };
      }
      const ref = parseImageReference(image);
      if (ref.digest) throw new TspodError(`invalid image reference ${JSON.stringify(input)}: docker-archive does not support digest references; use name:tag`);
      return { transport: 'docker-archive', path, image: ref };
    }
    case 'dir':
      if (rest === '') throw new TspodError(`invalid image reference ${JSON.stringify(input)}: dir needs a path, as in dir:/path/to/directory`);
      return { transport: 'dir', path: rest };
    case 'containers-storage':
      return parseStorageReference(rest, input);
    case 'docker-daemon':
    case 'sif':
    case 'tarball':
    case 'ostree':
      throw new TspodError(`the ${prefix} transport is not supported by tspod; use one of ${TRANSPORTS.join(', ')}`);
    default:
      return { transport: 'docker', image: parseImageReference(input) };
  }
}

/** containers/image's SplitPathAndImage: the path ends at the first colon. */
function splitPathAndImage(s: string): { path: string; image?: string } {
  const i = s.indexOf(':');
  return i < 0 ? { path: s } : { path: s.slice(0, i), image: s.slice(i + 1) };
}

function parseStorageReference(rest: string, input: string): TransportReference {
  let spec: string | undefined;
  let s = rest;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new TspodError(`invalid image reference ${JSON.stringify(input)}: the store specifier is missing its "]"`);
    spec = s.slice(1, close);
    s = s.slice(close + 1);
  }
  if (s === '') throw new TspodError(`invalid image reference ${JSON.stringify(input)}: containers-storage needs an image name or ID`);
  if (s.startsWith('@')) s = s.slice(1);
  if (isImageId(s)) return { transport: 'containers-storage', storeSpec: spec, imageId: s.replace(/^sha256:/, '') };
  // NAME@ID (an ID without an algorithm) or NAME@DIGEST
  const at = s.lastIndexOf('@');
  if (at > 0 && IMAGE_ID_RE.test(s.slice(at + 1))) {
    return { transport: 'containers-storage', storeSpec: spec, image: parseImageReference(s.slice(0, at)), imageId: s.slice(at + 1) };
  }
  return { transport: 'containers-storage', storeSpec: spec, image: parseImageReference(s) };
}
