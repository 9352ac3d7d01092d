/**
 * `tspod top`: the processes of a container, read from /proc (as Podman's psgo
 * does): every process in the container's PID namespace, with PIDs as the
 * container sees them (the last NSpid field) and users named from the
 * container's /etc/passwd and /etc/group. Descriptors are psgo's (and their AIX
 * `%x` codes); anything else is ps(1) options, which Podman hands to ps inside
 * the container (the caller does that through exec).
 */
import fs from 'node:fs';
import { TspodError } from '../util/errors.js';
import { ContainerRoot } from './container-fs.js';
import { parseGroup, parsePasswd } from './user.js';

const CLK_TCK = 100;
const PAGE_KB = 4;

export interface ProcInfo {
  hostPid: number;
  pid: number;
  ppid: number;
  pgid: number;
  comm: string;
  args: string;
  state: string;
  uid: number;
  ruid: number;
  gid: number;
  rgid: number;
  groups: number[];
  ttyNr: number;
  nice: number;
  /** utime + stime, clock ticks */
  cpuTicks: number;
  /** start time, clock ticks after boot */
  startTicks: number;
  vszKb: number;
  rssKb: number;
  seccomp: number;
  caps: Record<'CapInh' | 'CapPrm' | 'CapEff' | 'CapBnd' | 'CapAmb', bigint>;
}

function statusFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

function readProc(hostPid: number): ProcInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${hostPid}/stat`, 'utf8');
    const status = statusFields(fs.readFileSync(`/proc/${hostPid}/status`, 'utf8'));
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state)
    const cmdline = fs.readFileSync(`/proc/${hostPid}/cmdline`);
    const nspid = (status.get('NSpid') ?? String(hostPid)).split(/\s+/).map(Number);
    const [ruid, euid] = (status.get('Uid') ?? '0 0').split(/\s+/).map(Number);
    const [rgid, egid] = (status.get('Gid') ?? '0 0').split(/\s+/).map(Number);
    const cap = (k: string) => BigInt(`0x${status.get(k) ?? '0'}`);
    return {
      hostPid,
      pid: nspid.at(-1)!,
      ppid: Number(f[1]),
      pgid: Number(f[2]),
      comm,
      // psgo joins the arguments with spaces (a trailing one included).
      args: cmdline.length ? cmdline.toString('utf8').replace(/\0/g, ' ') : `[${comm}]`,
      state: f[0],
      uid: euid,
      ruid,
      gid: egid,
      rgid,
      groups: (status.get('Groups') ?? '').split(/\s+/).filter(Boolean).map(Number),
      ttyNr: Number(f[4]),
      nice: Number(f[16]),
      cpuTicks: Number(f[11]) + Number(f[12]),
      startTicks: Number(f[19]),
      vszKb: Math.floor(Number(f[20]) / 1024),
      rssKb: Number(f[21]) * PAGE_KB,
      seccomp: Number(status.get('Seccomp') ?? 0),
      caps: { CapInh: cap('CapInh'), CapPrm: cap('CapPrm'), CapEff: cap('CapEff'), CapBnd: cap('CapBnd'), CapAmb: cap('CapAmb') },
    };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** The processes in the PID namespace of `initPid` (host PIDs), init first. */
export function containerProcesses(initPid: number): ProcInfo[] {
  let ns: string;
  try {
    ns = fs.readlinkSync(`/proc/${initPid}/ns/pid`);
  } catch {
    throw new TspodError('the container process is gone: the container is not running');
  }
  const out: ProcInfo[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readlinkSync(`/proc/${name}/ns/pid`) !== ns) continue;
    } catch {
      continue;
    }
    const p = readProc(Number(name));
    if (p) out.push(p);
  }
  // Parents as the container sees them (0 outside the container).
  const byHost = new Map(out.map((p) => [p.hostPid, p.pid]));
  for (const p of out) p.ppid = byHost.get(p.ppid) ?? 0;
  // A group led from outside the container has no number inside it: 0, as the kernel says.
  for (const p of out) p.pgid = byHost.get(p.pgid) ?? 0;
  return out.sort((a, b) => a.pid - b.pid);
}

/** Go's time.Duration.String() for a number of nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.round(Math.abs(ns));
  const sign = neg ? '-' : '';
  const trim = (s: string) => s.replace(/\.?0+$/, '');
  if (n < 1000) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${trim((n / 1e3).toFixed(3))}µs`;
  if (n < 1e9) return `${sign}${trim((n / 1e6).toFixed(6))}ms`;
  const h = Math.floor(n / 3.6e12);
  n -= h * 3.6e12;
  const m = Math.floor(n / 6e10);
  n -= m * 6e10;
  const s = trim((n / 1e9).toFixed(9)) || '0';
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

const CAP_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

function capList(mask: bigint): string {
  if (mask === 0n) return 'none';
  const names = CAP_NAMES.filter((_, i) => (mask >> BigInt(i)) & 1n);
  if (names.length === CAP_NAMES.length) return 'full';
  return names.sort().join(',');
}

/** psgo's descriptors: header and value. */
interface Descriptor {
  header: string;
  value: (p: ProcInfo, c: Context) => string;
}

interface Context {
  uptimeTicks: number;
  now: number;
  /** psgo's elapsed time of a process: now (ns) minus boot time (whole seconds, /proc/stat btime) plus its start ticks */
  elapsedNs: (p: ProcInfo) => number;
  userName: (uid: number) => string;
  groupName: (gid: number) => string;
  hostUid: (uid: number) => number;
  hostGid: (gid: number) => number;
}

function tty(nr: number): string {
  if (nr === 0) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major === 136) return `pts/${minor}`;
  if (major === 4) return `tty${minor}`;
  return '?';
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** psgo's CPU time: utime + stime in whole seconds (Podman prints 0s, 1s, 1m5s, never 330ms). */
const cpuSeconds = (p: ProcInfo) => Math.floor(p.cpuTicks / CLK_TCK);

/** The boot time in whole seconds, as psgo reads it. */
function bootTimeSeconds(): number {
  const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
  return m ? Number(m[1]) : 0;
}

const DESCRIPTORS: Record<string, Descriptor> = {
  args: { header: 'COMMAND', value: (p) => p.args },
  capamb: { header: 'AMBIENT CAPS', value: (p) => capList(p.caps.CapAmb) },
  capbnd: { header: 'BOUNDING CAPS', value: (p) => capList(p.caps.CapBnd) },
  capeff: { header: 'EFFECTIVE CAPS', value: (p) => capList(p.caps.CapEff) },
  capinh: { header: 'INHERITED CAPS', value: (p) => capList(p.caps.CapInh) },
  capprm: { header: 'PERMITTED CAPS', value: (p) => capList(p.caps.CapPrm) },
  comm: { header: 'COMMAND', value: (p) => p.comm },
  etime: { header: 'ELAPSED', value: (p, c) => goDuration(c.elapsedNs(p)) },
  group: { header: 'GROUP', value: (p, c) => c.groupName(p.gid) },
  groups: { header: 'GROUPS', value: (p, c) => p.groups.map(c.groupName).join(',') },
  hgroup: { header: 'HGROUP', value: (p, c) => String(c.hostGid(p.gid)) },
  hgroups: { header: 'HGROUPS', value: (p, c) => p.groups.map((g) => String(c.hostGid(g))).join(',') },
  hpid: { header: 'HPID', value: (p) => String(p.hostPid) },
  huser: { header: 'HUSER', value: (p, c) => String(c.hostUid(p.uid)) },
  label: { header: 'LABEL', value: () => '?' },
  nice: { header: 'NI', value: (p) => String(p.nice) },
  pcpu: {
    header: '%CPU',
    value: (p, c) => {
      // psgo's: whole CPU seconds over the elapsed time (0.000 for a process under a second of CPU).
      const elapsed = c.elapsedNs(p);
      return (elapsed > 0 ? ((cpuSeconds(p) * 1e9) / elapsed) * 100 : 0).toFixed(3);
    },
  },
  pgid: { header: 'PGID', value: (p) => String(p.pgid) },
  pid: { header: 'PID', value: (p) => String(p.pid) },
  ppid: { header: 'PPID', value: (p) => String(p.ppid) },
  rgroup: { header: 'RGROUP', value: (p, c) => c.groupName(p.rgid) },
  rss: { header: 'RSS', value: (p) => String(p.rssKb) },
  ruser: { header: 'RUSER', value: (p, c) => c.userName(p.ruid) },
  seccomp: { header: 'SECCOMP', value: (p) => ['disabled', 'strict', 'filter'][p.seccomp] ?? '?' },
  state: { header: 'STATE', value: (p) => p.state },
  stime: {
    header: 'STIME',
    value: (p, c) => {
      // From uptime rather than btime: the two disagree on machines that were suspended.
      const d = new Date(c.now - ((c.uptimeTicks - p.startTicks) / CLK_TCK) * 1000);
      return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000 UTC`;
    },
  },
  time: { header: 'TIME', value: (p) => goDuration(cpuSeconds(p) * 1e9) },
  tty: { header: 'TTY', value: (p) => tty(p.ttyNr) },
  user: { header: 'USER', value: (p, c) => c.userName(p.uid) },
  vsz: { header: 'VSZ', value: (p) => String(p.vszKb) },
};

/** AIX format codes, as psgo takes them. */
const AIX: Record<string, string> = {
  '%C': 'pcpu', '%G': 'group', '%P': 'ppid', '%U': 'user', '%a': 'args', '%c': 'comm', '%g': 'rgroup', '%n': 'nice',
  '%p': 'pid', '%r': 'pgid', '%t': 'etime', '%u': 'ruser', '%x': 'time', '%y': 'tty', '%z': 'vsz',
};

export const DEFAULT_DESCRIPTORS = ['user', 'pid', 'ppid', 'pcpu', 'etime', 'tty', 'time', 'args'];

/**
 * The descriptors named by the arguments (comma or space separated), or undefined when
 * some argument is not one: those are ps(1) options, for ps inside the container.
 */
export function parseDescriptors(args: string[]): string[] | undefined {
  if (args.length === 0) return DEFAULT_DESCRIPTORS;
  const words = args.flatMap((a) => a.split(',')).map((w) => w.trim()).filter(Boolean);
  const out: string[] = [];
  for (const w of words) {
    const d = AIX[w] ?? w;
    if (!DESCRIPTORS[d]) return undefined;
    out.push(d);
  }
  return out;
}

function idMapper(file: string): (id: number) => number {
  let lines: number[][] = [];
  try {
    lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  } catch {
    // no map: identity
  }
  return (id) => {
    for (const [inside, outside, size] of lines) if (id >= inside && id < inside + size) return outside + (id - inside);
    return id;
  };
}

/** The table `tspod top` prints (tab-separated cells; the caller aligns them). */
export function topTable(initPid: number, descriptors: string[]): string {
  // The container's own /etc files, resolved inside its root.
  const root = new ContainerRoot(`/proc/${initPid}/root`);
  const readIn = (p: string) => {
    try {
      const loc = root.resolve(p, true);
      return loc.stat?.isFile() ? fs.readFileSync(loc.host, 'utf8') : '';
    } catch {
      return '';
    }
  };
  const passwd = parsePasswd(readIn('/etc/passwd'));
  const groups = parseGroup(readIn('/etc/group'));
  root.close();
  const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const btime = bootTimeSeconds();
  // Now in nanoseconds (to the microsecond Node gives): Podman's ELAPSED is time.Since(start), to the nanosecond.
  // (BigInt: nanoseconds since 1970 are beyond a double's exact integers)
  const nowNs = BigInt(Math.round(performance.timeOrigin * 1e3)) * 1000n + BigInt(Math.round(performance.now() * 1e6));
  const ctx: Context = {
    uptimeTicks: uptime * CLK_TCK,
    now: Date.now(),
    elapsedNs: (p) => Number(nowNs - BigInt(btime) * 1_000_000_000n - BigInt(p.startTicks) * BigInt(1e9 / CLK_TCK)),
    userName: (uid) => passwd.find((p) => p.uid === uid)?.name ?? String(uid),
    groupName: (gid) => groups.find((g) => g.gid === gid)?.name ?? String(gid),
    hostUid: idMapper('/proc/self/uid_map'),
    hostGid: idMapper('/proc/self/gid_map'),
  };
  const procs = containerProcesses(initPid);
  const rows = [descriptors.map((d) => DESCRIPTORS[d]!.header), ...procs.map((p) => descriptors.map((d) => DESCRIPTORS[d]!.value(p, ctx)))];
  return rows.map((r) => `${r.join('\t')}\n`).join('');
}
