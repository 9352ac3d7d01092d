import fs from 'node:fs';
import path from 'node:path';

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** What tspod can do with cgroups on this host, for `info` and for limits. */
export interface CgroupReport {
  version: 'v1' | 'v2';
  /** unified (pure v2), hybrid (v1 with a cgroup2 tree beside it) or legacy (v1 only). */
  mode: 'unified' | 'hybrid' | 'legacy';
  /** The cgroup2 directory of this process, when there is a cgroup2 tree. */
  ownCgroup?: string;
  /** Controllers available in that cgroup. */
  controllers: string[];
  /** The user may create child cgroups and write their files. */
  delegated: boolean;
  /** memory/cpu/pids limits can be enforced for this user's containers. */
  resourceLimits: boolean;
  reason?: string;
}

function isCgroup2(dir: string): boolean {
  try {
    return Number(fs.statfsSync(dir).type) === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** The "0::/path" line of /proc/self/cgroup. */
export function unifiedCgroupPath(procSelfCgroup: string): string | undefined {
  const line = procSelfCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line?.slice(3).trim() || undefined;
}

export function inspectCgroups(root = '/sys/fs/cgroup'): CgroupReport {
  let mode: CgroupReport['mode'];
  let unifiedRoot: string | undefined;
  if (isCgroup2(root)) {
    mode = 'unified';
    unifiedRoot = root;
  } else if (isCgroup2(path.join(root, 'unified'))) {
    mode = 'hybrid';
    unifiedRoot = path.join(root, 'unified');
  } else {
    mode = 'legacy';
  }
  const report: CgroupReport = {
    version: mode === 'unified' ? 'v2' : 'v1',
    mode,
    controllers: [],
    delegated: false,
    resourceLimits: false,
  };
  if (!unifiedRoot) {
    report.reason = 'cgroups v1 only: tspod needs cgroup v2 for resource limits';
    return report;
  }
  let rel: string | undefined;
  try {
    rel = unifiedCgroupPath(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  } catch {
    rel = undefined;
  }
  if (rel === undefined) {
    report.reason = 'this process has no cgroup2 membership';
    return report;
  }
  const own = path.join(unifiedRoot, rel);
  report.ownCgroup = own;
  try {
    report.controllers = fs.readFileSync(path.join(own, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    report.controllers = [];
  }
  try {
    fs.accessSync(own, fs.constants.W_OK);
    fs.accessSync(path.join(own, 'cgroup.procs'), fs.constants.W_OK);
    report.delegated = true;
  } catch {
    report.delegated = false;
  }
  const needed = ['memory', 'cpu', 'pids'];
  const missing = needed.filter((c) => !report.controllers.includes(c));
  report.resourceLimits = mode === 'unified' && report.delegated && missing.length === 0;
  if (!report.resourceLimits) {
    if (mode === 'hybrid') report.reason = 'cgroups v1 hybrid: the cgroup2 tree has no memory, cpu or pids controllers, so resource limits are unavailable';
    else if (!report.delegated) report.reason = `cgroup ${rel} is not delegated to this user, so resource limits are unavailable`;
    else report.reason = `controllers ${missing.join(', ')} are not delegated, so those limits are unavailable`;
  }
  return report;
}
