/**
 * Quadlet: `.container`, `.volume`, `.network`, `.kube`, `.image` and `.pod`
 * files (keys as podman-systemd.unit(5) documents them) turned into service
 * units that run tspod, shaped like the ones Podman's Quadlet writes. The
 * sections a file shares with systemd ([Unit], [Service], [Install]...) are
 * carried over; the tspod section is kept as [X-Container] etc. for reference.
 */
import path from 'node:path';
import { execArg } from '../escape.js';
import { splitWords, type UnitEntry, type UnitFile, type UnitSection } from './unitfile.js';

export const QUADLET_KINDS = ['container', 'volume', 'network', 'kube', 'image', 'pod'] as const;
export type QuadletKind = (typeof QUADLET_KINDS)[number];

export interface Warning {
  file: string;
  line: number;
  message: string;
}

export interface ConvertContext {
  /** Absolute tspod command the units run. */
  tspod: string;
  /** All quadlet files found (by file name), to resolve `x.volume`, `x.network`, `x.pod`, `x.image` references. */
  files: Map<string, UnitFile>;
  warnings: Warning[];
}

export interface ServiceUnit {
  /** `web.service`, `data-volume.service`... */
  name: string;
  sections: UnitSection[];
}

type Args = string[];
type Handler = (value: string, e: UnitEntry, st: ConvState) => void;

interface ConvState {
  file: UnitFile;
  ctx: ConvertContext;
  args: Args;
  globalArgs: Args;
  unit: UnitEntry[];
  service: UnitEntry[];
  extra: Map<string, string>;
}

const bool = (v: string) => /^(1|yes|true|on)$/i.test(v.trim());
const add = (...a: string[]) => (st: ConvState) => st.args.push(...a);
const flag = (name: string): Handler => (v, _e, st) => {
  if (bool(v)) st.args.push(name);
};
const opt = (name: string): Handler => (v, _e, st) => {
  if (v !== '') st.args.push(`${name}=${v}`);
};
/** One option per space-separated word (Label=a=1 b=2, AddCapability=A B). */
const optWords = (name: string): Handler => (v, _e, st) => {
  for (const w of splitWords(v)) st.args.push(`${name}=${w}`);
};
const keep = (key: string): Handler => (v, _e, st) => st.extra.set(key, v);

/** `foo.volume:/data` → the volume's name and a dependency on its unit. */
function resolveRef(st: ConvState, value: string, kind: QuadletKind, nameKey: string): string {
  const sep = value.indexOf(':');
  const head = sep < 0 ? value : value.slice(0, sep);
  if (!head.endsWith(`.${kind}`)) return value;
  const target = st.ctx.files.get(head);
  const base = head.slice(0, -(kind.length + 1));
  const unitName = kind === 'pod' || kind === 'volume' || kind === 'network' || kind === 'image' ? `${base}-${kind}.service` : `${base}.service`;
  st.unit.push({ key: 'Requires', value: unitName, line: 0 }, { key: 'After', value: unitName, line: 0 });
  const named = target?.sections.find((s) => s.name === capital(kind))?.entries.find((e) => e.key === nameKey)?.value;
  const resolved = kind === 'image' ? (named ?? base) : (named ?? `systemd-${base}`);
  return sep < 0 ? resolved : resolved + value.slice(sep);
}

const capital = (k: string) => k[0].toUpperCase() + k.slice(1);

const COMMON: Record<string, Handler> = {
  PodmanArgs: (v, _e, st) => st.args.push(...splitWords(v)),
  GlobalArgs: (v, _e, st) => st.globalArgs.push(...splitWords(v)),
  ContainersConfModule: (v, _e, st) => st.globalArgs.push(`--module=${v}`),
  Label: optWords('--label'),
};

const CONTAINER_KEYS: Record<string, Handler> = {
  ...COMMON,
  Image: (v, _e, st) => st.extra.set('Image', resolveRef(st, v, 'image', 'ImageName')),
  Rootfs: keep('Rootfs'),
  Exec: keep('Exec'),
  ContainerName: keep('ContainerName'),
  Environment: (v, _e, st) => {
    for (const w of splitWords(v)) st.args.push('--env', w);
  },
  EnvironmentFile: opt('--env-file'),
  EnvironmentHost: flag('--env-host'),
  PublishPort: (v, _e, st) => st.args.push('--publish', v),
  ExposeHostPort: opt('--expose'),
  Volume: (v, _e, st) => st.args.push('-v', resolveRef(st, v, 'volume', 'VolumeName')),
  Network: (v, _e, st) => st.args.push(`--network=${resolveRef(st, v, 'network', 'NetworkName')}`),
  Pod: (v, _e, st) => st.args.push(`--pod=${resolveRef(st, v, 'pod', 'PodName')}`),
  User: keep('User'),
  Group: keep('Group'),
  UserNS: opt('--userns'),
  UIDMap: opt('--uidmap'),
  GIDMap: opt('--gidmap'),
  SubUIDMap: opt('--subuidname'),
  SubGIDMap: opt('--subgidname'),
  Annotation: optWords('--annotation'),
  AutoUpdate: (v, _e, st) => st.args.push(`--label=io.containers.autoupdate=${v}`),
  HealthCmd: (v, _e, st) => st.args.push('--health-cmd', v),
  HealthInterval: opt('--health-interval'),
  HealthRetries: opt('--health-retries'),
  HealthStartPeriod: opt('--health-start-period'),
  HealthTimeout: opt('--health-timeout'),
  HealthOnFailure: opt('--health-on-failure'),
  HealthStartupCmd: opt('--health-startup-cmd'),
  HealthStartupInterval: opt('--health-startup-interval'),
  HealthStartupRetries: opt('--health-startup-retries'),
  HealthStartupSuccess: opt('--health-startup-success'),
  HealthStartupTimeout: opt('--health-startup-timeout'),
  WorkingDir: opt('--workdir'),
  HostName: opt('--hostname'),
  AddCapability: optWords('--cap-add'),
  DropCapability: optWords('--cap-drop'),
  ReadOnly: flag('--read-only'),
  ReadOnlyTmpfs: (v, _e, st) => st.args.push(`--read-only-tmpfs=${bool(v)}`),
  Notify: keep('Notify'),
  Timezone: opt('--tz'),
  Secret: (v, _e, st) => st.args.push('--secret', v),
  Tmpfs: opt('--tmpfs'),
  Mount: opt('--mount'),
  RunInit: flag('--init'),
  NoNewPrivileges: (v, _e, st) => {
    if (bool(v)) st.args.push('--security-opt=no-new-privileges');
  },
  SeccompProfile: (v, _e, st) => st.args.push(`--security-opt=seccomp=${v}`),
  SecurityLabelDisable: (v, _e, st) => {
    if (bool(v)) st.args.push('--security-opt=label=disable');
  },
  SecurityLabelType: (v, _e, st) => st.args.push(`--security-opt=label=type:${v}`),
  SecurityLabelLevel: (v, _e, st) => st.args.push(`--security-opt=label=level:${v}`),
  SecurityLabelFileType: (v, _e, st) => st.args.push(`--security-opt=label=filetype:${v}`),
  IP: opt('--ip'),
  IP6: opt('--ip6'),
  LogDriver: opt('--log-driver'),
  LogOpt: opt('--log-opt'),
  Ulimit: opt('--ulimit'),
  Sysctl: optWords('--sysctl'),
  StopTimeout: opt('--stop-timeout'),
  StopSignal: opt('--stop-signal'),
  Pull: opt('--pull'),
  AddDevice: opt('--device'),
  ShmSize: opt('--shm-size'),
  DNS: opt('--dns'),
  DNSSearch: opt('--dns-search'),
  DNSOption: opt('--dns-option'),
  Entrypoint: opt('--entrypoint'),
  Memory: opt('--memory'),
  PidsLimit: opt('--pids-limit'),
  Privileged: flag('--privileged'),
  Interactive: flag('--interactive'),
};

const VOLUME_KEYS: Record<string, Handler> = {
  ...COMMON,
  VolumeName: keep('VolumeName'),
  Driver: opt('--driver'),
  Device: (v, _e, st) => st.args.push('--opt', `device=${v}`),
  Type: (v, _e, st) => st.args.push('--opt', `type=${v}`),
  Options: (v, _e, st) => st.args.push('--opt', `o=${v}`),
  Copy: (v, _e, st) => st.args.push('--opt', bool(v) ? 'copy' : 'nocopy'),
  User: keep('User'),
  Group: keep('Group'),
  Image: (v, _e, st) => st.args.push('--opt', `image=${resolveRef(st, v, 'image', 'ImageName')}`),
};

const NETWORK_KEYS: Record<string, Handler> = {
  ...COMMON,
  NetworkName: keep('NetworkName'),
  Driver: opt('--driver'),
  Subnet: opt('--subnet'),
  Gateway: opt('--gateway'),
  IPRange: opt('--ip-range'),
  IPv6: flag('--ipv6'),
  Internal: flag('--internal'),
  DisableDNS: flag('--disable-dns'),
  DNS: opt('--dns'),
  IPAMDriver: opt('--ipam-driver'),
  Options: opt('--opt'),
};

const KUBE_KEYS: Record<string, Handler> = {
  ...COMMON,
  Yaml: keep('Yaml'),
  ConfigMap: opt('--configmap'),
  PublishPort: (v, _e, st) => st.args.push('--publish', v),
  Network: (v, _e, st) => st.args.push(`--network=${resolveRef(st, v, 'network', 'NetworkName')}`),
  UserNS: opt('--userns'),
  LogDriver: opt('--log-driver'),
  AutoUpdate: (v, _e, st) => st.args.push(`--annotation=io.containers.autoupdate=${v}`),
  ExitCodePropagation: opt('--service-exit-code-propagation'),
  KubeDownForce: keep('KubeDownForce'),
  SetWorkingDirectory: keep('SetWorkingDirectory'),
};

const IMAGE_KEYS: Record<string, Handler> = {
  ...COMMON,
  Image: keep('Image'),
  ImageTag: keep('ImageTag'),
  AllTags: flag('--all-tags'),
  Arch: opt('--arch'),
  OS: opt('--os'),
  Variant: opt('--variant'),
  AuthFile: opt('--authfile'),
  CertDir: opt('--cert-dir'),
  Creds: opt('--creds'),
  DecryptionKey: opt('--decryption-key'),
  TLSVerify: (v, _e, st) => st.args.push(`--tls-verify=${bool(v)}`),
};

const POD_KEYS: Record<string, Handler> = {
  ...COMMON,
  PodName: keep('PodName'),
  Network: (v, _e, st) => st.args.push(`--network=${resolveRef(st, v, 'network', 'NetworkName')}`),
  PublishPort: (v, _e, st) => st.args.push('--publish', v),
  Volume: (v, _e, st) => st.args.push('-v', resolveRef(st, v, 'volume', 'VolumeName')),
  // Podman's Quadlet passes it on; tspod's pod create refuses --userns, so say so now rather than only when the service fails.
  UserNS: (v, e, st) => {
    st.ctx.warnings.push({ file: st.file.path, line: e.line, message: `UserNS=${v}: tspod pod create does not support --userns yet, so the pod's service will fail; drop UserNS= from the [Pod] section` });
    opt('--userns')(v, e, st);
  },
  IP: opt('--ip'),
  IP6: opt('--ip6'),
  DNS: opt('--dns'),
  HostName: opt('--hostname'),
};

const KEYS: Record<QuadletKind, Record<string, Handler>> = {
  container: CONTAINER_KEYS,
  volume: VOLUME_KEYS,
  network: NETWORK_KEYS,
  kube: KUBE_KEYS,
  image: IMAGE_KEYS,
  pod: POD_KEYS,
};

/** Unit sections systemd itself knows: carried over as they are. */
const SYSTEMD_SECTIONS = new Set(['Unit', 'Service', 'Install', 'Socket', 'Timer', 'Path']);

export function kindOf(file: string): QuadletKind | undefined {
  const ext = path.extname(file).slice(1);
  return (QUADLET_KINDS as readonly string[]).includes(ext) ? (ext as QuadletKind) : undefined;
}

export function serviceName(file: string): string {
  const kind = kindOf(file)!;
  const base = path.basename(file, `.${kind}`);
  return kind === 'container' || kind === 'kube' ? `${base}.service` : `${base}-${kind}.service`;
}

export function convert(file: UnitFile, ctx: ConvertContext): ServiceUnit {
  const kind = kindOf(file.path)!;
  const base = path.basename(file.path, `.${kind}`);
  const section = capital(kind);
  const st: ConvState = { file, ctx, args: [], globalArgs: [], unit: [], service: [], extra: new Map() };
  const handlers = KEYS[kind];
  const own = file.sections.filter((s) => s.name === section);
  if (own.length === 0) ctx.warnings.push({ file: file.path, line: 1, message: `no [${section}] section` });
  for (const s of own) {
    for (const e of s.entries) {
      const h = handlers[e.key];
      if (!h) {
        ctx.warnings.push({ file: file.path, line: e.line, message: `unsupported key '${e.key}' in group '${section}'` });
        continue;
      }
      h(e.value, e, st);
    }
  }
  for (const s of file.sections) {
    if (s.name !== section && !SYSTEMD_SECTIONS.has(s.name) && !s.name.startsWith('X-')) {
      ctx.warnings.push({ file: file.path, line: s.entries[0]?.line ?? 1, message: `unsupported group '${s.name}'` });
    }
  }

  const T = execArg(ctx.tspod);
  const G = st.globalArgs.map((a) => execArg(a, { keepSpecifiers: true }));
  const cmd = (...words: string[]) => [T, ...G, ...words].join(' ');
  const q = (a: string[]) => a.map((x) => execArg(x, { keepSpecifiers: true }));
  const service: string[][] = [];
  const unit: string[][] = [['Wants', 'network-online.target'], ['After', 'network-online.target']];
  unit.push(['SourcePath', file.path], ['RequiresMountsFor', '%t/tspod']);

  switch (kind) {
    case 'container': {
      // A template (name@.container) runs one container per instance.
      const name = st.extra.get('ContainerName') ?? (base.endsWith('@') ? 'systemd-%p_%i' : `systemd-${base}`);
      const user = st.extra.get('User');
      const group = st.extra.get('Group');
      const run = ['run', `--name=${name}`, '--cidfile=%t/%N.cid', '--replace', '--rm', '-d'];
      run.push(bool(st.extra.get('Notify') ?? '') ? '--sdnotify=container' : '--sdnotify=conmon');
      const userArgs = user !== undefined ? [`--user=${group !== undefined ? `${user}:${group}` : user}`] : [];
      const rootfs = st.extra.get('Rootfs');
      const image = st.extra.get('Image');
      if (!rootfs && !image) ctx.warnings.push({ file: file.path, line: 1, message: 'neither Image= nor Rootfs= is set' });
      const what = rootfs ? ['--rootfs', rootfs] : [image ?? ''];
      const exec = splitWords(st.extra.get('Exec') ?? '');
      service.push(
        ['Environment', 'TSPOD_SYSTEMD_UNIT=%n'],
        ['KillMode', 'mixed'],
        ['ExecStop', cmd('rm', '-v', '-f', '-i', '--cidfile=%t/%N.cid')],
        ['ExecStopPost', `-${cmd('rm', '-v', '-f', '-i', '--cidfile=%t/%N.cid')}`],
        ['Delegate', 'yes'],
        ['Type', 'notify'],
        ['NotifyAccess', 'all'],
        ['SyslogIdentifier', '%N'],
        ['ExecStart', cmd(...q([...run, ...userArgs, ...st.args, ...what, ...exec]))],
      );
      break;
    }
    case 'volume': {
      const name = st.extra.get('VolumeName') ?? `systemd-${base}`;
      const uid = st.extra.get('User');
      const gid = st.extra.get('Group');
      const owner = [...(uid ? ['--opt', `uid=${uid}`] : []), ...(gid ? ['--opt', `gid=${gid}`] : [])];
      service.push(['Type', 'oneshot'], ['RemainAfterExit', 'yes'], ['ExecStart', cmd(...q(['volume', 'create', '--ignore', ...owner, ...st.args, name]))], ['SyslogIdentifier', '%N']);
      break;
    }
    case 'network': {
      const name = st.extra.get('NetworkName') ?? `systemd-${base}`;
      service.push(['Type', 'oneshot'], ['RemainAfterExit', 'yes'], ['ExecStart', cmd(...q(['network', 'create', '--ignore', ...st.args, name]))], ['SyslogIdentifier', '%N']);
      break;
    }
    case 'kube': {
      const yamlRaw = st.extra.get('Yaml');
      if (!yamlRaw) ctx.warnings.push({ file: file.path, line: 1, message: 'no Yaml= key' });
      const yaml = yamlRaw ? path.resolve(path.dirname(file.path), yamlRaw) : '';
      const down = ['kube', 'down', ...(bool(st.extra.get('KubeDownForce') ?? '') ? ['--force'] : []), yaml];
      if (bool(st.extra.get('SetWorkingDirectory') ?? '') || st.extra.get('SetWorkingDirectory') === 'yaml') {
        service.push(['WorkingDirectory', path.dirname(yaml)]);
      }
      service.push(
        ['Environment', 'TSPOD_SYSTEMD_UNIT=%n'],
        ['KillMode', 'mixed'],
        ['Type', 'notify'],
        ['NotifyAccess', 'all'],
        ['SyslogIdentifier', '%N'],
        ['ExecStart', cmd(...q(['kube', 'play', '--replace', '--service-container=true', ...st.args, yaml]))],
        ['ExecStopPost', cmd(...q(down))],
      );
      break;
    }
    case 'image': {
      const image = st.extra.get('Image');
      if (!image) ctx.warnings.push({ file: file.path, line: 1, message: 'no Image= key' });
      service.push(['Type', 'oneshot'], ['RemainAfterExit', 'yes'], ['ExecStart', cmd(...q(['image', 'pull', ...st.args, image ?? '']))], ['SyslogIdentifier', '%N']);
      break;
    }
    case 'pod': {
      const name = st.extra.get('PodName') ?? `systemd-${base}`;
      service.push(
        ['Environment', 'TSPOD_SYSTEMD_UNIT=%n'],
        ['Type', 'forking'],
        ['Restart', 'on-failure'],
        ['PIDFile', '%t/%N.pid'],
        ['ExecStartPre', cmd(...q(['pod', 'create', '--infra-conmon-pidfile=%t/%N.pid', '--pod-id-file=%t/%N.pod-id', '--exit-policy=stop', '--replace', ...st.args, `--infra-name=${name}-infra`, `--name=${name}`]))],
        ['ExecStart', cmd('pod', 'start', '--pod-id-file=%t/%N.pod-id')],
        ['ExecStop', cmd('pod', 'stop', '--ignore', '--pod-id-file=%t/%N.pod-id', '--time=10')],
        ['ExecStopPost', cmd('pod', 'rm', '--ignore', '--force', '--pod-id-file=%t/%N.pod-id')],
        ['SyslogIdentifier', '%N'],
      );
      break;
    }
  }

  const out: UnitSection[] = [];
  const userUnit = file.sections.filter((s) => s.name === 'Unit').flatMap((s) => s.entries);
  out.push({ name: 'Unit', entries: [...toEntries(unit), ...st.unit, ...userUnit] });
  out.push({ name: `X-${section}`, entries: own.flatMap((s) => s.entries) });
  const userService = file.sections.filter((s) => s.name === 'Service').flatMap((s) => s.entries);
  out.push({ name: 'Service', entries: [...toEntries(service), ...userService] });
  for (const s of file.sections) {
    if (s.name !== 'Unit' && s.name !== 'Service' && s.name !== section && (SYSTEMD_SECTIONS.has(s.name) || s.name.startsWith('X-'))) out.push(s);
  }
  return { name: serviceName(file.path), sections: out };
}

function toEntries(pairs: string[][]): UnitEntry[] {
  return pairs.map(([key, value]) => ({ key, value, line: 0 }));
}
