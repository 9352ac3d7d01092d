/** Messages between src/core/off-thread.ts and its worker, src/core/decode-worker.ts. */
import type { Compression } from './decompress.js';

export interface DecodeWorkerData {
  compression: Compression;
  what: string;
  /** Int32 [0]: output bytes posted and not consumed yet. */
  unconsumed: SharedArrayBuffer;
}

/** First what to decode (DecodeWorkerData), then chunks of the blob (their buffers transferred), then the end. */
export interface DecodeRequest {
  init?: DecodeWorkerData;
  chunk?: ArrayBuffer;
  end?: true;
}

export interface DecodeResult {
  digest: string;
  diffID: string;
  compressedSize: number;
  size: number;
}

export interface DecodeReply {
  /** Decompressed bytes, in order (buffers transferred). */
  pieces: Uint8Array[];
  /** Input bytes this reply accounts for: the sender may send that many more. */
  consumed: number;
  done?: DecodeResult;
  error?: { message: string; tspod: boolean };
}

/** The worker waits while this many output bytes are unconsumed; the main thread keeps at most IN_LIMIT input bytes in flight. */
export const DECODE_OUT_LIMIT = 512 << 10;
export const DECODE_IN_LIMIT = 1 << 20;
