import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GlobalContext } from '../cli/context.js';
import { chooseGraphDriver } from '../storage/driver-probe.js';
import { parseProcIdMap, type IdMapping } from '../rootless/subid.js';
import { inspectCgroups } from './cgroups.js';
import { isRootless, launcherPath } from '../util/paths.js';
import { tspodVersion } from '../version.js';
import { spawnSync } from 'node:child_process';

/** Podman's `info` shape: JSON keys as Podman writes them, so templates like
 *  {{.Host.Kernel}} and {{.Store.GraphDriverName}} work the same. */
export interface InfoReport {
  host: Record<string, unknown>;
  store: Record<string, unknown>;
  registries: Record<string, unknown>;
  plugins: Record<string, unknown>;
  version: Record<string, unknown>;
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function goArch(): string {
  return GO_ARCH[process.arch] ?? process.arch;
}

function osRelease(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const line of fs.readFileSync('/etc/os-release', 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
    }
  } catch {
    // no os-release: leave the distribution blank
  }
  return out;
}

function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function helperInfo(name: string, versionArgs: string[]): { executable: string; package: string; version: string } {
  const executable = findExecutable(name);
  if (!executable) return { executable: '', package: '', version: '' };
  const r = spawnSync(executable, versionArgs, { encoding: 'utf8', timeout: 5000 });
  const version = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim())?.trim() ?? '';
  return { executable, package: '', version };
}

function uptime(): string {
  const s = os.uptime();
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}h ${m}m ${(s % 60).toFixed(2)}s (Approximately ${(s / 86400).toFixed(2)} days)`;
}

function idMap(file: string): { container_id: number; host_id: number; size: number }[] {
  let mapping: IdMapping[] = [];
  try {
    mapping = parseProcIdMap(fs.readFileSync(file, 'utf8'));
  } catch {
    mapping = [];
  }
  return mapping.map((m) => ({ container_id: m.containerId, host_id: m.hostId, size: m.size }));
}

function memInfo(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of fs.readFileSync('/proc/meminfo', 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+)/.exec(line);
      if (m) out[m[1]] = Number(m[2]) * 1024;
    }
  } catch {
    // leave empty
  }
  return out;
}

function backingFilesystem(dir: string): string {
  const names: Record<number, string> = { 0xef53: 'extfs', 0x01021994: 'tmpfs', 0x9123683e: 'btrfs', 0x58465342: 'xfs', 0x794c7630: 'overlayfs' };
  try {
    const t = Number(fs.statfsSync(dir).type);
    return names[t] ?? `0x${t.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

function countEntries(dir: string): number {
  try {
    return fs.readdirSync(dir).filter((n) => !n.startsWith('.')).length;
  } catch {
    return 0;
  }
}

/** Gather the report; call inside the rootless namespace (the probe mounts). */
export function gatherInfo(ctx: GlobalContext): InfoReport {
  const kernel = os.release();
  const cg = inspectCgroups();
  const probe = chooseGraphDriver(ctx.storageRoot, ctx.runRoot, kernel, ctx.storageDriver);
  const rel = osRelease();
  const mem = memInfo();
  fs.mkdirSync(ctx.storageRoot, { recursive: true, mode: 0o700 });
  const disk = fs.statfsSync(ctx.storageRoot);
  const pasta = helperInfo('pasta', ['--version']);
  const slirp = helperInfo('slirp4netns', ['--version']);
  const graphOptions: Record<string, string> = {};
  if (probe.mountProgram) graphOptions['overlay.mount_program'] = findExecutable(probe.mountProgram) ?? probe.mountProgram;
  const graphStatus: Record<string, string> =
    probe.driver === 'overlay'
      ? {
          'Backing Filesystem': backingFilesystem(ctx.storageRoot),
          'Native Overlay Diff': String(probe.nativeOverlay),
          'Supports d_type': 'true',
          'Supports shifting': 'false',
          'Supports volatile': 'true',
          'Using metacopy': 'false',
        }
      : { 'Backing Filesystem': backingFilesystem(ctx.storageRoot) };
  return {
    host: {
      arch: goArch(),
      cgroupManager: 'cgroupfs',
      cgroupVersion: cg.version,
      cgroupMode: cg.mode,
      cgroupControllers: cg.controllers,
      cgroupDelegated: cg.delegated,
      // Where containers get their own cgroups (pause/unpause need it): the delegated cgroup tspod runs in.
      ...(cg.delegated && cg.ownCgroup ? { cgroupPath: cg.ownCgroup } : {}),
      resourceLimits: cg.resourceLimits,
      ...(cg.reason ? { resourceLimitsReason: cg.reason } : {}),
      conmon: { package: 'tspod', path: launcherPath(), version: `tspod-launch version ${tspodVersion()}` },
      cpus: os.cpus().length,
      distribution: { distribution: rel.ID ?? '', version: rel.VERSION_ID ?? '', codename: rel.VERSION_CODENAME ?? '' },
      eventLogger: 'file',
      hostname: os.hostname(),
      idMappings: { gidmap: idMap('/proc/self/gid_map'), uidmap: idMap('/proc/self/uid_map') },
      kernel,
      logDriver: 'k8s-file',
      memFree: mem.MemAvailable ?? os.freemem(),
      memTotal: mem.MemTotal ?? os.totalmem(),
      networkBackend: pasta.executable ? 'pasta' : slirp.executable ? 'slirp4netns' : 'none',
      ociRuntime: { name: 'tspod-launch', package: 'tspod', path: launcherPath(), version: `tspod-launch version ${tspodVersion()}` },
      os: 'linux',
      pasta,
      remoteSocket: { exists: false, path: '' },
      security: {
        apparmorEnabled: false,
        capabilities: 'CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_NET_BIND_SERVICE,CAP_SETFCAP,CAP_SETGID,CAP_SETPCAP,CAP_SETUID,CAP_SYS_CHROOT',
        rootless: isRootless(),
        seccompEnabled: true,
        seccompProfilePath: '',
        selinuxEnabled: false,
      },
      serviceIsRemote: false,
      slirp4netns: slirp,
      swapFree: mem.SwapFree ?? 0,
      swapTotal: mem.SwapTotal ?? 0,
      uptime: uptime(),
    },
    store: {
      configFile: path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'tspod', 'storage.json'),
      containerStore: { number: countEntries(path.join(ctx.storageRoot, 'containers')), paused: 0, running: 0, stopped: 0 },
      graphDriverName: probe.driver,
      graphOptions,
      graphRoot: ctx.storageRoot,
      graphRootAllocated: Number(disk.blocks) * Number(disk.bsize),
      graphRootUsed: (Number(disk.blocks) - Number(disk.bfree)) * Number(disk.bsize),
      graphStatus,
      imageCopyTmpDir: '/var/tmp',
      imageStore: { number: countEntries(path.join(ctx.storageRoot, 'images')) },
      runRoot: ctx.runRoot,
      transientStore: false,
      volumePath: path.join(ctx.storageRoot, 'volumes'),
      ...(probe.kernelError && probe.driver !== 'overlay' ? { kernelOverlayError: probe.kernelError } : {}),
      ...(probe.mountProgram ? { kernelOverlayError: probe.kernelError } : {}),
    },
    registries: {},
    plugins: { log: ['k8s-file'], network: ['pasta', 'slirp4netns'].filter((n) => findExecutable(n)), volume: ['local'] },
    version: {
      APIVersion: tspodVersion(),
      Built: 0,
      BuiltTime: '',
      GitCommit: '',
      NodeVersion: process.version,
      Os: 'linux',
      OsArch: `linux/${goArch()}`,
      Version: tspodVersion(),
    },
  };
}
