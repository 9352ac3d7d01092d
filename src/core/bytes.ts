/**
 * A pull reader over an async stream of chunks: exact reads for headers, sliced
 * reads for bodies (no copies), with an optional tap that sees every byte consumed.
 */
export class ByteReader {
  private it: AsyncIterator<Uint8Array>;
  private buf: Buffer = Buffer.alloc(0);
  private eof = false;
  /** Bytes consumed so far (offset in the stream). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    if (Symbol.asyncIterator in source) {
      this.it = source[Symbol.asyncIterator]();
    } else {
      const sync = source[Symbol.iterator]();
      this.it = { next: async () => sync.next(), return: async () => sync.return?.() ?? { done: true, value: undefined } };
    }
  }

  /** Bytes in memory, ready to be taken without waiting. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Whether the source has ended (what is buffered is all there is). */
  get ended(): boolean {
    return this.eof;
  }

  /** The first n buffered bytes, not taken (the caller checked `buffered`). */
  peek(n: number): Buffer {
    return this.buf.subarray(0, n);
  }

  /** Take up to n of the buffered bytes, without waiting; returns how many. */
  dropBuffered(n: number): number {
    const take = Math.min(n, this.buf.length);
    this.buf = this.buf.subarray(take);
    this.offset += take;
    return take;
  }

  /** Wait for the next chunk of the source and buffer it; false at its end. */
  async more(): Promise<boolean> {
    if (this.eof) return false;
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.eof = true;
        return false;
      }
      if (r.value.length === 0) continue;
      const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      return true;
    }
  }

  /** Exactly n bytes, or fewer only at end of stream. */
  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (!(await this.more())) break;
    }
    const take = Math.min(n, this.buf.length);
    const out = this.buf.subarray(0, take);
    this.buf = this.buf.subarray(take);
    this.offset += take;
    return out;
  }

  /**
   * Exactly n bytes when that many are buffered already, else undefined (nothing taken):
   * the caller then awaits read(n). Most tar headers and small bodies are in the
   * decompressed piece at hand, and taking them without an await spares a promise
   * and a trip through the microtask queue per call.
   */
  readBuffered(n: number): Buffer | undefined {
    if (this.buf.length < n) return undefined;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return out;
  }

  /** Up to max bytes of whatever is buffered (reading more only when empty); empty at EOF. */
  async readSome(max: number): Promise<Buffer> {
    if (this.buf.length === 0 && !(await this.more())) return this.buf;
    const take = Math.min(max, this.buf.length);
    const out = this.buf.subarray(0, take);
    this.buf = this.buf.subarray(take);
    this.offset += take;
    return out;
  }

  /** Skip n bytes; returns how many were actually skipped. */
  async skip(n: number): Promise<number> {
    if (this.readBuffered(n)) return n;
    let left = n;
    while (left > 0) {
      const b = await this.readSome(left);
      if (b.length === 0) break;
      left -= b.length;
    }
    return n - left;
  }

  async atEnd(): Promise<boolean> {
    return this.buf.length === 0 && !(await this.more());
  }

  /** Stop the underlying iterator (e.g. on error). */
  async close(): Promise<void> {
    await this.it.return?.();
  }
}
