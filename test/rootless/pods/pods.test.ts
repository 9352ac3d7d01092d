import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('pods');
const rootfs = path.join(sandbox.home, 'rootfs');
const t = (args: string[]) => {
  const r = sandbox.run(args);
  if (r.status !== 0) throw new Error(`tspod ${args.join(' ')} -> ${r.status}: ${r.stderr}`);
  return r.stdout;
};
const podInspect = (name: string) => JSON.parse(t(['pod', 'inspect', name]));
const ctrInspect = (name: string) => JSON.parse(t(['inspect', name]))[0];
/** Run a one-off container (in a pod or not) and return its output. */
const once = (flags: string[], script: string) => t(['run', '--rm', ...flags, '--rootfs', rootfs, 'sh', '-c', script]).trim();

// A web server on the pod's loopback only: reachable from the pod's other containers, nowhere else.
const SERVER = `echo hello-from-pod > /tmp/index.html; exec httpd -f -p 127.0.0.1:8080 -h /tmp`;
const FETCH = `for i in $(seq 50); do wget -q -O- http://127.0.0.1:8080/index.html && exit 0; sleep 0.1; done; echo unreachable; exit 1`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/index.html', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

beforeAll(() => {
  fs.renameSync(makeBusyboxRootfs(sandbox.home), rootfs);
});

afterAll(() => {
  for (const id of sandbox.run(['pod', 'ps', '-q', '--no-trunc']).stdout.split('\n').filter(Boolean)) sandbox.run(['pod', 'rm', '-f', '-t', '0', id]);
  sandbox.run(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('pods', () => {
  it('create, inspect, ps and exists: an infra container holds the namespaces', () => {
    const id = t(['pod', 'create', '--name', 'alpha', '--label', 'tier=web']).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(sandbox.run(['pod', 'exists', 'alpha']).status).toBe(0);
    expect(sandbox.run(['pod', 'exists', 'nosuch']).status).toBe(1);
    const info = podInspect('alpha');
    expect(info).toMatchObject({ Id: id, Name: 'alpha', State: 'Created', SharedNamespaces: ['ipc', 'net', 'uts'], NumContainers: 1, Labels: { tier: 'web' } });
    expect(info.Containers[0]).toMatchObject({ Id: info.InfraContainerID, Name: `${id.slice(0, 12)}-infra`, State: 'created' });
    const ps = t(['pod', 'ps']).split('\n');
    expect(ps[0]).toMatch(/^POD ID\s+NAME\s+STATUS\s+CREATED\s+INFRA ID\s+# OF CONTAINERS$/);
    expect(ps[1]).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+alpha\\s+Created\\s+.*${info.InfraContainerID.slice(0, 12)}\\s+1$`));
    expect(t(['pod', 'ps', '--filter', 'label=tier=web', '--format', '{{.Name}}'])).toBe('alpha\n');
    expect(t(['pod', 'ps', '--filter', 'name=nomatch', '-q'])).toBe('');
  }, 120_000);

  it('containers of a pod share its network: one listens on 127.0.0.1, another reaches it, a container outside cannot', () => {
    t(['run', '-d', '--pod', 'alpha', '--name', 'alpha-web', '--rootfs', rootfs, 'sh', '-c', SERVER]);
    const pod = podInspect('alpha');
    expect(pod.State).toBe('Running');
    expect(t(['ps', '--filter', 'pod=alpha', '--format', '{{.Names}} {{.PodName}}']).split('\n').sort()).toEqual(['', `${pod.Id.slice(0, 12)}-infra alpha`, 'alpha-web alpha'].sort());
    expect(ctrInspect('alpha-web').Pod).toBe(pod.Id);
    expect(once(['--pod', 'alpha'], FETCH)).toBe('hello-from-pod');
    // The same command outside the pod: its own loopback has no server.
    const outside = sandbox.run(['run', '--rm', '--network', 'none', '--rootfs', rootfs, 'sh', '-c', FETCH.replace('seq 50', 'seq 3')]);
    expect(outside.status).toBe(1);
    expect(outside.stdout).toContain('unreachable');
  }, 120_000);

  it('share the UTS and IPC namespaces (the pod name is the host name), not the PID one', () => {
    const ns = (flags: string[]) => once(flags, 'hostname; for n in uts ipc net pid; do readlink /proc/self/ns/$n; done').split('\n');
    const [hostA, utsA, ipcA, netA, pidA] = ns(['--pod', 'alpha']);
    const [hostB, utsB, ipcB, netB] = ns(['--pod', 'alpha']);
    expect(hostA).toBe('alpha');
    expect(hostB).toBe('alpha');
    expect([utsB, ipcB, netB]).toEqual([utsA, ipcA, netA]);
    expect(pidA).toMatch(/^pid:\[\d+\]$/);
    // Its own PID namespace, compared with a member alive at the same time (a
    // finished container's namespace number may be handed out again).
    t(['run', '-d', '--name', 'pidref', '--pod', 'alpha', '--rootfs', rootfs, 'sleep', '120']);
    try {
      const pidRef = t(['exec', 'pidref', 'readlink', '/proc/self/ns/pid']).trim();
      expect(t(['exec', 'pidref', 'readlink', '/proc/self/ns/net']).trim()).toBe(netA);
      expect(once(['--pod', 'alpha'], 'readlink /proc/self/ns/pid')).not.toBe(pidRef);
    } finally {
      t(['rm', '-f', 'pidref']);
    }
    const [hostC, utsC, ipcC, netC] = ns([]);
    expect(hostC).not.toBe('alpha');
    expect([utsC, ipcC, netC].some((x, i) => x === [utsA, ipcA, netA][i])).toBe(false);
    // A pod that shares only the network: its own hostname is the container's.
    t(['pod', 'create', '--name', 'netonly', '--share', 'net']);
    expect(once(['--pod', 'netonly', '--hostname', 'mine'], 'hostname')).toBe('mine');
    t(['pod', 'rm', '-f', 'netonly']);
  }, 120_000);

  it('refuses what the pod decides: ports, network, hostname; duplicate names', () => {
    const ports = sandbox.run(['run', '--rm', '--pod', 'alpha', '-p', '9999:80', '--rootfs', rootfs, 'true']);
    expect(ports.status).toBe(125);
    expect(ports.stderr).toContain('published or exposed ports must be defined when the pod is created');
    const host = sandbox.run(['run', '--rm', '--pod', 'alpha', '--hostname', 'x', '--rootfs', rootfs, 'true']);
    expect(host.status).toBe(125);
    expect(host.stderr).toContain('cannot set hostname when joining the pod UTS namespace');
    const dup = sandbox.run(['pod', 'create', '--name', 'alpha']);
    expect(dup.status).toBe(125);
    expect(dup.stderr).toMatch(/^Error: the pod name "alpha" is already in use/);
    const missing = sandbox.run(['pod', 'inspect', 'nosuch']);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toBe('Error: inspecting object: no such pod nosuch\n');
    expect(sandbox.run(['run', '--rm', '--pod', 'nosuch', '--rootfs', rootfs, 'true']).status).toBe(125);
  }, 120_000);

  it('stop stops every container (infra last), start brings them back, rm needs -f while running', () => {
    const id = podInspect('alpha').Id;
    expect(t(['pod', 'stop', '-t', '1', 'alpha'])).toBe(`${id}\n`);
    const stopped = podInspect('alpha');
    expect(stopped.State).toBe('Exited');
    expect(stopped.Containers.map((c: { State: string }) => c.State)).toEqual(['exited', 'exited']);
    expect(t(['pod', 'start', 'alpha'])).toBe(`${id}\n`);
    expect(podInspect('alpha').State).toBe('Running');
    expect(once(['--pod', 'alpha'], FETCH)).toBe('hello-from-pod');
    const refused = sandbox.run(['pod', 'rm', 'alpha']);
    expect(refused.status).toBe(125);
    expect(refused.stderr).toContain('cannot remove container');
    expect(t(['pod', 'rm', '-f', '-t', '1', 'alpha'])).toBe(`${id}\n`);
    expect(sandbox.run(['pod', 'exists', 'alpha']).status).toBe(1);
    expect(sandbox.run(['container', 'exists', 'alpha-web']).status).toBe(1);
    expect(sandbox.run(['container', 'exists', `${id.slice(0, 12)}-infra`]).status).toBe(1);
  }, 120_000);

  it('publishes its ports through the infra container', async () => {
    const port = await freePort();
    t(['pod', 'create', '--name', 'pub', '-p', `${port}:8080`]);
    t(['run', '-d', '--pod', 'pub', '--rootfs', rootfs, 'sh', '-c', SERVER.replace('127.0.0.1:8080', '8080')]);
    let body = '';
    for (let i = 0; i < 50 && !body; i++) {
      body = await httpGet(port).catch(() => '');
      if (!body) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toBe('hello-from-pod\n');
    expect(podInspect('pub').InfraConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '', HostPort: String(port) }] });
    t(['pod', 'rm', '-f', '-t', '0', 'pub']);
  }, 120_000);

  it('as systemd units use it: --pod-id-file, --infra-conmon-pidfile, --replace, --exit-policy=stop, --ignore', async () => {
    const idFile = path.join(sandbox.home, 'unit.pod-id');
    const pidFile = path.join(sandbox.home, 'unit.pid');
    const create = ['pod', 'create', `--infra-conmon-pidfile=${pidFile}`, `--pod-id-file=${idFile}`, '--exit-policy=stop', '--replace', '--name=unit'];
    const first = t(create).trim();
    const second = t(create).trim();
    expect(second).not.toBe(first);
    expect(fs.readFileSync(idFile, 'utf8').trim()).toBe(second);
    expect(t(['pod', 'start', `--pod-id-file=${idFile}`]).trim()).toBe(second);
    const infra = ctrInspect(podInspect('unit').InfraContainerID);
    expect(Number(fs.readFileSync(pidFile, 'utf8'))).toBe(infra.State.ConmonPid);
    // The last container exits: the pod stops with it.
    t(['run', '-d', '--pod', 'unit', '--rootfs', rootfs, 'sh', '-c', 'sleep 0.5']);
    let state = '';
    for (const deadline = Date.now() + 30_000; state !== 'Exited' && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 300));
      state = podInspect('unit').State;
    }
    expect(state).toBe('Exited');
    expect(t(['pod', 'stop', '--ignore', `--pod-id-file=${idFile}`, '--time=10']).trim()).toBe(second);
    expect(t(['pod', 'rm', '--ignore', '--force', `--pod-id-file=${idFile}`]).trim()).toBe(second);
    // What ExecStopPost runs after the pod is gone: no error.
    fs.rmSync(idFile);
    expect(sandbox.run(['pod', 'rm', '--ignore', '--force', `--pod-id-file=${idFile}`])).toMatchObject({ status: 0, stdout: '' });
    expect(sandbox.run(['pod', 'stop', '--ignore', 'nosuch'])).toMatchObject({ status: 0, stdout: '' });
  }, 120_000);

  it('kill, restart and prune', () => {
    t(['pod', 'create', '--name', 'short']);
    t(['run', '-d', '--pod', 'short', '--rootfs', rootfs, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.2; done']);
    t(['pod', 'kill', 'short']);
    expect(podInspect('short').State).toMatch(/Exited|Degraded/);
    t(['pod', 'restart', 'short']);
    expect(podInspect('short').State).toBe('Running');
    t(['pod', 'stop', 'short']);
    const id = podInspect('short').Id;
    expect(t(['pod', 'prune', '-f'])).toBe(`${id}\n`);
    expect(sandbox.run(['pod', 'exists', 'short']).status).toBe(1);
    expect(t(['pod', 'ps', '-q'])).toBe('');
  }, 120_000);

  it('rm refuses a pod\'s infra container by name; rm -a -f takes the pods with it', () => {
    t(['pod', 'create', '--name', 'gone']);
    t(['create', '--pod', 'gone', '--name', 'gone-member', '--rootfs', rootfs, 'true']);
    const pod = podInspect('gone');
    const member = ctrInspect('gone-member').Id;
    const refused = sandbox.run(['rm', '-f', pod.InfraContainerID]);
    expect(refused.status).toBe(125);
    expect(refused.stderr).toBe(`Error: container ${pod.InfraContainerID} is the infra container of pod ${pod.Id} and cannot be removed without removing the pod\n`);
    expect(t(['rm', '-a', '-f']).split('\n').filter(Boolean).sort()).toEqual([pod.InfraContainerID, member].sort());
    expect(sandbox.run(['pod', 'exists', 'gone']).status).toBe(1);
  }, 120_000);
});
