/**
 * A layer blob's hashing and decompression on a worker thread (src/core/decode-worker.ts),
 * for openLayerStream: on the main thread, a big layer's inflate and two SHA-256s
 * (~0.6 s of a Debian image) ran in turn with parsing tar and handing files to the
 * unpacker, and the second core mostly waited. Memory stays bounded both ways: at
 * most DECODE_IN_LIMIT input bytes in flight, DECODE_OUT_LIMIT output bytes unconsumed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TspodError } from '../util/errors.js';
import { packageRoot } from '../util/paths.js';
import type { Compression } from './decompress.js';
import { DECODE_IN_LIMIT, type DecodeReply, type DecodeResult, type DecodeWorkerData } from './off-thread-protocol.js';

export type { DecodeResult } from './off-thread-protocol.js';

export function decodeWorkerPath(): string {
  return path.join(packageRoot(), 'dist', 'decode-worker.cjs');
}

/**
 * One layer at a time is decoded off the main thread: a thread costs ~15 MB of
 * memory, and with the main thread busy parsing and the thread pool creating files,
 * a second one would only compete for the same cores.
 */
let busy = false;
let started = 0;

/** How many decoding threads this process has started (tests check that the thread really ran). */
export function decodeThreadsStarted(): number {
  return started;
}

/**
 * Take the thread for decodeOffThread (releaseDecodeThread gives it back): it is free, its bundle is there (a source checkout before `npm run build`
 * has none), and TSPOD_DECODE=main does not keep decoding on the main thread.
 */
export function claimDecodeThread(): boolean {
  if (busy || process.env.TSPOD_DECODE === 'main' || !fs.existsSync(decodeWorkerPath())) return false;
  busy = true;
  return true;
}

export function releaseDecodeThread(): void {
  busy = false;
}

function startWorker(): Worker {
  started++;
  // A small young generation: what the thread allocates is short-lived (its output is in ArrayBuffers outside the heap).
  return new Worker(decodeWorkerPath(), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
}

let prestarted: Worker | undefined;

/**
 * Start the decoding thread now, for a layer that is about to come: a thread takes
 * ~50 ms to boot, and ~100 ms passed from the Debian blob's response to the first
 * decoded bytes while the main thread waited. It never holds the process open; the
 * next decodeOffThread takes it.
 */
export function prestartDecodeThread(): void {
  if (prestarted || busy || process.env.TSPOD_DECODE === 'main' || !fs.existsSync(decodeWorkerPath())) return;
  const worker = startWorker();
  worker.unref();
  // A thread that fails to start only means the layer starts one of its own.
  worker.on('error', () => undefined);
  worker.once('exit', () => {
    if (prestarted === worker) prestarted = undefined;
  });
  prestarted = worker;
}

function takePrestarted(): Worker | undefined {
  const worker = prestarted;
  prestarted = undefined;
  worker?.ref();
  return worker;
}

/**
 * After claimDecodeThread() returned true: the decompressed bytes of `source`, decoded and hashed on a worker; returns the
 * blob's and the tar's digests and sizes, for the caller to verify. Stopping early
 * (or a failure) ends the worker and the source.
 */
export async function* decodeOffThread(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  what: string,
): AsyncGenerator<Buffer, DecodeResult, undefined> {
  const unconsumedBuffer = new SharedArrayBuffer(4);
  const unconsumed = new Int32Array(unconsumedBuffer);
  const init: DecodeWorkerData = { compression, what, unconsumed: unconsumedBuffer };
  const worker = takePrestarted() ?? startWorker();
  worker.postMessage({ init });
  const queue: Buffer[] = [];
  let result: DecodeResult | undefined;
  let failure: unknown;
  let inFlight = 0;
  let stopped = false;
  let waiters: Array<() => void> = [];
  const signal = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const changed = () => new Promise<void>((resolve) => waiters.push(resolve));
  worker.on('message', (reply: DecodeReply) => {
    for (const p of reply.pieces) queue.push(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    inFlight -= reply.consumed;
    if (reply.done) result = reply.done;
    if (reply.error) failure ??= reply.error.tspod ? new TspodError(reply.error.message) : new Error(reply.error.message);
    signal();
  });
  worker.on('error', (err) => {
    failure ??= err;
    signal();
  });
  worker.on('exit', (code) => {
    if (!result && !stopped) failure ??= new Error(`the thread decoding ${what} exited with code ${code}`);
    signal();
  });

  const it = source[Symbol.asyncIterator]();
  const feeder = (async () => {
    try {
      for (;;) {
        const r = await it.next();
        if (stopped || failure) return;
        if (r.done) break;
        // A copy with a buffer of its own to transfer: the source's chunk may be a view into
        // a larger buffer, or still being written to the blob file.
        const copy = new Uint8Array(r.value);
        inFlight += copy.length;
        worker.postMessage({ chunk: copy.buffer }, [copy.buffer]);
        while (inFlight > DECODE_IN_LIMIT && !stopped && !failure) await changed();
      }
      worker.postMessage({ end: true });
    } catch (err) {
      failure ??= err;
      signal();
    }
  })();

  try {
    for (;;) {
      const piece = queue.shift();
      if (piece) {
        yield piece;
        Atomics.sub(unconsumed, 0, piece.length);
        Atomics.notify(unconsumed, 0);
        continue;
      }
      if (failure) throw failure;
      if (result) {
        await feeder;
        return result;
      }
      await changed();
    }
  } finally {
    stopped = true;
    signal();
    // Not waited for: the thread may be blocked in Atomics.wait for up to a second; unref'd so it never holds the process.
    worker.unref();
    void worker.terminate();
    if (!result) await it.return?.().catch(() => undefined);
  }
}
