/**
 * How JavaScript values behave as Go template values.
 *
 * Value model:
 *   string, number (integers print as Go ints, others as float64), bigint, boolean,
 *   null            -> Go nil (prints `<nil>`; a field of it is an error, as for a nil pointer)
 *   undefined       -> Go's "no value" (a missing map key; prints `<no value>`)
 *   arrays          -> slices
 *   Map, asMap(obj) -> maps (missing keys give the map's zero value; exact keys only)
 *   other objects   -> structs whose field names are the object's keys (Podman's JSON names,
 *                      lowerCamel) matched exactly first, then case-insensitively, so the Go
 *                      field names in templates work (`.Host.OCIRuntime.Name`, `.Host.IDMappings`)
 *   Date            -> time.Time
 *   functions       -> methods: a field holding a function is called with the arguments
 *
 * Missing fields (see resolveField): on a map the zero value; on a struct an error like Go's
 * "can't evaluate field X", except that a name starting with a lower-case letter yields
 * `<no value>` (in Go such a name can only be a map key, since struct fields are
 * exported, so the object must be a map such as Labels that the caller did not mark).
 */
import { TemplateExecError } from './errors.js';
import { goFormatTime, goTimeString, timeMethod } from './gotime.js';

const mapZero = new WeakMap<object, { zero: unknown }>();

/**
 * Marks a plain object as a Go map (e.g. Labels, Annotations): missing keys give `zero`
 * (default: no value, printed `<no value>`; pass '' for a map[string]string) instead of an
 * error, keys match exactly, and `json` sorts its keys. Returns the object itself.
 */
export function asMap<T extends object>(obj: T, zero?: unknown): T {
  mapZero.set(obj, { zero });
  return obj;
}

/** Whether a value is a map (a Map or an object marked with asMap). */
export function isMap(v: unknown): v is Map<unknown, unknown> | Record<string, unknown> {
  return v instanceof Map || (typeof v === 'object' && v !== null && mapZero.has(v));
}

/** A column header standing in for a field's value while a table's header row is rendered. */
export class HeaderText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) &&
    !(v instanceof Date) && !(v instanceof HeaderText);
}

/** Go-like type name, for error messages and %T. */
export function typeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (v instanceof HeaderText || typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'function') return 'func';
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Date) return 'time.Time';
  if (v instanceof Map || isMap(v)) return 'map[string]interface {}';
  return 'struct';
}

/** Go's truth: false, 0, nil, empty string/slice/map are false; structs are true. */
export function isTrue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (v instanceof HeaderText) return true;
  switch (typeof v) {
    case 'boolean': return v;
    case 'number': return v !== 0;
    case 'bigint': return v !== 0n;
    case 'string': return v.length > 0;
    case 'function': return true;
    default: break;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (v instanceof Date) return true;
  // An empty object is far more likely an empty map (Labels) than a struct without fields.
  return Object.keys(v as object).length > 0;
}

/** Keys of an object or Map, as strings. */
export function keysOf(v: object): string[] {
  if (v instanceof Map) return [...v.keys()].map((k) => String(k));
  return Object.keys(v);
}

function lookupMap(m: Map<unknown, unknown>, key: string): { found: boolean; value: unknown } {
  if (m.has(key)) return { found: true, value: m.get(key) };
  return { found: false, value: undefined };
}

/** Property names an object answers to: own keys, then getters/methods of its classes. */
function candidateNames(obj: object): string[] {
  const names = Object.keys(obj);
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) if (n !== 'constructor' && !names.includes(n)) names.push(n);
  }
  return names;
}

function hasProperty(obj: object, name: string): boolean {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return true;
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (name !== 'constructor' && Object.prototype.hasOwnProperty.call(p, name)) return true;
  }
  return false;
}

export const goName = (key: string): string => (key ? key[0]!.toUpperCase() + key.slice(1) : key);

/**
 * Looks up field `name` on `receiver` (described as `where`, e.g. ".Host", for errors).
 * Returns the value; functions are returned uncalled (the executor calls them).
 */
export function resolveField(receiver: unknown, name: string, where: string): unknown {
  if (receiver === undefined) return undefined; // Go: field of "no value" is no value
  if (receiver === null) throw new TemplateExecError(`nil pointer evaluating ${where}.${name}`);
  if (receiver instanceof Map) {
    const r = lookupMap(receiver, name);
    if (r.found) return r.value;
    return mapZero.get(receiver)?.zero;
  }
  if (receiver instanceof Date) {
    const method = timeMethod(receiver, name);
    if (method) return method;
    throw new TemplateExecError(`can't evaluate field ${name} in type time.Time (${where} is a time; it has Format, Unix, UnixNano, UTC, Year, Month, Day, ...)`);
  }
  if (typeof receiver !== 'object' || Array.isArray(receiver) || receiver instanceof HeaderText) {
    throw new TemplateExecError(`can't evaluate field ${name} in type ${typeName(receiver)} (${where} is not an object)`);
  }
  const obj = receiver as Record<string, unknown>;
  if (hasProperty(obj, name)) return obj[name];
  const marked = mapZero.get(obj);
  if (marked) return marked.zero;
  // Podman's JSON keys may be snake_case where the Go field is not (host_id for .HostID).
  const fold = (k: string) => k.toLowerCase().replace(/_/g, '');
  const lower = fold(name);
  const match = candidateNames(obj).find((k) => fold(k) === lower);
  if (match !== undefined) return obj[match];
  if (!/^\p{Lu}/u.test(name)) return undefined; // can only be a map key in Go
  const known = Object.keys(obj).map(goName);
  const list = known.length === 0 ? 'it has no fields'
    : `its fields are ${known.slice(0, 25).join(', ')}${known.length > 25 ? ', ...' : ''}`;
  throw new TemplateExecError(`can't evaluate field ${name}: ${where} has no such field (${list})`);
}

// ---- printing (fmt's %v) ----

/** Go's formatting of a float64 (%v is 'g' with shortest precision: exponent form when exp < -4 or >= 6). */
export function formatFloat(x: number, verb: 'g' | 'G' | 'e' | 'E' | 'f' | 'F' = 'g', prec = -1): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let body: string;
  switch (verb) {
    case 'f': case 'F':
      body = toFixedEven(a, prec < 0 ? 6 : Math.min(prec, 100));
      break;
    case 'e': case 'E':
      body = goExp(a.toExponential(prec < 0 ? 6 : Math.min(prec, 100)));
      break;
    default: {
      // digits and decimal exponent
      const p = prec === 0 ? 1 : prec;
      const e = p < 0 ? a.toExponential() : a.toExponential(Math.min(p, 100) - 1);
      const [mant, expText] = e.split('e') as [string, string];
      const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
      const exp = Number(expText);
      const nd = digits.length;
      let eprec = p < 0 ? 6 : p;
      if (p >= 0 && eprec > nd && nd >= exp + 1) eprec = nd;
      if (p < 0) eprec = 6;
      if (a === 0) {
        body = '0';
      } else if (exp < -4 || exp >= eprec) {
        body = goExp(a.toExponential(nd - 1));
      } else {
        body = a.toFixed(Math.max(nd - (exp + 1), 0));
      }
    }
  }
  if (verb === 'E' || verb === 'G') body = body.toUpperCase();
  return (neg ? '-' : '') + body;
}

/**
 * Number.prototype.toFixed, except that an exact tie rounds to even as Go's strconv does
 * (toFixed rounds 2.25 to "2.3"; Go prints "2.2"). `a` is finite and not negative.
 */
export function toFixedEven(a: number, prec: number): string {
  const fixed = a.toFixed(prec);
  if (!Number.isFinite(a) || a >= 1e21) return fixed;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let exp: number;
  if (expBits === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  if (exp >= 0 || mant === 0n) return fixed; // an integer: no tie possible
  const k = BigInt(-exp);
  const scaled = mant * 10n ** BigInt(prec);
  const rem = scaled & ((1n << k) - 1n);
  if (rem !== 1n << (k - 1n)) return fixed; // not an exact tie: toFixed is exact
  let q = scaled >> k;
  if (q % 2n === 1n) q += 1n;
  const digits = q.toString().padStart(prec + 1, '0');
  return prec === 0 ? digits : `${digits.slice(0, -prec)}.${digits.slice(-prec)}`;
}

/** JS exponent "1.5e+6" -> Go "1.5e+06". */
function goExp(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** time.Time's String(): "2006-01-02 15:04:05.999999999 -0700 MST". */
export function formatTime(d: Date): string {
  return goTimeString(d);
}

/** Go's %v (fmt.Sprint of one operand). `undefined` prints as `<nil>` inside values. */
export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (v instanceof HeaderText) return v.text;
  switch (typeof v) {
    case 'string': return v;
    case 'boolean': return v ? 'true' : 'false';
    case 'bigint': return v.toString();
    case 'number':
      if (Number.isInteger(v) && Math.abs(v) < 1e21) return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
      return formatFloat(v);
    case 'function': return '<func>';
    case 'symbol': return v.toString();
    default: break;
  }
  if (Array.isArray(v)) return '[' + v.map(formatValue).join(' ') + ']';
  if (v instanceof Date) return formatTime(v);
  const entries = v instanceof Map
    ? [...v.entries()].map(([k, x]) => [formatValue(k), x] as const)
    : Object.entries(v as object);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return 'map[' + entries.map(([k, x]) => `${k}:${formatValue(x)}`).join(' ') + ']';
}

/** What `{{pipeline}}` prints: like %v, but a missing value prints `<no value>`. */
export function printValue(v: unknown): string {
  return v === undefined ? '<no value>' : formatValue(v);
}

/** Converts a value to what JSON.stringify should see (Maps to sorted objects, bigint, etc.). */
export function toJSONValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof HeaderText) return v.text;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (Array.isArray(v)) return v.map((x) => toJSONValue(x) ?? null);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : goFormatTime(v, '2006-01-02T15:04:05.999999999Z07:00');
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return toJSONValue((v as { toJSON(): unknown }).toJSON());
  const sorted = isMap(v);
  const entries = v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x] as const) : Object.entries(v as object);
  if (sorted) entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) {
    if (x === undefined) continue;
    const j = toJSONValue(x);
    if (j !== undefined) out[k] = j;
  }
  return out;
}

/**
 * JSON like Go's encoding/json: compact (as the `json` template function, an Encoder with
 * SetEscapeHTML(false)) or indented. U+2028 and U+2029 are always escaped, as Go does;
 * `escapeHTML` also escapes < > & as json.Marshal/MarshalIndent do.
 */
export function toJSON(v: unknown, indent = 0, escapeHTML = false): string {
  let text = JSON.stringify(toJSONValue(v), null, indent > 0 ? indent : undefined) ?? 'null';
  // These characters can only occur inside JSON strings, so replacing them is safe.
  text = text.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  if (escapeHTML) text = text.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return text;
}

/** Zero value for a missing key in `index` on an unmarked object: '' if all values are strings. */
export function indexZero(obj: object): unknown {
  const marked = mapZero.get(obj);
  if (marked) return marked.zero;
  const values = obj instanceof Map ? [...obj.values()] : Object.values(obj);
  return values.length > 0 && values.every((x) => typeof x === 'string') ? '' : undefined;
}
