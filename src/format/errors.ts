/**
 * Template errors. The lexer, parser, executor and built-in functions throw the
 * internal errors below with an offset into the source; `toUserError` turns them
 * into one-sentence TspodErrors naming the template and the place.
 */
import { TspodError } from '../util/errors.js';

/** A syntax error found while lexing or parsing; `pos` is an offset in the source. */
export class TemplateSyntaxError extends Error {
  constructor(message: string, readonly pos: number) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

/** An error raised while executing a template; `pos` is the offset of the failing node. */
export class TemplateExecError extends Error {
  constructor(message: string, public pos: number = -1) {
    super(message);
    this.name = 'TemplateExecError';
  }
}

/** Error thrown by a built-in function; the executor adds the position and function name. */
export class FuncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuncError';
  }
}

/** Line and column (both 1-based) of an offset. */
export function lineCol(src: string, pos: number): { line: number; col: number } {
  const before = src.slice(0, Math.max(0, pos));
  const line = before.split('\n').length;
  const col = pos - (before.lastIndexOf('\n') + 1) + 1;
  return { line, col };
}

function quoteTemplate(src: string): string {
  const shown = src.length > 160 ? src.slice(0, 157) + '...' : src;
  return JSON.stringify(shown);
}

function where(src: string, pos: number): string {
  if (pos < 0) return '';
  if (pos > src.length) return '';
  const { line, col } = lineCol(src, pos);
  return src.includes('\n') ? ` (line ${line}, column ${col})` : ` (column ${col})`;
}

/** Wraps an internal error into the TspodError the user sees. Other errors pass through. */
export function toUserError(err: unknown, src: string, what: string, offset = 0): unknown {
  if (err instanceof TemplateSyntaxError) {
    return new TspodError(`invalid ${what} ${quoteTemplate(src)}: ${err.message}${where(src, err.pos < 0 ? err.pos : err.pos + offset)}`, { cause: err });
  }
  if (err instanceof TemplateExecError || err instanceof FuncError) {
    const pos = err instanceof TemplateExecError ? err.pos : -1;
    return new TspodError(`cannot execute ${what} ${quoteTemplate(src)}: ${err.message}${where(src, pos < 0 ? pos : pos + offset)}`, { cause: err });
  }
  return err;
}
