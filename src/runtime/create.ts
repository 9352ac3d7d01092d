import fs from 'node:fs';
import path from 'node:path';
import type { GlobalContext } from '../cli/context.js';
import { requireUserNamespace } from '../rootless/userns.js';
import { TspodError } from '../util/errors.js';
import { resolveCapabilities } from './capabilities.js';
import type { ContainerRecord } from './container-store.js';
import { openStore, signalName } from './lifecycle.js';
import { parseKeyValues, VolumeStore } from './volumes.js';
import type { ContainerMount } from './container-store.js';
import { checkDuplicates, parseMountFlag, parseTmpfsFlag, parseVolumeFlag, type UserMount } from './mount-options.js';
import { checkHostPorts, parsePublish, pickFreePort } from '../network/ports.js';
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
  stopSignal?: string;
  stopTimeout?: string;
  command: string[];
  publish: string[];
  volume: string[];
  mount: string[];
  tmpfs: string[];
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
  if (!o.rootfs) {
    throw new TspodError(`${o.image}: image not known; images cannot be pulled or stored yet, so run a root filesystem directory with --rootfs`);
  }
  const rootfs = path.resolve(o.image);
  if (!fs.statSync(rootfs, { throwIfNoEntry: false })?.isDirectory()) {
    throw new TspodError(`the root filesystem ${o.image} is not a directory`);
  }
  const network = o.network ?? (findExecutable('pasta') ? 'pasta' : 'none');
  if (network !== 'none' && network !== 'host' && network !== 'pasta') {
    throw new TspodError(`network mode "${network}" is not available yet: use --network pasta, none or host`);
  }
  if (network === 'pasta' && !findExecutable('pasta')) {
    throw new TspodError('pasta is not installed: install the passt package, or use --network none or host');
  }
  let ports = o.publish.flatMap(parsePublish);
  if (ports.length && network !== 'pasta') {
    log.warn('Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use');
    ports = [];
  }
  checkHostPorts(ports);
  for (const p of ports) if (p.hostPort === 0) p.hostPort = await pickFreePort(p.protocol, p.hostIp);
  if (o.command.length === 0) throw new TspodError('no command given: with --rootfs, name the command to run after the directory');
  resolveCapabilities({ add: o.capAdd, drop: o.capDrop, privileged: o.privileged });
  const stopSignal = signalName(o.stopSignal ?? 'SIGTERM');
  const stopTimeout = o.stopTimeout === undefined ? 10 : Number(o.stopTimeout);
  if (!Number.isInteger(stopTimeout) || stopTimeout < 0) throw new TspodError(`invalid --stop-timeout "${o.stopTimeout}": give whole seconds`);
  const userMounts = [...o.volume.map(parseVolumeFlag), ...o.mount.map(parseMountFlag), ...o.tmpfs.map(parseTmpfsFlag)];
  checkDuplicates(userMounts);
  for (const m of userMounts) {
    if (m.kind === 'bind' && !fs.existsSync(m.source)) {
      throw new TspodError(`statfs ${m.source}: no such file or directory; create it first or mount a named volume`);
    }
  }
  await requireUserNamespace();
  const mounts = await resolveVolumes(ctx, userMounts);

  const store = openStore(ctx);
  const rec = await store.create(o.name, {
    rootfs,
    imageName: rootfs,
    rootfsImage: true,
    command: o.command,
    env: parseEnv(o.env),
    workdir: o.workdir ?? '/',
    hostname: o.hostname ?? '',
    network,
    ports,
    mounts,
    user: o.user,
    capAdd: o.capAdd,
    capDrop: o.capDrop,
    privileged: o.privileged,
    readOnly: o.readOnly,
    labels: parseKeyValues(o.labels, 'label'),
    autoRemove: o.rm,
    interactive: o.interactive,
    stopSignal,
    stopTimeout,
    createCommand: process.argv.slice(2),
  });
  // The host name defaults to the short id, known only now.
  if (!rec.config.hostname) return store.update(rec.id, (r) => (r.config.hostname = r.id.slice(0, 12)));
  return rec;
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
