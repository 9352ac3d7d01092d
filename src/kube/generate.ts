/**
 * `generate kube`: containers and pods as Kubernetes YAML, shaped like
 * Podman's (a Pod per pod or per lone container, optionally a NodePort
 * Service before it). Only fields Kubernetes defines are written, so a
 * cluster accepts the output as is; what Kubernetes has no field for and
 * tspod needs to play the YAML back (a --rootfs directory) goes in
 * annotations.
 */
import crypto from 'node:crypto';
import type { ContainerRecord } from '../runtime/container-store.js';
import type { PodRecord } from '../pod/store.js';
import YAML from 'yaml';
import { tspodVersion } from '../version.js';

/** Annotation telling `kube play` that a container's image is a root filesystem directory (`run --rootfs`). */
export const ROOTFS_ANNOTATION = 'io.tspod.annotations.rootfs';

export interface ImageDefaults {
  env: string[];
  command: string[];
  workdir: string;
}

type KubeObject = Record<string, unknown>;

/** Environment tspod itself sets, not the user: left out of the YAML. */
const RUNTIME_ENV = /^(PATH|HOSTNAME|container|TERM|HOME)=/;

/** A DNS-1123 label for a volume name made from a path (`/tmp/data` -> `tmp-data`), as Podman derives them. */
export function volumeNameFromPath(p: string): string {
  const cleaned = p.replace(/^\/+|\/+$/g, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return (cleaned || 'root').slice(0, 50);
}

function restartPolicy(rec: ContainerRecord): 'Always' | 'OnFailure' | 'Never' {
  const name = rec.config.restartPolicy?.name;
  if (name === 'always' || name === 'unless-stopped') return 'Always';
  if (name === 'on-failure') return 'OnFailure';
  return 'Never';
}

function numericUser(user: string | undefined): { runAsUser?: number; runAsGroup?: number } {
  if (!user) return {};
  const [u, g] = user.split(':');
  return { ...(/^\d+$/.test(u) ? { runAsUser: Number(u) } : {}), ...(g !== undefined && /^\d+$/.test(g) ? { runAsGroup: Number(g) } : {}) };
}

/** The container's name inside its pod: Podman drops the `POD-` prefix that `kube play` adds. */
function shortName(rec: ContainerRecord, podName: string): string {
  return rec.name.startsWith(`${podName}-`) ? rec.name.slice(podName.length + 1) : rec.name;
}

interface Volumes {
  list: KubeObject[];
  byKey: Map<string, string>;
}

function containerSpec(
  rec: ContainerRecord,
  podName: string,
  image: ImageDefaults | undefined,
  vols: Volumes,
  ports: ContainerRecord['config']['ports'],
  isFile: (p: string) => boolean,
): KubeObject {
  const c = rec.config;
  const env = c.env
    .filter((e) => !RUNTIME_ENV.test(e) && !(image?.env ?? []).includes(e))
    .map((e) => {
      const eq = e.indexOf('=');
      return { name: e.slice(0, eq < 0 ? e.length : eq), value: eq < 0 ? '' : e.slice(eq + 1) };
    });
  const mounts: KubeObject[] = [];
  let hostIndex = 0;
  for (const m of c.mounts ?? []) {
    if (m.kind === 'tmpfs') continue;
    let name: string;
    if (m.kind === 'bind') {
      const key = `host:${m.source}`;
      name = vols.byKey.get(key) ?? `${volumeNameFromPath(m.source)}-host-${hostIndex++}`;
      if (!vols.byKey.has(key)) {
        vols.byKey.set(key, name);
        vols.list.push({ hostPath: { path: m.source, type: isFile(m.source) ? 'File' : 'Directory' }, name });
      }
    } else {
      const key = `pvc:${m.source}`;
      name = vols.byKey.get(key) ?? `${volumeNameFromPath(m.source)}-pvc`;
      if (!vols.byKey.has(key)) {
        vols.byKey.set(key, name);
        vols.list.push({ name, persistentVolumeClaim: { claimName: m.source } });
      }
    }
    mounts.push({ mountPath: m.destination, name, ...(m.readonly ? { readOnly: true } : {}) });
  }
  const capabilities = {
    ...(c.capAdd.length ? { add: c.capAdd } : {}),
    ...(c.capDrop.length ? { drop: c.capDrop } : {}),
  };
  const securityContext = {
    ...(Object.keys(capabilities).length ? { capabilities } : {}),
    ...(c.privileged ? { privileged: true } : {}),
    ...(c.readOnly ? { readOnlyRootFilesystem: true } : {}),
    ...numericUser(c.user),
  };
  const sameCommand = image !== undefined && image.command.join('\0') === c.command.join('\0');
  return {
    ...(sameCommand ? {} : { command: c.command }),
    ...(env.length ? { env } : {}),
    image: c.imageName,
    name: shortName(rec, podName),
    ...(ports.length
      ? {
          ports: ports.flatMap((p) =>
            Array.from({ length: p.range || 1 }, (_, i) => ({
              containerPort: p.containerPort + i,
              hostPort: p.hostPort + i,
              ...(p.hostIp ? { hostIP: p.hostIp } : {}),
              ...(p.protocol !== 'tcp' ? { protocol: p.protocol.toUpperCase() } : {}),
            })),
          ),
        }
      : {}),
    resources: {},
    ...(Object.keys(securityContext).length ? { securityContext } : {}),
    ...(c.interactive ? { stdin: true } : {}),
    ...(c.tty ? { tty: true } : {}),
    ...(mounts.length ? { volumeMounts: mounts } : {}),
    ...(c.workdir && c.workdir !== '/' && c.workdir !== image?.workdir ? { workingDir: c.workdir } : {}),
  };
}

export interface KubeUnit {
  /** the pod, or undefined for a lone container (it gets a Pod named NAME-pod) */
  pod?: PodRecord;
  /** the containers to write (never the infra) */
  containers: ContainerRecord[];
  /** the published ports (the infra's for a pod) */
  ports: ContainerRecord['config']['ports'];
  /** the pod's host name */
  hostname?: string;
  /** the pod (its infra) or the lone container uses the host's network */
  hostNetwork?: boolean;
}

export interface GenerateOptions {
  service: boolean;
  imageDefaults: (rec: ContainerRecord) => ImageDefaults | undefined;
  isFile: (p: string) => boolean;
  now?: Date;
}

/** The YAML documents for one pod (or lone container): Service (with --service) then Pod. */
export function kubeDocuments(unit: KubeUnit, opts: GenerateOptions): KubeObject[] {
  const podName = unit.pod?.name ?? `${unit.containers[0].name}-pod`;
  const created = (opts.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
  const vols: Volumes = { list: [], byKey: new Map() };
  const containers = unit.containers.map((rec, i) => containerSpec(rec, podName, opts.imageDefaults(rec), vols, i === 0 ? unit.ports : [], opts.isFile));
  const annotations: Record<string, string> = {};
  for (const rec of unit.containers) {
    if (rec.config.rootfsImage) annotations[`${ROOTFS_ANNOTATION}/${shortName(rec, podName)}`] = 'true';
  }
  const labels = { app: podName, ...(unit.pod?.labels ?? {}) };
  const restart = unit.containers.length ? restartPolicy(unit.containers[0]) : 'Never';
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(Object.keys(annotations).length ? { annotations } : {}),
      creationTimestamp: created,
      labels,
      name: podName,
    },
    spec: {
      automountServiceAccountToken: false,
      containers,
      enableServiceLinks: false,
      ...(unit.hostNetwork ? { hostNetwork: true } : {}),
      ...(unit.hostname ? { hostname: unit.hostname } : {}),
      restartPolicy: restart,
      ...(vols.list.length ? { volumes: vols.list } : {}),
    },
    status: {},
  };
  if (!opts.service) return [pod];
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { creationTimestamp: created, labels: { app: podName }, name: podName },
    spec: {
      ports: unit.ports.flatMap((p) =>
        Array.from({ length: p.range || 1 }, (_, i) => ({
          name: String(p.containerPort + i),
          nodePort: nodePort(podName, p.containerPort + i),
          port: p.containerPort + i,
          ...(p.protocol !== 'tcp' ? { protocol: p.protocol.toUpperCase() } : {}),
          targetPort: p.containerPort + i,
        })),
      ),
      selector: { app: podName },
      type: 'NodePort',
    },
  };
  return [service, pod];
}

/** A node port in Kubernetes' default range 30000-32767, stable for a pod and port. */
function nodePort(podName: string, port: number): number {
  const h = crypto.createHash('sha256').update(`${podName}/${port}`).digest();
  return 30000 + (h.readUInt16BE(0) % 2768);
}

export function renderKube(docs: KubeObject[]): string {
  const header = `# Save the output of this file and use kubectl create -f to import\n# it into Kubernetes.\n#\n# Created with tspod-${tspodVersion()}\n`;
  // Podman's layout: sequences not indented under their key, timestamps quoted (YAML 1.1 readers would take them as dates).
  const yaml = (d: KubeObject) =>
    YAML.stringify(d, { indent: 2, indentSeq: false, lineWidth: 0 }).replace(/^(\s*creationTimestamp: )(\d{4}-\S+)$/gm, '$1"$2"');
  return header + docs.map(yaml).join('---\n');
}
