/**
 * The one place the registry client computes digests. For now node:crypto; the
 * engine-wide Digester (src/core/digest.ts) replaces `newDigester` when it lands.
 */
import crypto from 'node:crypto';
import { TspodError } from '../../util/errors.js';

export interface StreamDigester {
  update(chunk: Uint8Array): void;
  /** `algorithm:hex`; call once. */
  digest(): string;
}

const SUPPORTED: Record<string, { node: string; hexLength: number }> = {
  sha256: { node: 'sha256', hexLength: 64 },
  sha512: { node: 'sha512', hexLength: 128 },
};

export function parseDigest(digest: string): { algorithm: string; hex: string } {
  const i = digest.indexOf(':');
  const algorithm = i < 0 ? '' : digest.slice(0, i);
  const hex = i < 0 ? '' : digest.slice(i + 1);
  const spec = SUPPORTED[algorithm];
  if (!spec) throw new TspodError(`unsupported digest "${digest}": only sha256 and sha512 digests are supported`);
  if (hex.length !== spec.hexLength || !/^[a-f0-9]+$/.test(hex)) {
    throw new TspodError(`invalid digest "${digest}": expected ${algorithm}: followed by ${spec.hexLength} lowercase hex digits`);
  }
  return { algorithm, hex };
}

/** Single construction site for digesters (swap for src/core/digest.ts later). */
export function newDigester(algorithm = 'sha256'): StreamDigester {
  const spec = SUPPORTED[algorithm];
  if (!spec) throw new TspodError(`unsupported digest algorithm "${algorithm}"`);
  const h = crypto.createHash(spec.node);
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => `${algorithm}:${h.digest('hex')}`,
  };
}

export function digestBytes(bytes: Uint8Array | string, algorithm = 'sha256'): string {
  const d = newDigester(algorithm);
  d.update(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  return d.digest();
}
