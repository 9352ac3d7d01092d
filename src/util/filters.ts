import { TspodError } from './errors.js';

/**
 * Podman's `--filter KEY=VALUE` rule: values given for one key are
 * alternatives, different keys must all match. `test` answers for one key and
 * value (and throws for a key it does not know).
 */
export function matchesFilters(filters: string[], test: (key: string, value: string) => boolean): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new TspodError(`invalid filter "${f}": expected KEY=VALUE`);
    byKey.set(f.slice(0, eq), [...(byKey.get(f.slice(0, eq)) ?? []), f.slice(eq + 1)]);
  }
  for (const [key, values] of byKey) if (!values.some((v) => test(key, v))) return false;
  return true;
}

/** A `label=KEY` or `label=KEY=VALUE` filter value against a record's labels. */
export function labelMatches(labels: Record<string, string>, v: string): boolean {
  const eq = v.indexOf('=');
  return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
}
