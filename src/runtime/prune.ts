/**
 * `tspod container prune`: remove every container that is not running (created or
 * exited), narrowed by Podman's prune filters: `label=KEY[=VALUE]`, `label!=KEY[=VALUE]`
 * and `until=TIMESTAMP|DURATION` (created before).
 */
import type { GlobalContext } from '../cli/context.js';
import { TspodError } from '../util/errors.js';
import type { ContainerRecord } from './container-store.js';

/** `until=`: an RFC 3339 time, a Unix timestamp, or a Go duration before now (10m, 1h30m). */
export function parseUntil(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const units: Record<string, number> = { h: 3.6e6, m: 6e4, s: 1e3, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  const dur = /^((\d+(\.\d+)?)(h|ms|m|s|us|\u00b5s|ns))+$/.test(v);
  if (dur) {
    let ms = 0;
    for (const m of v.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|\u00b5s|ns)/g)) ms += Number(m[1]) * units[m[2]!]!;
    return now - ms;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new TspodError(`invalid until filter "${v}": give a timestamp or a duration such as 10m`);
  return t;
}

export function pruneFilter(filters: string[]): (rec: ContainerRecord) => boolean {
  const checks: ((rec: ContainerRecord) => boolean)[] = [];
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new TspodError(`invalid filter "${f}": expected KEY=VALUE`);
    let key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    const negate = key.endsWith('!');
    if (negate) key = key.slice(0, -1);
    const labelMatch = (rec: ContainerRecord) => {
      const i = value.indexOf('=');
      const labels = rec.config.labels ?? {};
      return i < 0 ? value in labels : labels[value.slice(0, i)] === value.slice(i + 1);
    };
    if (key === 'label') checks.push(negate ? (r) => !labelMatch(r) : labelMatch);
    else if (key === 'until' && !negate) {
      const until = parseUntil(value);
      checks.push((r) => Date.parse(r.created) < until);
    } else throw new TspodError(`${key} is an invalid filter`);
  }
  return (rec) => checks.every((c) => c(rec));
}

/** Remove the stopped containers the filters select; their IDs, and the errors of those that could not go. */
export async function pruneContainers(ctx: GlobalContext, filters: string[]): Promise<{ removed: string[]; errors: unknown[] }> {
  const { openStore, reconcileAll, removeContainer } = await import('./lifecycle.js');
  const match = pruneFilter(filters);
  const store = openStore(ctx);
  const removed: string[] = [];
  const errors: unknown[] = [];
  for (const rec of await reconcileAll(store)) {
    if (rec.state.status === 'running' || (rec.state.status as string) === 'paused' || !match(rec)) continue;
    try {
      await removeContainer(store, rec.id, { force: false });
      removed.push(rec.id);
    } catch (err) {
      errors.push(err);
    }
  }
  return { removed, errors };
}
