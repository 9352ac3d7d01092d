/**
 * Lazy loader for tspod's WebAssembly core (wasm/dist/tspod_core.wasm, built by
 * `npm run build:wasm`). Nothing is read or compiled until the first call to
 * `core()`, so commands that never touch layers never pay for it (~5 ms).
 *
 * The module is the core module of the component described by wasm/wit/core.wit;
 * we instantiate it directly (no imports) and call its canonical-ABI exports, which
 * avoids the component glue's cost and lets us write input straight into its memory.
 */
import fs from 'node:fs';
import { packageRoot } from '../util/paths.js';
import path from 'node:path';
import { TspodError } from '../util/errors.js';

export interface CoreExports {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  dealloc(ptr: number, size: number): void;
  'sha256-new'(): number;
  'sha256-update'(h: number, ptr: number, len: number): void;
  'sha256-finish'(h: number, out: number): void;
  'stream-new'(kind: number): number;
  'zstd-compress-new'(level: number): number;
  'stream-in-ptr'(h: number, len: number): number;
  'stream-run'(h: number, len: number, finish: number): number;
  'stream-member-crc'(h: number): number;
  'stream-out-ptr'(h: number): number;
  'stream-out-len'(h: number): number;
  'stream-error'(h: number): number;
  'stream-free'(h: number): void;
}

export const STREAM_GZIP = 1;
export const STREAM_ZSTD = 2;
/** gzip with the CRC32 computed and checked by the host (zlib.crc32, SIMD). */
export const STREAM_GZIP_HOST_CRC = 3;

let loaded: CoreExports | undefined;
let loadCount = 0;

/** Where the committed core module lives (works from src/core and from a dist/core build). */
export function coreModulePath(): URL {
  // TSPOD_WASM_CORE: a development override to try an experimental build of the core.
  const override = process.env.TSPOD_WASM_CORE;
  if (override) return new URL(`file://${override}`);
  // From the package root: this module runs from src/core in tests and from a dist/ chunk when bundled.
  return new URL(`file://${path.join(packageRoot(), 'wasm', 'dist', 'tspod_core.wasm')}`);
}

/** The core's exports, compiled and instantiated on first use (synchronously: ~5 ms). */
export function core(): CoreExports {
  if (loaded) return loaded;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(coreModulePath());
  } catch (err) {
    throw new TspodError(
      `tspod's WebAssembly core is missing (${coreModulePath().pathname}); reinstall tspod or run "npm run build:wasm".`,
      { cause: err },
    );
  }
  const mod = new WebAssembly.Module(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) as Uint8Array<ArrayBuffer>);
  const inst = new WebAssembly.Instance(mod, {});
  loaded = inst.exports as unknown as CoreExports;
  loadCount++;
  return loaded;
}

/**
 * Drop the instance after a trap (a WebAssembly.RuntimeError leaves its state unknown):
 * the next use starts a fresh one. Handles into the old instance become invalid.
 */
export function discardCore(): void {
  loaded = undefined;
  scratch = 0;
  generation++;
}

let generation = 0;
/** Changes whenever the instance is replaced; objects holding handles compare it. */
export function coreGeneration(): number {
  return generation;
}

/** True once the module has been loaded in this process (for tests of laziness). */
export function coreLoaded(): boolean {
  return loaded !== undefined;
}

/** How many times the module was instantiated (always 0 or 1). */
export function coreLoadCount(): number {
  return loadCount;
}

/** A fresh view of the core's memory (views go stale when memory grows). */
export function mem(): Uint8Array {
  return new Uint8Array(core().memory.buffer);
}

/** Read a canonical-ABI string returned through a return area. */
export function readRetString(retPtr: number): string {
  const c = core();
  const dv = new DataView(c.memory.buffer);
  const ptr = dv.getUint32(retPtr, true);
  const len = dv.getUint32(retPtr + 4, true);
  return Buffer.from(c.memory.buffer, ptr, len).toString('utf8');
}

const SCRATCH_SIZE = 256 * 1024;
let scratch = 0;

/** A shared 256 KiB staging area in the core's memory (calls are synchronous). */
export function scratchArea(): { ptr: number; size: number } {
  if (!scratch) scratch = core().alloc(SCRATCH_SIZE);
  return { ptr: scratch, size: SCRATCH_SIZE };
}
