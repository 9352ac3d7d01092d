import { TspodError } from '../util/errors.js';
import { labelMatches, matchesFilters } from '../util/filters.js';
import type { ContainerRecord } from './container-store.js';

/** `ps --filter`: values of one key are alternatives, different keys must all match (Podman's rule). */
export function containerMatches(rec: ContainerRecord, filters: string[]): boolean {
  return matchesFilters(filters, (key, v) => {
    switch (key) {
      case 'id':
        return rec.id.startsWith(v);
      case 'name':
        return new RegExp(v).test(rec.name);
      case 'status':
        if (!['created', 'running', 'exited', 'paused', 'stopped', 'restarting', 'removing', 'unknown'].includes(v)) {
          throw new TspodError(`invalid status filter "${v}": use created, running, paused, exited or unknown`);
        }
        return rec.state.status === v || (v === 'stopped' && rec.state.status === 'exited');
      case 'exited':
        return rec.state.status === 'exited' && rec.state.exitCode === Number(v);
      case 'label':
        return labelMatches(rec.config.labels, v);
      case 'ancestor':
        return rec.config.imageName === v;
      case 'pod':
        // By the pod's id (or a prefix of it); `ps` turns pod names into ids first.
        return rec.config.pod !== undefined && rec.config.pod.startsWith(v);
      case 'network':
        // User-defined networks by name (`podman` for the default network's bridge).
        return (rec.config.networks ?? []).some((a) => a.name === v) || (v === 'podman' && rec.config.network === 'bridge');
      case 'volume':
        // A volume's name, or where something is mounted in the container (Podman's rule).
        return (rec.config.mounts ?? []).some((m) => (m.kind === 'volume' && m.source === v) || m.destination === v);
      case 'before':
      case 'since':
        // `ps` turns the container named into its creation time (ISO 8601) first.
        return key === 'before' ? rec.created < v : rec.created > v;
      default:
        throw new TspodError(`invalid filter "${key}": container filters are id, name, status, exited, label, ancestor, volume, before, since, pod and network`);
    }
  });
}
