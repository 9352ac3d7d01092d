/**
 * `--format` as Podman interprets it (containers/common/pkg/report):
 *
 * - `json` (or `{{json .}}`, `{{ json }}`): the whole value as indented JSON.
 * - `table TEMPLATE`: a header row, then the template once per item. Like Podman, spaces
 *   in the text between actions become tabs (column separators); text inside actions and
 *   string literals is left alone.
 * - `table` alone: the command's default table format.
 * - anything else: the template once per item (or once for a single value).
 *
 * `\t` and `\n` typed literally are turned into tab and newline, a newline is appended to a
 * template that does not end with one, and all output goes through Podman's tabwriter
 * settings, so tab-separated cells line up.
 */
import { TspodError } from '../util/errors.js';
import type { TemplateFunc } from './funcs.js';
import { PODMAN_TABWRITER, tabwrite, type TabWriterOptions } from './tabwriter.js';
import { compileTemplate } from './template.js';
import { formatValue, toJSON } from './values.js';

export interface RenderOptions {
  /** Column header overrides by field name, e.g. `{ ID: 'CONTAINER ID' }`. */
  headers?: Record<string, string>;
  /** What `--format table` means for this command, e.g. `table {{.ID}}\t{{.Names}}`. */
  defaultTable?: string;
  /** Indentation of `--format json` (default 4, as `podman info`/`inspect`). */
  jsonIndent?: number;
  /**
   * Escape < > & in `--format json` output as \u003c \u003e \u0026, as Go's
   * json.MarshalIndent (used by podman inspect, info, ps, images) does. Default true.
   */
  jsonEscapeHTML?: boolean;
  /** Leave out the header row of a table (`--noheading`). */
  noHeading?: boolean;
  /**
   * Whether `data` is a list rendered one item at a time (default: whether it is an
   * array). Pass false to run the template once against a whole array.
   */
  each?: boolean;
  /** Extra template functions. */
  funcs?: Record<string, TemplateFunc>;
  /** Alignment settings (default: Podman's minwidth 12, padding 2, spaces). */
  tabwriter?: TabWriterOptions;
}

const JSON_FORMAT = /^\s*(json|\{\{\s*json\s*(\.)?\s*\}\})\s*$/;
const RANGE_DOT = /\{\{-?\s*range\s*\.\s*-?\}\}[\s\S]*\{\{-?\s*end\s*-?\s*\}\}/;

/** Whether a --format value asks for JSON (Podman's report.IsJSON). */
export function isJSONFormat(format: string): boolean {
  return JSON_FORMAT.test(format);
}

/** Whether a --format value is a table (`table` or `table ...`). */
export function isTableFormat(format: string): boolean {
  return format.trim() === 'table' || format.startsWith('table ');
}

/** `\t` and `\n` typed on the command line mean tab and newline. */
export function unescapeFormat(text: string): string {
  return text.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

const endsWithNewline = (s: string): boolean => s.endsWith('\n') || s.endsWith('\\n');

/** Renders `data` for a `--format` value; the result ends with a newline unless empty. */
export function renderFormat(format: string, data: unknown, opts: RenderOptions = {}): string {
  let f = format;
  if (f.trim() === 'table') {
    if (!opts.defaultTable) throw new TspodError('--format table is not available for this command; give a template such as "table {{.ID}}"');
    f = opts.defaultTable.startsWith('table') ? opts.defaultTable : 'table ' + opts.defaultTable;
    if (f.trim() === 'table') throw new TspodError('the default table format of this command is empty');
  }
  if (isJSONFormat(f)) return toJSON(data, opts.jsonIndent ?? 4, opts.jsonEscapeHTML ?? true) + '\n';

  const each = opts.each ?? Array.isArray(data);
  const items: unknown[] = each && Array.isArray(data) ? data : [data];
  const tw = { ...PODMAN_TABWRITER, ...opts.tabwriter };

  if (f.startsWith('table ')) {
    let body = f.slice('table '.length);
    if (!endsWithNewline(body)) body += '\n';
    const tmpl = compileTemplate(body, {
      funcs: opts.funcs,
      textTransform: (t) => unescapeFormat(t).replace(/ /g, '\t'),
      displaySource: f,
      displayOffset: 'table '.length,
    });
    let out = opts.noHeading ? '' : tmpl.executeHeader(opts.headers ?? {});
    for (const item of items) out += tmpl.execute(item);
    return tabwrite(out, tw);
  }

  let body = f;
  if (!endsWithNewline(body)) body += '\n';
  const tmpl = compileTemplate(body, { funcs: opts.funcs, textTransform: unescapeFormat, displaySource: f });
  // Like Podman, a template that ranges over the list itself runs once against the list.
  if (each && RANGE_DOT.test(f)) return tabwrite(tmpl.execute(data), tw);
  let out = '';
  for (const item of items) out += tmpl.execute(item);
  return tabwrite(out, tw);
}

function cell(v: unknown): string {
  return (typeof v === 'string' ? v : formatValue(v)).replace(/[\t\n]/g, ' ');
}

/**
 * A command's default table: a header row and one row per item, aligned with Podman's
 * tabwriter settings. Cells are printed with Go's %v; tabs and newlines in them become spaces.
 */
export function renderTable(
  headers: string[],
  rows: unknown[][],
  opts: { noHeading?: boolean; tabwriter?: TabWriterOptions } = {},
): string {
  const lines = opts.noHeading ? [] : [headers.map(cell).join('\t')];
  for (const r of rows) lines.push(r.map(cell).join('\t'));
  if (lines.length === 0) return '';
  return tabwrite(lines.join('\n') + '\n', { ...PODMAN_TABWRITER, ...opts.tabwriter });
}
