import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { kubeDocuments, renderKube, volumeNameFromPath } from '../../../src/kube/generate.js';
import { parseKubeYaml } from '../../../src/kube/plan.js';
import type { ContainerRecord } from '../../../src/runtime/container-store.js';
import type { PodRecord } from '../../../src/pod/store.js';

/**
 * The fields Kubernetes' core/v1 API defines for the objects generate kube
 * writes (k8s.io/api/core/v1 types.go), with the type of each: a field not
 * listed here would make `kubectl create` refuse the YAML (strict decoding).
 */
type Shape = 'string' | 'number' | 'boolean' | 'object' | { list: Shape } | { map: 'string' } | { [field: string]: Shape };
const OBJECT_META: Shape = { name: 'string', labels: { map: 'string' }, annotations: { map: 'string' }, creationTimestamp: 'string' };
const CONTAINER: Shape = {
  name: 'string',
  image: 'string',
  command: { list: 'string' },
  args: { list: 'string' },
  workingDir: 'string',
  env: { list: { name: 'string', value: 'string' } },
  ports: { list: { containerPort: 'number', hostPort: 'number', hostIP: 'string', protocol: 'string', name: 'string' } },
  resources: 'object',
  volumeMounts: { list: { mountPath: 'string', name: 'string', readOnly: 'boolean', subPath: 'string' } },
  securityContext: {
    capabilities: { add: { list: 'string' }, drop: { list: 'string' } },
    privileged: 'boolean',
    readOnlyRootFilesystem: 'boolean',
    runAsUser: 'number',
    runAsGroup: 'number',
  },
  stdin: 'boolean',
  tty: 'boolean',
};
const POD: Shape = {
  apiVersion: 'string',
  kind: 'string',
  metadata: OBJECT_META,
  spec: {
    automountServiceAccountToken: 'boolean',
    containers: { list: CONTAINER },
    enableServiceLinks: 'boolean',
    hostNetwork: 'boolean',
    hostname: 'string',
    restartPolicy: 'string',
    volumes: { list: { name: 'string', hostPath: { path: 'string', type: 'string' }, persistentVolumeClaim: { claimName: 'string' } } },
  },
  status: 'object',
};
const SERVICE: Shape = {
  apiVersion: 'string',
  kind: 'string',
  metadata: OBJECT_META,
  spec: {
    ports: { list: { name: 'string', nodePort: 'number', port: 'number', targetPort: 'number', protocol: 'string' } },
    selector: { map: 'string' },
    type: 'string',
  },
};

/** Every field of `value` is one `shape` allows, with the right type; returns the offending paths. */
function violations(value: unknown, shape: Shape, at = '$'): string[] {
  if (shape === 'string' || shape === 'number' || shape === 'boolean') return typeof value === shape ? [] : [`${at}: ${typeof value}, not ${shape}`];
  if (shape === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value) ? [] : [`${at}: not an object`];
  if ('list' in shape && Object.keys(shape).length === 1) {
    if (!Array.isArray(value)) return [`${at}: not a list`];
    return value.flatMap((v, i) => violations(v, shape.list as Shape, `${at}[${i}]`));
  }
  if ('map' in shape && Object.keys(shape).length === 1) {
    if (typeof value !== 'object' || value === null) return [`${at}: not a map`];
    return Object.entries(value).flatMap(([k, v]) => (typeof v === 'string' ? [] : [`${at}.${k}: not a string`]));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: not an object`];
  return Object.entries(value).flatMap(([k, v]) => {
    const sub = (shape as Record<string, Shape>)[k];
    return sub === undefined ? [`${at}.${k}: not a field Kubernetes defines here`] : violations(v, sub, `${at}.${k}`);
  });
}

function ctr(name: string, over: Partial<ContainerRecord['config']> = {}, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id: name.padEnd(64, '0'),
    name,
    created: '2026-01-01T00:00:00.000Z',
    state: { status: 'running', pid: 1, monitorPid: 2, exitCode: 0 },
    config: {
      rootfs: '/r',
      imageName: 'localhost/busybox:latest',
      imageId: 'abc',
      rootfsImage: false,
      command: ['httpd', '-f', '-p', '80'],
      env: ['PATH=/bin', 'HOSTNAME=x', 'container=tspod', 'FOO=bar', 'IMG=1'],
      workdir: '/srv',
      hostname: 'h',
      network: 'none',
      ports: [],
      mounts: [
        { kind: 'bind', source: '/home/u/site', destination: '/www', readonly: true, chown: false },
        { kind: 'volume', source: 'data', destination: '/data', readonly: false, chown: false },
        { kind: 'bind', source: '/etc/app.conf', destination: '/etc/app.conf', readonly: true, chown: false },
      ],
      capAdd: ['CAP_NET_ADMIN'],
      capDrop: ['CAP_MKNOD'],
      privileged: false,
      readOnly: true,
      labels: {},
      autoRemove: false,
      interactive: false,
      user: '1000:1000',
      restartPolicy: { name: 'always', maxRetries: 0 },
      stopSignal: 'SIGTERM',
      stopTimeout: 10,
      ...over,
    },
    ...extra,
  };
}

const pod: PodRecord = {
  id: 'f'.repeat(64),
  name: 'shop',
  created: '2026-01-01T00:00:00.000Z',
  infraId: 'e'.repeat(64),
  share: ['ipc', 'net', 'uts'],
  hostname: 'shophost',
  labels: { tier: 'web' },
  exitPolicy: 'continue',
  createCommand: [],
};
const opts = {
  service: true,
  imageDefaults: () => ({ env: ['IMG=1'], command: ['sh'], workdir: '/' }),
  isFile: (p: string) => p.endsWith('.conf'),
  now: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
};
const ports = [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const, range: 2 }];

describe('generate kube', () => {
  const docs = kubeDocuments({ pod, containers: [ctr('shop-web'), ctr('shop-db', { rootfsImage: true, imageName: '/home/u/rootfs' })], ports, hostname: 'shophost' }, opts);

  it('writes only fields Kubernetes defines, with their types (Service, then Pod)', () => {
    expect(docs.map((d) => d.kind)).toEqual(['Service', 'Pod']);
    expect(violations(docs[0], SERVICE)).toEqual([]);
    expect(violations(docs[1], POD)).toEqual([]);
    // The checker itself catches a stray field.
    expect(violations({ ...docs[1], spec: { ...(docs[1].spec as object), bogus: 1 } }, POD)).toEqual(['$.spec.bogus: not a field Kubernetes defines here']);
  });

  it('shapes the Pod like Podman: POD- prefix dropped, env without the image and runtime variables, volumes named from paths', () => {
    const p = docs[1] as { metadata: Record<string, unknown>; spec: { containers: Record<string, unknown>[]; volumes: unknown[]; restartPolicy: string; hostname: string } };
    expect(p.metadata).toEqual({
      annotations: { 'io.tspod.annotations.rootfs/db': 'true' },
      creationTimestamp: '2026-01-02T03:04:05Z',
      labels: { app: 'shop', tier: 'web' },
      name: 'shop',
    });
    expect(p.spec.containers.map((c) => c.name)).toEqual(['web', 'db']);
    expect(p.spec.containers[0]).toMatchObject({
      command: ['httpd', '-f', '-p', '80'],
      env: [{ name: 'FOO', value: 'bar' }],
      ports: [
        { containerPort: 80, hostPort: 8080 },
        { containerPort: 81, hostPort: 8081 },
      ],
      securityContext: { capabilities: { add: ['CAP_NET_ADMIN'], drop: ['CAP_MKNOD'] }, readOnlyRootFilesystem: true, runAsUser: 1000, runAsGroup: 1000 },
      workingDir: '/srv',
    });
    // Ports belong to the first container only.
    expect(p.spec.containers[1].ports).toBeUndefined();
    expect(p.spec.volumes).toEqual([
      { hostPath: { path: '/home/u/site', type: 'Directory' }, name: 'home-u-site-host-0' },
      { name: 'data-pvc', persistentVolumeClaim: { claimName: 'data' } },
      { hostPath: { path: '/etc/app.conf', type: 'File' }, name: 'etc-app-conf-host-1' },
    ]);
    expect(p.spec.restartPolicy).toBe('Always');
    expect(p.spec.hostname).toBe('shophost');
    expect(volumeNameFromPath('/')).toBe('root');
  });

  it('renders YAML with Podman header and layout, that parses back to the same objects', () => {
    const text = renderKube(docs);
    expect(text.split('\n').slice(0, 4)).toEqual(['# Save the output of this file and use kubectl create -f to import', '# it into Kubernetes.', '#', expect.stringMatching(/^# Created with tspod-/)]);
    expect(text).toContain('\n---\n');
    expect(text).toContain('  creationTimestamp: "2026-01-02T03:04:05Z"');
    expect(text).toContain('\n  containers:\n  - command:\n');
    expect(YAML.parseAllDocuments(text).map((d) => d.toJS())).toEqual(JSON.parse(JSON.stringify(docs)));
  });

  it('plays back to the containers it came from', () => {
    const plan = parseKubeYaml(renderKube(docs));
    expect(plan.pods).toHaveLength(1);
    const [p] = plan.pods;
    expect(p).toMatchObject({ name: 'shop', hostname: 'shophost', labels: { app: 'shop', tier: 'web' }, publish: ['8080:80/tcp', '8081:81/tcp'] });
    expect(p.containers[0]).toMatchObject({
      name: 'shop-web',
      image: 'localhost/busybox:latest',
      rootfs: false,
      entrypoint: ['httpd', '-f', '-p', '80'],
      args: [],
      env: ['FOO=bar'],
      workdir: '/srv',
      volumes: ['/home/u/site:/www:ro', 'data:/data', '/etc/app.conf:/etc/app.conf:ro'],
      user: '1000:1000',
      capAdd: ['CAP_NET_ADMIN'],
      capDrop: ['CAP_MKNOD'],
      readOnly: true,
      restart: 'always',
    });
    expect(p.containers[1]).toMatchObject({ name: 'shop-db', image: '/home/u/rootfs', rootfs: true });
    expect(p.claims).toEqual(['data']);
  });
});

describe('kube play plans', () => {
  it('a Deployment runs its template once, as NAME-pod; args without command keep the image entrypoint', () => {
    const plan = parseKubeYaml(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: 3\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n        args: [echo, hi]\n        ports: [{containerPort: 80}]\n        volumeMounts: [{name: scratch, mountPath: /s}, {name: mem, mountPath: /m}]\n      volumes: [{name: scratch, emptyDir: {}}, {name: mem, emptyDir: {medium: Memory}}]\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: claim1}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api}\n',
    );
    expect(plan.warnings).toEqual(['Limiting replica count to 1, more than one replica is not supported by tspod']);
    expect(plan.volumes).toEqual(['claim1']);
    expect(plan.pods[0]).toMatchObject({ name: 'api-pod', labels: { app: 'api' }, publish: [] });
    expect(plan.pods[0].containers[0]).toMatchObject({ name: 'api-pod-c', args: ['echo', 'hi'], volumes: ['/s'], tmpfs: ['/m'], restart: 'always' });
    expect(plan.pods[0].containers[0].entrypoint).toBeUndefined();
    expect(plan.pods[0].hostNetwork).toBeUndefined();
    const host = kubeDocuments({ containers: [ctr('h', { network: 'host' })], ports: [], hostNetwork: true }, { ...opts, service: false });
    expect(violations(host[0], POD)).toEqual([]);
    expect(parseKubeYaml(renderKube(host)).pods[0]).toMatchObject({ name: 'h-pod', hostNetwork: true });
  });

  it('refuses what it cannot play, in one sentence', () => {
    expect(() => parseKubeYaml('kind: Job\nmetadata: {name: j}\n')).toThrow('kind Job is not supported by kube play');
    expect(() => parseKubeYaml('kind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n')).toThrow('pod p has no containers');
    expect(() => parseKubeYaml('kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: i, volumeMounts: [{name: v, mountPath: /v}]}\n')).toThrow(
      'container c: volume v is not defined in the pod\'s volumes',
    );
    expect(() => parseKubeYaml('a: [\n')).toThrow(/^the YAML cannot be read/);
    expect(() => parseKubeYaml('kind: Pod\nmetadata: {name: p}\nspec:\n  restartPolicy: Sometimes\n  containers: [{name: c, image: i}]\n')).toThrow('invalid restartPolicy "Sometimes"');
  });
});
