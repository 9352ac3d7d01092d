/**
 * Streaming compression for writing layers: zstd through the WebAssembly core (zstd's
 * own compressor, content checksums on), gzip through Node's zlib (native, and
 * deterministic for a given input and level).
 */
import zlib from 'node:zlib';
import { TspodError } from '../util/errors.js';
import type { Compression } from './decompress.js';
import { core, coreGeneration, mem, readRetString } from './wasm.js';

const IN_PIECE = 128 * 1024;

export interface CompressOptions {
  /** gzip 1-9 (default 6), zstd 1-19 (default 3). */
  level?: number;
}

async function* zstdCompress(source: AsyncIterable<Uint8Array>, level: number): AsyncGenerator<Buffer, void, undefined> {
  const c = core();
  const h = c['zstd-compress-new'](level);
  const gen = coreGeneration();
  const drive = function* (chunk: Uint8Array, final: boolean): Generator<Buffer> {
    if (gen !== coreGeneration()) throw new TspodError('The WebAssembly core was restarted during compression; retry the operation.');
    let off = 0;
    do {
      const n = Math.min(IN_PIECE, chunk.length - off);
      const last = off + n >= chunk.length;
      const fin = final && last ? 1 : 0;
      if (n > 0) {
        // stream-in-ptr may grow the memory: take the view only after it.
        const p = c['stream-in-ptr'](h, n);
        mem().set(chunk.subarray(off, off + n), p);
      }
      off += n;
      let st = c['stream-run'](h, n, fin);
      while (st === 1) {
        const op = c['stream-out-ptr'](h);
        const ol = c['stream-out-len'](h);
        const out = Buffer.allocUnsafe(ol);
        out.set(new Uint8Array(c.memory.buffer, op, ol));
        yield out;
        st = c['stream-run'](h, 0, fin);
      }
      if (st < 0) throw new TspodError(`Cannot compress the layer: ${readRetString(c['stream-error'](h))}.`);
    } while (off < chunk.length);
  };
  try {
    for await (const chunk of source) yield* drive(chunk, false);
    yield* drive(new Uint8Array(0), true);
  } finally {
    if (gen === coreGeneration()) c['stream-free'](h);
  }
}

async function* gzipCompress(source: AsyncIterable<Uint8Array>, level: number): AsyncGenerator<Buffer, void, undefined> {
  const gz = zlib.createGzip({ level, chunkSize: 256 * 1024 });
  const feeder = (async () => {
    try {
      for await (const chunk of source) {
        if (!gz.write(chunk)) await new Promise((r) => gz.once('drain', r));
      }
      gz.end();
    } catch (err) {
      gz.destroy(err as Error);
    }
  })();
  try {
    for await (const out of gz) yield out as Buffer;
  } finally {
    gz.destroy();
    await feeder;
  }
}

/** Compress a stream of chunks; yields compressed pieces with backpressure. */
export async function* compressChunks(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  opts: CompressOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  if (compression === 'zstd') yield* zstdCompress(source, opts.level ?? 3);
  else if (compression === 'gzip') yield* gzipCompress(source, opts.level ?? 6);
  else for await (const c of source) yield Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.length);
}
