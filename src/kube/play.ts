/**
 * `kube play` and `kube down`: carry out a KubePlan with the pod and container
 * engines, and undo it. A pod that fails half way is removed again.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { GlobalContext } from '../cli/context.js';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import { parseKubeYaml, type PodPlan } from './plan.js';

export interface PlayOptions {
  replace: boolean;
  start: boolean;
  serviceContainer: boolean;
  network?: string;
  /** -p given on the command line: added to the first pod's */
  publish: string[];
}

export interface PlayReport {
  teardown?: DownReport;
  pods: { id: string; containers: string[] }[];
  volumes: string[];
}

export interface DownReport {
  stopped: string[];
  removed: string[];
  volumes: string[];
  /** pods the YAML names that do not exist */
  missing?: string[];
}

function readYaml(file: string): string {
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new TspodError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * The service container of a YAML file (Podman's `--service-container`): it
 * runs as long as the pods do, and is what a systemd unit watches (its
 * monitor tells NOTIFY_SOCKET READY). Named after the file's path.
 */
export function serviceContainerName(file: string): string {
  return `${crypto.createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 12)}-service`;
}

export async function playKube(ctx: GlobalContext, file: string, opts: PlayOptions): Promise<PlayReport> {
  const plan = parseKubeYaml(readYaml(file));
  for (const w of plan.warnings) log.warn(w);
  const { openPodStore, createPod, startPod, removePod } = await import('../pod/pods.js');
  const { createFromOptions } = await import('../runtime/create.js');
  const { VolumeStore } = await import('../runtime/volumes.js');
  const pods = openPodStore(ctx);
  const report: PlayReport = { pods: [], volumes: [] };

  if (opts.replace) report.teardown = await downKube(ctx, file, { force: false, plan: plan.pods, ignoreMissing: true });
  for (const p of plan.pods) {
    if (pods.find(p.name)) throw new TspodError(`adding pod to state: name "${p.name}" is in use: pod already exists; use --replace or 'tspod kube down' first`);
  }
  const volumes = new VolumeStore(ctx.storageRoot);
  for (const name of new Set([...plan.volumes, ...plan.pods.flatMap((p) => p.claims)])) {
    if (!volumes.get(name)) {
      await volumes.create({ name, ignoreExisting: true });
      if (plan.volumes.includes(name)) report.volumes.push(name);
    }
  }

  for (const [i, p] of plan.pods.entries()) {
    prepareHostPaths(p);
    const pod = await createPod(ctx, {
      name: p.name,
      infra: true,
      publish: [...p.publish, ...(i === 0 ? opts.publish : [])],
      labels: Object.entries(p.labels).map(([k, v]) => `${k}=${v}`),
      ...(p.hostname ? { hostname: p.hostname } : {}),
      ...(opts.network ? { network: opts.network } : p.hostNetwork ? { network: 'host' } : {}),
      // As Podman's kube play: the pod stops once its containers have all exited.
      exitPolicy: 'stop',
      replace: false,
    });
    const ids: string[] = [];
    try {
      for (const c of p.containers) {
        const rec = await createFromOptions(ctx, {
          rootfs: c.rootfs,
          image: c.image,
          name: c.name,
          pod: pod.id,
          rm: false,
          env: c.env,
          ...(c.workdir ? { workdir: c.workdir } : {}),
          ...(c.user ? { user: c.user } : {}),
          capAdd: c.capAdd,
          capDrop: c.capDrop,
          privileged: c.privileged,
          readOnly: c.readOnly,
          labels: [],
          interactive: c.interactive,
          tty: c.tty,
          ...(c.entrypoint ? { entrypoint: JSON.stringify(c.entrypoint) } : {}),
          command: c.args,
          publish: [],
          publishAll: false,
          restart: c.restart,
          volume: c.volumes,
          mount: [],
          tmpfs: c.tmpfs,
        });
        ids.push(rec.id);
      }
      if (opts.start) await startPod(ctx, pods.get(pod.id));
    } catch (err) {
      await removePod(ctx, pods.get(pod.id), { force: true, timeout: 0 }).catch(() => undefined);
      throw err;
    }
    report.pods.push({ id: pod.id, containers: ids });
  }

  if (opts.serviceContainer) await startServiceContainer(ctx, file);
  return report;
}

/** hostPath types Kubernetes defines: create what *OrCreate asks for, check the others. */
function prepareHostPaths(p: PodPlan): void {
  for (const h of p.hostPaths) {
    const st = fs.statSync(h.path, { throwIfNoEntry: false });
    switch (h.type) {
      case 'DirectoryOrCreate':
        if (!st) fs.mkdirSync(h.path, { recursive: true, mode: 0o755 });
        break;
      case 'FileOrCreate':
        if (!st) {
          fs.mkdirSync(path.dirname(h.path), { recursive: true });
          fs.writeFileSync(h.path, '', { mode: 0o644 });
        }
        break;
      case 'Directory':
        if (!st?.isDirectory()) throw new TspodError(`hostPath ${h.path} is not a directory (type Directory): create it or use DirectoryOrCreate`);
        break;
      case 'File':
        if (!st?.isFile()) throw new TspodError(`hostPath ${h.path} is not a file (type File): create it or use FileOrCreate`);
        break;
      default:
        break;
    }
  }
}

async function startServiceContainer(ctx: GlobalContext, file: string): Promise<void> {
  const { createFromOptions } = await import('../runtime/create.js');
  const { openStore, startContainer } = await import('../runtime/lifecycle.js');
  const { infraRootfsDir } = await import('../pod/pods.js');
  const rec = await createFromOptions(ctx, {
    rootfs: true,
    image: infraRootfsDir(ctx.storageRoot),
    name: serviceContainerName(file),
    replace: true,
    rm: false,
    env: [],
    network: 'none',
    capAdd: [],
    capDrop: [],
    privileged: false,
    readOnly: true,
    labels: [`io.tspod.kube.yaml=${path.resolve(file)}`],
    interactive: false,
    command: ['/run/tspod-init', '-P'],
    init: true,
    publish: [],
    publishAll: false,
    // Under systemd (Type=notify), the service container's monitor says READY once the pods run.
    sdnotify: 'conmon',
    volume: [],
    mount: [],
    tmpfs: [],
  });
  await startContainer(ctx, openStore(ctx), rec.id, { attach: false });
}

/** Stop and remove the pods the YAML names (and its service container); with force, its volumes too. */
export async function downKube(ctx: GlobalContext, file: string, opts: { force: boolean; plan?: PodPlan[]; ignoreMissing?: boolean }): Promise<DownReport> {
  const parsed = opts.plan ? undefined : parseKubeYaml(readYaml(file));
  const plans = opts.plan ?? parsed!.pods;
  const { openPodStore, stopPod, removePod } = await import('../pod/pods.js');
  const pods = openPodStore(ctx);
  const report: DownReport = { stopped: [], removed: [], volumes: [] };
  const { openStore, removeContainer } = await import('../runtime/lifecycle.js');
  const service = openStore(ctx).find(serviceContainerName(file));
  if (service) await removeContainer(openStore(ctx), service.id, { force: true });
  const missing: string[] = [];
  for (const p of plans) {
    const pod = pods.find(p.name);
    if (!pod) {
      missing.push(p.name);
      continue;
    }
    await stopPod(ctx, pod);
    report.stopped.push(pod.id);
    await removePod(ctx, pod, { force: true });
    report.removed.push(pod.id);
  }
  if (opts.force && parsed) {
    const { VolumeStore } = await import('../runtime/volumes.js');
    const volumes = new VolumeStore(ctx.storageRoot);
    for (const name of new Set([...parsed.volumes, ...parsed.pods.flatMap((p) => p.claims)])) {
      if (!volumes.get(name)) continue;
      await volumes.remove([name], { force: true });
      report.volumes.push(name);
    }
  }
  // As Podman's: a pod the YAML names that is not there is an error (the command reports it after the others are down).
  if (!opts.ignoreMissing) report.missing = missing;
  return report;
}

/** What Podman prints for kube down (and for kube play --replace before it plays). */
export function formatDown(r: DownReport): string {
  let out = '';
  if (r.stopped.length) out += `Pods stopped:\n${r.stopped.join('\n')}\n`;
  if (r.removed.length) out += `Pods removed:\n${r.removed.join('\n')}\n`;
  if (r.volumes.length) out += `Volumes removed:\n${r.volumes.join('\n')}\n`;
  return out;
}

export function formatPlay(r: PlayReport): string {
  let out = r.teardown ? formatDown(r.teardown) : '';
  for (const v of r.volumes) out += `Volume:\n${v}\n\n`;
  for (const p of r.pods) {
    out += `Pod:\n${p.id}\n${p.containers.length === 1 ? 'Container' : 'Containers'}:\n${p.containers.join('\n')}\n\n`;
  }
  return out;
}
