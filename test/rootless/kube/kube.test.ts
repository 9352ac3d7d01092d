import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { freePort } from '../../helpers/registry-server.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { fetchPage } from './helpers.js';

const sandbox = new TspodSandbox('kube');
const home = sandbox.home;
const rootfs = path.join(home, 'rootfs');
const site = path.join(home, 'site');
const t = (args: string[]) => {
  const r = sandbox.run(args);
  if (r.status !== 0) throw new Error(`tspod ${args.join(' ')} -> ${r.status}: ${r.stderr}`);
  return r.stdout;
};
const inspect = (name: string) => JSON.parse(t(['inspect', name]))[0];
// Serves the bind-mounted /data on the pod's port 8080; stops at once on SIGTERM.
const SERVER = ['sh', '-c', 'trap "exit 0" TERM; httpd -f -p 8080 -h /data & wait'];
const ID = /^[0-9a-f]{64}$/;

let port = 0;
const yamlFile = path.join(home, 'app.yaml');

beforeAll(async () => {
  fs.renameSync(makeBusyboxRootfs(home), rootfs);
  fs.mkdirSync(site);
  fs.writeFileSync(path.join(site, 'index.html'), 'served from a hostPath\n');
  port = await freePort();
});

afterAll(() => {
  for (const id of sandbox.run(['pod', 'ps', '-q', '--no-trunc']).stdout.split('\n').filter(Boolean)) sandbox.run(['pod', 'rm', '-f', '-t', '0', id]);
  sandbox.run(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('generate kube', () => {
  it('writes a Pod with the containers, ports, env, hostPath and persistentVolumeClaim volumes, and a NodePort Service with -s', () => {
    t(['pod', 'create', '--name', 'app', '-p', `${port}:8080`, '--label', 'tier=web']);
    t(['run', '-d', '--pod', 'app', '--name', 'app-web', '-e', 'GREETING=hello world', '-v', `${site}:/data:ro`, '-v', 'appvol:/vol', '-w', '/data', '--rootfs', rootfs, ...SERVER]);
    const text = t(['generate', 'kube', 'app']);
    expect(text).toMatch(/^# Save the output of this file and use kubectl create -f to import\n# it into Kubernetes\.\n#\n# Created with tspod-/);
    const [pod] = YAML.parseAllDocuments(text).map((d) => d.toJS());
    expect(pod).toMatchObject({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app', labels: { app: 'app', tier: 'web' }, annotations: { 'io.tspod.annotations.rootfs/web': 'true' } },
      spec: { restartPolicy: 'Never', automountServiceAccountToken: false, enableServiceLinks: false },
    });
    expect(pod.spec.containers).toHaveLength(1);
    expect(pod.spec.containers[0]).toEqual({
      name: 'web',
      image: rootfs,
      command: SERVER,
      env: [{ name: 'GREETING', value: 'hello world' }],
      ports: [{ containerPort: 8080, hostPort: port }],
      resources: {},
      volumeMounts: [
        { mountPath: '/data', name: expect.stringMatching(/-host-0$/), readOnly: true },
        { mountPath: '/vol', name: 'appvol-pvc' },
      ],
      workingDir: '/data',
    });
    expect(pod.spec.volumes).toEqual([
      { hostPath: { path: site, type: 'Directory' }, name: pod.spec.containers[0].volumeMounts[0].name },
      { name: 'appvol-pvc', persistentVolumeClaim: { claimName: 'appvol' } },
    ]);
    // The timestamp is quoted, as Podman writes it (a YAML 1.1 reader would take a bare one for a date).
    expect(text).toMatch(/creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);
    fs.writeFileSync(yamlFile, text);

    const withService = YAML.parseAllDocuments(t(['generate', 'kube', '-s', 'app'])).map((d) => d.toJS());
    expect(withService.map((d) => d.kind)).toEqual(['Service', 'Pod']);
    expect(withService[0].spec).toMatchObject({ type: 'NodePort', selector: { app: 'app' }, ports: [{ name: '8080', port: 8080, targetPort: 8080 }] });
    expect(withService[0].spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(withService[0].spec.ports[0].nodePort).toBeLessThanOrEqual(32767);

    const lone = YAML.parse(t(['generate', 'kube', 'app-web']).replace(/^#.*\n/gm, ''));
    expect(lone.metadata.name).toBe('app-web-pod');
  }, 120_000);

  it('refuses names that are neither a container nor a pod', () => {
    const r = sandbox.run(['generate', 'kube', 'nosuch']);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('Error: name or ID "nosuch" not found: no such container or pod\n');
  });
});

describe('kube play and down', () => {
  it('plays the generated YAML back: same containers, named POD-CONTAINER, serving the hostPath on the pod port', async () => {
    const before = inspect('app-web');
    t(['pod', 'rm', '-f', '-t', '0', 'app']);
    const out = t(['kube', 'play', yamlFile]);
    const m = /^Pod:\n([0-9a-f]{64})\nContainer:\n([0-9a-f]{64})\n\n$/.exec(out);
    expect(m, out).not.toBeNull();
    const after = inspect('app-web');
    expect(after.Id).toBe(m![2]);
    expect(after.State.Status).toBe('running');
    expect(after.Config.Cmd).toEqual(before.Config.Cmd);
    expect(after.Config.WorkingDir).toBe('/data');
    expect(after.Config.Env).toContain('GREETING=hello world');
    expect(after.Config.Hostname).toBe('app');
    expect(sandbox.run(['volume', 'exists', 'appvol']).status).toBe(0);
    const pod = JSON.parse(t(['pod', 'inspect', 'app']));
    expect(pod).toMatchObject({ Id: m![1], State: 'Running', ExitPolicy: 'stop', Labels: { app: 'app', tier: 'web' } });
    expect(await fetchPage(port, 60)).toBe('served from a hostPath\n');
    // Generating again gives the same Pod (but for its timestamp).
    const strip = (s: string) => s.replace(/creationTimestamp: .*/g, '');
    expect(strip(t(['generate', 'kube', 'app']))).toBe(strip(fs.readFileSync(yamlFile, 'utf8')));
  }, 120_000);

  it('refuses to play over an existing pod; --replace tears it down first and says so', () => {
    const first = JSON.parse(t(['pod', 'inspect', 'app'])).Id;
    const again = sandbox.run(['kube', 'play', yamlFile]);
    expect(again.status).toBe(125);
    expect(again.stderr).toContain('name "app" is in use: pod already exists');
    const out = t(['kube', 'play', '--replace', yamlFile]);
    const m = new RegExp(`^Pods stopped:\\n${first}\\nPods removed:\\n${first}\\nPod:\\n([0-9a-f]{64})\\nContainer:\\n[0-9a-f]{64}\\n\\n$`).exec(out);
    expect(m, out).not.toBeNull();
    expect(m![1]).not.toBe(first);
  }, 120_000);

  it('kube down removes the pod and its containers (volumes only with --force)', () => {
    const id = JSON.parse(t(['pod', 'inspect', 'app'])).Id;
    expect(t(['kube', 'down', yamlFile])).toBe(`Pods stopped:\n${id}\nPods removed:\n${id}\n`);
    expect(sandbox.run(['pod', 'exists', 'app']).status).toBe(1);
    expect(t(['ps', '-a', '-q'])).toBe('');
    expect(sandbox.run(['volume', 'exists', 'appvol']).status).toBe(0);
    // Nothing left to take down: Podman's error.
    expect(sandbox.run(['kube', 'down', yamlFile])).toEqual({ status: 125, stdout: '', stderr: 'Error: no pod with name or ID app found: no such pod\n' });
    t(['kube', 'play', '--start=false', yamlFile]);
    expect(inspect('app-web').State.Status).toBe('created');
    expect(t(['kube', 'down', '--force', yamlFile])).toMatch(/Volumes removed:\nappvol\n$/);
    expect(sandbox.run(['volume', 'exists', 'appvol']).status).toBe(1);
  }, 120_000);

  it('a Deployment runs its template once: two containers in pod NAME-pod that reach each other on localhost', () => {
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'dep' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'dep' } },
        template: {
          metadata: { annotations: { 'io.tspod.annotations.rootfs/server': 'true', 'io.tspod.annotations.rootfs/client': 'true' }, labels: { app: 'dep' } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              { name: 'server', image: rootfs, command: ['sh', '-c'], args: ['echo pong > /tmp/index.html; trap "exit 0" TERM; httpd -f -p 127.0.0.1:9090 -h /tmp & wait'] },
              {
                name: 'client',
                image: rootfs,
                command: ['sh', '-c', 'for i in $(seq 100); do wget -q -O /tmp/got http://127.0.0.1:9090/index.html && break; sleep 0.1; done; cat /tmp/got; trap "exit 0" TERM; while :; do sleep 0.2; done'],
                env: [{ name: 'ROLE', value: 'client' }],
              },
            ],
          },
        },
      },
    };
    const file = path.join(home, 'dep.yaml');
    fs.writeFileSync(file, YAML.stringify(dep));
    const out = t(['kube', 'play', file]);
    expect(out).toMatch(/^Pod:\n[0-9a-f]{64}\nContainers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\n$/);
    expect(inspect('dep-pod-server').State.Status).toBe('running');
    expect(inspect('dep-pod-client').Config.Env).toContain('ROLE=client');
    let logs = '';
    for (const deadline = Date.now() + 20_000; !logs.includes('pong') && Date.now() < deadline; ) logs = t(['logs', 'dep-pod-client']);
    expect(logs).toBe('pong\n');
    const podId = JSON.parse(t(['pod', 'inspect', 'dep-pod'])).Id;
    expect(podId).toMatch(ID);
    t(['kube', 'down', file]);
    expect(t(['ps', '-a', '-q'])).toBe('');
  }, 120_000);

  it('refuses YAML it cannot play with one clear line', () => {
    const bad = path.join(home, 'bad.yaml');
    fs.writeFileSync(bad, 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n');
    const r = sandbox.run(['kube', 'play', bad]);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('Error: kind Job is not supported by kube play: use Pod, Deployment, PersistentVolumeClaim, Service or ConfigMap\n');
    const missing = sandbox.run(['kube', 'play', path.join(home, 'none.yaml')]);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toMatch(/^Error: cannot read .*none\.yaml: ENOENT\n$/);
  });
});
