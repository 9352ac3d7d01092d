/** Inputs of the registry client, kept minimal so the reference parser and auth file plug in later. */
import type { Readable } from 'node:stream';
import type { RetryPolicy } from './retry.js';
import type { TokenCache } from './token-cache.js';

/**
 * What the client needs from an image reference. A parsed reference from
 * src/image/reference.ts satisfies this shape structurally.
 */
export interface RegistryRef {
  /** `host[:port]` as written in references (`docker.io`, `quay.io`, `127.0.0.1:5000`). */
  registry?: string;
  /** `library/alpine`, `myorg/app`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * Credentials for one registry. An `identityToken` (auth.json `identitytoken`, an OAuth2
 * refresh token) wins over the password when set. auth-file.ts's password entries fit as is.
 */
export type Credentials =
  | { username: string; password: string; identityToken?: string | undefined }
  | { identityToken: string; username?: string };

/** Looked up once per client, lazily, when the registry asks for authentication. */
export type CredentialsProvider = (registry: string) => Credentials | undefined | Promise<Credentials | undefined>;

export interface RegistryClientOptions {
  /** `host[:port]`; `docker.io` is served by `registry-1.docker.io`. */
  registry: string;
  /**
   * Verify TLS (default true). false: the registry is insecure: HTTPS without
   * verification is tried first, then plain HTTP.
   */
  tlsVerify?: boolean;
  credentials?: CredentialsProvider;
  /** certs.d directories searched for `<registry>/`; default: defaultCertDirs(). */
  certDirs?: readonly string[];
  retry?: Partial<RetryPolicy>;
  tokenCache?: TokenCache;
  /** Abort a request when its socket is idle this long (default 60 s). */
  idleTimeoutMs?: number;
  /** How many times an interrupted blob download is resumed (default 5). */
  maxResumeAttempts?: number;
  userAgent?: string;
  /**
   * HTTP proxy (`http://[user:pass@]host:port`) for every request, or false for none.
   * Default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY from `env`, never for loopback hosts.
   */
  proxy?: string | false;
  /** Environment consulted for proxies (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Receives one line per notable event (retries, resumes, auth); for --log-level debug and tests. */
  onDebug?: (message: string) => void;
}

/** A blob to upload: bytes, or something that can be (re)opened as a stream. */
export type BlobSource = Uint8Array | { size: number; open(): Readable };

export interface ManifestResult {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface ManifestHead {
  digest: string | undefined;
  mediaType: string | undefined;
  size: number | undefined;
}

export interface PutBlobResult {
  digest: string;
  size: number;
  /** How the blob got there: it already existed, it was mounted from another repository, or uploaded. */
  via: 'exists' | 'mounted' | 'uploaded';
}

export interface PutBlobOptions {
  /** Expected digest (required for mounting / existence checks; computed when absent). */
  digest?: string;
  /** Upload in PATCH chunks of this many bytes (default: monolithic single PUT). */
  chunkSize?: number;
  /** Try a cross-repository mount from these repositories (same registry) first. */
  mountFrom?: string[];
  /** Skip the HEAD existence check. */
  skipExistsCheck?: boolean;
}

export interface GetBlobOptions {
  /** Expected size; checked at the end when known. */
  size?: number;
  /** Start at this byte offset (digest verification is then the caller's job). */
  offset?: number;
  /** Verify the digest while streaming (default true when offset is 0). */
  verify?: boolean;
}
