/**
 * The fused layer pipeline: compressed bytes -> digest check -> decompress ->
 * diffID check -> tar entries, in one pass, pulled by the consumer (backpressure),
 * in constant memory: a few MiB plus the zstd window (<= 128 MiB), whatever the size.
 *
 * Entries are yielded as the data streams in, so what a consumer writes is
 * provisional until the iteration finishes: the digests are checked at the end of
 * the stream and a mismatch throws (after the last entry), as does any corruption.
 * Callers unpack into a staging directory and commit it only when the loop ends
 * without an error.
 */
import type { Readable } from 'node:stream';
import { TspodError } from '../util/errors.js';
import { ByteReader } from './bytes.js';
import { decompressChunks, sniffCompression, type Compression, type GzipImpl } from './decompress.js';
import { Digester, verifyDigest, type HashImpl } from './digest.js';
import { claimDecodeThread, decodeOffThread, releaseDecodeThread, type DecodeResult } from './off-thread.js';
import { NEED_MORE, TarParser, type TarEntry } from './tar.js';

export interface LayerStreamOptions {
  /** Digest of the compressed blob (`sha256:...`), checked as it streams. */
  digest?: string;
  /** Digest of the uncompressed tar (the diffID), checked as it streams. */
  diffID?: string;
  /** OCI/Docker layer media type; without it the compression is sniffed from the first bytes. */
  mediaType?: string;
  hashImpl?: HashImpl;
  gzipImpl?: GzipImpl;
  /** Reject layers that decompress to more than this many bytes (default: no limit). */
  maxUncompressedSize?: number;
  /** For messages, e.g. "layer sha256:abcd...". */
  what?: string;
  /**
   * Hash and decompress on a worker thread (src/core/off-thread.ts), when its bundle is
   * there: worth it for big layers, whose parsing and unpacking then overlap with it.
   * Ignored when hashImpl or gzipImpl asks for a particular implementation.
   */
  offThread?: boolean;
  /** Called once at the end with the verified digests and sizes. */
  onComplete?: (info: LayerStreamResult) => void;
}

export interface LayerStreamResult {
  digest: string;
  diffID: string;
  compressedSize: number;
  size: number;
  compression: Compression;
}

/** The compression a layer media type implies; throws for media types that are not layers. */
export function compressionForMediaType(mediaType: string): Compression {
  const mt = mediaType.trim();
  if (/^application\/vnd\.oci\.image\.layer(\.nondistributable)?\.v1\.tar$/.test(mt)) return 'none';
  if (/^application\/vnd\.oci\.image\.layer(\.nondistributable)?\.v1\.tar\+gzip$/.test(mt)) return 'gzip';
  if (/^application\/vnd\.oci\.image\.layer(\.nondistributable)?\.v1\.tar\+zstd$/.test(mt)) return 'zstd';
  if (mt === 'application/vnd.docker.image.rootfs.diff.tar.gzip' || mt === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip') return 'gzip';
  if (mt === 'application/vnd.docker.image.rootfs.diff.tar') return 'none';
  throw new TspodError(`Unsupported layer media type "${mediaType}": tspod reads tar layers that are uncompressed, gzip or zstd.`);
}

export function mediaTypeFor(compression: Compression): string {
  return compression === 'gzip'
    ? 'application/vnd.oci.image.layer.v1.tar+gzip'
    : compression === 'zstd'
      ? 'application/vnd.oci.image.layer.v1.tar+zstd'
      : 'application/vnd.oci.image.layer.v1.tar';
}

/**
 * Open a layer blob as a stream of tar entries. Each entry's body must be consumed
 * (or is skipped) before the next entry is requested.
 *
 * The tar entries come straight out of a TarParser in this one generator (it runs once
 * per entry, so it is kept small): nesting generators (yield*) cost a promise and a
 * trip through the microtask queue per level and entry, and each level was compiled
 * by V8 on its own.
 */
export async function* openLayerStream(
  compressed: AsyncIterable<Uint8Array> | Readable,
  opts: LayerStreamOptions = {},
): AsyncGenerator<TarEntry, LayerStreamResult, undefined> {
  const what = opts.what ?? (opts.digest ? `layer ${opts.digest}` : 'the layer');
  const tar = await tarBytesOf(compressed as AsyncIterable<Uint8Array>, opts, what);
  const reader = new ByteReader(tar.bytes);
  const parser = new TarParser(reader, what, 1 << 20);
  try {
    for (;;) {
      const next = parser.next();
      if (next === NEED_MORE) {
        await reader.more();
        continue;
      }
      if (next === undefined) break;
      yield next;
    }
    // What follows the end-of-archive marker is read too, so that the digests cover the whole blob.
    while ((await reader.readSome(1 << 20)).length > 0) {
      /* padding after the archive */
    }
  } finally {
    // On errors and when the consumer stops early: unwind the chain so the decoder is
    // freed (in the core or its thread) and the source is closed.
    await reader.close().catch(() => undefined);
    await tar.unwind();
  }
  const result = tar.verified();
  opts.onComplete?.(result);
  return result;
}

function tooBig(what: string, max: number): TspodError {
  return new TspodError(`The ${what} decompresses to more than ${max} bytes, the limit; refusing to unpack it.`);
}

/** A layer's tar bytes, and at their end its verified digests and sizes. */
interface TarBytes {
  bytes: AsyncGenerator<Uint8Array>;
  /** After the last byte: the digests and sizes, checked against the expected ones (throws on a mismatch). */
  verified(): LayerStreamResult;
  /** However it ends: free the decoder and close the source. */
  unwind(): Promise<void>;
}

/** Sniff the compression if the media type does not say it, then decode here or on the worker thread. */
async function tarBytesOf(source: AsyncIterable<Uint8Array>, opts: LayerStreamOptions, what: string): Promise<TarBytes> {
  let compression: Compression | undefined = opts.mediaType ? compressionForMediaType(opts.mediaType) : undefined;
  let first: Uint8Array | undefined;
  const it = source[Symbol.asyncIterator]();
  if (compression === undefined) {
    let head = Buffer.alloc(0);
    while (head.length < 4) {
      const r = await it.next();
      if (r.done) break;
      head = Buffer.concat([head, r.value]);
    }
    compression = sniffCompression(head);
    first = head;
  }
  if (opts.offThread && !opts.hashImpl && !opts.gzipImpl && claimDecodeThread()) {
    return decodedOffThread(first ? prepend(first, it) : resume(it), compression, opts, what);
  }
  return decodedHere(first, it, compression, opts, what);
}

/** Hash, decompress and hash again on this thread. */
function decodedHere(first: Uint8Array | undefined, it: AsyncIterator<Uint8Array>, comp: Compression, opts: LayerStreamOptions, what: string): TarBytes {
  const digester = new Digester(opts.digest ?? `sha256:${'0'.repeat(64)}`, { impl: opts.hashImpl, what });
  const differ = new Digester(opts.diffID ?? `sha256:${'0'.repeat(64)}`, { impl: opts.hashImpl, what: `uncompressed ${what}` });
  const max = opts.maxUncompressedSize ?? Infinity;
  async function* hashed(): AsyncGenerator<Uint8Array> {
    if (first && first.length) {
      digester.update(first);
      yield first;
    }
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      digester.update(r.value);
      yield r.value;
    }
  }
  async function* tarBytes(): AsyncGenerator<Uint8Array> {
    for await (const piece of decompressChunks(hashed(), comp, { gzipImpl: opts.gzipImpl, what })) {
      differ.update(piece);
      if (differ.bytes > max) throw tooBig(what, max);
      yield piece;
    }
  }
  return {
    bytes: tarBytes(),
    verified: () => {
      const result: LayerStreamResult = { digest: digester.actual(), diffID: differ.actual(), compressedSize: digester.bytes, size: differ.bytes, compression: comp };
      if (opts.digest) digester.verify();
      if (opts.diffID) differ.verify();
      return result;
    },
    unwind: async () => void (await it.return?.().catch(() => undefined)),
  };
}

async function* resume(it: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

async function* prepend(first: Uint8Array, it: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (first.length) yield first;
  yield* resume(it);
}

/** Hashed and decompressed on the worker thread (claimed by the caller; released by unwind). */
function decodedOffThread(source: AsyncIterable<Uint8Array>, compression: Compression, opts: LayerStreamOptions, what: string): TarBytes {
  const max = opts.maxUncompressedSize ?? Infinity;
  let bytes = 0;
  const decoded = decodeOffThread(source, compression, what);
  let decodedResult: DecodeResult | undefined;
  async function* tarBytes(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await decoded.next();
      if (r.done) {
        decodedResult = r.value;
        return;
      }
      bytes += r.value.length;
      if (bytes > max) throw tooBig(what, max);
      yield r.value;
    }
  }
  return {
    bytes: tarBytes(),
    verified: () => {
      if (!decodedResult) throw new TspodError(`Cannot decompress ${what}: the decoding thread ended without a result.`);
      const done = decodedResult;
      if (opts.digest) verifyDigest(opts.digest, done.digest, done.compressedSize, what);
      if (opts.diffID) verifyDigest(opts.diffID, done.diffID, done.size, `uncompressed ${what}`);
      return { digest: done.digest, diffID: done.diffID, compressedSize: done.compressedSize, size: done.size, compression };
    },
    unwind: async () => {
      await decoded.return(undefined as never).catch(() => undefined);
      releaseDecodeThread();
    },
  };
}
