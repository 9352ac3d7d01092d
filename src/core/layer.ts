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
import { readTar, type TarEntry } from './tar.js';

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
 */
export async function* openLayerStream(
  compressed: AsyncIterable<Uint8Array> | Readable,
  opts: LayerStreamOptions = {},
): AsyncGenerator<TarEntry, LayerStreamResult, undefined> {
  const what = opts.what ?? (opts.digest ? `layer ${opts.digest}` : 'the layer');
  const digester = new Digester(opts.digest ?? `sha256:${'0'.repeat(64)}`, { impl: opts.hashImpl, what });
  const differ = new Digester(opts.diffID ?? `sha256:${'0'.repeat(64)}`, { impl: opts.hashImpl, what: `uncompressed ${what}` });
  let compression: Compression | undefined = opts.mediaType ? compressionForMediaType(opts.mediaType) : undefined;
  const max = opts.maxUncompressedSize ?? Infinity;

  const source = compressed as AsyncIterable<Uint8Array>;
  // Stage 1: the compressed bytes, hashed as they pass; sniff the compression if needed.
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
  const comp = compression;
  if (opts.offThread && !opts.hashImpl && !opts.gzipImpl && claimDecodeThread()) {
    return yield* offThreadLayerStream(first ? prepend(first, it) : resume(it), comp, opts, what);
  }
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
  // Stage 2: decompress; Stage 3: hash the tar stream, bounded.
  async function* tarBytes(): AsyncGenerator<Uint8Array> {
    for await (const piece of decompressChunks(hashed(), comp, { gzipImpl: opts.gzipImpl, what })) {
      differ.update(piece);
      if (differ.bytes > max) throw tooBig(what, max);
      yield piece;
    }
  }
  // On errors and when the consumer stops early: unwind the chain so the decoder in
  // the core is freed and the source is closed.
  yield* tarEntries(tarBytes(), what, async () => void (await it.return?.().catch(() => undefined)));
  const result: LayerStreamResult = {
    digest: digester.actual(),
    diffID: differ.actual(),
    compressedSize: digester.bytes,
    size: differ.bytes,
    compression: comp,
  };
  if (opts.digest) digester.verify();
  if (opts.diffID) differ.verify();
  opts.onComplete?.(result);
  return result;
}

function tooBig(what: string, max: number): TspodError {
  return new TspodError(`The ${what} decompresses to more than ${max} bytes, the limit; refusing to unpack it.`);
}

/**
 * The tar entries in `bytes`, then what follows the end-of-archive marker, drained so
 * that the digests cover the whole blob; `unwind` runs however it ends.
 */
async function* tarEntries(bytes: AsyncGenerator<Uint8Array>, what: string, unwind: () => Promise<void>): AsyncGenerator<TarEntry, void, undefined> {
  const reader = new ByteReader(bytes);
  try {
    yield* readTar(reader, { what });
    while ((await reader.readSome(1 << 20)).length > 0) {
      /* padding after the archive */
    }
  } finally {
    await reader.close().catch(() => undefined);
    await unwind();
  }
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

/** openLayerStream with the hashing and decompression on a worker thread. */
async function* offThreadLayerStream(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  opts: LayerStreamOptions,
  what: string,
): AsyncGenerator<TarEntry, LayerStreamResult, undefined> {
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
  yield* tarEntries(tarBytes(), what, async () => {
    await decoded.return(undefined as never).catch(() => undefined);
    releaseDecodeThread();
  });
  if (!decodedResult) throw new TspodError(`Cannot decompress ${what}: the decoding thread ended without a result.`);
  const done = decodedResult;
  const result: LayerStreamResult = { digest: done.digest, diffID: done.diffID, compressedSize: done.compressedSize, size: done.size, compression };
  if (opts.digest) verifyDigest(opts.digest, done.digest, done.compressedSize, what);
  if (opts.diffID) verifyDigest(opts.diffID, done.diffID, done.size, `uncompressed ${what}`);
  opts.onComplete?.(result);
  return result;
}
