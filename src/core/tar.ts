/**
 * Streaming tar reading and writing: ustar, pax (long names and link names,
 * SCHILY.xattr.*, large uid/gid/size/mtime), GNU long names (L/K) and base-256
 * numbers, hardlinks, symlinks, devices, fifos. Whiteouts (`.wh.NAME`,
 * `.wh..wh..opq`) are passed through as ordinary entries and flagged.
 *
 * Tar is pure framing (512-byte headers around the bodies), so it lives in
 * TypeScript: bodies are handed out as slices of the decompressed chunks, with no
 * copies and no per-byte work that WebAssembly could speed up.
 */
import { TspodError } from '../util/errors.js';
import { ByteReader } from './bytes.js';

export type TarType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'chardev'
  | 'blockdev'
  | 'directory'
  | 'fifo';

export interface TarHeader {
  /** Path as stored (no leading "./" stripping; see normalizeTarPath). */
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (pax may give fractions). */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes (pax SCHILY.xattr.NAME), raw values. */
  xattrs: Record<string, Buffer>;
  /** Every pax record that applied to this entry (global then local), for callers that care. */
  pax: Record<string, string>;
}

export interface Whiteout {
  /** 'file': `dir/.wh.NAME` deletes dir/NAME; 'opaque': `dir/.wh..wh..opq` hides dir's lower contents. */
  kind: 'file' | 'opaque';
  /** The path deleted (file) or made opaque (directory), normalized. */
  path: string;
}

export interface TarEntry {
  header: TarHeader;
  /** Set when the entry is an OCI/AUFS whiteout. */
  whiteout?: Whiteout;
  /** The body (regular files only). Consume it before asking for the next entry, or it is skipped. */
  body(): AsyncGenerator<Buffer, void, undefined>;
  /**
   * The whole body at once when it is in memory already (no waiting), taken as body()
   * would give it; undefined when it is not, and body() must be used. Empty for
   * entries that have no body. readTar's entries have it; others may not.
   */
  bodyIfBuffered?(): Buffer | undefined;
}

export interface ReadTarOptions {
  /** Largest pax header or GNU long name accepted (default 1 MiB). */
  maxMetaSize?: number;
  /** For messages: "layer sha256:...". */
  what?: string;
}

const BLOCK = 512;
const EMPTY = Buffer.alloc(0);
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

function bad(what: string, detail: string): TspodError {
  return new TspodError(`The tar archive in ${what} is invalid: ${detail}; it may be corrupt, fetch it again.`);
}

function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

/** Octal (NUL/space padded) or GNU base-256 numbers. */
function num(b: Buffer, off: number, len: number, field: string, what: string): number {
  if (b[off] & 0x80) {
    // base-256: big-endian two's complement with the top bit as a marker.
    if (b[off] === 0xff) throw bad(what, `negative ${field}`);
    let v = b[off] & 0x7f;
    for (let i = 1; i < len; i++) {
      v = v * 256 + b[off + i];
      if (v > Number.MAX_SAFE_INTEGER) throw bad(what, `${field} too large`);
    }
    return v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i];
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw bad(what, `non-octal ${field} field`);
    v = v * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : v;
}

function checksumOk(b: Buffer, what: string): boolean {
  const stored = num(b, 148, 8, 'checksum', what);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Parse pax records "LEN key=value\n". */
export function parsePax(data: Buffer, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break; // some writers pad with NULs
    const sp = data.indexOf(0x20, i);
    if (sp < 0) throw bad(what, 'malformed pax record');
    const len = Number(data.toString('latin1', i, sp));
    if (!Number.isInteger(len) || len <= sp - i + 1 || i + len > data.length || data[i + len - 1] !== 0x0a) {
      throw bad(what, 'malformed pax record length');
    }
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw bad(what, 'malformed pax record');
    const key = rec.toString('utf8', 0, eq);
    // Values stay latin1-decodable for binary xattrs: keep the raw bytes via 'binary' for xattrs.
    out[key] = key.startsWith('SCHILY.xattr.') ? rec.toString('latin1', eq + 1) : rec.toString('utf8', eq + 1);
    i += len;
  }
  return out;
}

const TYPES: Record<string, TarType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'chardev',
  '4': 'blockdev',
  '5': 'directory',
  '6': 'fifo',
};

/** Strip "./" and leading "/" and trailing "/", collapse empty segments. */
export function normalizeTarPath(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  return parts.join('/');
}

export function whiteoutOf(name: string): Whiteout | undefined {
  const norm = normalizeTarPath(name);
  const slash = norm.lastIndexOf('/');
  const dir = slash < 0 ? '' : norm.slice(0, slash);
  const base = norm.slice(slash + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque', path: dir };
  const target = base.slice(WHITEOUT_PREFIX.length);
  return { kind: 'file', path: dir ? `${dir}/${target}` : target };
}

/** Bodies of entries that have none (every type but regular files). */
async function* noBody(): AsyncGenerator<Buffer, void, undefined> {}

/** A pax number (size, uid, gid, mtime) overriding the header's, checked. */
function paxNum(pax: Record<string, string>, key: string, fallback: number, what: string, allowFraction = false): number {
  const v = pax[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (!allowFraction && !Number.isInteger(n)) || n > Number.MAX_SAFE_INTEGER) {
    throw bad(what, `invalid pax ${key} "${v}"`);
  }
  return n;
}

/**
 * An entry's header from its 512-byte block and what pax records and GNU long names
 * said before it. Kept apart from readTar's loop: V8 optimises the hot loop sooner and
 * at less cost when it is small.
 */
function entryHeader(h: Buffer, type: TarType, pax: Record<string, string>, longName: string | undefined, longLink: string | undefined, what: string): TarHeader {
  const magic = h.toString('latin1', 257, 263);
  const ustar = magic === 'ustar\0';
  const gnu = magic === 'ustar ';
  let name = cstr(h, 0, 100);
  if (ustar) {
    const prefix = cstr(h, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  if (longName !== undefined) name = longName;
  if (pax.path !== undefined) name = pax.path;
  let linkname = longLink ?? cstr(h, 157, 100);
  if (pax.linkpath !== undefined) linkname = pax.linkpath;
  const xattrs: Record<string, Buffer> = {};
  for (const k in pax) {
    if (k.startsWith('GNU.sparse')) throw bad(what, 'unsupported entry type (pax sparse file)');
    if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = Buffer.from(pax[k]!, 'latin1');
  }
  const size = paxNum(pax, 'size', num(h, 124, 12, 'size', what), what);
  const header: TarHeader = {
    name,
    type,
    mode: num(h, 100, 8, 'mode', what) & 0o7777,
    uid: paxNum(pax, 'uid', num(h, 108, 8, 'uid', what), what),
    gid: paxNum(pax, 'gid', num(h, 116, 8, 'gid', what), what),
    size: type === 'file' ? size : 0,
    mtime: paxNum(pax, 'mtime', num(h, 136, 12, 'mtime', what), what, true),
    linkname: type === 'hardlink' || type === 'symlink' ? linkname : '',
    uname: pax.uname ?? (ustar || gnu ? cstr(h, 265, 32) : ''),
    gname: pax.gname ?? (ustar || gnu ? cstr(h, 297, 32) : ''),
    devmajor: ustar || gnu ? num(h, 329, 8, 'devmajor', what) : 0,
    devminor: ustar || gnu ? num(h, 337, 8, 'devminor', what) : 0,
    xattrs,
    pax,
  };
  if (!header.name) throw bad(what, 'entry with an empty name');
  if (header.name.includes('\0')) throw bad(what, 'entry name contains a NUL byte');
  return header;
}

/** TarParser.next() when what it needs next is not all in memory yet. */
export const NEED_MORE = Symbol('need more bytes');

/** An entry's body, read by the consumer (body(), bodyIfBuffered()) or skipped after it. */
interface BodyState {
  left: number;
  consumed: boolean;
}

/**
 * The synchronous half of readTar: entries out of the bytes already in memory. It asks
 * for more (NEED_MORE) rather than waiting itself, so that the async generator around
 * it has a single await and a single yield. That generator is hot (once per entry) and
 * V8 compiles it several times a pull when it holds every path with an await of its
 * own, throwing the code away whenever a path runs for the first time (a header split
 * between two decompressed pieces, say).
 */
export class TarParser {
  private globalPax: Record<string, string> | undefined;
  private localPax: Record<string, string> | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  /** Bytes to drop before the next header (the rest of the last body, and its padding); for messages, whose body it is. */
  private skip = 0;
  private skipOf: string | undefined;
  /** The last entry's body: what the consumer left of it is skipped when the next entry is asked for. */
  private current: BodyState | undefined;

  constructor(
    private readonly r: ByteReader,
    private readonly what: string,
    private readonly maxMeta: number,
  ) {}

  /** The next entry, NEED_MORE, or undefined at the end of the archive. The consumer is done with the last entry. */
  next(): TarEntry | typeof NEED_MORE | undefined {
    const r = this.r;
    const what = this.what;
    if (this.current) {
      this.skip += this.current.left;
      this.current = undefined;
    }
    for (;;) {
      if (this.skip > 0) {
        this.skip -= r.dropBuffered(this.skip);
        if (this.skip > 0) {
          if (r.ended) throw bad(what, this.skipOf ? `unexpected end of data in ${JSON.stringify(this.skipOf)}` : 'unexpected end of data');
          return NEED_MORE;
        }
      }
      const avail = r.buffered;
      if (avail < BLOCK) {
        if (!r.ended) return NEED_MORE;
        if (avail > 0) throw bad(what, 'unexpected end of data in a header');
        if (this.longName !== undefined || this.longLink !== undefined || this.localPax) throw bad(what, 'unexpected end of data');
        return undefined; // no end-of-archive marker: accepted, as GNU tar does (with a warning)
      }
      const h = r.peek(BLOCK);
      if (isZeroBlock(h)) {
        r.dropBuffered(BLOCK);
        return undefined;
      }
      if (!checksumOk(h, what)) throw bad(what, `header checksum mismatch at offset ${r.offset}`);
      const flag = String.fromCharCode(h[156]!);
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K' || flag === 'V') {
        if (!this.meta(h, flag, avail)) return NEED_MORE;
        continue;
      }
      const type = TYPES[flag];
      if (!type) {
        const names: Record<string, string> = { S: 'GNU sparse file', M: 'multi-volume continuation', D: 'GNU dump directory' };
        throw bad(what, `unsupported entry type ${JSON.stringify(flag)}${names[flag] ? ` (${names[flag]})` : ''}`);
      }
      r.dropBuffered(BLOCK);
      // A fresh object per entry (consumers get it as header.pax); localPax is one already.
      const pax = this.globalPax ? { ...this.globalPax, ...this.localPax } : (this.localPax ?? {});
      const header = entryHeader(h, type, pax, this.longName, this.longLink, what);
      this.localPax = undefined;
      this.longName = undefined;
      this.longLink = undefined;
      return this.entry(header);
    }
  }

  /** A pax header, GNU long name or volume label: taken whole once it is all in memory (false: not yet). */
  private meta(h: Buffer, flag: string, avail: number): boolean {
    const r = this.r;
    const what = this.what;
    const size = num(h, 124, 12, 'size', what);
    const padded = size + ((BLOCK - (size % BLOCK)) % BLOCK);
    if (flag === 'V') {
      r.dropBuffered(BLOCK);
      this.skip = padded;
      this.skipOf = undefined;
      return true;
    }
    const kind = flag === 'x' || flag === 'g' ? 'pax header' : 'GNU long name';
    if (size > this.maxMeta) throw bad(what, `${kind} of ${size} bytes exceeds the ${this.maxMeta}-byte limit`);
    if (avail < BLOCK + padded) {
      if (r.ended) throw bad(what, 'unexpected end of data');
      return false;
    }
    r.dropBuffered(BLOCK);
    const data = r.readBuffered(padded)!.subarray(0, size);
    if (flag === 'L' || flag === 'K') {
      const s = cstr(data, 0, size);
      if (flag === 'L') this.longName = s;
      else this.longLink = s;
      return true;
    }
    const pax = parsePax(data, what);
    if (flag === 'g') this.globalPax = { ...this.globalPax, ...pax };
    else this.localPax = this.localPax ? { ...this.localPax, ...pax } : pax;
    return true;
  }

  private entry(header: TarHeader): TarEntry {
    const r = this.r;
    const what = this.what;
    const state: BodyState = { left: header.size, consumed: false };
    const pad = (BLOCK - (header.size % BLOCK)) % BLOCK;
    // What the consumer leaves of the body, and the padding, go before the next header.
    this.skip = pad;
    this.skipOf = header.name;
    this.current = state;
    let entry: TarEntry;
    if (header.type === 'file') {
      const body = async function* (): AsyncGenerator<Buffer, void, undefined> {
        if (state.consumed) throw new Error('tar entry body read twice');
        state.consumed = true;
        while (state.left > 0) {
          const b = await r.readSome(Math.min(state.left, 1 << 20));
          if (b.length === 0) throw bad(what, `unexpected end of data in ${JSON.stringify(header.name)}`);
          state.left -= b.length;
          yield b;
        }
      };
      const bodyIfBuffered = (): Buffer | undefined => {
        if (state.consumed) throw new Error('tar entry body read twice');
        const b = r.readBuffered(state.left);
        if (b) {
          state.consumed = true;
          state.left = 0;
        }
        return b;
      };
      entry = { header, body, bodyIfBuffered };
    } else {
      entry = { header, body: noBody, bodyIfBuffered: () => EMPTY };
    }
    const wh = whiteoutOf(header.name);
    if (wh) entry.whiteout = wh;
    return entry;
  }
}

/**
 * Read a tar stream entry by entry. Errors (bad checksums, truncation, unsupported
 * entry types, oversized metadata) are TspodErrors; end-of-archive is the first
 * zero block (anything after it is ignored, as GNU tar does).
 */
export async function* readTar(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ByteReader, opts: ReadTarOptions = {}): AsyncGenerator<TarEntry, void, undefined> {
  const r = source instanceof ByteReader ? source : new ByteReader(source);
  const parser = new TarParser(r, opts.what ?? 'the archive', opts.maxMetaSize ?? 1 << 20);
  for (;;) {
    const next = parser.next();
    if (next === NEED_MORE) {
      await r.more();
      continue;
    }
    if (next === undefined) return;
    yield next;
  }
}

// ---------------------------------------------------------------------------
// Writing

export interface TarWriteHeader {
  name: string;
  type: TarType;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Uint8Array>;
}

const TYPEFLAG: Record<TarType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  chardev: '3',
  blockdev: '4',
  directory: '5',
  fifo: '6',
};

function writeOctal(b: Buffer, off: number, len: number, v: number): boolean {
  // len-1 octal digits and a NUL
  const s = Math.trunc(v).toString(8);
  if (s.length > len - 1 || v < 0) return false;
  b.write(s.padStart(len - 1, '0'), off, len - 1, 'latin1');
  b[off + len - 1] = 0;
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

function rawHeader(name: Buffer, prefix: Buffer, h: TarWriteHeader, flag: string, size: number, linkname: Buffer): Buffer {
  const b = Buffer.alloc(BLOCK);
  name.copy(b, 0, 0, 100);
  writeOctal(b, 100, 8, (h.mode ?? (h.type === 'directory' ? 0o755 : 0o644)) & 0o7777);
  writeOctal(b, 108, 8, Math.min(h.uid ?? 0, 0o7777777));
  writeOctal(b, 116, 8, Math.min(h.gid ?? 0, 0o7777777));
  writeOctal(b, 124, 12, Math.min(size, 0o77777777777));
  writeOctal(b, 136, 12, Math.min(Math.max(0, Math.trunc(h.mtime ?? 0)), 0o77777777777));
  b.fill(0x20, 148, 156);
  b.write(flag, 156, 1, 'latin1');
  linkname.copy(b, 157, 0, 100);
  b.write('ustar\x0000', 257, 8, 'latin1');
  b.write((h.uname ?? '').slice(0, 31), 265, 32, 'utf8');
  b.write((h.gname ?? '').slice(0, 31), 297, 32, 'utf8');
  if (h.type === 'chardev' || h.type === 'blockdev') {
    writeOctal(b, 329, 8, h.devmajor ?? 0);
    writeOctal(b, 337, 8, h.devminor ?? 0);
  }
  prefix.copy(b, 345, 0, 155);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  b.write(sum.toString(8).padStart(6, '0'), 148, 6, 'latin1');
  b[154] = 0;
  b[155] = 0x20;
  return b;
}

/** Split a path for ustar's prefix/name fields, or undefined if it does not fit. */
function splitUstar(p: Buffer): [Buffer, Buffer] | undefined {
  if (p.length <= 100) return [p, Buffer.alloc(0)];
  for (let i = p.length - 1; i > 0; i--) {
    if (p[i] === 0x2f && i <= 155 && p.length - i - 1 <= 100 && p.length - i - 1 > 0) {
      return [p.subarray(i + 1), p.subarray(0, i)];
    }
  }
  return undefined;
}

/**
 * The header block(s) for one entry: a ustar header, preceded by a pax header when
 * something does not fit ustar (long names or link names, ids >= 2^21, sizes >= 8 GiB,
 * fractional or out-of-range mtimes, xattrs). Deterministic: same input, same bytes.
 */
export function tarHeader(h: TarWriteHeader): Buffer {
  const size = h.type === 'file' ? h.size ?? 0 : 0;
  if (!Number.isSafeInteger(size) || size < 0) throw new TspodError(`Cannot write a tar entry for ${h.name}: invalid size ${size}.`);
  const nameBuf = Buffer.from(h.type === 'directory' && !h.name.endsWith('/') ? `${h.name}/` : h.name, 'utf8');
  const linkBuf = Buffer.from(h.linkname ?? '', 'utf8');
  const records: Buffer[] = [];
  const split = splitUstar(nameBuf);
  if (!split) records.push(paxRecord('path', nameBuf));
  if (linkBuf.length > 100) records.push(paxRecord('linkpath', linkBuf));
  if ((h.uid ?? 0) > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if ((h.gid ?? 0) > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (size > 0o77777777777) records.push(paxRecord('size', Buffer.from(String(size))));
  const mtime = h.mtime ?? 0;
  if (mtime < 0 || mtime > 0o77777777777 || !Number.isInteger(mtime)) records.push(paxRecord('mtime', Buffer.from(String(mtime))));
  if ((h.uname ?? '').length > 31) records.push(paxRecord('uname', Buffer.from(h.uname!, 'utf8')));
  if ((h.gname ?? '').length > 31) records.push(paxRecord('gname', Buffer.from(h.gname!, 'utf8')));
  for (const k of Object.keys(h.xattrs ?? {}).sort()) {
    const v = h.xattrs![k];
    records.push(paxRecord(`SCHILY.xattr.${k}`, Buffer.from(v.buffer, v.byteOffset, v.length)));
  }
  const [name, prefix] = split ?? [nameBuf.subarray(0, 100), Buffer.alloc(0)];
  const main = rawHeader(name, prefix, h, TYPEFLAG[h.type], size, linkBuf.subarray(0, 100));
  if (records.length === 0) return main;
  const paxData = Buffer.concat(records);
  const paxName = Buffer.from(`PaxHeaders/${Buffer.from(h.name).subarray(-80).toString('latin1').replace(/[^\x20-\x7e]/g, '_')}`, 'latin1');
  const paxHdr = rawHeader(paxName.subarray(0, 100), Buffer.alloc(0), { name: '', type: 'file', mode: 0o644, mtime: 0 }, 'x', paxData.length, Buffer.alloc(0));
  return Buffer.concat([paxHdr, paxData, Buffer.alloc((BLOCK - (paxData.length % BLOCK)) % BLOCK), main]);
}

export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** End-of-archive: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(BLOCK * 2);
}

export interface TarWriteEntry {
  header: TarWriteHeader;
  /** File contents (exactly header.size bytes). */
  body?: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** Write a tar stream from entries; yields the archive's bytes. */
export async function* writeTar(entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>): AsyncGenerator<Buffer, void, undefined> {
  for await (const e of entries) {
    yield tarHeader(e.header);
    if (e.header.type !== 'file') continue;
    const size = e.header.size ?? 0;
    let n = 0;
    if (e.body instanceof Uint8Array) {
      n = e.body.length;
      if (n > 0) yield Buffer.from(e.body.buffer, e.body.byteOffset, e.body.length);
    } else if (e.body) {
      for await (const c of e.body as AsyncIterable<Uint8Array>) {
        n += c.length;
        if (n > size) break;
        yield Buffer.from(c.buffer, c.byteOffset, c.length);
      }
    }
    if (n !== size) {
      throw new TspodError(`Cannot write ${e.header.name} into the archive: it has ${n} bytes, not ${size}; it changed while being read.`);
    }
    const pad = tarPadding(size);
    if (pad.length) yield pad;
  }
  yield tarEnd();
}
