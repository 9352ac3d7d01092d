/**
 * The rules table: how each option's value and each command's arguments are
 * completed. Options are found by long name (`--network`), or by
 * `COMMAND --name` where one name means different things in different commands
 * (`stop --time` is seconds, `generate systemd --restart-policy` is systemd's).
 * Rules for options tspod does not have yet are ready for when they arrive; a
 * unit test fails when an option that takes a value has no rule at all.
 */
import type { Candidate } from './protocol.js';

export type Rule =
  /** Free text (a name, a number): nothing to offer, and no file names either. */
  | { kind: 'none' }
  | { kind: 'words'; words: Candidate[]; noSpace?: boolean }
  /** File names (optionally only these extensions). */
  | { kind: 'files'; ext?: string[] }
  | { kind: 'dirs' }
  | { kind: 'containers'; statuses?: readonly string[] }
  | { kind: 'images' }
  | { kind: 'volumes' }
  | { kind: 'pods' }
  /** generate kube: containers and pods alike */
  | { kind: 'containers-or-pods' }
  /** --network: the modes and the user networks */
  | { kind: 'network-modes' }
  | { kind: 'networks' }
  | { kind: 'signals' }
  | { kind: 'capabilities' }
  | { kind: 'format' }
  /** -v/--volume: volume names, or host paths (SOURCE:DEST) */
  | { kind: 'volume-or-path' }
  | { kind: 'filter'; keys: Record<string, Rule> }
  /** run/create's first argument: an image, or a directory with --rootfs */
  | { kind: 'image-or-rootfs' }
  /** a command name inside the container or on the host: leave it to the shell */
  | { kind: 'default' };

const none: Rule = { kind: 'none' };
const files: Rule = { kind: 'files' };
const dirs: Rule = { kind: 'dirs' };
const words = (...ws: (string | [string, string])[]): Rule => ({
  kind: 'words',
  words: ws.map((w) => (Array.isArray(w) ? { value: w[0], description: w[1] } : { value: w })),
});

export const RUNNING = ['running'] as const;
export const STOPPED = ['created', 'exited', 'stopped', 'configured'] as const;

const LOG_LEVELS = words('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'panic');

const CONTAINER_FILTERS: Rule = {
  kind: 'filter',
  keys: {
    id: { kind: 'containers' },
    name: { kind: 'containers' },
    status: words('created', 'running', 'exited', 'paused', 'stopped', 'configured'),
    label: none,
    exited: none,
    ancestor: { kind: 'images' },
    volume: { kind: 'volumes' },
    network: { kind: 'networks' },
    pod: { kind: 'pods' },
    before: { kind: 'containers' },
    since: { kind: 'containers' },
  },
};

const NETWORK_FILTERS: Rule = {
  kind: 'filter',
  keys: { name: { kind: 'networks' }, id: none, label: none, driver: words('bridge') },
};

const VOLUME_FILTERS: Rule = {
  kind: 'filter',
  keys: { name: { kind: 'volumes' }, label: none, driver: words('local'), dangling: words('true', 'false'), until: none },
};

/** Option value rules by long name, or `COMMAND --name` (COMMAND as the first path). */
export const OPTION_RULES: Record<string, Rule> = {
  // global options
  '--log-level': LOG_LEVELS,
  '--root': dirs,
  '--runroot': dirs,
  '--storage-driver': words(['overlay', 'kernel overlayfs, else fuse-overlayfs'], ['vfs', 'plain copies']),
  '--storage-opt': none,
  '--cgroup-manager': words('cgroupfs', 'systemd'),
  '--events-backend': words('file', 'journald', 'none'),
  '--tmpdir': dirs,
  '--url': none,
  '--connection': none,

  // container create and run
  '--name': none,
  '--env': none,
  '--env-file': files,
  '--workdir': none,
  '--hostname': none,
  '--network': { kind: 'network-modes' },
  '--net': { kind: 'network-modes' },
  '--user': none,
  '--cap-add': { kind: 'capabilities' },
  '--cap-drop': { kind: 'capabilities' },
  '--label': none,
  '--label-file': files,
  '--annotation': none,
  '--stop-signal': { kind: 'signals' },
  '--stop-timeout': none,
  '--restart': words(
    ['no', 'never restart'],
    ['on-failure', 'restart when the exit status is not 0 (on-failure[:max_retries])'],
    ['always', 'always restart'],
    ['unless-stopped', 'always restart, unless stopped by the user'],
  ),
  '--pull': words(['always', 'pull every time'], ['missing', 'pull when not in the store'], ['never', 'never pull'], ['newer', 'pull when the registry has a newer one']),
  '--publish': none,
  '--expose': none,
  '--volume': { kind: 'volume-or-path' },
  '--mount': none,
  '--tmpfs': none,
  '--device': files,
  '--cidfile': files,
  '--pidfile': files,
  '--conmon-pidfile': files,
  '--sdnotify': words('container', 'conmon', 'healthy', 'ignore'),
  '--entrypoint': none,
  '--pod': { kind: 'pods' },
  '--dns': none,
  '--dns-search': none,
  '--dns-option': none,
  '--add-host': none,
  '--ip': none,
  '--ip6': none,
  '--mac-address': none,
  '--network-alias': none,
  '--memory': none,
  '--cpus': none,
  '--pids-limit': none,
  '--ulimit': none,
  '--userns': words('auto', 'host', 'keep-id', 'nomap', 'ns:'),
  '--uidmap': none,
  '--gidmap': none,
  '--volumes-from': { kind: 'containers' },
  '--ipc': words('host', 'none', 'private', 'shareable', 'container:', 'ns:'),
  '--pid': words('host', 'private', 'container:', 'ns:'),
  '--uts': words('host', 'private', 'container:', 'ns:'),
  '--cgroupns': words('host', 'private'),
  '--security-opt': words('apparmor=', 'label=', 'no-new-privileges', 'seccomp=', 'mask=', 'unmask='),
  '--log-driver': words('k8s-file', 'journald', 'none', 'passthrough'),
  '--log-opt': words('path=', 'max-size=', 'tag='),
  '--health-cmd': none,
  '--health-interval': none,
  '--health-retries': none,
  '--health-start-period': none,
  '--health-timeout': none,
  '--health-on-failure': words('none', 'kill', 'restart', 'stop'),
  '--tz': none,
  '--secret': none,
  '--authfile': files,
  '--cert-dir': dirs,
  '--platform': none,
  '--arch': none,
  '--os': none,
  '--detach-keys': words(['ctrl-p,ctrl-q', 'the default'], ['', 'no detach keys']),
  '--sig-proxy': words('true', 'false'),
  '--systemd': words('true', 'false', 'always'),
  '--init-path': files,
  '--rootfs': dirs,

  // acting on containers
  'cp --archive': words('true', 'false'),
  'commit --author': none,
  'commit --change': none,
  'commit --message': none,
  'commit --format': words(['oci', 'OCI image manifest and config (default)'], ['docker', 'Docker v2 schema 2 manifest and config']),
  'commit --iidfile': files,
  '--signal': { kind: 'signals' },
  '--time': none,
  '--timeout': none,
  'ps --filter': CONTAINER_FILTERS,
  'ps --format': { kind: 'format' },
  'ps --last': none,
  '--format': { kind: 'format' },
  '--type': words('container', 'image', 'volume', 'network', 'pod', 'all'),
  '--tail': none,
  '--since': none,
  '--until': none,
  '--condition': words('created', 'exited', 'healthy', 'paused', 'running', 'stopped', 'unhealthy'),
  '--interval': none,

  // volumes
  'volume create --opt': words('type=', 'device=', 'o='),
  '--opt': none,
  '--driver': words('local'),
  'volume ls --filter': VOLUME_FILTERS,
  'volume prune --filter': VOLUME_FILTERS,
  // networks
  'network create --driver': words('bridge'),
  '--subnet': none,
  '--gateway': none,
  'network connect --alias': none,
  'network ls --filter': NETWORK_FILTERS,
  'network prune --filter': NETWORK_FILTERS,
  '--filter': none,

  // images
  'images --sort': words('created', 'id', 'repository', 'size', 'tag'),
  'ps --sort': words('command', 'created', 'id', 'image', 'names', 'runningfor', 'size', 'status'),
  'images --filter': {
    kind: 'filter',
    keys: { reference: { kind: 'images' }, dangling: words('true', 'false'), label: none, id: none, before: { kind: 'images' }, since: { kind: 'images' } },
  },
  '--creds': none,
  '--username': none,
  '--password': none,
  '--tls-verify': words('true', 'false'),
  '--digestfile': files,
  'load --input': files,
  'save --output': files,
  'export --output': files,
  'import --change': none,
  'import --message': none,
  'save --format': words(['docker-archive', 'a docker save tarball'], ['oci-archive', 'an OCI image layout tarball'], ['oci-dir', 'an OCI image layout directory'], ['docker-dir', 'a directory of blobs']),
  '--variant': none,
  '--new-runtime': none,

  // completion
  'completion --file': files,

  // generate systemd
  'generate systemd --format': words(['json', 'a JSON object of the units']),
  'generate systemd --restart-policy': words(
    ['no', 'never restart'],
    ['on-success', 'restart after a clean exit'],
    ['on-failure', 'restart after an unclean exit (default)'],
    ['on-abnormal', 'restart after a signal or a timeout'],
    ['on-watchdog', 'restart after a watchdog timeout'],
    ['on-abort', 'restart after an unclean signal'],
    ['always', 'always restart'],
  ),
  '--restart-sec': none,
  '--start-timeout': none,
  '--container-prefix': none,
  '--pod-prefix': none,
  '--separator': none,
  '--wants': none,
  '--after': none,
  '--requires': none,
  '--env-host': none,

  // quadlet
  '--unit-dirs': dirs,

  // pods
  '--share': words(['ipc,net,uts', 'the default'], ['net', 'the network only'], ['+', 'add to the default (+uts)'], ['none', 'nothing shared']),
  '--pod-id-file': files,
  '--infra-conmon-pidfile': files,
  '--exit-policy': words(['continue', 'the pod keeps running when its containers exit'], ['stop', 'the pod stops when its last container exits']),
  '--infra': words('true', 'false'),
  '--infra-name': none,
  'pod ps --filter': { kind: 'filter', keys: { name: { kind: 'pods' }, id: none, status: words('created', 'running', 'degraded', 'exited'), label: none, 'ctr-names': { kind: 'containers' }, 'ctr-ids': none } },
  'pod ps --format': { kind: 'format' },
  'pod inspect --format': { kind: 'format' },

  // kube
  '--start': words('true', 'false'),
  '--service-container': words('true', 'false'),
  'generate kube --filename': files,
};

/**
 * Argument rules by command (its first path). The last rule repeats when the
 * command takes any number of arguments. Commands that take none need no entry.
 */
export const ARGUMENT_RULES: Record<string, Rule[]> = {
  run: [{ kind: 'image-or-rootfs' }, { kind: 'default' }],
  create: [{ kind: 'image-or-rootfs' }, { kind: 'default' }],
  start: [{ kind: 'containers', statuses: STOPPED }],
  stop: [{ kind: 'containers', statuses: RUNNING }],
  kill: [{ kind: 'containers', statuses: RUNNING }],
  exec: [{ kind: 'containers', statuses: RUNNING }, { kind: 'default' }],
  'healthcheck run': [{ kind: 'containers', statuses: RUNNING }],
  import: [{ kind: 'files' }, none],
  attach: [{ kind: 'containers', statuses: RUNNING }],
  pause: [{ kind: 'containers', statuses: RUNNING }],
  unpause: [{ kind: 'containers', statuses: ['paused'] }],
  top: [{ kind: 'containers', statuses: RUNNING }],
  stats: [{ kind: 'containers', statuses: RUNNING }],
  port: [{ kind: 'containers' }],
  rm: [{ kind: 'containers' }],
  wait: [{ kind: 'containers' }],
  logs: [{ kind: 'containers' }],
  restart: [{ kind: 'containers' }],
  rename: [{ kind: 'containers' }, none],
  inspect: [{ kind: 'containers' }],
  'container inspect': [{ kind: 'containers' }],
  'container exists': [{ kind: 'containers' }],
  'container cleanup': [{ kind: 'containers' }],
  'generate systemd': [{ kind: 'containers' }],
  'generate kube': [{ kind: 'containers-or-pods' }],
  'kube play': [{ kind: 'files', ext: ['yaml', 'yml', 'json'] }],
  'kube down': [{ kind: 'files', ext: ['yaml', 'yml', 'json'] }],
  'play kube': [{ kind: 'files', ext: ['yaml', 'yml', 'json'] }],
  'pod start': [{ kind: 'pods' }],
  'pod stop': [{ kind: 'pods' }],
  'pod restart': [{ kind: 'pods' }],
  'pod kill': [{ kind: 'pods' }],
  'pod rm': [{ kind: 'pods' }],
  'pod inspect': [{ kind: 'pods' }],
  'pod exists': [{ kind: 'pods' }],
  diff: [{ kind: 'containers' }],
  export: [{ kind: 'containers' }],
  mount: [{ kind: 'containers' }],
  unmount: [{ kind: 'containers' }],
  umount: [{ kind: 'containers' }],
  'container mount': [{ kind: 'containers' }],
  'container unmount': [{ kind: 'containers' }],
  'container cp': [{ kind: 'default' }],
  'container commit': [{ kind: 'containers' }, none],
  'container top': [{ kind: 'containers', statuses: RUNNING }],
  commit: [{ kind: 'containers' }, none],
  cp: [{ kind: 'default' }],
  unshare: [{ kind: 'default' }],
  completion: [words(['bash', 'bash with bash-completion'], ['zsh', 'zsh with compinit'], ['fish', 'fish'])],
  quadlet: [dirs],
  // images
  rmi: [{ kind: 'images' }],
  images: [{ kind: 'images' }],
  untag: [{ kind: 'images' }, none],
  tag: [{ kind: 'images' }, none],
  history: [{ kind: 'images' }],
  save: [{ kind: 'images' }],
  push: [{ kind: 'images' }, none],
  pull: [none],
  login: [none],
  logout: [none],
  'image inspect': [{ kind: 'images' }],
  'image rm': [{ kind: 'images' }],
  'image exists': [{ kind: 'images' }],
  // volumes
  'volume create': [none],
  'volume rm': [{ kind: 'volumes' }],
  'volume inspect': [{ kind: 'volumes' }],
  'volume exists': [{ kind: 'volumes' }],
  // networks
  'network rm': [{ kind: 'networks' }],
  'network inspect': [{ kind: 'networks' }],
  'network exists': [{ kind: 'networks' }],
  'network create': [none],
  'network connect': [{ kind: 'networks' }, { kind: 'containers' }],
  'network disconnect': [{ kind: 'networks' }, { kind: 'containers' }],
};

/** What the groups of commands are, for `tspod <TAB>`. */
export const GROUP_DESCRIPTIONS: Record<string, string> = {
  container: 'Manage containers',
  image: 'Manage images',
  volume: 'Manage volumes',
  network: 'Manage networks',
  pod: 'Manage pods',
  system: 'Manage tspod',
  generate: 'Generate structured data based on containers, pods or volumes',
  kube: 'Play containers, pods or volumes from a structured file',
};

export function optionRule(commandPath: string, names: string[]): Rule | undefined {
  for (const n of names) {
    const scoped = OPTION_RULES[`${commandPath} ${n}`];
    if (scoped) return scoped;
  }
  for (const n of names) {
    const rule = OPTION_RULES[n];
    if (rule) return rule;
  }
  return undefined;
}
