/**
 * Streaming decompression through the WebAssembly core: gzip (multi-member, CRC32
 * and ISIZE checked) and zstd (multi-frame, skippable frames, content checksums,
 * windows up to 128 MiB as `zstd --long=27` makes). Output comes out in pieces of at
 * most 256 KiB and only as fast as the consumer pulls, so memory stays constant.
 */
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { TspodError } from '../util/errors.js';
import { core, coreGeneration, discardCore, mem, readRetString, STREAM_GZIP, STREAM_GZIP_HOST_CRC, STREAM_ZSTD } from './wasm.js';

/** Node >= 20.15 has zlib.crc32 (SIMD, ~5 GB/s here): the core then leaves CRC32 to it. */
const hostCrc32 = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;

export type Compression = 'gzip' | 'zstd' | 'none';
export type GzipImpl = 'wasm' | 'node';

const IN_PIECE = 128 * 1024;

/** Which gunzip the engine uses by default: see bench/wasm.ts and wasm/README.md. */
// The core's inflater: 1.6-2.5x zlib.createGunzip() in bench/wasm.ts (see wasm/README.md).
let defaultGzip: GzipImpl = process.env.TSPOD_GUNZIP === 'node' ? 'node' : 'wasm';
export function setDefaultGzipImpl(impl: GzipImpl): void {
  defaultGzip = impl;
}
export function defaultGzipImpl(): GzipImpl {
  return defaultGzip;
}

function corrupt(what: string, detail: string): TspodError {
  return new TspodError(`Cannot decompress ${what}: ${detail}; it is corrupt or truncated, remove it and fetch it again.`);
}

/** A decoder instance in the core. Feed it with `feed()`; always `free()` it. */
export class WasmDecoder {
  private h: number;
  private readonly gen: number;
  private finished = false;
  private readonly hostCrc: boolean;
  private crc = 0;
  readonly what: string;

  constructor(kind: 'gzip' | 'zstd', what = kind === 'gzip' ? 'gzip data' : 'zstd data', opts: { coreCrc?: boolean } = {}) {
    this.hostCrc = kind === 'gzip' && hostCrc32 !== undefined && !opts.coreCrc;
    this.h = core()['stream-new'](kind === 'zstd' ? STREAM_ZSTD : this.hostCrc ? STREAM_GZIP_HOST_CRC : STREAM_GZIP);
    this.gen = coreGeneration();
    this.what = what;
  }

  get done(): boolean {
    return this.finished;
  }

  /**
   * Feed one chunk (`final` on the last one, possibly empty) and get the output
   * produced, piece by piece. Each piece is a copy the caller owns.
   */
  *feed(chunk: Uint8Array, final: boolean): Generator<Buffer, void, undefined> {
    try {
      yield* this.feedInner(chunk, final);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) {
        // A trap (e.g. the core ran out of memory): its state is unknown, start afresh.
        this.h = 0;
        discardCore();
        throw new TspodError(`Cannot decompress ${this.what}: the decoder failed (${err.message}); the data may be hostile or too large.`);
      }
      throw err;
    }
  }

  private *feedInner(chunk: Uint8Array, final: boolean): Generator<Buffer, void, undefined> {
    if (!this.h || this.gen !== coreGeneration()) throw new Error('WasmDecoder used after free');
    if (this.finished) {
      if (chunk.length > 0) throw corrupt(this.what, 'data after the end of the stream');
      return;
    }
    const c = core();
    let off = 0;
    do {
      const n = Math.min(IN_PIECE, chunk.length - off);
      const last = off + n >= chunk.length;
      const fin = final && last ? 1 : 0;
      if (n > 0) {
        const p = c['stream-in-ptr'](this.h, n);
        mem().set(chunk.subarray(off, off + n), p);
      }
      off += n;
      let st = c['stream-run'](this.h, n, fin);
      while (st === 1 || st === 3) {
        const op = c['stream-out-ptr'](this.h);
        const ol = c['stream-out-len'](this.h);
        const view = new Uint8Array(c.memory.buffer, op, ol);
        if (this.hostCrc) {
          this.crc = hostCrc32!(view, this.crc);
          if (st === 3) {
            const want = c['stream-member-crc'](this.h) >>> 0;
            if (this.crc >>> 0 !== want) {
              this.free();
              throw corrupt(this.what, 'gzip: CRC32 mismatch: the data is corrupt');
            }
            this.crc = 0;
          }
        }
        if (ol > 0) {
          const out = Buffer.allocUnsafe(ol);
          out.set(view);
          yield out;
        }
        st = c['stream-run'](this.h, 0, fin);
      }
      if (st < 0) {
        const msg = readRetString(c['stream-error'](this.h));
        this.free();
        throw corrupt(this.what, msg);
      }
      if (st === 2) this.finished = true;
    } while (off < chunk.length);
  }

  free(): void {
    if (this.h && this.gen === coreGeneration()) {
      core()['stream-free'](this.h);
      this.h = 0;
    }
  }
}

export interface DecompressOptions {
  /** gzip only: the core's inflater or Node's zlib (default: defaultGzipImpl()). */
  gzipImpl?: GzipImpl;
  /** For messages: "layer sha256:..." */
  what?: string;
}

async function* nodeGunzip(source: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Buffer> {
  const gunzip = zlib.createGunzip({ chunkSize: 256 * 1024 });
  const feeder = (async () => {
    try {
      for await (const chunk of source) {
        if (!gunzip.write(chunk)) await new Promise((r) => gunzip.once('drain', r));
      }
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err as Error);
    }
  })();
  try {
    for await (const out of gunzip) yield out as Buffer;
  } catch (err) {
    if (err instanceof TspodError) throw err;
    throw corrupt(what, (err as Error).message.replace(/\.$/, ''));
  } finally {
    gunzip.destroy();
    await feeder;
  }
}

/** Decompress an async stream of chunks; yields output pieces with backpressure. */
export async function* decompressChunks(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  opts: DecompressOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  const what = opts.what ?? (compression === 'none' ? 'data' : `${compression} data`);
  if (compression === 'none') {
    for await (const chunk of source) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    return;
  }
  if (compression === 'gzip' && (opts.gzipImpl ?? defaultGzip) === 'node') {
    yield* nodeGunzip(source, what);
    return;
  }
  const dec = new WasmDecoder(compression, what);
  try {
    for await (const chunk of source) yield* dec.feed(chunk, false);
    yield* dec.feed(new Uint8Array(0), true);
  } finally {
    dec.free();
  }
}

/** A Duplex (write compressed, read decompressed) with backpressure. */
export function createDecompressStream(compression: Compression, opts: DecompressOptions = {}): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Uint8Array>) {
    yield* decompressChunks(source, compression, opts);
  });
}

/** Whole-buffer convenience (tests, small blobs). */
export function decompressSync(data: Uint8Array, compression: 'gzip' | 'zstd', opts: { coreCrc?: boolean } = {}): Buffer {
  const dec = new WasmDecoder(compression, undefined, opts);
  try {
    return Buffer.concat([...dec.feed(data, true)]);
  } finally {
    dec.free();
  }
}

/** Guess the compression from the first bytes (gzip 1f 8b, zstd 28 b5 2f fd). */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}
