/**
 * The worker half of src/core/off-thread.ts (bundled alone as dist/decode-worker.cjs):
 * a layer blob's bytes come in as messages; they are hashed, decompressed by the
 * WebAssembly core and the output hashed here, so that the main thread only parses
 * tar and hands files to the unpacker. Output goes back in messages that transfer
 * their buffers (no copy); a shared counter of output bytes the main thread has not
 * consumed yet holds this thread back (Atomics.wait) when it runs ahead.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { TspodError } from '../util/errors.js';
import { WasmDecoder, type Compression } from './decompress.js';
import { core } from './wasm.js';
import { DECODE_OUT_LIMIT, type DecodeRequest, type DecodeReply, type DecodeWorkerData } from './off-thread-protocol.js';

// Every Buffer its own ArrayBuffer (none from the shared pool), so each output piece can be transferred.
Buffer.poolSize = 0;
// The thread may be started before anyone knows what it will decode (prestartDecodeThread):
// what it decodes comes in the first message, and the core is compiled meanwhile.
core();
let unconsumed!: Int32Array;
const blobHash = createHash('sha256');
const tarHash = createHash('sha256');
let decoder: WasmDecoder | undefined;
let compressedSize = 0;
let size = 0;

function init(d: DecodeWorkerData): void {
  unconsumed = new Int32Array(d.unconsumed);
  const compression: Compression = d.compression;
  decoder = compression === 'none' ? undefined : new WasmDecoder(compression, d.what);
}

/** Output pieces gathered into one message per input chunk. */
function run(chunk: Uint8Array, final: boolean): Uint8Array[] {
  blobHash.update(chunk);
  compressedSize += chunk.length;
  const pieces = decoder ? [...decoder.feed(chunk, final)] : chunk.length ? [chunk] : [];
  for (const p of pieces) {
    tarHash.update(p);
    size += p.length;
  }
  return pieces;
}

function post(reply: DecodeReply, pieces: Uint8Array[]): void {
  let bytes = 0;
  for (const p of pieces) bytes += p.length;
  Atomics.add(unconsumed, 0, bytes);
  // Pieces are whole buffers of their own (the decoder copies out of its memory), so they can move.
  parentPort!.postMessage(reply, pieces.map((p) => p.buffer as ArrayBuffer));
  for (;;) {
    const now = Atomics.load(unconsumed, 0);
    if (now <= DECODE_OUT_LIMIT) break;
    Atomics.wait(unconsumed, 0, now, 1000);
  }
}

parentPort!.on('message', (msg: DecodeRequest) => {
  try {
    if (msg.init) return init(msg.init);
    if (msg.end) {
      const pieces = run(new Uint8Array(0), true);
      decoder?.free();
      post(
        { pieces, consumed: 0, done: { digest: `sha256:${blobHash.digest('hex')}`, diffID: `sha256:${tarHash.digest('hex')}`, compressedSize, size } },
        pieces,
      );
      return;
    }
    const chunk = new Uint8Array(msg.chunk!);
    const pieces = run(chunk, false);
    post({ pieces, consumed: chunk.length }, pieces);
  } catch (err) {
    decoder?.free();
    const e = err as Error;
    parentPort!.postMessage({ pieces: [], consumed: 0, error: { message: e.message, tspod: err instanceof TspodError } } satisfies DecodeReply);
  }
});
