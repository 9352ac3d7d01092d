/**
 * Cobra's `__complete` protocol, which the shell scripts under completions/
 * speak: the words after the program name go in as arguments (the last one is
 * the word being completed, possibly empty); one `candidate<TAB>description`
 * per line comes out, then `:DIRECTIVE`, a bit set telling the shell what to do
 * with them.
 */
export const Directive = {
  Default: 0,
  /** Something went wrong: offer nothing, not even files. */
  Error: 1,
  /** Do not add a space after the candidate (e.g. `--format {{.`). */
  NoSpace: 2,
  /** Do not fall back to file names when there is no candidate. */
  NoFileComp: 4,
  /** The candidates are file extensions to filter file names with. */
  FilterFileExt: 8,
  /** Complete directory names only (in the directory given as the one candidate, if any). */
  FilterDirs: 16,
  /** Keep the candidates in the order given instead of sorting them. */
  KeepOrder: 32,
} as const;

export interface Candidate {
  value: string;
  description?: string;
}

export interface CompletionResult {
  candidates: Candidate[];
  directive: number;
}

/** One line per candidate, then the directive line, as cobra prints them. */
export function formatResult(result: CompletionResult, withDescriptions: boolean): string {
  let out = '';
  for (const c of result.candidates) {
    const desc = withDescriptions && c.description ? oneLine(c.description) : '';
    out += desc ? `${c.value}\t${desc}\n` : `${c.value}\n`;
  }
  return `${out}:${result.directive}\n`;
}

function oneLine(text: string): string {
  // Descriptions are one line: the first sentence of it, without a trailing period.
  const first = text.split('\n')[0].trim();
  return first.replace(/\.$/, '');
}

/** Human words for a directive, for the `Completion ended with directive:` line on stderr. */
export function describeDirective(directive: number): string {
  if (directive === 0) return 'ShellCompDirectiveDefault';
  const names: string[] = [];
  if (directive & Directive.Error) names.push('ShellCompDirectiveError');
  if (directive & Directive.NoSpace) names.push('ShellCompDirectiveNoSpace');
  if (directive & Directive.NoFileComp) names.push('ShellCompDirectiveNoFileComp');
  if (directive & Directive.FilterFileExt) names.push('ShellCompDirectiveFilterFileExt');
  if (directive & Directive.FilterDirs) names.push('ShellCompDirectiveFilterDirs');
  if (directive & Directive.KeepOrder) names.push('ShellCompDirectiveKeepOrder');
  return names.join(', ');
}
