import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { GlobalContext } from '../cli/context.js';
import { requireUserNamespace } from '../rootless/userns.js';
import { TspodError } from '../util/errors.js';
import { resolveCapabilities } from './capabilities.js';
import type { ContainerRecord } from './container-store.js';
import { openStore, signalName } from './lifecycle.js';
import { parseKeyValues, VolumeStore } from './volumes.js';
import type { ContainerMount } from './container-store.js';
import type { LocalImage } from '../storage/image-store.js';
import { checkDuplicates, parseMountFlag, parseTmpfsFlag, parseVolumeFlag, type UserMount } from './mount-options.js';
import { checkHostPorts, parsePublish, pickFreePort } from '../network/ports.js';
import { parseNetworkMode, publishesPorts } from '../network/mode.js';
import { parseUserNetworks } from '../network/bridge-options.js';
import { findExecutable } from '../util/which.js';
import { log } from '../util/log.js';

export interface CreateOptions {
  rootfs: boolean;
  image: string;
  name?: string;
  rm: boolean;
  env: string[];
  workdir?: string;
  hostname?: string;
  network?: string;
  user?: string;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  readOnly: boolean;
  labels: string[];
  interactive: boolean;
  tty?: boolean;
  stopSignal?: string;
  stopTimeout?: string;
  command: string[];
  publish: string[];
  publishAll: boolean;
  cidfile?: string;
  replace?: boolean;
  envFile?: string[];
  sdnotify?: string;
  healthCmd?: string;
  restart?: string;
  init?: boolean;
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  /** on the first user-defined network: --ip, --mac-address, --network-alias */
  ip?: string;
  ip6?: string;
  macAddress?: string;
  networkAlias?: string[];
  /** --pod NAME: join the pod's infra container's shared namespaces */
  pod?: string;
  entrypoint?: string;
  pull?: string;
  tlsVerify?: boolean;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  /** --userns, --uidmap, --gidmap (id-mappings.ts) and --volumes-from */
  userns?: string;
  uidmap?: string[];
  gidmap?: string[];
  volumesFrom?: string[];
}

/** `-e KEY=VALUE`, or `-e KEY` to pass the host's value on (dropped when unset), as Podman does. */
export function parseEnv(items: string[], host: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new TspodError(`invalid environment variable "${item}": expected KEY=VALUE`);
    if (eq > 0) out.set(item.slice(0, eq), item.slice(eq + 1));
    else if (host[item] !== undefined) out.set(item, host[item]!);
  }
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/** Check every flag, then record a container in state "created". */
export async function createFromOptions(ctx: GlobalContext, o: CreateOptions): Promise<ContainerRecord> {
  const rootfs = o.rootfs ? path.resolve(o.image) : '';
  if (o.rootfs && !fs.statSync(rootfs, { throwIfNoEntry: false })?.isDirectory()) {
    throw new TspodError(`the root filesystem ${o.image} is not a directory`);
  }
  let image: LocalImage | undefined;
  if (!o.rootfs) {
    await requireUserNamespace();
    const { ensureImage } = await import('../image/ensure.js');
    image = await ensureImage(ctx, o.image, {
      pull: (o.pull ?? 'missing') as 'missing',
      progress: () => (process.stderr.isTTY ? process.stderr : undefined),
      ...(o.tlsVerify !== undefined ? { tlsVerify: o.tlsVerify } : {}),
    });
  }
  const img = image?.config ?? {};
  const entrypoint = o.entrypoint !== undefined ? parseEntrypoint(o.entrypoint) : (img.Entrypoint ?? []);
  // As Docker defines it: a new entrypoint drops the image's CMD; arguments replace CMD.
  const cmd = o.command.length > 0 ? o.command : o.entrypoint !== undefined ? [] : (img.Cmd ?? []);
  const command = [...entrypoint, ...cmd];
  // --pod: the pod's shared network and host name are the container's.
  const podJoin = o.pod ? await (await import('../pod/pods.js')).podMembership(ctx, o) : undefined;
  if (podJoin) o = { ...o, ...(podJoin.network ? { network: podJoin.network } : {}), ...(podJoin.hostname ? { hostname: podJoin.hostname } : {}) };
  let network = o.network ?? (findExecutable('pasta') ? 'pasta' : 'none');
  // --network NAME[,NAME...]: user-defined networks, bridges in the rootless network namespace (src/network/bridge.ts).
  const userNets = parseUserNetworks(ctx.storageRoot, o.network, { ip: o.ip, ip6: o.ip6, mac: o.macAddress, aliases: o.networkAlias });
  if (userNets === 'default') network = findExecutable('pasta') ? 'pasta' : 'none';
  else if (userNets) network = userNets[0].name;
  const mode = parseNetworkMode(network);
  if (mode.kind === 'network' && !userNets) {
    throw new TspodError(`network mode "${network}" is not available yet: use --network pasta, slirp4netns, none, host, container:NAME or ns:PATH`);
  }
  if ((mode.kind === 'pasta' || mode.kind === 'slirp4netns') && !findExecutable(mode.kind)) {
    throw new TspodError(`${mode.kind} is not installed: install the ${mode.kind === 'pasta' ? 'passt' : 'slirp4netns'} package, or use another --network mode`);
  }
  if (mode.kind === 'container') {
    // Recorded by id, so a rename of the other container does not break this one.
    const other = openStore(ctx).find(mode.container);
    if (!other) throw new TspodError(`looking up container to share net namespace with: no container with name or ID "${mode.container}" found: no such container`);
    network = `container:${other.id}`;
  }
  if (mode.kind === 'ns' && !fs.existsSync(mode.path)) {
    throw new TspodError(`the network namespace ${mode.path} does not exist: give the path of a network namespace file, such as /proc/PID/ns/net`);
  }
  let ports = o.publish.flatMap(parsePublish);
  if (o.publishAll) {
    for (const key of Object.keys(img.ExposedPorts ?? {})) {
      const [p, proto = 'tcp'] = key.split('/');
      if (!ports.some((m) => m.containerPort === Number(p) && m.protocol === proto)) ports.push(...parsePublish(`${p}/${proto}`));
    }
  }
  if (ports.length && !publishesPorts(mode) && !Array.isArray(userNets)) {
    log.warn('Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use');
    ports = [];
  }
  checkHostPorts(ports);
  for (const p of ports) if (p.hostPort === 0) p.hostPort = await pickFreePort(p.protocol, p.hostIp);
  if (command.length === 0) {
    throw new TspodError(o.rootfs ? 'no command given: with --rootfs, name the command to run after the directory' : `no command or entrypoint provided, and no CMD or ENTRYPOINT from image ${o.image}`);
  }
  resolveCapabilities({ add: o.capAdd, drop: o.capDrop, privileged: o.privileged });
  const stopSignal = signalName(o.stopSignal ?? img.StopSignal ?? 'SIGTERM');
  const stopTimeout = o.stopTimeout === undefined ? 10 : Number(o.stopTimeout);
  if (!Number.isInteger(stopTimeout) || stopTimeout < 0) throw new TspodError(`invalid --stop-timeout "${o.stopTimeout}": give whole seconds`);
  const userMounts = [...o.volume.map(parseVolumeFlag), ...o.mount.map(parseMountFlag), ...o.tmpfs.map(parseTmpfsFlag)];
  checkDuplicates(userMounts);
  if (o.volumesFrom?.length) {
    const { volumesFromMounts } = await import('./volumes-from.js');
    userMounts.push(...volumesFromMounts(openStore(ctx), o.volumesFrom, userMounts));
  }
  // pod create -v: the pod's volumes, where the container's own flags leave the destination free.
  for (const m of podJoin?.volumes ?? []) if (!userMounts.some((u) => u.destination === m.destination)) userMounts.push({ ...m });
  // The image's VOLUMEs that no flag covers become anonymous volumes.
  for (const dest of Object.keys(img.Volumes ?? {})) {
    if (!userMounts.some((m) => m.destination === dest)) userMounts.push(parseVolumeFlag(dest));
  }
  for (const m of userMounts) {
    if (m.kind === 'bind' && !fs.existsSync(m.source)) {
      throw new TspodError(`statfs ${m.source}: no such file or directory; create it first or mount a named volume`);
    }
  }
  if (o.cidfile && fs.existsSync(o.cidfile)) {
    throw new TspodError(`container id file ${o.cidfile} exists: remove it or choose another path with --cidfile`);
  }
  const fileEnv = (o.envFile ?? []).flatMap(readEnvFile);
  const restartPolicy = parseRestartPolicy(o.restart ?? 'no');
  if (o.rm && restartPolicy.name !== 'no') throw new TspodError('the --rm option conflicts with --restart, when the restart policy is not "no"');
  const sdnotify = o.sdnotify ?? 'ignore';
  if (sdnotify !== 'conmon' && sdnotify !== 'ignore') {
    throw new TspodError(`--sdnotify ${sdnotify} is not supported: use conmon (the monitor notifies systemd) or ignore`);
  }
  await requireUserNamespace();
  const userns = await containerUserns(ctx, o);
  const mounts = await resolveVolumes(ctx, userMounts);

  const store = openStore(ctx);
  if (o.replace && o.name && store.find(o.name)) {
    const { removeContainer } = await import('./lifecycle.js');
    await removeContainer(store, o.name, { force: true });
  }
  const rec = await store.create(o.name, {
    rootfs,
    ...(image ? { imageId: image.id } : {}),
    imageName: image ? (image.names.find((n) => n.endsWith(o.image) || n.includes(o.image)) ?? image.names[0] ?? image.id) : rootfs,
    rootfsImage: !image,
    command,
    env: mergeEnv(img.Env ?? [], [...parseEnv(fileEnv), ...parseEnv(o.env)]),
    workdir: o.workdir ?? (img.WorkingDir || '/'),
    hostname: o.hostname ?? '',
    network,
    ports,
    mounts,
    // keep-id runs as the user, as Podman does, unless --user says otherwise.
    user: o.user ?? (userns?.keepId ? `${userns.keepId.uid}:${userns.keepId.gid}` : img.User || undefined),
    capAdd: o.capAdd,
    capDrop: o.capDrop,
    privileged: o.privileged,
    readOnly: o.readOnly,
    labels: { ...(img.Labels ?? {}), ...parseKeyValues(o.labels, 'label') },
    autoRemove: o.rm,
    interactive: o.interactive,
    tty: o.tty ?? false,
    ...(o.healthCmd ? { healthCmd: parseEntrypoint(o.healthCmd) } : {}),
    ...dnsConfig(o),
    ...(o.init ? { init: true } : {}),
    ...(userns ? { userns } : {}),
    ...(Array.isArray(userNets) ? { networks: userNets } : {}),
    ...(podJoin ? { pod: podJoin.podId } : {}),
    ...(restartPolicy.name !== 'no' ? { restartPolicy } : {}),
    ...(sdnotify === 'conmon' && process.env.NOTIFY_SOCKET ? { notifySocket: process.env.NOTIFY_SOCKET } : {}),
    stopSignal,
    stopTimeout,
    createCommand: process.argv.slice(2),
  });
  if (o.cidfile) {
    const { writeFileAtomic } = await import('../storage/atomic.js');
    writeFileAtomic(path.resolve(o.cidfile), rec.id, 0o644);
  }
  return rec;
}

/** --userns/--uidmap/--gidmap; --userns=auto avoids the ranges other auto containers hold. */
async function containerUserns(ctx: GlobalContext, o: CreateOptions) {
  if (!o.userns && !o.uidmap?.length && !o.gidmap?.length) return undefined;
  const { readNamespaceFacts, resolveUserns } = await import('./id-mappings.js');
  // Namespaces joined from elsewhere belong to the rootless user namespace: a nested one could not use them.
  const joins = o.pod ? '--pod' : /^(container|ns):/.test(o.network ?? '') ? `--network ${o.network}` : undefined;
  if (joins && o.userns !== 'host') {
    throw new TspodError(`--userns/--uidmap/--gidmap cannot be combined with ${joins} yet: its namespaces belong to the rootless user namespace; drop one of them`);
  }
  const autoInUse = () => openStore(ctx).list().flatMap((r) => (r.config.userns?.mode === 'auto' ? r.config.userns.uidMap : []));
  return resolveUserns(o, () => readNamespaceFacts(autoInUse()));
}

/** Named volumes are created on first use; an unnamed one is made for this container alone. */
async function resolveVolumes(ctx: GlobalContext, mounts: UserMount[]): Promise<ContainerMount[]> {
  const volumes = new VolumeStore(ctx.storageRoot);
  const out: ContainerMount[] = [];
  for (const m of mounts) {
    if (m.kind !== 'volume') {
      out.push({ ...m });
      continue;
    }
    const vol = await volumes.create({ name: m.source || undefined, ignoreExisting: true });
    out.push({ ...m, source: vol.Name, ...(m.source ? {} : { anonymous: true }) });
  }
  return out;
}

/** `--entrypoint "cmd"` or `--entrypoint '["cmd","arg"]'`, as Podman takes it. */
export function parseEntrypoint(text: string): string[] {
  if (text === '') return [];
  if (text.trim().startsWith('[')) {
    try {
      const arr = JSON.parse(text) as unknown;
      if (Array.isArray(arr) && arr.every((x) => typeof x === 'string')) return arr as string[];
    } catch {
      // not JSON: a plain command
    }
  }
  return [text];
}

/** The image's environment, with the user's variables replacing same-named ones. */
export function mergeEnv(image: string[], user: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...image, ...user]) {
    const eq = e.indexOf('=');
    out.set(eq < 0 ? e : e.slice(0, eq), e);
  }
  return [...out.values()];
}

/** `--env-file`: KEY=VALUE lines; `#` comments and blank lines skipped; a bare KEY takes the host's value. */
export function readEnvFile(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TspodError(`cannot read the environment file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

/** --dns/--dns-search/--dns-option and --add-host, checked. */
export function dnsConfig(o: Pick<CreateOptions, 'dns' | 'dnsSearch' | 'dnsOption' | 'addHost'>) {
  const out: { dns?: { servers?: string[]; search?: string[]; options?: string[] }; addHosts?: { ip: string; names: string[] }[] } = {};
  for (const s of o.dns ?? []) if (net.isIP(s) === 0) throw new TspodError(`invalid --dns "${s}": give an IP address`);
  if (o.dns?.length || o.dnsSearch?.length || o.dnsOption?.length) {
    out.dns = { servers: o.dns ?? [], search: o.dnsSearch ?? [], options: o.dnsOption ?? [] };
  }
  if (o.addHost?.length) {
    out.addHosts = o.addHost.map((h) => {
      const sep = h.indexOf(':');
      const name = h.slice(0, sep);
      const ip = h.slice(sep + 1);
      if (sep <= 0 || net.isIP(ip) === 0) throw new TspodError(`invalid --add-host "${h}": use HOST:IP`);
      return { ip, names: [name] };
    });
  }
  return out;
}

/** `--restart no|on-failure[:N]|always|unless-stopped` */
export function parseRestartPolicy(text: string): { name: 'no' | 'on-failure' | 'always' | 'unless-stopped'; maxRetries: number } {
  const [name, count] = text.split(':');
  if (name !== 'no' && name !== 'on-failure' && name !== 'always' && name !== 'unless-stopped') {
    throw new TspodError(`invalid restart policy "${text}": use no, on-failure[:N], always or unless-stopped`);
  }
  if (count !== undefined && (name !== 'on-failure' || !/^\d+$/.test(count))) {
    throw new TspodError(`invalid restart policy "${text}": only on-failure takes a retry count, a whole number`);
  }
  return { name, maxRetries: count === undefined ? 0 : Number(count) };
}

/** Whether an exited container's policy asks for another start. */
export function shouldRestart(
  policy: { name: string; maxRetries: number } | undefined,
  state: { exitCode: number; stoppedByUser?: boolean; restartCount?: number },
): boolean {
  if (!policy || policy.name === 'no') return false;
  if (policy.name === 'always') return !state.stoppedByUser;
  if (state.stoppedByUser) return false;
  if (policy.name === 'unless-stopped') return true;
  return state.exitCode !== 0 && (policy.maxRetries === 0 || (state.restartCount ?? 0) < policy.maxRetries);
}
