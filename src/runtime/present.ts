import type { ContainerRecord } from './container-store.js';
import { humanDuration } from '../format/human.js';
import { formatPortsColumn } from '../network/ports.js';
import { formatRanges } from './id-mappings.js';

export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const st = rec.state;
  if (st.status === 'running') return `Up ${humanDuration(now - Date.parse(st.startedAt ?? rec.created))} ago`;
  if (st.status === 'paused') return 'Paused';
  if (st.status === 'exited') return `Exited (${st.exitCode}) ${humanDuration(now - Date.parse(st.finishedAt ?? rec.created))} ago`;
  return 'Created';
}

/** One `ps` row: the fields Podman's templates name (.ID, .Names, .Status, ...). */
export function psRow(rec: ContainerRecord, opts: { noTrunc: boolean; podName?: string }, now = Date.now()) {
  const created = Date.parse(rec.created);
  return {
    ID: opts.noTrunc ? rec.id : rec.id.slice(0, 12),
    Image: rec.config.imageName,
    Command: rec.config.command.join(' '),
    CreatedHuman: `${humanDuration(now - created)} ago`,
    CreatedAt: `${humanDuration(now - created)} ago`,
    Created: new Date(created),
    Status: statusText(rec, now),
    State: rec.state.status,
    Ports: formatPortsColumn(rec.config.ports ?? []),
    Names: rec.name,
    Labels: rec.config.labels,
    Pid: rec.state.pid,
    ExitCode: rec.state.exitCode,
    AutoRemove: rec.config.autoRemove,
    Pod: rec.config.pod ? (opts.noTrunc ? rec.config.pod : rec.config.pod.slice(0, 12)) : '',
    PodName: opts.podName ?? '',
  };
}

/** `ps --format json`: Podman's ListContainer shape. */
export function psJson(rec: ContainerRecord) {
  const unix = (iso?: string) => (iso ? Math.floor(Date.parse(iso) / 1000) : -62135596800);
  return {
    AutoRemove: rec.config.autoRemove,
    Command: rec.config.command,
    CreatedAt: `${humanDuration(Date.now() - Date.parse(rec.created))} ago`,
    Exited: rec.state.status === 'exited',
    ExitedAt: unix(rec.state.finishedAt),
    ExitCode: rec.state.exitCode,
    Id: rec.id,
    Image: rec.config.rootfsImage ? '' : rec.config.imageName,
    ImageID: '',
    IsInfra: rec.config.isInfra ?? false,
    Labels: Object.keys(rec.config.labels).length ? rec.config.labels : null,
    Mounts: [],
    Names: [rec.name],
    Namespaces: {},
    Networks: [],
    Pid: rec.state.pid,
    Pod: rec.config.pod ?? '',
    PodName: '',
    Ports: (rec.config.ports ?? []).length
      ? rec.config.ports.map((p) => ({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: p.range, protocol: p.protocol }))
      : null,
    Size: null,
    StartedAt: unix(rec.state.startedAt),
    State: rec.state.status,
    Status: statusText(rec),
    Created: unix(rec.created),
  };
}

/** `inspect`: Podman's InspectContainerData, the parts tspod has. */
export function inspectJson(rec: ContainerRecord, logPath: string) {
  const c = rec.config;
  const st = rec.state;
  const zeroTime = '0001-01-01T00:00:00Z';
  return {
    Id: rec.id,
    Created: rec.created,
    Path: c.command[0],
    Args: c.command.slice(1),
    State: {
      OciVersion: '1.1.0',
      Status: st.status,
      Running: st.status === 'running',
      Paused: st.status === 'paused',
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: st.pid,
      ConmonPid: st.monitorPid,
      ExitCode: st.exitCode,
      Error: st.error ?? '',
      StartedAt: st.startedAt ?? zeroTime,
      FinishedAt: st.finishedAt ?? zeroTime,
    },
    Image: '',
    ImageName: c.imageName,
    Rootfs: c.rootfsImage ? c.rootfs : '',
    Name: rec.name,
    Pod: c.pod ?? '',
    RestartCount: st.restartCount ?? 0,
    Driver: c.rootfsImage ? '' : 'overlay',
    LogPath: logPath,
    Config: {
      Hostname: c.hostname,
      User: c.user ?? '',
      Env: c.env,
      Cmd: c.command,
      Image: c.imageName,
      WorkingDir: c.workdir,
      Labels: c.labels,
      StopSignal: c.stopSignal,
      StopTimeout: c.stopTimeout,
      OpenStdin: c.interactive,
    },
    HostConfig: {
      AutoRemove: c.autoRemove,
      // Podman shows "bridge" for containers on user-defined networks.
      NetworkMode: c.networks ? 'bridge' : c.network,
      Privileged: c.privileged,
      ReadonlyRootfs: c.readOnly,
      CapAdd: c.capAdd,
      CapDrop: c.capDrop,
      LogConfig: { Type: 'k8s-file', Path: logPath },
      RestartPolicy: { Name: c.restartPolicy?.name ?? '', MaximumRetryCount: c.restartPolicy?.maxRetries ?? 0 },
      // As Podman 4.3 shows them: "private" for keep-id and --uidmap, "" for auto (and none).
      UsernsMode: c.userns && c.userns.mode !== 'auto' ? 'private' : '',
      ...(c.userns ? { IDMappings: { UidMap: formatRanges(c.userns.uidMap), GidMap: formatRanges(c.userns.gidMap) } } : {}),
    },
  };
}
