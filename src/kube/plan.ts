/**
 * Kubernetes YAML (Pod, Deployment, PersistentVolumeClaim; Services and
 * ConfigMaps are accepted and left alone) turned into what `kube play` creates:
 * one pod per Pod or Deployment template, its containers named POD-CONTAINER
 * as Podman names them, with the flags `run --pod` would take. Pure: no store,
 * no files, so it can be checked on its own.
 */
import YAML from 'yaml';
import { TspodError } from '../util/errors.js';
import { ROOTFS_ANNOTATION } from './generate.js';

export interface ContainerPlan {
  /** PODNAME-CONTAINERNAME */
  name: string;
  /** the name in the YAML */
  kubeName: string;
  image: string;
  /** the image is a root filesystem directory (tspod's annotation) */
  rootfs: boolean;
  /** `command:` replaces the image's entrypoint (and then its CMD too) */
  entrypoint?: string[];
  /** `args:` replace the image's CMD */
  args: string[];
  env: string[];
  workdir?: string;
  /** -v specs: HOSTPATH:DEST[:ro] or VOLUME:DEST[:ro] */
  volumes: string[];
  tmpfs: string[];
  user?: string;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  readOnly: boolean;
  interactive: boolean;
  tty: boolean;
  restart: 'no' | 'always' | 'on-failure';
}

export interface HostPathPlan {
  path: string;
  type: string;
}

export interface PodPlan {
  name: string;
  hostname?: string;
  /** spec.hostNetwork: the pod uses the host's network */
  hostNetwork?: boolean;
  labels: Record<string, string>;
  /** -p specs, from the containers' ports that name a hostPort */
  publish: string[];
  containers: ContainerPlan[];
  /** hostPath volumes to check or create (DirectoryOrCreate, FileOrCreate) before the containers */
  hostPaths: HostPathPlan[];
  /** named volumes (persistentVolumeClaim) the containers use */
  claims: string[];
}

export interface KubePlan {
  pods: PodPlan[];
  /** PersistentVolumeClaim documents: volumes to create */
  volumes: string[];
  warnings: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const strings = (v: unknown, what: string): string[] =>
  arr(v).map((x) => {
    const s = str(x);
    if (s === undefined) throw new TspodError(`${what} must be a list of strings`);
    return s;
  });

export function parseKubeYaml(text: string): KubePlan {
  const plan: KubePlan = { pods: [], volumes: [], warnings: [] };
  let docs: unknown[];
  try {
    docs = YAML.parseAllDocuments(text).map((d) => {
      if (d.errors.length) throw d.errors[0];
      return d.toJS();
    });
  } catch (err) {
    throw new TspodError(`the YAML cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue;
    if (!isObj(doc)) throw new TspodError('a YAML document is not a Kubernetes object (a mapping with kind)');
    const kind = str(doc.kind);
    const meta = isObj(doc.metadata) ? doc.metadata : {};
    switch (kind) {
      case 'Pod':
        plan.pods.push(podPlan(str(meta.name), meta, isObj(doc.spec) ? doc.spec : {}, plan.warnings));
        break;
      case 'Deployment': {
        const spec = isObj(doc.spec) ? doc.spec : {};
        const template = isObj(spec.template) ? spec.template : {};
        const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
        if (replicas > 1) plan.warnings.push('Limiting replica count to 1, more than one replica is not supported by tspod');
        const name = str(meta.name);
        if (!name) throw new TspodError('a Deployment has no metadata.name');
        const tmeta = isObj(template.metadata) ? template.metadata : {};
        plan.pods.push(podPlan(`${name}-pod`, { ...tmeta, labels: { ...(isObj(tmeta.labels) ? tmeta.labels : {}) } }, isObj(template.spec) ? template.spec : {}, plan.warnings));
        break;
      }
      case 'PersistentVolumeClaim': {
        const name = str(meta.name);
        if (!name) throw new TspodError('a PersistentVolumeClaim has no metadata.name');
        plan.volumes.push(name);
        break;
      }
      case 'Service':
      case 'ConfigMap':
      case 'Secret':
        break;
      default:
        throw new TspodError(`kind ${kind ?? '(none)'} is not supported by kube play: use Pod, Deployment, PersistentVolumeClaim, Service or ConfigMap`);
    }
  }
  if (plan.pods.length === 0 && plan.volumes.length === 0) throw new TspodError('the YAML has no Pod, Deployment or PersistentVolumeClaim to play');
  return plan;
}

function restartOf(spec: Obj): ContainerPlan['restart'] {
  // Kubernetes' default, and Podman's, is Always.
  const p = str(spec.restartPolicy) ?? 'Always';
  if (p === 'Always') return 'always';
  if (p === 'OnFailure') return 'on-failure';
  if (p === 'Never') return 'no';
  throw new TspodError(`invalid restartPolicy "${p}": use Always, OnFailure or Never`);
}

function podPlan(name: string | undefined, meta: Obj, spec: Obj, warnings: string[]): PodPlan {
  if (!name) throw new TspodError('a Pod has no metadata.name');
  const labels: Record<string, string> = {};
  if (isObj(meta.labels)) for (const [k, v] of Object.entries(meta.labels)) labels[k] = String(v);
  const annotations = isObj(meta.annotations) ? meta.annotations : {};
  const volumes = new Map<string, Obj>();
  for (const v of arr(spec.volumes)) if (isObj(v) && str(v.name)) volumes.set(str(v.name)!, v);
  const podSec = isObj(spec.securityContext) ? spec.securityContext : {};
  const restart = restartOf(spec);
  const plan: PodPlan = {
    name,
    labels,
    publish: [],
    containers: [],
    hostPaths: [],
    claims: [],
    ...(str(spec.hostname) ? { hostname: str(spec.hostname) } : {}),
    ...(spec.hostNetwork === true ? { hostNetwork: true } : {}),
  };
  for (const [vname, v] of volumes) {
    if (isObj(v.hostPath)) {
      const p = str(v.hostPath.path);
      if (!p) throw new TspodError(`volume ${vname}: hostPath has no path`);
      plan.hostPaths.push({ path: p, type: str(v.hostPath.type) ?? '' });
    } else if (isObj(v.persistentVolumeClaim)) {
      const claim = str(v.persistentVolumeClaim.claimName);
      if (!claim) throw new TspodError(`volume ${vname}: persistentVolumeClaim has no claimName`);
      plan.claims.push(claim);
    }
  }
  const ctrs = arr(spec.containers);
  if (ctrs.length === 0) throw new TspodError(`pod ${name} has no containers`);
  for (const raw of ctrs) {
    if (!isObj(raw)) throw new TspodError(`pod ${name}: a container is not a mapping`);
    const kubeName = str(raw.name);
    if (!kubeName) throw new TspodError(`pod ${name}: a container has no name`);
    const image = str(raw.image);
    if (!image) throw new TspodError(`container ${kubeName}: no image`);
    const env: string[] = [];
    for (const e of arr(raw.env)) {
      if (!isObj(e) || !str(e.name)) continue;
      if (e.valueFrom !== undefined) {
        warnings.push(`container ${kubeName}: env ${str(e.name)} uses valueFrom, which tspod does not support yet; it is left out`);
        continue;
      }
      env.push(`${str(e.name)}=${str(e.value) ?? ''}`);
    }
    for (const p of arr(raw.ports)) {
      if (!isObj(p) || p.hostPort === undefined) continue;
      const proto = (str(p.protocol) ?? 'TCP').toLowerCase();
      const ip = str(p.hostIP);
      plan.publish.push(`${ip ? `${ip.includes(':') ? `[${ip}]` : ip}:` : ''}${str(p.hostPort)}:${str(p.containerPort)}/${proto}`);
    }
    const vols: string[] = [];
    const tmpfs: string[] = [];
    for (const m of arr(raw.volumeMounts)) {
      if (!isObj(m)) continue;
      const dest = str(m.mountPath);
      const vname = str(m.name);
      if (!dest || !vname) throw new TspodError(`container ${kubeName}: a volumeMount needs name and mountPath`);
      if (m.subPath !== undefined) throw new TspodError(`container ${kubeName}: volumeMount subPath is not supported by tspod yet`);
      const v = volumes.get(vname);
      if (!v) throw new TspodError(`container ${kubeName}: volume ${vname} is not defined in the pod's volumes`);
      const ro = m.readOnly === true ? ':ro' : '';
      if (isObj(v.hostPath)) vols.push(`${str(v.hostPath.path)}:${dest}${ro}`);
      else if (isObj(v.persistentVolumeClaim)) vols.push(`${str(v.persistentVolumeClaim.claimName)}:${dest}${ro}`);
      else if (isObj(v.emptyDir)) {
        if (str(v.emptyDir.medium) === 'Memory') tmpfs.push(dest);
        else vols.push(`${dest}${ro}`);
      } else throw new TspodError(`volume ${vname}: only hostPath, persistentVolumeClaim and emptyDir volumes are supported by tspod`);
    }
    const sec = { ...podSec, ...(isObj(raw.securityContext) ? raw.securityContext : {}) };
    const caps = isObj(sec.capabilities) ? sec.capabilities : {};
    const uid = str(sec.runAsUser);
    const gid = str(sec.runAsGroup);
    const command = raw.command === undefined ? undefined : strings(raw.command, `container ${kubeName}: command`);
    plan.containers.push({
      name: `${name}-${kubeName}`,
      kubeName,
      image,
      rootfs: str(annotations[`${ROOTFS_ANNOTATION}/${kubeName}`]) === 'true',
      ...(command ? { entrypoint: command } : {}),
      args: raw.args === undefined ? [] : strings(raw.args, `container ${kubeName}: args`),
      env,
      ...(str(raw.workingDir) ? { workdir: str(raw.workingDir) } : {}),
      volumes: vols,
      tmpfs,
      ...(uid !== undefined ? { user: gid !== undefined ? `${uid}:${gid}` : uid } : {}),
      capAdd: strings(caps.add, 'capabilities.add'),
      capDrop: strings(caps.drop, 'capabilities.drop'),
      privileged: sec.privileged === true,
      readOnly: sec.readOnlyRootFilesystem === true,
      interactive: raw.stdin === true,
      tty: raw.tty === true,
      restart,
    });
  }
  return plan;
}
