/**
 * Go's text/tabwriter (flags 0, no escapes): tab-terminated cells in consecutive lines form
 * a column, aligned to the widest cell plus padding (at least minwidth). The last cell of a
 * line is not part of any column and is written as is. Widths count runes, like Go.
 *
 * Podman (containers/common/pkg/report) writes all --format output through
 * `tabwriter.NewWriter(w, 12, 2, 2, ' ', 0)`: minwidth 12, tabwidth 2, padding 2, spaces.
 */

export interface TabWriterOptions {
  minWidth?: number;
  /** Only used when padChar is a tab. */
  tabWidth?: number;
  padding?: number;
  padChar?: string;
}

/** Podman's settings. */
export const PODMAN_TABWRITER: Required<TabWriterOptions> = { minWidth: 12, tabWidth: 2, padding: 2, padChar: ' ' };

interface Cell {
  text: string;
  width: number;
}

const runeCount = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Aligns `text` (lines of tab-separated cells) as Go's tabwriter would. */
export function tabwrite(text: string, options: TabWriterOptions = {}): string {
  const o = { ...PODMAN_TABWRITER, ...options };
  if (!text.includes('\t')) return text;
  const rawLines = text.split('\n');
  // rawLines' last element is the text after the final newline ('' if text ends with \n).
  const lines: Cell[][] = rawLines.map((l) => l.split('\t').map((t) => ({ text: t, width: runeCount(t) })));
  const out: string[] = [];
  const widths: number[] = [];

  const writePadding = (textw: number, cellw: number): void => {
    if (o.padChar === '\t') {
      // Go rounds the cell width up to a multiple of tabwidth and writes tabs.
      const tw = o.tabWidth > 0 ? o.tabWidth : 1;
      const cw = Math.ceil(cellw / tw) * tw;
      const n = cw - textw;
      out.push('\t'.repeat(Math.ceil(n / tw)));
      return;
    }
    out.push(o.padChar.repeat(Math.max(0, cellw - textw)));
  };

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i]!;
      line.forEach((c, j) => {
        out.push(c.text);
        if (j < widths.length && j < line.length - 1) writePadding(c.width, widths[j]!);
      });
      if (i + 1 < lines.length) out.push('\n');
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t]!.length - 1) continue;
      // a cell in this column: print the lines above, then find the block's width
      writeLines(line0, t);
      line0 = t;
      let width = o.minWidth;
      for (; t < line1; t++) {
        const line = lines[t]!;
        if (column >= line.length - 1) break;
        const w = line[column]!.width + o.padding;
        if (w > width) width = w;
      }
      widths.push(width);
      format(line0, t);
      widths.pop();
      line0 = t; // line t has no cell in this column, so skipping it (t++) is right
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('');
}
