/**
 * Go's fmt.Sprintf, Sprint and Sprintln for template values.
 *
 * Verbs: %v %s %d %q %t %x %X %o %b %c %U %e %E %f %F %g %G %T %%, flags `-+# 0`,
 * width and precision (also `*`). Slices and maps apply the verb to their elements, as Go
 * does. Mismatches print Go's markers: `%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA int=1)`.
 * Deliberate leniency: an integral number accepts the float verbs (%f %e %g), since JSON
 * data cannot tell 2 from 2.0.
 */
import { formatFloat, formatTime, formatValue, HeaderText, typeName } from './values.js';

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

const runeLen = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function pad(s: string, spec: Spec, numeric = false): string {
  const w = spec.width;
  if (w === undefined) return s;
  const n = runeLen(s);
  if (n >= w) return s;
  if (spec.minus) return s + ' '.repeat(w - n);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    const prefix = /^[+\- ]?0[xXbo]/.test(s) && spec.sharp ? s.slice(sign.length, sign.length + 2) : '';
    const rest = s.slice(sign.length + prefix.length);
    return sign + prefix + '0'.repeat(w - n) + rest;
  }
  return ' '.repeat(w - n) + s;
}

/** strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
      case '\\': out += '\\\\'; continue;
      case '"': out += '\\"'; continue;
      default: break;
    }
    if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if ((c >= 0x80 && c < 0xa0) || c === 0xfffd || (c >= 0xd800 && c < 0xe000)) out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function quoteRune(c: number): string {
  if (c === 0x27) return "'\\''";
  const q = goQuote(String.fromCodePoint(c));
  return "'" + q.slice(1, -1).replace(/\\"/g, '"') + "'";
}

function badVerb(verb: string, v: unknown): string {
  if (v === undefined || v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${formatValue(v)})`;
}

function formatInteger(v: bigint, verb: string, spec: Spec): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'b': digits = a.toString(2); if (spec.sharp) prefix = '0b'; break;
    case 'o': digits = a.toString(8); if (spec.sharp) prefix = '0'; break;
    case 'O': digits = a.toString(8); prefix = '0o'; break;
    case 'x': digits = a.toString(16); if (spec.sharp) prefix = '0x'; break;
    case 'X': digits = a.toString(16).toUpperCase(); if (spec.sharp) prefix = '0X'; break;
    default: digits = a.toString(10);
  }
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && a === 0n) digits = '';
    digits = digits.padStart(spec.prec, '0');
  }
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return pad(sign + prefix + digits, { ...spec, zero: spec.zero && spec.prec === undefined }, true);
}

function formatFloatVerb(x: number, verb: string, spec: Spec): string {
  let s: string;
  if (verb === 'v') s = formatFloat(x, 'g', spec.prec ?? -1);
  else s = formatFloat(x, verb as 'g', spec.prec ?? (verb === 'g' || verb === 'G' ? -1 : 6));
  if (!s.startsWith('-') && !s.startsWith('+')) {
    if (spec.plus) s = '+' + s;
    else if (spec.space) s = ' ' + s;
  }
  return pad(s, { ...spec, zero: spec.zero && Number.isFinite(x) }, true);
}

function formatString(s: string, verb: string, spec: Spec): string | undefined {
  switch (verb) {
    case 'v':
    case 's': {
      const t = spec.prec !== undefined ? [...s].slice(0, spec.prec).join('') : s;
      return pad(t, spec);
    }
    case 'q': {
      const t = spec.prec !== undefined ? [...s].slice(0, spec.prec).join('') : s;
      if (spec.sharp && !/[`\x00-\x08\x0a-\x1f\x7f]/.test(t)) return pad('`' + t + '`', spec);
      return pad(goQuote(t), spec);
    }
    case 'x':
    case 'X': {
      let bytes = [...Buffer.from(s, 'utf8')];
      if (spec.prec !== undefined) bytes = bytes.slice(0, spec.prec);
      let hex = bytes.map((b) => (spec.sharp ? '0x' : '') + b.toString(16).padStart(2, '0')).join(spec.space ? ' ' : '');
      if (verb === 'X') hex = hex.toUpperCase();
      return pad(hex, spec);
    }
    default:
      return undefined;
  }
}

/** Formats one operand for one verb. */
export function formatArg(verb: string, v: unknown, spec: Spec): string {
  if (verb === 'T') return pad(typeName(v), spec);
  if (v instanceof HeaderText) v = v.text;
  if (v === undefined || v === null) return verb === 'v' ? pad('<nil>', spec) : badVerb(verb, v);
  if (typeof v === 'string') return formatString(v, verb, spec) ?? badVerb(verb, v);
  if (typeof v === 'boolean') return verb === 'v' || verb === 't' ? pad(String(v), spec) : badVerb(verb, v);
  if (typeof v === 'number' || typeof v === 'bigint') {
    const integral = typeof v === 'bigint' || (Number.isInteger(v) && Math.abs(v) < 2 ** 63);
    if (integral) {
      const big = BigInt(v);
      switch (verb) {
        case 'v': case 'd': case 'b': case 'o': case 'O': case 'x': case 'X':
          return formatInteger(big, verb, spec);
        case 'c': return pad(String.fromCodePoint(Number(big)), spec);
        case 'q': return pad(quoteRune(Number(big)), spec);
        case 'U': return pad('U+' + Number(big).toString(16).toUpperCase().padStart(4, '0'), spec);
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
          return formatFloatVerb(Number(v), verb, spec);
        default: return badVerb(verb, v);
      }
    }
    switch (verb) {
      case 'v': case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
        return formatFloatVerb(v as number, verb, spec);
      default: return badVerb(verb, v);
    }
  }
  if (v instanceof Date) return verb === 'v' || verb === 's' ? pad(formatTime(v), spec) : badVerb(verb, v);
  if (Array.isArray(v)) return '[' + v.map((x) => formatArg(verb, x, spec)).join(' ') + ']';
  if (typeof v === 'object') {
    const entries = v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x] as const) : Object.entries(v);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return 'map[' + entries.map(([k, x]) => `${formatArg(verb, k, spec)}:${formatArg(verb, x, spec)}`).join(' ') + ']';
  }
  return badVerb(verb, v);
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '-') spec.minus = true;
      else if (c === '+') spec.plus = true;
      else if (c === '#') spec.sharp = true;
      else if (c === ' ') spec.space = true;
      else if (c === '0') spec.zero = !spec.minus;
      else break;
    }
    if (format[i] === '*') {
      i++;
      const w = args[argi++];
      if (typeof w === 'number' && Number.isInteger(w)) {
        spec.width = Math.abs(w);
        if (w < 0) spec.minus = true;
      } else out += '%!(BADWIDTH)';
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        spec.width = Number(m[0]);
        i += m[0].length;
      }
    }
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        const p = args[argi++];
        if (typeof p === 'number' && Number.isInteger(p) && p >= 0) spec.prec = p;
        else out += '%!(BADPREC)';
      } else {
        const m = /^\d+/.exec(format.slice(i));
        spec.prec = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
      }
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatArg(verb, args[argi++], spec);
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => (a === undefined || a === null ? '<nil>' : `${typeName(a)}=${formatValue(a)}`)).join(', ') + ')';
  }
  return out;
}

const isStringish = (v: unknown): boolean => typeof v === 'string' || v instanceof HeaderText;

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && !isStringish(a) && !isStringish(args[i - 1])) out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** fmt.Sprintln: always spaces between operands, and a newline. */
export function sprintln(args: unknown[]): string {
  return args.map(formatValue).join(' ') + '\n';
}
