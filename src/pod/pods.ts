/**
 * Pods: a group of containers that share the network, IPC and UTS namespaces
 * of one infra container (tspod-init in pause mode on an empty root
 * filesystem, so no image is needed). The infra publishes the pod's ports; the
 * pod's state is derived from its containers'.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GlobalContext } from '../cli/context.js';
import type { ContainerRecord, ContainerStore } from '../runtime/container-store.js';
import { writeFileAtomic } from '../storage/atomic.js';
import { parseVolumeFlag, type UserMount } from '../runtime/mount-options.js';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import { type PodRecord, PodStore, SHAREABLE, type SharedNamespace } from './store.js';

export function openPodStore(ctx: GlobalContext): PodStore {
  return new PodStore(ctx.storageRoot);
}

/** Where tspod-init appears in a container that runs it (see containerSpec's --init). */
const INIT_IN_CONTAINER = '/run/tspod-init';

/** The infra containers' root filesystem: an empty directory, shared read-only by all of them. */
export function infraRootfsDir(storageRoot: string): string {
  const dir = path.join(storageRoot, 'pods', 'infra-rootfs');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

export interface PodCreateOptions {
  name?: string;
  infra: boolean;
  publish: string[];
  labels: string[];
  hostname?: string;
  network?: string;
  share?: string;
  podIdFile?: string;
  infraConmonPidfile?: string;
  exitPolicy?: string;
  replace: boolean;
  infraName?: string;
  dns?: string[];
  addHost?: string[];
  /** -v SRC:DST[:opts]: given to every container that joins the pod */
  volume?: string[];
  /** --ip, --mac-address: the infra container's address on the pod's user-defined network */
  ip?: string;
  macAddress?: string;
  userns?: string;
  createCommand?: string[];
}

/** `--share net,ipc,uts`, `--share +uts`, `--share none`. Podman also shares cgroup and pid; tspod not yet. */
export function parseShare(text: string | undefined): SharedNamespace[] {
  const DEFAULT: SharedNamespace[] = ['ipc', 'net', 'uts'];
  if (text === undefined) return DEFAULT;
  const t = text.trim();
  if (t === '' || t === 'none') return [];
  const add = t.startsWith('+');
  const out = new Set<SharedNamespace>(add ? DEFAULT : []);
  for (const w of (add ? t.slice(1) : t).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (w === 'cgroup' || w === 'pid') {
      throw new TspodError(`--share ${w} is not supported by tspod yet: share net, ipc and uts`);
    }
    if (!(SHAREABLE as readonly string[]).includes(w)) throw new TspodError(`invalid kernel namespace to share: ${w}: use net, ipc or uts`);
    out.add(w as SharedNamespace);
  }
  return [...out];
}

export async function createPod(ctx: GlobalContext, o: PodCreateOptions): Promise<PodRecord> {
  const share = parseShare(o.share);
  const exitPolicy = o.exitPolicy ?? 'continue';
  if (exitPolicy !== 'continue' && exitPolicy !== 'stop') throw new TspodError(`invalid pod exit policy "${exitPolicy}": use continue or stop`);
  if (!o.infra && (o.publish.length > 0 || o.network)) {
    throw new TspodError('you must have an infra container to publish ports or set a network: drop --infra=false');
  }
  if (!o.infra && (o.ip !== undefined || o.macAddress !== undefined)) {
    throw new TspodError('you must have an infra container to set --ip or --mac-address: drop --infra=false');
  }
  if (o.userns !== undefined) {
    throw new TspodError(`--userns is not supported by tspod pod create yet: a pod's shared namespaces belong to tspod's rootless user namespace; drop --userns=${o.userns}`);
  }
  const volumes = parsePodVolumes(o.volume ?? []);
  if (!o.infra && share.length > 0 && o.share !== undefined) {
    throw new TspodError('you must have an infra container to share namespaces: drop --infra=false or use --share none');
  }
  const { parseKeyValues } = await import('../runtime/volumes.js');
  const labels = parseKeyValues(o.labels, 'label');
  const pods = openPodStore(ctx);
  if (o.replace && o.name && pods.find(o.name)) await removePod(ctx, pods.get(o.name), { force: true });
  const pod = await pods.create(o.name, {
    share: o.infra ? share : [],
    hostname: o.hostname ?? '',
    labels,
    exitPolicy,
    createCommand: o.createCommand ?? process.argv.slice(2),
    ...(o.infraConmonPidfile ? { infraMonitorPidFile: path.resolve(o.infraConmonPidfile) } : {}),
  });
  const anonymous: string[] = [];
  try {
    if (volumes.length) {
      await resolvePodVolumes(ctx, volumes, anonymous);
      await pods.update(pod.id, (p) => (p.volumes = volumes));
      pod.volumes = volumes;
    }
    if (o.infra) {
      // On a user-defined network the pod is reachable by its name (as in Podman, the infra carries it as an alias).
      const { parseUserNetworks } = await import('../network/bridge-options.js');
      const onUserNetwork = Array.isArray(parseUserNetworks(ctx.storageRoot, o.network, {}));
      const { createFromOptions } = await import('../runtime/create.js');
      const infra = await createFromOptions(ctx, {
        rootfs: true,
        image: infraRootfsDir(ctx.storageRoot),
        name: o.infraName ?? `${pod.id.slice(0, 12)}-infra`,
        rm: false,
        env: [],
        // The pod's host name is its name unless given (as in Podman); the UTS namespace is shared.
        hostname: o.hostname || pod.name,
        ...(o.network ? { network: o.network } : {}),
        ...(o.ip !== undefined ? { ip: o.ip } : {}),
        ...(o.macAddress !== undefined ? { macAddress: o.macAddress } : {}),
        ...(onUserNetwork ? { networkAlias: [pod.name] } : {}),
        capAdd: [],
        capDrop: [],
        privileged: false,
        readOnly: true,
        labels: [],
        interactive: false,
        command: [INIT_IN_CONTAINER, '-P'],
        init: true,
        publish: o.publish,
        publishAll: false,
        dns: o.dns ?? [],
        addHost: o.addHost ?? [],
        volume: [],
        mount: [],
        tmpfs: [],
      });
      const { openStore } = await import('../runtime/lifecycle.js');
      await openStore(ctx).update(infra.id, (r) => {
        r.config.pod = pod.id;
        r.config.isInfra = true;
        r.config.imageName = '';
      });
      await pods.update(pod.id, (p) => (p.infraId = infra.id));
      pod.infraId = infra.id;
    }
  } catch (err) {
    await pods.remove(pod.id);
    if (anonymous.length) {
      const { VolumeStore } = await import('../runtime/volumes.js');
      const store = new VolumeStore(ctx.storageRoot);
      await store.remove(anonymous, { force: true }).catch(() => undefined);
    }
    throw err;
  }
  if (o.podIdFile) writeFileAtomic(path.resolve(o.podIdFile), pod.id, 0o644);
  return pod;
}

/** `pod create -v`: checked now, so a bad flag fails the pod rather than each container that joins it. */
function parsePodVolumes(flags: string[]): UserMount[] {
  const mounts = flags.map(parseVolumeFlag);
  for (const [i, m] of mounts.entries()) {
    if (mounts.findIndex((x) => x.destination === m.destination) !== i) throw new TspodError(`duplicate mount destination ${m.destination} in the pod's -v flags: give each destination once`);
    if (m.kind === 'bind' && !fs.existsSync(m.source)) throw new TspodError(`statfs ${m.source}: no such file or directory; create it first or mount a named volume`);
  }
  return mounts;
}

/**
 * The pod's volumes exist from now on; an anonymous one gets its name now, so
 * that every member mounts the same volume (Podman's members share the infra's).
 */
async function resolvePodVolumes(ctx: GlobalContext, mounts: UserMount[], created: string[]): Promise<void> {
  const { VolumeStore } = await import('../runtime/volumes.js');
  const store = new VolumeStore(ctx.storageRoot);
  for (const m of mounts) {
    if (m.kind !== 'volume') continue;
    const vol = await store.create({ name: m.source || undefined, ignoreExisting: true });
    if (!m.source) created.push(vol.Name);
    m.source = vol.Name;
  }
}

export function podContainers(store: ContainerStore, pod: PodRecord): ContainerRecord[] {
  return store.list().filter((c) => c.config.pod === pod.id);
}

/** Podman's pod states from the containers': Created, Running, Degraded, Exited. */
export function podStatus(members: ContainerRecord[]): string {
  if (members.length === 0) return 'Created';
  const running = members.filter((c) => c.state.status === 'running').length;
  if (running === members.length) return 'Running';
  if (running > 0) return 'Degraded';
  if (members.every((c) => c.state.status === 'created')) return 'Created';
  return 'Exited';
}

async function reconciled(ctx: GlobalContext, pod: PodRecord): Promise<{ store: ContainerStore; members: ContainerRecord[] }> {
  const { openStore, reconcile } = await import('../runtime/lifecycle.js');
  const store = openStore(ctx);
  const members: ContainerRecord[] = [];
  for (const c of podContainers(store, pod)) members.push(await reconcile(store, c));
  // Oldest first: the infra, then the containers in the order they joined.
  members.sort((a, b) => Number(!a.config.isInfra) - Number(!b.config.isInfra) || a.created.localeCompare(b.created));
  return { store, members };
}

export async function podState(ctx: GlobalContext, pod: PodRecord): Promise<{ status: string; members: ContainerRecord[] }> {
  const { members } = await reconciled(ctx, pod);
  return { status: podStatus(members), members };
}

/** Start the infra container if it is not running (before any member starts), and record its monitor's pid. */
export async function ensureInfraRunning(ctx: GlobalContext, pod: PodRecord): Promise<ContainerRecord | undefined> {
  if (!pod.infraId) return undefined;
  const { openStore, startContainer } = await import('../runtime/lifecycle.js');
  const store = openStore(ctx);
  await startContainer(ctx, store, pod.infraId, { attach: false });
  const infra = store.get(pod.infraId);
  if (pod.infraMonitorPidFile) writeFileAtomic(pod.infraMonitorPidFile, `${infra.state.monitorPid}\n`, 0o644);
  return infra;
}

/** Start the infra, then every other container (in creation order). Errors are collected, as Podman's are. */
export async function startPod(ctx: GlobalContext, pod: PodRecord): Promise<void> {
  const { members } = await reconciled(ctx, pod);
  await ensureInfraRunning(ctx, pod);
  const { openStore, startContainer } = await import('../runtime/lifecycle.js');
  const store = openStore(ctx);
  const errors: string[] = [];
  for (const c of members) {
    if (c.config.isInfra || c.state.status === 'running') continue;
    try {
      await startContainer(ctx, store, c.id, { attach: false });
    } catch (err) {
      errors.push(`${c.name}: ${(err as Error).message}`);
    }
  }
  if (errors.length) throw new TspodError(`error starting some containers of pod ${pod.name}: ${errors.join('; ')}`);
}

/** Stop the containers, the infra last (the others live in its namespaces). */
export async function stopPod(ctx: GlobalContext, pod: PodRecord, timeout?: number): Promise<void> {
  const { members, store } = await reconciled(ctx, pod);
  const { stopContainer } = await import('../runtime/lifecycle.js');
  const others = members.filter((c) => !c.config.isInfra);
  await Promise.all(others.map((c) => stopContainer(store, c.id, timeout)));
  const infra = members.find((c) => c.config.isInfra);
  if (infra) await stopContainer(store, infra.id, timeout);
}

export async function killPod(ctx: GlobalContext, pod: PodRecord, signal: string): Promise<void> {
  const { members, store } = await reconciled(ctx, pod);
  const { killContainer } = await import('../runtime/lifecycle.js');
  const running = members.filter((c) => c.state.status === 'running');
  if (running.length === 0) throw new TspodError(`no containers in pod ${pod.id} are running: container state improper`);
  for (const c of running.filter((r) => !r.config.isInfra)) await killContainer(store, c.id, signal);
  for (const c of running.filter((r) => r.config.isInfra)) await killContainer(store, c.id, signal);
}

/** Remove the pod and its containers; running ones only with force. */
export async function removePod(ctx: GlobalContext, pod: PodRecord, opts: { force: boolean; timeout?: number }): Promise<void> {
  const { members, store } = await reconciled(ctx, pod);
  const running = members.filter((c) => c.state.status === 'running' && !c.config.isInfra);
  if (running.length > 0 && !opts.force) {
    throw new TspodError(
      `pod ${pod.id} has containers that are not ready to be removed: cannot remove container ${running[0].id} as it is running - running or paused containers cannot be removed without force: container state improper`,
    );
  }
  const { removeContainer } = await import('../runtime/lifecycle.js');
  if (opts.force) await stopPod(ctx, pod, opts.timeout ?? 10);
  for (const c of members.filter((m) => !m.config.isInfra)) await removeContainer(store, c.id, { force: true });
  for (const c of members.filter((m) => m.config.isInfra)) await removeContainer(store, c.id, { force: true });
  await openPodStore(ctx).remove(pod.id);
  if (pod.infraMonitorPidFile) fs.rmSync(pod.infraMonitorPidFile, { force: true });
}

/**
 * A pod member's namespaces: the infra's net, ipc and uts (those the pod
 * shares), as paths the container's launcher setns()s into. The infra must
 * be running.
 */
export function podNamespacePaths(store: ContainerStore, rec: ContainerRecord): Partial<Record<SharedNamespace, string>> | undefined {
  if (!rec.config.pod || rec.config.isInfra) return undefined;
  const pod = new PodStore(store.storageRoot).find(rec.config.pod);
  if (!pod || !pod.infraId) return undefined;
  const infra = store.find(pod.infraId);
  if (!infra || infra.state.status !== 'running' || !infra.state.pid) {
    throw new TspodError(`the infra container of pod ${pod.name} is not running: start the pod with 'tspod pod start ${pod.name}'`);
  }
  const out: Partial<Record<SharedNamespace, string>> = {};
  for (const ns of pod.share) out[ns] = `/proc/${infra.state.pid}/ns/${ns}`;
  return out;
}

/**
 * The monitor's cleanup of a pod member that exited: with --exit-policy=stop,
 * the pod stops once no ordinary container of it runs any more.
 */
export async function afterMemberExit(ctx: GlobalContext, rec: ContainerRecord): Promise<void> {
  if (!rec.config.pod || rec.config.isInfra) return;
  const pod = openPodStore(ctx).find(rec.config.pod);
  if (!pod || pod.exitPolicy !== 'stop') return;
  const { members } = await reconciled(ctx, pod);
  if (members.some((c) => !c.config.isInfra && c.state.status === 'running')) return;
  log.debug(`pod ${pod.name}: last container exited, stopping the pod (exit policy stop)`);
  await stopPod(ctx, pod);
}

/** The pod a `--pod` value names: `new:NAME` creates it (as Podman does). */
export async function resolvePodFlag(ctx: GlobalContext, value: string): Promise<PodRecord> {
  const pods = openPodStore(ctx);
  if (value.startsWith('new:')) return createPod(ctx, { name: value.slice(4), infra: true, publish: [], labels: [], replace: false });
  return pods.get(value);
}

/**
 * Before a pod member starts: the infra runs (its namespaces must exist).
 * Called by startContainer outside the member's lock.
 */
export async function beforeMemberStart(ctx: GlobalContext, rec: ContainerRecord | undefined): Promise<void> {
  if (!rec?.config.pod || rec.config.isInfra) return;
  const pod = openPodStore(ctx).find(rec.config.pod);
  if (pod) await ensureInfraRunning(ctx, pod);
}

/**
 * A pod member's spec: it enters the infra's shared namespaces, and with the
 * network shared, sees the infra's /etc/hosts and /etc/resolv.conf.
 */
export function applyPodToSpec<S extends { joinNamespaces?: Partial<Record<string, string>>; mounts: { destination: string; source?: string }[] }>(
  store: ContainerStore,
  rec: ContainerRecord,
  spec: S,
): S {
  const join = podNamespacePaths(store, rec);
  if (!join || Object.keys(join).length === 0) return spec;
  const pod = new PodStore(store.storageRoot).find(rec.config.pod!)!;
  let mounts = spec.mounts;
  if (join.net) {
    const infraDir = store.runDir(pod.infraId!);
    mounts = mounts.map((m) =>
      (m.destination === '/etc/hosts' || m.destination === '/etc/resolv.conf') && fs.existsSync(path.join(infraDir, path.basename(m.destination)))
        ? { ...m, source: path.join(infraDir, path.basename(m.destination)) }
        : m,
    );
  }
  return { ...spec, mounts, joinNamespaces: { ...spec.joinNamespaces, ...join } };
}

/**
 * `run/create --pod`: check the flags against what the pod shares (Podman's
 * messages) and return what the container takes from the pod.
 */
export async function podMembership(
  ctx: GlobalContext,
  o: { pod?: string; network?: string; publish: string[]; publishAll: boolean; hostname?: string },
): Promise<{ podId: string; network?: string; hostname?: string; volumes?: UserMount[] }> {
  const pod = await resolvePodFlag(ctx, o.pod!);
  const shares = (ns: SharedNamespace) => pod.infraId !== undefined && pod.share.includes(ns);
  if (shares('net')) {
    if (o.network) throw new TspodError('invalid config provided: networks must be defined when the pod is created: network cannot be configured when it is shared with a pod');
    if (o.publish.length || o.publishAll) {
      throw new TspodError('invalid config provided: published or exposed ports must be defined when the pod is created: network cannot be configured when it is shared with a pod');
    }
  }
  if (shares('uts') && o.hostname) throw new TspodError('invalid config provided: cannot set hostname when joining the pod UTS namespace');
  const { openStore } = await import('../runtime/lifecycle.js');
  const infra = pod.infraId ? openStore(ctx).find(pod.infraId) : undefined;
  return {
    podId: pod.id,
    // The namespace itself is entered through applyPodToSpec; 'none' keeps tspod from giving the container a network of its own.
    ...(shares('net') ? { network: 'none' } : {}),
    ...(shares('uts') && infra ? { hostname: infra.config.hostname } : {}),
    ...(pod.volumes?.length ? { volumes: pod.volumes } : {}),
  };
}

/** A `--flag[=true|false]` option (clipanion gives true for the bare flag, the text after `=` otherwise). */
export function boolFlag(name: string, value: string | boolean | undefined, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new TspodError(`invalid value "${value}" for ${name}: use true or false`);
}

/** `rm` of an infra container: refused while its pod exists, unless `rm --all` removes the pod with it. */
export async function removeInfraContainer(ctx: GlobalContext, rec: ContainerRecord, opts: { all: boolean; force: boolean }): Promise<void> {
  const pod = rec.config.pod ? openPodStore(ctx).find(rec.config.pod) : undefined;
  if (!pod) {
    const { openStore, removeContainer } = await import('../runtime/lifecycle.js');
    await removeContainer(openStore(ctx), rec.id, { force: opts.force });
    return;
  }
  if (!opts.all) {
    throw new TspodError(`container ${rec.id} is the infra container of pod ${pod.id} and cannot be removed without removing the pod`);
  }
  // Like rm -f of a container: no grace period.
  await removePod(ctx, pod, { force: opts.force, timeout: 0 });
}
