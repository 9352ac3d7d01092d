/**
 * compileTemplate: a parsed Go template ready to execute against data.
 */
import type { ListNode } from './ast.js';
import { toUserError } from './errors.js';
import { execute, type FuncEntry } from './exec.js';
import { BUILTINS, type TemplateFunc } from './funcs.js';
import { headerForPath } from './headers.js';
import { parse } from './parser.js';

export interface CompileOptions {
  /** Extra functions (override built-ins of the same name). */
  funcs?: Record<string, TemplateFunc>;
  /** How errors name the template, e.g. '--format template' (the default). */
  what?: string;
  /** Applied to text outside actions before trim markers (used for `\t` escapes and tables). */
  textTransform?: (text: string) => string;
  /**
   * The text to quote in error messages when `source` was derived from what the user typed
   * (e.g. without a `table ` prefix); positions are shifted by `displayOffset`.
   */
  displaySource?: string;
  displayOffset?: number;
}

export class Template {
  private constructor(
    readonly source: string,
    private readonly root: ListNode,
    private readonly funcs: Map<string, FuncEntry>,
    private readonly what: string,
    private readonly display: { source: string; offset: number },
  ) {}

  /** Parses `source`; throws a TspodError for syntax errors and unknown functions. */
  static compile(source: string, options: CompileOptions = {}): Template {
    const funcs = new Map<string, FuncEntry>();
    for (const [name, b] of Object.entries(BUILTINS)) funcs.set(name, { ...b, builtin: true });
    for (const [name, fn] of Object.entries(options.funcs ?? {})) funcs.set(name, { fn, min: 0, max: Infinity, builtin: false });
    const what = options.what ?? '--format template';
    const display = { source: options.displaySource ?? source, offset: options.displayOffset ?? 0 };
    try {
      const root = parse(source, { hasFunction: (n) => funcs.has(n), textTransform: options.textTransform });
      return new Template(source, root, funcs, what, display);
    } catch (err) {
      throw toUserError(err, display.source, what, display.offset);
    }
  }

  /** Executes the template with `data` as dot and `$`; throws a TspodError on failure. */
  execute(data: unknown): string {
    try {
      return execute(this.root, data, { funcs: this.funcs });
    } catch (err) {
      throw toUserError(err, this.display.source, this.what, this.display.offset);
    }
  }

  /**
   * Renders the template as a table header row: each field path prints its column header
   * (`overrides` by field name, else derived from the name: .CreatedAt -> CREATED AT).
   */
  executeHeader(overrides: Record<string, string> = {}): string {
    try {
      return execute(this.root, undefined, { funcs: this.funcs, header: (path) => headerForPath(path, overrides) });
    } catch (err) {
      throw toUserError(err, this.display.source, this.what, this.display.offset);
    }
  }
}

/** Parses a Go template. */
export function compileTemplate(source: string, options: CompileOptions = {}): Template {
  return Template.compile(source, options);
}
