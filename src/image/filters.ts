/** `images --filter` and `--sort`, as Podman's libimage filters behave. */
import { TspodError } from '../util/errors.js';
import { type ImageRecord, lookupImage, splitName } from '../storage/image-store.js';

/** A glob as Go's path.Match (`*`, `?`, `[...]`), anchored. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const j = glob.indexOf(']', i);
      if (j < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, j).replace(/^!/, '^')}]`;
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Podman's reference filter: the value matches a name, its familiar form, or repository and tag separately. */
function referenceMatches(rec: ImageRecord, value: string): boolean {
  const re = globToRegExp(value);
  const hasTag = /:[^/]*$/.test(value);
  for (const name of rec.names) {
    const { repository, tag } = splitName(name);
    const candidates = [name, repository];
    const noRegistry = repository.slice(repository.indexOf('/') + 1);
    candidates.push(noRegistry, `${noRegistry}:${tag}`);
    if (noRegistry.startsWith('library/')) candidates.push(noRegistry.slice(8), `${noRegistry.slice(8)}:${tag}`);
    const last = repository.slice(repository.lastIndexOf('/') + 1);
    candidates.push(last, `${last}:${tag}`);
    for (const c of candidates) {
      if (hasTag && !c.includes(':') && c !== name) continue;
      if (re.test(c)) return true;
    }
  }
  return false;
}

export function imageFilter(filters: string[], all: ImageRecord[], configs?: (r: ImageRecord) => { config?: { Labels?: Record<string, string> } } | undefined): (r: ImageRecord) => boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq < 0) throw new TspodError(`invalid image filter "${f}": use KEY=VALUE (reference=, dangling=, label=, id=, before=, since=)`);
    const k = f.slice(0, eq);
    if (!['reference', 'dangling', 'label', 'id', 'before', 'since', 'readonly', 'intermediate'].includes(k)) {
      throw new TspodError(`unsupported image filter "${k}": use reference=, dangling=, label=, id=, before= or since=`);
    }
    byKey.set(k, [...(byKey.get(k) ?? []), f.slice(eq + 1)]);
  }
  const db = { version: 1 as const, images: Object.fromEntries(all.map((i) => [i.id, i])) };
  const anchor = (v: string): ImageRecord => {
    const r = lookupImage(db, v);
    if (!r) throw new TspodError(`${v}: image not known`, { exitCode: 1 });
    return r;
  };
  const tests: Array<(r: ImageRecord) => boolean> = [];
  for (const [k, values] of byKey) {
    switch (k) {
      case 'reference':
        tests.push((r) => values.some((v) => referenceMatches(r, v)));
        break;
      case 'dangling':
        for (const v of values) {
          if (v !== 'true' && v !== 'false') throw new TspodError(`invalid dangling filter value "${v}": use true or false`);
          tests.push((r) => (r.names.length === 0) === (v === 'true'));
        }
        break;
      case 'intermediate':
        tests.push(() => values.every((v) => v === 'false'));
        break;
      case 'readonly':
        tests.push(() => values.every((v) => v === 'false'));
        break;
      case 'id':
        tests.push((r) => values.some((v) => r.id.startsWith(v.replace(/^sha256:/, ''))));
        break;
      case 'label':
        for (const v of values) {
          const eq = v.indexOf('=');
          const lk = eq < 0 ? v : v.slice(0, eq);
          const lv = eq < 0 ? undefined : v.slice(eq + 1);
          tests.push((r) => {
            const labels = configs?.(r)?.config?.Labels ?? {};
            return lk in labels && (lv === undefined || labels[lk] === lv);
          });
        }
        break;
      case 'before':
        for (const v of values) {
          const t = Date.parse(anchor(v).created);
          tests.push((r) => Date.parse(r.created) < t);
        }
        break;
      case 'since':
        for (const v of values) {
          const t = Date.parse(anchor(v).created);
          tests.push((r) => Date.parse(r.created) > t);
        }
        break;
    }
  }
  return (r) => tests.every((t) => t(r));
}

export function sortRows<T extends { Repository: string; Tag: string; Id: string; Created: number; rawSize: number }>(rows: T[], by: string): T[] {
  const cmp: Record<string, (a: T, b: T) => number> = {
    created: (a, b) => b.Created - a.Created,
    id: (a, b) => a.Id.localeCompare(b.Id),
    repository: (a, b) => a.Repository.localeCompare(b.Repository) || a.Tag.localeCompare(b.Tag),
    tag: (a, b) => a.Tag.localeCompare(b.Tag),
    size: (a, b) => a.rawSize - b.rawSize,
  };
  const f = cmp[by];
  if (!f) throw new TspodError(`invalid --sort "${by}": use created, id, repository, size or tag`);
  return [...rows].sort(f);
}
