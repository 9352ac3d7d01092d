/**
 * Table column headers, derived from field names as Podman does
 * (containers/common/pkg/report.Headers): the Go field name split at camel-case
 * boundaries (fatih/camelcase), joined with spaces and upper-cased:
 * ID -> ID, Names -> NAMES, CreatedAt -> CREATED AT, IDMappings -> ID MAPPINGS.
 */

type CharClass = 'lower' | 'upper' | 'digit' | 'other';

function charClass(c: string): CharClass {
  if (/\p{Ll}/u.test(c)) return 'lower';
  if (/\p{Lu}|\p{Lt}/u.test(c)) return 'upper';
  if (/\p{Nd}/u.test(c)) return 'digit';
  return 'other';
}

/** fatih/camelcase.Split: "CreatedAt" -> ["Created", "At"], "OCIRuntime" -> ["OCI", "Runtime"]. */
export function camelSplit(word: string): string[] {
  const runs: string[][] = [];
  let last: CharClass | undefined;
  for (const c of word) {
    const cls = charClass(c);
    if (cls === last && runs.length > 0) runs[runs.length - 1]!.push(c);
    else runs.push([c]);
    last = cls;
  }
  // An upper-case run followed by a lower-case run gives its last letter to the latter:
  // "PDFL" "oader" -> "PDF" "Loader".
  for (let i = 0; i < runs.length - 1; i++) {
    const a = runs[i]!;
    const b = runs[i + 1]!;
    if (charClass(a[0]!) === 'upper' && charClass(b[0]!) === 'lower') {
      b.unshift(a.pop()!);
    }
  }
  return runs.filter((r) => r.length > 0).map((r) => r.join(''));
}

/** Header for a field name: "CreatedAt" -> "CREATED AT". */
export function headerFromField(field: string): string {
  return camelSplit(field).join(' ').toUpperCase();
}

/**
 * Header for a field path in a template (`.Host.Kernel` -> ["Host", "Kernel"]): an override
 * for the full dotted path, else for the last name (exact, then case-insensitive), else
 * derived from the last name.
 */
export function headerForPath(path: string[], overrides: Record<string, string> = {}): string {
  const full = path.join('.');
  const last = path[path.length - 1] ?? '';
  if (Object.prototype.hasOwnProperty.call(overrides, full)) return overrides[full]!;
  if (Object.prototype.hasOwnProperty.call(overrides, last)) return overrides[last]!;
  const lower = last.toLowerCase();
  const key = Object.keys(overrides).find((k) => k.toLowerCase() === lower || k.toLowerCase() === full.toLowerCase());
  if (key !== undefined) return overrides[key]!;
  return headerFromField(last);
}
