import path from 'node:path';
import type { ContainerRecord } from '../runtime/container-store.js';
import { humanDuration } from '../format/human.js';
import { TspodError } from '../util/errors.js';
import type { PodRecord } from './store.js';

/** One `pod ps` row: the fields Podman's templates name (.ID, .Name, .Status, .InfraID, .NumberOfContainers, ...). */
export function podPsRow(pod: PodRecord, status: string, members: ContainerRecord[], opts: { noTrunc: boolean }, now = Date.now()) {
  const id = (x: string) => (opts.noTrunc ? x : x.slice(0, 12));
  return {
    ID: id(pod.id),
    Name: pod.name,
    Status: status,
    Created: `${humanDuration(now - Date.parse(pod.created))} ago`,
    InfraID: pod.infraId ? id(pod.infraId) : '',
    NumberOfContainers: members.length,
    Labels: pod.labels,
    ContainerNames: members.map((c) => c.name).join(','),
    ContainerIds: members.map((c) => id(c.id)).join(','),
    ContainerStatuses: members.map((c) => c.state.status).join(','),
  };
}

/** `pod ps --format json`: Podman's ListPodsReport. */
export function podPsJson(pod: PodRecord, status: string, members: ContainerRecord[]) {
  return {
    Cgroup: '',
    Containers: members.map((c) => ({ Id: c.id, Names: c.name, Status: c.state.status })),
    Created: pod.created,
    Id: pod.id,
    InfraId: pod.infraId ?? '',
    Name: pod.name,
    Namespace: '',
    Networks: [],
    Status: status,
    Labels: pod.labels,
  };
}

/** `pod inspect`: Podman's InspectPodData, the parts tspod has. */
export function podInspectJson(pod: PodRecord, status: string, members: ContainerRecord[], storageRoot?: string) {
  const infra = members.find((c) => c.config.isInfra);
  const ports: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of infra?.config.ports ?? []) {
    for (let i = 0; i < (p.range || 1); i++) {
      (ports[`${p.containerPort + i}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort + i) });
    }
  }
  return {
    Id: pod.id,
    Name: pod.name,
    Created: pod.created,
    CreateCommand: pod.createCommand,
    ExitPolicy: pod.exitPolicy,
    State: status,
    Hostname: pod.hostname,
    Labels: pod.labels,
    CreateCgroup: false,
    CreateInfra: pod.infraId !== undefined,
    InfraContainerID: pod.infraId ?? '',
    InfraConfig: infra
      ? {
          PortBindings: ports,
          HostNetwork: infra.config.network === 'host',
          NetworkMode: infra.config.network,
          DNSServer: infra.config.dns?.servers ?? null,
          HostAdd: infra.config.addHosts?.map((h) => `${h.names[0]}:${h.ip}`) ?? null,
          StaticIP: infra.config.networks?.[0]?.ip ?? '',
          StaticMAC: infra.config.networks?.[0]?.mac ?? '',
          Networks: infra.config.networks?.map((n) => n.name) ?? null,
          uts_ns: 'private',
        }
      : undefined,
    SharedNamespaces: pod.share,
    NumContainers: members.length,
    Containers: members.map((c) => ({ Id: c.id, Name: c.name, State: c.state.status })),
    // pod create -v, under Podman's (lower-case) key.
    ...(pod.volumes?.length
      ? {
          mounts: pod.volumes.map((m) => ({
            Type: m.kind,
            ...(m.kind === 'volume' ? { Name: m.source, Driver: 'local' } : {}),
            Source: m.kind === 'volume' && storageRoot ? path.join(storageRoot, 'volumes', m.source, '_data') : m.source,
            Destination: m.destination,
            RW: !m.readonly,
          })),
        }
      : {}),
  };
}

/** `pod ps --filter`: name=, id=, status=, label=KEY[=VALUE], ctr-names=, ctr-ids= (repeated keys: any; different keys: all). */
export function podMatches(row: { pod: PodRecord; status: string; members: ContainerRecord[] }, filters: string[]): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new TspodError(`invalid filter "${f}": use KEY=VALUE (name, id, status, label, ctr-names, ctr-ids)`);
    const key = f.slice(0, eq);
    byKey.set(key, [...(byKey.get(key) ?? []), f.slice(eq + 1)]);
  }
  for (const [key, values] of byKey) {
    const ok = values.some((v) => {
      switch (key) {
        case 'name':
          return new RegExp(v).test(row.pod.name);
        case 'id':
          return row.pod.id.startsWith(v);
        case 'status':
          return row.status.toLowerCase() === v.toLowerCase();
        case 'label': {
          const eq = v.indexOf('=');
          const k = eq < 0 ? v : v.slice(0, eq);
          return k in row.pod.labels && (eq < 0 || row.pod.labels[k] === v.slice(eq + 1));
        }
        case 'ctr-names':
          return row.members.some((c) => c.name === v);
        case 'ctr-ids':
          return row.members.some((c) => c.id.startsWith(v));
        default:
          throw new TspodError(`invalid filter "${key}": pod ps filters on name, id, status, label, ctr-names and ctr-ids`);
      }
    });
    if (!ok) return false;
  }
  return true;
}
