/**
 * `ps --sort`: the orders Podman's ps offers (pkg/domain/entities, SortPsOutput):
 * created and runningfor put the newest first, size the smallest root filesystem
 * first, the others ascend by their text.
 */
import type { ContainerRecord } from './container-store.js';

export const PS_SORT_KEYS = ['command', 'created', 'id', 'image', 'names', 'runningfor', 'size', 'status'];

export function sortContainers(
  recs: ContainerRecord[],
  by: string,
  sizes: Map<string, { rootFsSize: number }> = new Map(),
): ContainerRecord[] {
  const text = (f: (r: ContainerRecord) => string) => (a: ContainerRecord, b: ContainerRecord) => {
    const x = f(a);
    const y = f(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const time = (iso?: string) => (iso ? Date.parse(iso) : 0);
  const compare: Record<string, (a: ContainerRecord, b: ContainerRecord) => number> = {
    command: text((r) => r.config.command.join(' ')),
    created: (a, b) => time(b.created) - time(a.created),
    id: text((r) => r.id),
    image: text((r) => r.config.imageName),
    names: text((r) => r.name),
    runningfor: (a, b) => time(b.state.startedAt) - time(a.state.startedAt),
    size: (a, b) => (sizes.get(a.id)?.rootFsSize ?? 0) - (sizes.get(b.id)?.rootFsSize ?? 0),
    status: text((r) => r.state.status),
  };
  const cmp = compare[by];
  return cmp ? [...recs].sort(cmp) : recs;
}
