/**
 * SHA-256 for the whole engine: one `Digester` verifies `sha256:<hex>` digests
 * incrementally, with either node:crypto (default: it uses the CPU's SHA
 * instructions and is several times faster) or the WebAssembly core's SHA-256
 * (selectable with `{ impl: 'wasm' }`, `setDefaultHashImpl('wasm')` or
 * TSPOD_SHA256=wasm). Other algorithms are rejected with a clear error.
 */
import { createHash, type Hash } from 'node:crypto';
import { TspodError } from '../util/errors.js';
import { core, coreGeneration, mem, scratchArea } from './wasm.js';

export type HashImpl = 'node' | 'wasm';

let defaultImpl: HashImpl = process.env.TSPOD_SHA256 === 'wasm' ? 'wasm' : 'node';

export function setDefaultHashImpl(impl: HashImpl): void {
  defaultImpl = impl;
}
export function defaultHashImpl(): HashImpl {
  return defaultImpl;
}

export interface ParsedDigest {
  algorithm: 'sha256';
  hex: string;
}

/** Parse `sha256:<64 hex>`; anything else is a TspodError naming the problem. */
export function parseDigest(digest: string, what = 'digest'): ParsedDigest {
  if (typeof digest !== 'string') throw new TspodError(`The ${what} is missing; expected "sha256:<64 hex digits>".`);
  const i = digest.indexOf(':');
  if (i <= 0) {
    throw new TspodError(`The ${what} "${digest}" is not of the form "algorithm:hex"; expected "sha256:<64 hex digits>".`);
  }
  const algorithm = digest.slice(0, i);
  const hex = digest.slice(i + 1);
  if (algorithm !== 'sha256') {
    throw new TspodError(
      `The ${what} "${digest}" uses the unsupported algorithm "${algorithm}"; tspod verifies sha256 digests only.`,
    );
  }
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new TspodError(`The ${what} "${digest}" is not a valid sha256 digest; expected 64 lowercase hex digits.`);
  }
  return { algorithm: 'sha256', hex };
}

export interface Hasher {
  update(data: Uint8Array): void;
  /** Hex digest; the hasher cannot be used afterwards. */
  digestHex(): string;
}

class NodeHasher implements Hasher {
  private h: Hash = createHash('sha256');
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digestHex(): string {
    return this.h.digest('hex');
  }
}

class WasmHasher implements Hasher {
  private h: number;
  private readonly gen: number;
  constructor() {
    this.h = core()['sha256-new']();
    this.gen = coreGeneration();
  }
  private check(): void {
    if (!this.h) throw new Error('sha256: used after digest');
    // The core was replaced after a trap: this hasher's state went with it.
    if (this.gen !== coreGeneration()) throw new TspodError('The WebAssembly core was restarted during a SHA-256 computation; retry the operation.');
  }
  update(data: Uint8Array): void {
    this.check();
    const c = core();
    const s = scratchArea();
    for (let off = 0; off < data.length; off += s.size) {
      const n = Math.min(s.size, data.length - off);
      mem().set(data.subarray(off, off + n), s.ptr);
      c['sha256-update'](this.h, s.ptr, n);
    }
  }
  digestHex(): string {
    this.check();
    const s = scratchArea();
    core()['sha256-finish'](this.h, s.ptr);
    this.h = 0;
    return Buffer.from(mem().subarray(s.ptr, s.ptr + 32)).toString('hex');
  }
}

export function createHasher(impl: HashImpl = defaultImpl): Hasher {
  return impl === 'wasm' ? new WasmHasher() : new NodeHasher();
}

/** `sha256:<hex>` of a buffer. */
export function sha256Digest(data: Uint8Array, impl: HashImpl = defaultImpl): string {
  const h = createHasher(impl);
  h.update(data);
  return `sha256:${h.digestHex()}`;
}

export interface DigesterOptions {
  impl?: HashImpl;
  /** What is being verified, for messages: "layer sha256:ab12...", "config", ... */
  what?: string;
}

/**
 * Incremental verification of content against an expected `sha256:<hex>`.
 * `update()` as bytes arrive, `verify()` at the end: returns the digest or throws a
 * TspodError saying what did not match.
 */
export class Digester {
  readonly expected: string;
  private readonly hex: string;
  private readonly hasher: Hasher;
  private readonly what: string;
  private n = 0;
  private result: string | undefined;

  constructor(expected: string, opts: DigesterOptions = {}) {
    this.what = opts.what ?? 'content';
    this.hex = parseDigest(expected, `expected digest of ${this.what}`).hex;
    this.expected = expected;
    this.hasher = createHasher(opts.impl);
  }

  update(chunk: Uint8Array): void {
    if (this.result !== undefined) throw new Error('Digester: update after verify');
    this.hasher.update(chunk);
    this.n += chunk.length;
  }

  get bytes(): number {
    return this.n;
  }

  /** The digest computed so far is final: `sha256:<hex>`. */
  actual(): string {
    if (this.result === undefined) this.result = `sha256:${this.hasher.digestHex()}`;
    return this.result;
  }

  matches(): boolean {
    return this.actual() === `sha256:${this.hex}`;
  }

  verify(): string {
    return verifyDigest(this.expected, this.actual(), this.n, this.what);
  }
}

/** `actual` (computed over `bytes` bytes) is `expected`, or a TspodError saying the content is corrupt. */
export function verifyDigest(expected: string, actual: string, bytes: number, what: string): string {
  if (actual !== `sha256:${parseDigest(expected, `expected digest of ${what}`).hex}`) {
    throw new TspodError(`The ${what} is corrupt: its digest is ${actual} (${bytes} bytes) but ${expected} was expected; remove it and pull again.`);
  }
  return actual;
}

export function createDigester(expected: string, opts: DigesterOptions = {}): Digester {
  return new Digester(expected, opts);
}
