/** Turning registry answers and network failures into one clear sentence. */
import { TspodError } from '../../util/errors.js';

export interface RegistryErrorDetail {
  code: string;
  message?: string;
  detail?: unknown;
}

/** An error answered by (or about) a registry. `status` is 0 for network/TLS failures. */
export class RegistryError extends TspodError {
  readonly registry: string;
  readonly status: number;
  /** First distribution error code (`MANIFEST_UNKNOWN`...) or a network code (`ECONNREFUSED`...). */
  readonly code: string | undefined;
  readonly errors: RegistryErrorDetail[];
  constructor(message: string, info: { registry: string; status: number; code?: string; errors?: RegistryErrorDetail[]; cause?: unknown }) {
    super(message, info.cause === undefined ? {} : { cause: info.cause });
    this.name = 'RegistryError';
    this.registry = info.registry;
    this.status = info.status;
    this.code = info.code;
    this.errors = info.errors ?? [];
  }
}

/** What a request was about, to name it in messages. */
export interface ErrorContext {
  registry: string;
  /** `manifest`, `blob`, `tags`, `upload`, `ping`, `token`. */
  kind: 'manifest' | 'blob' | 'tags' | 'upload' | 'ping' | 'token' | 'other';
  /** e.g. `127.0.0.1:5000/library/alpine:3.19` or the digest of a blob. */
  subject?: string;
  /** Whether credentials were sent (to tell "log in" from "wrong password"). */
  hadCredentials?: boolean;
}

/** Parse the distribution-spec error body `{"errors":[{"code":..,"message":..}]}` (or undefined). */
export function parseErrorBody(body: string | undefined): RegistryErrorDetail[] {
  if (!body) return [];
  try {
    const v = JSON.parse(body) as unknown;
    if (v && typeof v === 'object') {
      const errs = (v as { errors?: unknown }).errors;
      if (Array.isArray(errs)) {
        return errs
          .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string')
          .map((e) => ({ code: String(e.code).toUpperCase(), ...(typeof e.message === 'string' ? { message: e.message } : {}), detail: e.detail }));
      }
      // token servers: {"details": "..."} / {"error": "..."}
      const d = (v as { details?: unknown; error?: unknown; message?: unknown });
      const msg = d.details ?? d.error ?? d.message;
      if (typeof msg === 'string') return [{ code: 'UNKNOWN', message: msg }];
    }
  } catch {
    // not JSON
  }
  return [];
}

function loginHint(registry: string): string {
  return `run 'tspod login ${registry}'`;
}

/** Map an HTTP error answer to a RegistryError with a one-sentence message. */
export function mapRegistryError(status: number, body: string | undefined, ctx: ErrorContext): RegistryError {
  const errors = parseErrorBody(body);
  const code = errors[0]?.code;
  const reg = ctx.registry;
  const subject = ctx.subject ?? reg;
  const info = { registry: reg, status, errors, ...(code ? { code } : {}) };
  const serverMsg = errors[0]?.message ? `: ${errors[0].message}` : '';

  if (status === 401 || code === 'UNAUTHORIZED') {
    if (ctx.hadCredentials) {
      return new RegistryError(`unauthorized: invalid username/password or insufficient access for ${subject} on registry ${reg}; ${loginHint(reg)}`, info);
    }
    return new RegistryError(`unauthorized: authentication required for registry ${reg}; ${loginHint(reg)}`, info);
  }
  if (code === 'DENIED' || status === 403) {
    return new RegistryError(`denied: access to ${subject} on registry ${reg} is denied${serverMsg}; check your permissions or ${loginHint(reg)}`, info);
  }
  if (status === 429 || code === 'TOOMANYREQUESTS') {
    return new RegistryError(`too many requests: registry ${reg} is rate-limiting; wait a while and try again, or log in to raise the limit`, info);
  }
  switch (code) {
    case 'MANIFEST_UNKNOWN':
      return new RegistryError(`manifest unknown: ${subject} not found`, info);
    case 'NAME_UNKNOWN':
      return new RegistryError(`repository name not known to registry: ${subject} not found on ${reg}`, info);
    case 'BLOB_UNKNOWN':
      return new RegistryError(`blob unknown: ${subject} not found on registry ${reg}`, info);
    case 'MANIFEST_BLOB_UNKNOWN':
      return new RegistryError(`manifest blob unknown: registry ${reg} does not have a blob the manifest of ${subject} refers to; push the layers first`, info);
    case 'MANIFEST_INVALID':
    case 'MANIFEST_UNVERIFIED':
      return new RegistryError(`manifest invalid: registry ${reg} rejected the manifest for ${subject}${serverMsg}`, info);
    case 'TAG_INVALID':
      return new RegistryError(`tag invalid: registry ${reg} rejected the tag of ${subject}${serverMsg}`, info);
    case 'NAME_INVALID':
      return new RegistryError(`invalid repository name: ${subject} is not a valid name on registry ${reg}`, info);
    case 'DIGEST_INVALID':
      return new RegistryError(`digest invalid: registry ${reg} says the uploaded content does not match digest ${ctx.subject ?? ''}`.trimEnd(), info);
    case 'SIZE_INVALID':
      return new RegistryError(`size invalid: registry ${reg} says the uploaded content of ${subject} has the wrong length`, info);
    case 'BLOB_UPLOAD_UNKNOWN':
    case 'BLOB_UPLOAD_INVALID':
      return new RegistryError(`blob upload failed: registry ${reg} lost or rejected the upload of ${subject}${serverMsg}; try again`, info);
    case 'UNSUPPORTED':
      return new RegistryError(`unsupported: registry ${reg} does not support this operation on ${subject}${serverMsg}`, info);
  }
  if (status === 404) {
    if (ctx.kind === 'manifest') return new RegistryError(`manifest unknown: ${subject} not found`, info);
    if (ctx.kind === 'blob') return new RegistryError(`blob unknown: ${subject} not found on registry ${reg}`, info);
    if (ctx.kind === 'ping') return new RegistryError(`${reg} does not look like a container registry (GET /v2/ answered 404); check the registry name`, info);
    return new RegistryError(`not found: ${subject} on registry ${reg}`, info);
  }
  if (status >= 500) {
    return new RegistryError(`registry ${reg} failed with HTTP ${status}${serverMsg} for ${subject}; try again later`, info);
  }
  return new RegistryError(`registry ${reg} answered HTTP ${status}${serverMsg} for ${subject}`, info);
}

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

export function isTlsVerifyError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return !!code && TLS_VERIFY_CODES.has(code);
}

/** TLS handshake against a server that speaks plain HTTP (or other protocol-level TLS failure). */
export function isTlsProtocolError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return !!e && (e.code === 'EPROTO' || /wrong version number|packet length too long|ssl3_get_record/i.test(e.message ?? ''));
}

/** Map a network-level failure (no HTTP answer) to a RegistryError. */
/** Where TLS material is looked for, to name it in messages. */
export interface TlsHints {
  /** e.g. `/home/u/.config/containers/certs.d/r:5000/ca.crt or /etc/containers/certs.d/r:5000/ca.crt` */
  caPaths?: string;
  /** The certs.d directory a client certificate belongs in. */
  clientCertDir?: string;
  /** Whether a client certificate was presented. */
  clientCertLoaded?: boolean;
}

/** The server rejected the handshake at the client-certificate step (TLS 1.2 or 1.3 alerts). */
export function isClientCertRejection(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? '';
  return /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED)$/.test(code);
}

export function mapNetworkError(err: unknown, registry: string, hints: TlsHints | string = {}): RegistryError {
  const h: TlsHints = typeof hints === 'string' ? { caPaths: hints } : hints;
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code;
  const info = { registry, status: 0, ...(code ? { code } : {}), cause: err };
  if (isClientCertRejection(err)) {
    const dir = h.clientCertDir ?? `$HOME/.config/containers/certs.d/${registry}`;
    return new RegistryError(
      h.clientCertLoaded
        ? `registry ${registry} rejected the TLS client certificate from ${dir}/; replace client.cert and client.key with ones it accepts`
        : `registry ${registry} requires a TLS client certificate; put client.cert and client.key in ${dir}/`,
      info,
    );
  }
  if (isTlsVerifyError(err)) {
    const where = h.caPaths ?? `$HOME/.config/containers/certs.d/${registry}/ca.crt or /etc/containers/certs.d/${registry}/ca.crt`;
    return new RegistryError(
      `cannot verify the TLS certificate of registry ${registry} (${code}: ${e.reason ?? e.message}); put its CA certificate in ${where}, or use --tls-verify=false if you trust this network`,
      info,
    );
  }
  if (isTlsProtocolError(err)) {
    const msg = e.message ?? '';
    const reason = /wrong version number|packet length too long|http request/i.test(msg)
      ? 'it does not answer HTTPS'
      : (e.reason ?? /:([^:]+):[^:]*$/.exec(msg.split('\n')[0]!.trim())?.[1] ?? msg.split('\n')[0]);
    return new RegistryError(
      `TLS handshake with registry ${registry} failed (${reason}); if it serves plain HTTP, use --tls-verify=false or mark it insecure in registries.conf`,
      info,
    );
  }
  switch (code) {
    case 'ECONNREFUSED':
      return new RegistryError(`cannot reach registry ${registry}: connection refused`, info);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RegistryError(`cannot reach registry ${registry}: host name not found`, info);
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return new RegistryError(`cannot reach registry ${registry}: connection timed out`, info);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new RegistryError(`cannot reach registry ${registry}: network unreachable`, info);
    case 'ECONNRESET':
    case 'EPIPE':
      return new RegistryError(`connection to registry ${registry} was dropped; try again`, info);
  }
  return new RegistryError(`cannot talk to registry ${registry}: ${(e?.message ?? String(err)).split('\n')[0]}`, info);
}
