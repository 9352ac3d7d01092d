import { CAPABILITIES } from './capabilities.js';
import type { IdRange } from './id-mappings.js';

/**
 * The container spec the native launcher carries out (native/src/container.c).
 * TypeScript decides every mount, flag and id here; C only performs them.
 */
export interface MountSpec {
  destination: string;
  type: string;
  source?: string;
  flags?: number;
  data?: string;
  /** bind mounts: mount the subtree too, make it read-only, the target is a file */
  recursive?: boolean;
  readonly?: boolean;
  file?: boolean;
}

export interface ContainerSpec {
  rootfs: string;
  readonlyRootfs: boolean;
  args: string[];
  env: string[];
  cwd: string;
  hostname: string;
  namespaces: { pid: boolean; net: boolean; ipc: boolean; uts: boolean; cgroup: boolean };
  /** the container's own cgroup v2 directory, entered before it runs (pause freezes it) */
  cgroupPath?: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  capabilities: number[];
  noNewPrivileges: boolean;
  mounts: MountSpec[];
  devices: string[];
  symlinks: { target: string; link: string }[];
  maskedPaths: string[];
  readonlyPaths: string[];
  loopbackUp: boolean;
  umask: number;
  /** the container's stdio is a terminal: init gets a session with it as controlling terminal */
  terminal?: boolean;
  /** pasta: its argv, the file the launcher binds the network namespace to, pasta's pid file */
  network?: NetworkHelperSpec;
  /** a user namespace of the container's own, nested in the rootless one (host = rootless ids) */
  userns?: { uidMap: IdRange[]; gidMap: IdRange[] };
  /** namespaces to enter instead of creating (paths such as /proc/PID/ns/net or a bind-mounted nsfs file) */
  joinNamespaces?: JoinNamespaces;
}

/**
 * Namespaces a container enters instead of getting new ones: net, ipc and uts
 * are entered by the container's init before its mounts; pid by the launcher
 * around clone (the container's init is then not PID 1). A joined uts keeps
 * its host name.
 */
export type JoinNamespaces = {
  net?: string;
  ipc?: string;
  uts?: string;
  pid?: string;
};

export interface NetworkHelperSpec {
  argv: string[];
  netnsPath: string;
  pidFile: string;
  /**
   * A helper that stays in the foreground (slirp4netns): the launcher gives it
   * a ready pipe at readyFd and an exit pipe at exitFd, sends its output to
   * logFile, writes pidFile, then sends apiRequests to apiSocket.
   */
  readyFd?: number;
  exitFd?: number;
  logFile?: string;
  apiSocket?: string;
  apiRequests?: string[];
  /** the directory the helper starts in */
  cwd?: string;
  /** interfaces the helper creates get no IPv6 duplicate address detection (namespace default accept_dad=0 meanwhile) */
  ipv6NoDad?: boolean;
}

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_STRICTATIME = 1 << 24;

/** Podman's defaults (containers/common pkg/config). */
export const DEFAULT_MASKED_PATHS = [
  '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
export const DEFAULT_DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface SpecInput {
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  hostname: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  capabilities: string[];
  hostNetwork: boolean;
  readonlyRootfs: boolean;
  privileged: boolean;
  /** files tspod writes for the container: /etc/hosts, /etc/hostname, /etc/resolv.conf */
  etcFiles: { destination: string; source: string }[];
  extraMounts: MountSpec[];
  /** gid 5 (tty) is mapped, so devpts can give it to new terminals */
  ttyGroupMapped: boolean;
  userns?: { uidMap: IdRange[]; gidMap: IdRange[] };
  network?: NetworkHelperSpec;
  joinNamespaces?: JoinNamespaces;
}

/** The mount table, in the order the kernel needs: /proc first, /dev before its children. */
export function defaultMounts(input: Pick<SpecInput, 'hostNetwork' | 'ttyGroupMapped' | 'privileged'>): MountSpec[] {
  const mounts: MountSpec[] = [
    { destination: '/proc', type: 'proc', source: 'proc', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', flags: MS_NOSUID | MS_STRICTATIME, data: 'mode=755,size=65536k' },
    {
      destination: '/dev/pts', type: 'devpts', source: 'devpts', flags: MS_NOSUID | MS_NOEXEC,
      data: `newinstance,ptmxmode=0666,mode=0620${input.ttyGroupMapped ? ',gid=5' : ''}`,
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV, data: 'mode=1777,size=65536k' },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV },
  ];
  // A new sysfs needs a network namespace of its own; with the host's network, bind the host's /sys.
  mounts.push(
    input.hostNetwork
      ? { destination: '/sys', type: 'bind', source: '/sys', recursive: true, readonly: !input.privileged, flags: MS_NOSUID | MS_NOEXEC | MS_NODEV }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV | (input.privileged ? 0 : MS_RDONLY) },
  );
  return mounts;
}

export function buildSpec(input: SpecInput): ContainerSpec {
  const env = input.env.some((e) => e.startsWith('PATH=')) ? input.env : [`PATH=${DEFAULT_PATH}`, ...input.env];
  return {
    rootfs: input.rootfs,
    readonlyRootfs: input.readonlyRootfs,
    args: input.args,
    env,
    cwd: input.cwd,
    hostname: input.hostname,
    namespaces: { pid: true, net: !input.hostNetwork, ipc: true, uts: true, cgroup: true },
    user: input.user,
    capabilities: input.capabilities.map((c) => CAPABILITIES[c]),
    noNewPrivileges: !input.privileged,
    mounts: [
      ...defaultMounts(input),
      ...input.etcFiles.map((f) => ({ destination: f.destination, type: 'bind', source: f.source, recursive: false, file: true })),
      ...input.extraMounts,
    ],
    devices: DEFAULT_DEVICES,
    symlinks: [
      { target: '/proc/self/fd', link: '/dev/fd' },
      { target: '/proc/self/fd/0', link: '/dev/stdin' },
      { target: '/proc/self/fd/1', link: '/dev/stdout' },
      { target: '/proc/self/fd/2', link: '/dev/stderr' },
      { target: 'pts/ptmx', link: '/dev/ptmx' },
    ],
    maskedPaths: input.privileged ? [] : DEFAULT_MASKED_PATHS,
    readonlyPaths: input.privileged ? [] : DEFAULT_READONLY_PATHS,
    loopbackUp: !input.hostNetwork,
    umask: 0o022,
    ...(input.userns ? { userns: { uidMap: input.userns.uidMap, gidMap: input.userns.gidMap } } : {}),
    ...(input.network ? { network: input.network } : {}),
    ...(input.joinNamespaces && Object.keys(input.joinNamespaces).length ? { joinNamespaces: input.joinNamespaces } : {}),
  };
}
