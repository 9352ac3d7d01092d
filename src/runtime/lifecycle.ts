import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GlobalContext } from '../cli/context.js';
import { processStartTime } from '../rootless/pause.js';
import { withLock } from '../storage/lock.js';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import { launcherPath, packageRoot } from '../util/paths.js';
import { MNT_DETACH, native } from '../native/addon.js';
import { resolveCapabilities } from './capabilities.js';
import { type ContainerRecord, ContainerStore } from './container-store.js';
import { resolvConf, writeEtcFiles } from './etc-files.js';
import { pastaArgs, pastaBinary } from '../network/pasta.js';
import { claimPooledPasta, type PoolRequest, poolIdleSeconds, poolRequest, pastaWithPorts, releasePooledPasta, replenishPastaPoolLater } from '../network/pasta-pool.js';
import { type NetworkMode, parseNetworkMode } from '../network/mode.js';
import { hostContainersInternal } from '../network/host-access.js';
import { slirp4netnsHelper, slirpAddresses } from '../network/slirp4netns.js';
import { attachBridgeNetworks, releaseBridgeNetworks } from '../network/bridge.js';
import { findExecutable } from '../util/which.js';
import { DETACHED, startMonitor } from './monitor-client.js';
import { createContainerCgroup, removeContainerCgroup, setFrozen } from './cgroup.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './detach-keys.js';
import { buildSpec, type ContainerSpec, type MountSpec, MS_NODEV, MS_NOSUID, type NetworkHelperSpec } from './spec.js';
import { VolumeStore } from './volumes.js';
import type { PortMapping } from '../network/ports.js';
import { resolveUser } from './user.js';
import { hostIdOf } from './id-mappings.js';
import { containerGidMapped, etcOverrides, keepIdEtcMounts } from './userns-files.js';

export function openStore(ctx: GlobalContext): ContainerStore {
  return new ContainerStore(ctx.storageRoot, ctx.runRoot);
}

function gidMapped(gid: number): boolean {
  try {
    return fs
      .readFileSync('/proc/self/gid_map', 'utf8')
      .split('\n')
      .some((l) => {
        const [inside, , size] = l.trim().split(/\s+/).map(Number);
        return gid >= inside && gid < inside + size;
      });
  } catch {
    return false;
  }
}

/** Everything the native side needs to start this container. */
export function containerSpec(store: ContainerStore, rec: ContainerRecord, rootfs = rec.config.rootfs): ContainerSpec {
  const c = { ...rec.config, rootfs };
  // keep-id's /etc/passwd entry names the user too (`run --userns=keep-id -u NAME`).
  const keepIdMounts = keepIdEtcMounts(store.runDir(rec.id), c.rootfs, c.userns, c.workdir);
  const user = resolveUser(c.user, c.rootfs, etcOverrides(keepIdMounts));
  const mode = parseNetworkMode(c.network);
  const slirp = mode.kind === 'slirp4netns' ? slirpAddresses(mode.options) : undefined;
  // slirp4netns's own forwarder comes first, as in Podman; pasta's only when the host's are loopback ones.
  const dns = slirp ? slirp.dns : mode.kind === 'pasta' && !hostHasUsableNameserver() ? PASTA_DNS_FORWARD : undefined;
  const hostInternal = hostContainersInternal(mode);
  let etcFiles = writeEtcFiles(store.runDir(rec.id), c.hostname, c.network !== 'host', dns && !c.dns?.servers?.length ? [dns] : [], {
    dns: c.dns,
    addHosts: [...(hostInternal ? [{ ip: hostInternal, names: ['host.containers.internal', 'host.docker.internal'] }] : []), ...(c.addHosts ?? [])],
  });
  const joined = joinedNetwork(store, mode);
  // The default pasta without ports or options: a pre-started one from the pool when there is one.
  const pool = pastaPoolRequest(c, dns);
  const pooled = pool && claimPooledPasta(store.runRoot, store.runDir(rec.id), pool);
  if (mode.kind === 'pasta' && c.ports?.length) pastaWithPorts(store.runRoot);
  // Sharing a network namespace shares its /etc/hosts and resolv.conf too, as in Podman.
  if (joined.etcDir) {
    etcFiles = etcFiles.map((f) => (f.destination === '/etc/hostname' ? f : { ...f, source: path.join(joined.etcDir!, path.basename(f.destination)) }));
  }
  return buildSpec({
    rootfs: c.rootfs,
    args: c.init ? [INIT_PATH, '--', ...c.command] : c.command,
    env: [`HOSTNAME=${c.hostname}`, `HOME=${user.home}`, 'container=tspod', ...(c.tty ? ['TERM=xterm'] : []), ...c.env],
    cwd: c.workdir,
    hostname: c.hostname,
    user,
    capabilities: resolveCapabilities({ add: c.capAdd, drop: c.capDrop, privileged: c.privileged }),
    hostNetwork: c.network === 'host',
    readonlyRootfs: c.readOnly,
    privileged: c.privileged,
    etcFiles,
    extraMounts: [
      ...userMountSpecs(store, { ...rec, config: c }, c.userns ? { uid: hostIdOf(user.uid, c.userns.uidMap) ?? 0, gid: hostIdOf(user.gid, c.userns.gidMap) ?? 0 } : user),
      ...keepIdMounts,
      ...(c.init ? [{ destination: INIT_PATH, type: 'bind', source: initBinary(), recursive: false, readonly: true, file: true }] : []),
    ],
    ttyGroupMapped: c.userns ? containerGidMapped(c.userns, 5) : gidMapped(5),
    ...(c.userns ? { userns: c.userns } : {}),
    network:
      pooled
        ? { argv: [], ...pooled }
        : mode.kind === 'pasta'
        ? pastaNetwork(store.runDir(rec.id), c.ports ?? [], dns, mode.options)
        : mode.kind === 'slirp4netns'
          ? slirp4netnsHelper(findExecutable('slirp4netns') ?? 'slirp4netns', store.runDir(rec.id), mode.options, c.ports ?? [])
          : mode.kind === 'network'
            ? attachBridgeNetworks(store.storageRoot, store, rec, c.networks ?? [{ name: mode.name, aliases: [] }], c.ports ?? [])
            : undefined,
    ...(joined.netns ? { joinNamespaces: { net: joined.netns } } : pooled ? { joinNamespaces: { net: pooled.netnsPath } } : {}),
  });
}

/**
 * For container:ID and ns:PATH: the network namespace to enter, and for
 * container:ID the directory whose hosts and resolv.conf the container shares
 * (followed to the container that owns the namespace).
 */
function joinedNetwork(store: ContainerStore, mode: NetworkMode): { netns?: string; etcDir?: string } {
  if (mode.kind === 'ns') return { netns: mode.path };
  if (mode.kind !== 'container') return {};
  const other = store.find(mode.container);
  if (!other) throw new TspodError(`the container ${mode.container} whose network namespace this container shares no longer exists`);
  if (other.state.status !== 'running' || !isAlive(other.state.pid, other.state.pidStartTime)) {
    throw new TspodError(`cannot join the network namespace of container ${other.name}: it is not running; start it first`);
  }
  let owner = other;
  for (let depth = 0; depth < 16; depth++) {
    const m = parseNetworkMode(owner.config.network);
    const next = m.kind === 'container' ? store.find(m.container) : undefined;
    if (!next) break;
    owner = next;
  }
  return { netns: `/proc/${other.state.pid}/ns/net`, etcDir: store.runDir(owner.id) };
}

/**
 * The container's -v/--mount/--tmpfs mounts as the launcher performs them.
 * A named volume mounted for the first time gets a copy of what the root
 * filesystem holds at that place (Podman's copy-up); `:U` hands the source to
 * the container's user.
 */
function userMountSpecs(store: ContainerStore, rec: ContainerRecord, user: { uid: number; gid: number }): MountSpec[] {
  const volumes = new VolumeStore(store.storageRoot);
  return (rec.config.mounts ?? []).map((m): MountSpec => {
    if (m.kind === 'tmpfs') {
      return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', flags: MS_NOSUID | MS_NODEV, data: m.tmpfsOptions || 'mode=1777' };
    }
    let source = m.source;
    if (m.kind === 'volume') {
      const vol = volumes.get(m.source);
      if (!vol) throw new TspodError(`no volume with name "${m.source}" found: no such volume (it was removed after the container was created)`);
      source = vol.Mountpoint;
      copyUpOnce(rec.config.rootfs, m.destination, source);
    }
    if (m.chown) chownTree(source, user.uid, user.gid);
    const isFile = !fs.statSync(source).isDirectory();
    return { destination: m.destination, type: 'bind', source, recursive: true, readonly: m.readonly, file: isFile };
  });
}

/** Copy the image's content at `dest` into an empty volume, never following a symlink out of the root. */
function copyUpOnce(rootfs: string, dest: string, volumeDir: string): void {
  if (fs.readdirSync(volumeDir).length > 0) return;
  let here = rootfs;
  for (const part of dest.split('/').filter(Boolean)) {
    here = path.join(here, part);
    const st = fs.lstatSync(here, { throwIfNoEntry: false });
    if (!st || !st.isDirectory()) return;
  }
  fs.cpSync(here, volumeDir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const root = fs.statSync(here);
  fs.chmodSync(volumeDir, root.mode & 0o7777);
  fs.chownSync(volumeDir, root.uid, root.gid);
}

function chownTree(dir: string, uid: number, gid: number): void {
  fs.lchownSync(dir, uid, gid);
  if (!fs.lstatSync(dir).isDirectory()) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else fs.lchownSync(p, uid, gid);
  }
}

/** Where --init's binary appears in the container (as /run/podman-init does for Podman). */
const INIT_PATH = '/run/tspod-init';

function initBinary(): string {
  const file = path.join(packageRoot(), 'native', 'build', 'Release', 'tspod-init');
  if (!fs.existsSync(file)) throw new TspodError(`tspod-init is missing (${file}); run 'npm run build:native'`);
  return file;
}

/** A container's root filesystem on this host, mounted when it comes from an image. */
export async function containerRootfsPath(store: ContainerStore, rec: ContainerRecord): Promise<string> {
  return mountRootfs(store, rec);
}

/** The root filesystem to start from: the --rootfs directory, or the image mounted for this container. */
async function mountRootfs(store: ContainerStore, rec: ContainerRecord, opts: { save: boolean } = { save: true }): Promise<string> {
  if (!rec.config.imageId) return rec.config.rootfs;
  const { prepareContainerRootfs } = await import('../storage/rootfs.js');
  const idMap = rec.config.userns ? { idMap: { uidMap: rec.config.userns.uidMap, gidMap: rec.config.userns.gidMap } } : {};
  const prepared = await prepareContainerRootfs(store.storageRoot, store.runRoot, rec.config.imageId, rec.id, idMap);
  if (opts.save && prepared.rootfs !== rec.config.rootfs) await store.update(rec.id, (r) => (r.config.rootfs = prepared.rootfs));
  return prepared.rootfs;
}

function pastaNetwork(runDir: string, ports: PortMapping[], dnsForward?: string, options: string[] = []): NetworkHelperSpec {
  const netnsPath = path.join(runDir, 'netns');
  const pidFile = path.join(runDir, 'pasta.pid');
  return { argv: pastaArgs(pastaBinary(), ports, { netnsPath, pidFile, dnsForward, options }), netnsPath, pidFile };
}

/**
 * The pool's terms: pasta as the default mode starts it (no published ports,
 * no pasta options), for a container without a user namespace of its own
 * (whose init could not enter a namespace owned by the rootless one) or a pod.
 */
function pastaPoolRequest(c: ContainerRecord['config'], dns = pastaDnsForward()): PoolRequest | undefined {
  const mode = parseNetworkMode(c.network);
  if (mode.kind !== 'pasta' || mode.options?.length || c.ports?.length || c.userns || c.pod || poolIdleSeconds() === 0) return undefined;
  const bin = pastaBinary();
  return poolRequest((netnsPath, pidFile) => pastaArgs(bin, [], { netnsPath, pidFile, dnsForward: dns }));
}

function pastaDnsForward(): string | undefined {
  return hostHasUsableNameserver() ? undefined : PASTA_DNS_FORWARD;
}

/** The address pasta answers DNS on when the host's resolvers are loopback ones (as Podman uses). */
const PASTA_DNS_FORWARD = '169.254.1.1';

function hostHasUsableNameserver(): boolean {
  try {
    return resolvConf(fs.readFileSync('/etc/resolv.conf', 'utf8'), { ownNetwork: true }).includes('nameserver');
  } catch {
    return false;
  }
}

function isAlive(pid: number, startTime?: number): boolean {
  if (pid <= 0) return false;
  const now = processStartTime(pid);
  return now !== undefined && (startTime === undefined || now === startTime);
}

interface ExitRecord {
  exitCode: number;
  signaled: boolean;
  finishedAt: string;
  error: string;
}

function readExitFile(file: string): ExitRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ExitRecord;
  } catch {
    return undefined;
  }
}

/**
 * Bring a record up to date with reality: a container marked running whose
 * monitor recorded an exit, or whose process is gone (its monitor was killed,
 * or the machine rebooted), is exited. Saved when it changed.
 */
export async function reconcile(store: ContainerStore, rec: ContainerRecord, opts: { save: boolean } = { save: true }): Promise<ContainerRecord> {
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') return rec;
  // Unsaved for a record about to be deleted (run --rm): one database write fewer.
  const record = (change: (r: ContainerRecord) => void): Promise<ContainerRecord> => {
    if (opts.save) return store.update(rec.id, change);
    const copy = structuredClone(rec);
    change(copy);
    return Promise.resolve(copy);
  };
  const exit = readExitFile(store.exitFile(rec.id));
  if (exit) {
    releaseBridgeNetworks(store, rec.id);
    return record((r) => {
      r.state = { ...r.state, status: 'exited', exitCode: exit.exitCode, finishedAt: exit.finishedAt, pid: 0, monitorPid: 0 };
      if (exit.error) r.state.error = exit.error;
    });
  }
  if (isAlive(rec.state.pid, rec.state.pidStartTime)) return rec;
  // Give a monitor that is writing the exit file right now a moment.
  await new Promise((r) => setTimeout(r, 50));
  const late = readExitFile(store.exitFile(rec.id));
  // Nobody else will end this container's network helper: its monitor is gone.
  if (!late) teardownNetwork(store, rec.id);
  return record((r) => {
    r.state = {
      ...r.state,
      status: 'exited',
      exitCode: late?.exitCode ?? 137,
      finishedAt: late?.finishedAt ?? new Date().toISOString(),
      pid: 0,
      monitorPid: 0,
      ...(late ? {} : { error: 'the container process ended without its monitor recording an exit status' }),
    };
  });
}

export async function reconcileAll(store: ContainerStore): Promise<ContainerRecord[]> {
  const out: ContainerRecord[] = [];
  for (const rec of store.list()) out.push(await reconcile(store, rec));
  return out;
}

function cleanupCommand(ctx: GlobalContext, id: string): string[] {
  // The monitor runs this when a detached container ends (like conmon's exit command).
  return [launcherPath(), process.argv[1], '--root', ctx.storageRoot, '--runroot', ctx.runRoot, '--log-level', 'error', 'container', 'cleanup', id];
}

export interface StartOptions {
  attach: boolean;
  interactive?: boolean;
  /** attached: the keys that detach (Podman's --detach-keys; '' disables), and whether our signals reach the container */
  detachKeys?: string;
  sigProxy?: boolean;
  /** a restart policy's start (the monitor's cleanup): refused under the lock once a stop has been recorded */
  policyRestart?: boolean;
}

/**
 * Start a created or exited container through its monitor. Attached, resolves
 * with the container's exit status once it is gone; detached, as soon as it runs.
 */
export async function startContainer(ctx: GlobalContext, store: ContainerStore, id: string, opts: StartOptions): Promise<number> {
  const pod = await import('../pod/pods.js');
  // A pod's containers live in its infra container's namespaces: that one runs first.
  await pod.beforeMemberStart(ctx, store.find(id));
  const rec = await withLock(store.lockPath(id), async () => {
    const current = await reconcile(store, store.get(id));
    if (current.state.status === 'running' || current.state.status === 'paused') return undefined;
    // A stop recorded (under this lock) since the cleanup chose to restart wins: the container stays stopped.
    if (opts.policyRestart && current.state.stoppedByUser) return undefined;
    fs.mkdirSync(store.runDir(id), { recursive: true, mode: 0o700 });
    fs.rmSync(store.exitFile(id), { force: true });
    // Saved with the running state below: one database write fewer per start.
    const rootfs = await mountRootfs(store, current, { save: false });
    // Its own cgroup under a delegated one, so that `pause` can freeze it.
    const cgroupPath = createContainerCgroup(id);
    const spec = pod.applyPodToSpec(store, current, { ...containerSpec(store, current, rootfs), ...(current.config.tty ? { terminal: true } : {}) });
    process.env.TSPOD_NODE ??= process.execPath;
    const monitor = startMonitor({
      spec: cgroupPath ? { ...spec, cgroupPath } : spec,
      logPath: store.logPath(id),
      exitFile: store.exitFile(id),
      detach: !opts.attach,
      interactive: opts.interactive ?? current.config.interactive,
      tty: current.config.tty ?? false,
      ...(current.config.notifySocket ? { notifySocket: current.config.notifySocket } : {}),
      // Attached, the monitor runs it only if the user detaches.
      cleanup: cleanupCommand(ctx, id),
      attachSocket: store.attachSocket(id),
      ...(opts.attach ? { detachKeys: parseDetachKeys(opts.detachKeys ?? DEFAULT_DETACH_KEYS), sigProxy: opts.sigProxy ?? true } : {}),
    });
    let started: { pid: number; monitorPid: number };
    try {
      started = await monitor.started;
    } catch (err) {
      // The addresses leased for it go back (the launcher has undone the rest).
      releaseBridgeNetworks(store, id);
      releasePooledPasta(store.runDir(id));
      await store.update(id, (r) => {
        r.state = { ...r.state, status: 'exited', exitCode: (err as TspodError).exitCode ?? 125, error: (err as Error).message, finishedAt: new Date().toISOString() };
      });
      throw err;
    }
    const updated = await store.update(id, (r) => {
      r.config.rootfs = rootfs;
      r.state = {
        restartCount: r.state.restartCount ?? 0,
        status: 'running',
        pid: started.pid,
        pidStartTime: processStartTime(started.pid),
        monitorPid: started.monitorPid,
        startedAt: new Date().toISOString(),
        exitCode: 0,
        ...(cgroupPath ? { cgroupPath } : {}),
      };
    });
    // The monitor's pid, for systemd units (PIDFile=) as conmon.pid is for Podman's.
    fs.writeFileSync(path.join(store.runDir(id), 'monitor.pid'), `${started.monitorPid}\n`);
    return { updated, monitor };
  });
  if (!rec) {
    if (opts.attach) throw new TspodError(`container ${id} is already running; use 'tspod attach' or 'tspod logs -f'`);
    return 0;
  }
  // The next run finds a pasta ready: one starts in the background, off this run's own path.
  // (After a pasta with published ports too, which took the pool's entry away: see pastaWithPorts.)
  const pool = pastaPoolRequest({ ...rec.updated.config, ports: [] });
  if (pool) replenishPastaPoolLater(store.runRoot, pool, opts.attach ? 250 : 0);
  if (!opts.attach) return 0;
  const code = await rec.monitor.exited;
  if (code === DETACHED) return DETACHED;
  // A --rm container is removed next (run.ts): its exit need not be saved first.
  if (!rec.updated.config.autoRemove) await reconcile(store, store.get(id));
  return code;
}

async function waitGone(pid: number, startTime: number | undefined, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid, startTime)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Send a signal to the container's init process. */
export async function killContainer(store: ContainerStore, nameOrId: string, signal: string): Promise<ContainerRecord> {
  const rec = await reconcile(store, store.get(nameOrId));
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
    throw new TspodError(`can only kill running containers. ${rec.id} is in state ${rec.state.status}: container state improper`);
  }
  process.kill(rec.state.pid, signalName(signal));
  return rec;
}

/** Stop: the stop signal, then SIGKILL after the timeout, as Podman does. */
export async function stopContainer(store: ContainerStore, nameOrId: string, timeoutSecs?: number): Promise<ContainerRecord> {
  // The stop is recorded under the container's lock, which a start holds from its check to its running state:
  // a restart policy's start either ran before (we stop what it started) or sees the stop and starts nothing.
  const id = store.get(nameOrId).id;
  let rec = await withLock(store.lockPath(id), async () => {
    const now = await reconcile(store, store.get(id));
    if (now.state.status !== 'running' && now.state.status !== 'paused') {
      // Between two runs of a restart policy: the stop still counts, so no further restart comes.
      const policy = now.config.restartPolicy?.name ?? 'no';
      if (policy !== 'no' && now.state.status === 'exited' && !now.state.stoppedByUser) {
        return store.update(id, (r) => (r.state.stoppedByUser = true));
      }
      return now;
    }
    // Recorded first, so the monitor's cleanup sees it and applies no restart policy.
    return store.update(id, (r) => (r.state.stoppedByUser = true));
  });
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') return rec;
  const paused = rec.state.status === 'paused';
  const { pid, pidStartTime } = rec.state;
  const timeout = timeoutSecs ?? rec.config.stopTimeout;
  if (timeout > 0) {
    try {
      process.kill(pid, signalName(rec.config.stopSignal));
    } catch {
      // already gone
    }
  }
  // A paused container takes its stop signal once thawed (SIGKILL needs no thaw).
  if (paused && rec.state.cgroupPath) await setFrozen(rec.state.cgroupPath, false).catch(() => undefined);
  if (!(await waitGone(pid, pidStartTime, timeout * 1000))) {
    if (timeout > 0) log.warn(`StopSignal ${rec.config.stopSignal} failed to stop container ${rec.name} in ${timeout} seconds, resorting to SIGKILL`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await waitGone(pid, pidStartTime, 10_000);
  }
  // The monitor records the exit status right after the process is reaped.
  const deadline = Date.now() + 2000;
  while (!fs.existsSync(store.exitFile(rec.id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  // A --rm container may be gone already: its own run removed it.
  const now = store.find(rec.id);
  return now ? reconcile(store, now) : rec;
}

export async function removeContainer(
  store: ContainerStore,
  nameOrId: string,
  opts: { force: boolean; volumes?: boolean; timeoutSecs?: number },
): Promise<ContainerRecord> {
  let rec = await reconcile(store, store.get(nameOrId), { save: false });
  const dependents = store.list().filter((c) => c.id !== rec.id && c.config.network === `container:${rec.id}`);
  if (dependents.length) {
    throw new TspodError(`container ${rec.id} has dependent containers which must be removed before it: ${dependents.map((c) => c.id).join(', ')}: container already exists`);
  }
  if (rec.state.status === 'running' || rec.state.status === 'paused') {
    if (!opts.force) {
      throw new TspodError(
        `cannot remove container ${rec.id} as it is running - running or paused containers cannot be removed without force: container state improper`,
        { exitCode: 2 },
      );
    }
    // rm -f kills at once; rm -f -t N gives the stop signal N seconds first
    rec = await stopContainer(store, rec.id, opts.timeoutSecs ?? 0);
  }
  teardownNetwork(store, rec.id);
  removeContainerCgroup(rec.state.cgroupPath);
  if (rec.config.imageId) {
    const { releaseContainerRootfs } = await import('../storage/rootfs.js');
    releaseContainerRootfs(store.storageRoot, rec.id, { remove: true });
  }
  await store.remove(rec.id);
  // Anonymous volumes go with their container when asked (rm -v) or with --rm, as in Podman.
  const anonymous = (rec.config.mounts ?? []).filter((m) => m.anonymous).map((m) => m.source);
  if (anonymous.length && (opts.volumes || rec.config.autoRemove)) {
    await new VolumeStore(store.storageRoot).remove(anonymous, { force: true });
  }
  return rec;
}

/** Containers whose mounts use the named volume. */
export function containersUsingVolume(store: ContainerStore, name: string): ContainerRecord[] {
  return store.list().filter((c) => (c.config.mounts ?? []).some((m) => m.kind === 'volume' && m.source === name));
}

/**
 * What the monitor does when a container ends, for when the monitor could not:
 * stop pasta (named by its pid file, checked to really be pasta) and release
 * the bind-mounted network namespace.
 */
export function teardownNetwork(store: ContainerStore, id: string): void {
  releaseBridgeNetworks(store, id);
  const dir = store.runDir(id);
  releasePooledPasta(dir);
  for (const [file, comm] of [['pasta.pid', /^pas/], ['slirp4netns.pid', /^slirp4netns/]] as const) {
    const pidFile = path.join(dir, file);
    try {
      const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
      if (pid > 1 && comm.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8'))) process.kill(pid, 'SIGTERM');
    } catch {
      // no helper, or already gone
    }
    fs.rmSync(pidFile, { force: true });
  }
  fs.rmSync(path.join(dir, 'slirp4netns.sock'), { force: true });
  const netns = path.join(dir, 'netns');
  if (fs.existsSync(netns)) {
    try {
      native().umount(netns, MNT_DETACH);
    } catch (err) {
      log.debug(`cannot unmount ${netns}: ${(err as Error).message}`);
    }
    fs.rmSync(netns, { force: true });
  }
}

/** Wait until the container is no longer running; its exit code. */
export async function waitContainer(store: ContainerStore, nameOrId: string): Promise<number> {
  for (;;) {
    const rec = await reconcile(store, store.get(nameOrId));
    if (rec.state.status !== 'running') return rec.state.exitCode;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function signalName(sig: string): NodeJS.Signals {
  const s = sig.toUpperCase();
  if (/^\d+$/.test(s)) {
    const found = Object.entries(os.constants.signals).find(([, n]) => n === Number(s));
    if (!found) throw new TspodError(`invalid signal: ${sig}`);
    return found[0] as NodeJS.Signals;
  }
  const name = (s.startsWith('SIG') ? s : `SIG${s}`) as NodeJS.Signals;
  if (!(name in os.constants.signals)) throw new TspodError(`invalid signal: ${sig}`);
  return name;
}

export function containerLogDir(store: ContainerStore, id: string): string {
  return path.dirname(store.logPath(id));
}
