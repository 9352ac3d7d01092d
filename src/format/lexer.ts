/**
 * Lexer for the Go text/template subset (see src/format/README.md for the language).
 *
 * Follows text/template/parse/lex.go: text runs between `{{` and `}}`, trim markers
 * `{{- ` and ` -}}` (the dash must be separated from the action by white space),
 * comments `{{/* ... *\/}}`, and inside actions: fields, variables, identifiers,
 * string/raw/char literals, numbers, `|`, `(`, `)`, `:=`, `=`, `,`.
 */
import { TemplateSyntaxError } from './errors.js';

export type TokenType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'comment'
  | 'field' // .Foo (value without the dot)
  | 'dot' // .
  | 'variable' // $ or $name (value includes the $)
  | 'identifier' // function name
  | 'keyword' // if range with else end break continue define template block nil
  | 'bool'
  | 'number'
  | 'string' // double-quoted, value is the decoded string
  | 'rawString' // backquoted, value is the raw content
  | 'char' // 'x', value is the decoded character
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare' // :=
  | 'assign' // =
  | 'comma'
  | 'space'
  | 'eof';

export interface Token {
  type: TokenType;
  value: string;
  /** Offset in the source. */
  pos: number;
}

export const KEYWORDS = new Set([
  'if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block', 'nil',
]);

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

export interface LexOptions {
  /** Applied to every text segment (outside actions) before trim markers are honoured. */
  textTransform?: (text: string) => string;
}

export function lex(src: string, options: LexOptions = {}): Token[] {
  const tokens: Token[] = [];
  const transform = options.textTransform ?? ((t: string) => t);
  let pos = 0;
  let trimNextText = false;

  const pushText = (start: number, end: number, trimRight: boolean): void => {
    let text = transform(src.slice(start, end));
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    if (trimRight) text = text.replace(/[ \t\r\n]+$/, '');
    trimNextText = false;
    if (text.length > 0) tokens.push({ type: 'text', value: text, pos: start });
  };

  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    if (open < 0) {
      pushText(pos, src.length, false);
      pos = src.length;
      break;
    }
    const leftTrim = src[open + 2] === '-' && isSpace(src[open + 3]);
    pushText(pos, open, leftTrim);
    tokens.push({ type: 'leftDelim', value: '{{', pos: open });
    pos = open + 2 + (leftTrim ? 2 : 0);
    pos = lexInsideAction(src, pos, open, tokens, (t) => (trimNextText = t));
  }
  tokens.push({ type: 'eof', value: '', pos: src.length });
  return tokens;
}

/** Lexes one action starting after the left delimiter; returns the position after `}}`. */
function lexInsideAction(
  src: string,
  start: number,
  actionStart: number,
  tokens: Token[],
  setTrim: (t: boolean) => void,
): number {
  let pos = start;
  let parenDepth = 0;

  // Comment: {{/* ... */}} possibly with trim markers.
  if (src.startsWith('/*', pos)) {
    const close = src.indexOf('*/', pos + 2);
    if (close < 0) throw new TemplateSyntaxError('unclosed comment', actionStart);
    pos = close + 2;
    const right = atRightDelim(src, pos);
    if (!right.delim) throw new TemplateSyntaxError('comment ends before closing delimiter', actionStart);
    tokens.push({ type: 'comment', value: src.slice(start + 2, close), pos: start });
    pos += right.trim ? 4 : 2;
    setTrim(right.trim);
    tokens.push({ type: 'rightDelim', value: '}}', pos });
    return pos;
  }

  for (;;) {
    const right = atRightDelim(src, pos);
    if (right.delim && parenDepth === 0) {
      tokens.push({ type: 'rightDelim', value: '}}', pos });
      setTrim(right.trim);
      return pos + (right.trim ? 4 : 2);
    }
    if (right.delim && parenDepth > 0) throw new TemplateSyntaxError('unclosed left paren', pos);
    if (pos >= src.length) throw new TemplateSyntaxError('unclosed action', actionStart);
    const c = src[pos]!;
    if (c === '\n' || c === '\r' || c === ' ' || c === '\t') {
      const s = pos;
      while (pos < src.length && isSpace(src[pos])) {
        // stop before a right trim marker so that it is recognised
        if (atRightDelim(src, pos).trim) break;
        pos++;
      }
      // (the loop top already consumed a trim marker starting at s, so pos > s here)
      tokens.push({ type: 'space', value: src.slice(s, pos), pos: s });
      continue;
    }
    if (c === '=') {
      tokens.push({ type: 'assign', value: '=', pos });
      pos++;
      continue;
    }
    if (c === ':') {
      if (src[pos + 1] !== '=') throw new TemplateSyntaxError('expected :=', pos);
      tokens.push({ type: 'declare', value: ':=', pos });
      pos += 2;
      continue;
    }
    if (c === '|') {
      tokens.push({ type: 'pipe', value: '|', pos });
      pos++;
      continue;
    }
    if (c === ',') {
      tokens.push({ type: 'comma', value: ',', pos });
      pos++;
      continue;
    }
    if (c === '(') {
      parenDepth++;
      tokens.push({ type: 'leftParen', value: '(', pos });
      pos++;
      continue;
    }
    if (c === ')') {
      parenDepth--;
      if (parenDepth < 0) throw new TemplateSyntaxError('unexpected right paren', pos);
      tokens.push({ type: 'rightParen', value: ')', pos });
      pos++;
      continue;
    }
    if (c === '"') {
      const end = scanQuoted(src, pos, '"');
      tokens.push({ type: 'string', value: unquote(src.slice(pos, end), pos), pos });
      pos = end;
      continue;
    }
    if (c === '`') {
      const close = src.indexOf('`', pos + 1);
      if (close < 0) throw new TemplateSyntaxError('unterminated raw quoted string', pos);
      tokens.push({ type: 'rawString', value: src.slice(pos + 1, close), pos });
      pos = close + 1;
      continue;
    }
    if (c === "'") {
      const end = scanQuoted(src, pos, "'");
      const decoded = unquote('"' + src.slice(pos + 1, end - 1).replace(/"/g, '\\"') + '"', pos);
      if ([...decoded].length !== 1) throw new TemplateSyntaxError(`malformed character constant: ${src.slice(pos, end)}`, pos);
      tokens.push({ type: 'char', value: decoded, pos });
      pos = end;
      continue;
    }
    if (c === '$') {
      let e = pos + 1;
      while (e < src.length && isAlnum(src[e])) e++;
      tokens.push({ type: 'variable', value: src.slice(pos, e), pos });
      pos = checkTerminator(src, e);
      continue;
    }
    if (c === '.') {
      // a number like .5?
      if (/[0-9]/.test(src[pos + 1] ?? '')) {
        pos = lexNumber(src, pos, tokens);
        continue;
      }
      if (isAlnum(src[pos + 1])) {
        let e = pos + 1;
        while (e < src.length && isAlnum(src[e])) e++;
        tokens.push({ type: 'field', value: src.slice(pos + 1, e), pos });
        pos = checkTerminator(src, e);
        continue;
      }
      tokens.push({ type: 'dot', value: '.', pos });
      pos++;
      continue;
    }
    if (c === '+' || c === '-' || /[0-9]/.test(c)) {
      pos = lexNumber(src, pos, tokens);
      continue;
    }
    if (isAlnum(c)) {
      let e = pos;
      while (e < src.length && isAlnum(src[e])) e++;
      const word = src.slice(pos, e);
      const type: TokenType = KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : 'identifier';
      tokens.push({ type, value: word, pos });
      pos = checkTerminator(src, e);
      continue;
    }
    throw new TemplateSyntaxError(`unrecognized character in action: ${JSON.stringify(c)}`, pos);
  }
}

function atRightDelim(src: string, pos: number): { delim: boolean; trim: boolean } {
  if (isSpace(src[pos]) && src[pos + 1] === '-' && src.startsWith('}}', pos + 2)) return { delim: true, trim: true };
  if (src.startsWith('}}', pos)) return { delim: true, trim: false };
  return { delim: false, trim: false };
}

/** After an identifier, field or variable, the next character must end the word. */
function checkTerminator(src: string, pos: number): number {
  const c = src[pos];
  if (c === undefined || isSpace(c) || '.,|:)('.includes(c) || c === '=' || src.startsWith('}}', pos)) return pos;
  throw new TemplateSyntaxError(`bad character ${JSON.stringify(c)}`, pos);
}

function scanQuoted(src: string, start: number, quote: string): number {
  let pos = start + 1;
  while (pos < src.length) {
    const c = src[pos];
    if (c === '\\') {
      pos += 2;
      continue;
    }
    if (c === '\n') break;
    if (c === quote) return pos + 1;
    pos++;
  }
  throw new TemplateSyntaxError(quote === '"' ? 'unterminated quoted string' : 'unterminated character constant', start);
}

/** Decodes a Go double-quoted string literal (strconv.Unquote). */
export function unquote(lit: string, pos: number): string {
  let out = '';
  for (let i = 1; i < lit.length - 1; i++) {
    const c = lit[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = lit[++i];
    switch (n) {
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case "'": out += "'"; break;
      case 'x': case 'u': case 'U': {
        const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
        const hex = lit.slice(i + 1, i + 1 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new TemplateSyntaxError(`invalid escape \\${n}${hex} in string ${lit}`, pos);
        out += n === 'x' ? String.fromCharCode(parseInt(hex, 16)) : String.fromCodePoint(parseInt(hex, 16));
        i += len;
        break;
      }
      default:
        if (n !== undefined && /[0-7]/.test(n)) {
          const oct = lit.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(oct)) throw new TemplateSyntaxError(`invalid escape in string ${lit}`, pos);
          out += String.fromCharCode(parseInt(oct, 8));
          i += 2;
          break;
        }
        throw new TemplateSyntaxError(`invalid escape \\${n ?? ''} in string ${lit}`, pos);
    }
  }
  return out;
}

function lexNumber(src: string, start: number, tokens: Token[]): number {
  const m = /^[+-]?(0[xX][0-9a-fA-F_]+(\.[0-9a-fA-F_]*)?([pP][+-]?[0-9_]+)?|0[bB][01_]+|0[oO][0-7_]+|([0-9][0-9_]*)?(\.[0-9_]*)?([eE][+-]?[0-9_]+)?)/.exec(src.slice(start));
  const text = m?.[0] ?? '';
  if (!/[0-9]/.test(text)) throw new TemplateSyntaxError(`bad number syntax: ${JSON.stringify(src.slice(start, start + 4))}`, start);
  const end = start + text.length;
  if (isAlnum(src[end]) || src[end] === '.') throw new TemplateSyntaxError(`bad number syntax: ${JSON.stringify(src.slice(start, end + 1))}`, start);
  tokens.push({ type: 'number', value: text, pos: start });
  return end;
}

/** Converts a number literal to a JS number (Go's untyped constants). */
export function parseNumber(text: string, pos: number): number {
  let t = text.replace(/_/g, '');
  let sign = 1;
  if (t[0] === '+' || t[0] === '-') {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^0[bB][01]+$/.test(t)) v = parseInt(t.slice(2), 2);
  else if (/^0[oO][0-7]+$/.test(t)) v = parseInt(t.slice(2), 8);
  else if (/^0[0-7]+$/.test(t)) v = parseInt(t, 8);
  else v = Number(t);
  if (Number.isNaN(v)) throw new TemplateSyntaxError(`bad number syntax: ${JSON.stringify(text)}`, pos);
  return sign * v;
}
