/**
 * Built-in template functions: Go's text/template built-ins (and or not len index slice
 * eq ne lt le gt ge print printf println) and the ones Podman adds (json join lower upper
 * title split truncate pad), plus contains, hasPrefix, hasSuffix and replace. Functions
 * taking a subject string take it first, like Go's strings package:
 *   join LIST SEP, split S SEP, truncate S N, pad S PREFIX SUFFIX, contains S SUBSTR
 *   (or LIST ELEM), hasPrefix S PREFIX, hasSuffix S SUFFIX, replace S OLD NEW.
 * `and`/`or` short-circuit; the executor evaluates their arguments lazily.
 */
import { FuncError } from './errors.js';
import { sprint, sprintf, sprintln } from './printf.js';
import { formatValue, HeaderText, indexZero, isTrue, toJSON, typeName } from './values.js';

export type TemplateFunc = (...args: unknown[]) => unknown;

export interface Builtin {
  fn: TemplateFunc;
  /** Minimum and maximum argument counts (Infinity for variadic). */
  min: number;
  max: number;
  /**
   * While a table's header row is rendered, the function returns the header text it is
   * given unchanged (as Docker and Podman do for these), so `{{.Names | join ","}}`
   * still heads its column with NAMES.
   */
  headerIdentity?: boolean;
}

function str(name: string, v: unknown, what = 'argument'): string {
  if (typeof v === 'string') return v;
  if (v instanceof HeaderText) return v.text;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return formatValue(v);
  throw new FuncError(`${name}: expected a string ${what}, got ${typeName(v)}`);
}

function int(name: string, v: unknown, what = 'argument'): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  throw new FuncError(`${name}: expected an integer ${what}, got ${typeName(v)}`);
}

type Kind = 'nil' | 'bool' | 'number' | 'string' | 'other';

function kind(v: unknown): Kind {
  if (v === undefined || v === null) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'string' || v instanceof HeaderText) return 'string';
  return 'other';
}

const plain = (v: unknown): unknown => (v instanceof HeaderText ? v.text : v);

function numCompare(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    if (Number.isInteger(Number(a)) && Number.isInteger(Number(b))) {
      const x = BigInt(a);
      const y = BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function eq(a: unknown, ...others: unknown[]): boolean {
  if (others.length === 0) throw new FuncError('missing argument for comparison');
  const ka = kind(a);
  for (const b of others) {
    const kb = kind(b);
    let truth: boolean;
    if (ka === 'nil' || kb === 'nil') {
      truth = ka === kb;
    } else if (ka !== kb) {
      throw new FuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
    } else if (ka === 'other') {
      throw new FuncError(`non-comparable type ${typeName(a)}`);
    } else if (ka === 'number') {
      truth = numCompare(a as number, b as number) === 0;
    } else {
      truth = plain(a) === plain(b);
    }
    if (truth) return true;
  }
  return false;
}

function compare(name: string, a: unknown, b: unknown): number {
  const ka = kind(a);
  const kb = kind(b);
  if (ka !== 'number' && ka !== 'string') throw new FuncError(`${name}: invalid type for comparison: ${typeName(a)}`);
  if (kb !== 'number' && kb !== 'string') throw new FuncError(`${name}: invalid type for comparison: ${typeName(b)}`);
  if (ka !== kb) throw new FuncError(`${name}: incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  if (ka === 'number') return numCompare(a as number, b as number);
  const x = String(plain(a));
  const y = String(plain(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

function length(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (v instanceof HeaderText) return Buffer.byteLength(v.text, 'utf8');
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map) return v.size;
  if (typeof v === 'object' && v !== null && !(v instanceof Date)) return Object.keys(v).length;
  throw new FuncError(`len of type ${typeName(v)}`);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let cur = plain(item);
  for (const key of keys) {
    if (cur === undefined || cur === null) throw new FuncError('index of untyped nil');
    if (Array.isArray(cur) || typeof cur === 'string') {
      if (typeof key !== 'number' || !Number.isInteger(key)) {
        throw new FuncError(`cannot index ${Array.isArray(cur) ? 'slice' : 'string'} with type ${typeName(key)}`);
      }
      const bytes = typeof cur === 'string' ? Buffer.from(cur, 'utf8') : undefined;
      const n = bytes ? bytes.length : (cur as unknown[]).length;
      if (key < 0 || key >= n) throw new FuncError(`index out of range: ${key}`);
      cur = bytes ? bytes[key] : (cur as unknown[])[key];
      continue;
    }
    if (cur instanceof Map) {
      cur = cur.has(key) ? cur.get(key) : cur.has(String(key)) ? cur.get(String(key)) : indexZero(cur);
      continue;
    }
    if (typeof cur === 'object' && !(cur instanceof Date)) {
      const k = String(plain(key));
      cur = Object.prototype.hasOwnProperty.call(cur, k) ? (cur as Record<string, unknown>)[k] : indexZero(cur);
      continue;
    }
    throw new FuncError(`can't index item of type ${typeName(cur)}`);
  }
  return cur;
}

function slice(item: unknown, ...idx: unknown[]): unknown {
  const v = plain(item);
  if (!Array.isArray(v) && typeof v !== 'string') throw new FuncError(`can't slice item of type ${typeName(v)}`);
  if (idx.length > (typeof v === 'string' ? 2 : 3)) throw new FuncError('too many slice indexes');
  const n = v.length;
  const i = idx.length > 0 ? int('slice', idx[0], 'index') : 0;
  const j = idx.length > 1 ? int('slice', idx[1], 'index') : n;
  if (i < 0 || j > n) throw new FuncError(`index out of range: ${i < 0 ? i : j}`);
  if (j < i) throw new FuncError(`invalid slice index: ${i} > ${j}`);
  return v.slice(i, j);
}

/** strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const sep = !/[\p{L}\p{N}_]/u.test(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function join(list: unknown, sep: unknown): string {
  const s = str('join', sep, 'separator');
  if (typeof list === 'string' || list instanceof HeaderText) return plain(list) as string;
  if (list === undefined || list === null) return '';
  if (!Array.isArray(list)) throw new FuncError(`join: expected a list, got ${typeName(list)}`);
  return list.map((x) => (typeof x === 'string' ? x : formatValue(x))).join(s);
}

function split(s: unknown, sep: unknown): string[] {
  const text = str('split', s);
  const sp = str('split', sep, 'separator');
  return sp === '' ? [...text] : text.split(sp);
}

function truncate(s: unknown, n: unknown): string {
  const text = str('truncate', s);
  const len = int('truncate', n, 'length');
  const runes = [...text];
  return runes.length < len ? text : runes.slice(0, Math.max(0, len)).join('');
}

function contains(s: unknown, sub: unknown): boolean {
  if (Array.isArray(s)) {
    const want = plain(sub);
    return s.some((x) => plain(x) === want || (typeof want === 'string' && formatValue(x) === want));
  }
  return str('contains', s).includes(str('contains', sub, 'substring'));
}

export const BUILTINS: Record<string, Builtin> = {
  and: { fn: (...a) => { for (const x of a) if (!isTrue(x)) return x; return a[a.length - 1]; }, min: 1, max: Infinity },
  or: { fn: (...a) => { for (const x of a) if (isTrue(x)) return x; return a[a.length - 1]; }, min: 1, max: Infinity },
  not: { fn: (a) => !isTrue(a), min: 1, max: 1 },
  len: { fn: (a) => length(a), min: 1, max: 1 },
  index: { fn: (a, ...k) => index(a, ...k), min: 1, max: Infinity },
  slice: { fn: (a, ...k) => slice(a, ...k), min: 1, max: 4 },
  eq: { fn: (a, ...b) => eq(a, ...b), min: 1, max: Infinity },
  ne: { fn: (a, b) => !eq(a, b), min: 2, max: 2 },
  lt: { fn: (a, b) => compare('lt', a, b) < 0, min: 2, max: 2 },
  le: { fn: (a, b) => compare('le', a, b) <= 0, min: 2, max: 2 },
  gt: { fn: (a, b) => compare('gt', a, b) > 0, min: 2, max: 2 },
  ge: { fn: (a, b) => compare('ge', a, b) >= 0, min: 2, max: 2 },
  print: { fn: (...a) => sprint(a), min: 0, max: Infinity },
  printf: { fn: (f, ...a) => sprintf(str('printf', f, 'format'), a), min: 1, max: Infinity },
  println: { fn: (...a) => sprintln(a), min: 0, max: Infinity },
  json: { fn: (v) => toJSON(v), min: 1, max: 1, headerIdentity: true },
  upper: { fn: (s) => str('upper', s).toUpperCase(), min: 1, max: 1, headerIdentity: true },
  lower: { fn: (s) => str('lower', s).toLowerCase(), min: 1, max: 1, headerIdentity: true },
  title: { fn: (s) => title(str('title', s)), min: 1, max: 1, headerIdentity: true },
  join: { fn: (l, s) => join(l, s), min: 2, max: 2, headerIdentity: true },
  split: { fn: (s, sep) => split(s, sep), min: 2, max: 2, headerIdentity: true },
  truncate: { fn: (s, n) => truncate(s, n), min: 2, max: 2, headerIdentity: true },
  pad: {
    fn: (s, p, q) => {
      const t = str('pad', s);
      return t === '' ? t : ' '.repeat(Math.max(0, int('pad', p))) + t + ' '.repeat(Math.max(0, int('pad', q)));
    },
    min: 3, max: 3,
  },
  contains: { fn: (s, sub) => contains(s, sub), min: 2, max: 2 },
  hasPrefix: { fn: (s, p) => str('hasPrefix', s).startsWith(str('hasPrefix', p, 'prefix')), min: 2, max: 2 },
  hasSuffix: { fn: (s, p) => str('hasSuffix', s).endsWith(str('hasSuffix', p, 'suffix')), min: 2, max: 2 },
  replace: {
    fn: (s, o, n) => str('replace', s).split(str('replace', o, 'old string')).join(str('replace', n, 'new string')),
    min: 3, max: 3,
  },
};
