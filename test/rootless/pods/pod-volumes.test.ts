import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { expandSpecifiers, ServiceRunner } from '../systemd/exec-runner.js';

// pod create -v (volumes every member gets), --network NAME with --ip/--mac-address
// (the infra's address on a user-defined network, reachable by the pod's name),
// and a Quadlet .pod file with Volume= and Network= run the way systemd would.
const sandbox = new TspodSandbox('pod-volumes');
const home = sandbox.home;
const rootfs = path.join(home, 'rootfs');
const t = (args: string[]) => {
  const r = sandbox.run(args);
  if (r.status !== 0) throw new Error(`tspod ${args.join(' ')} -> ${r.status}: ${r.stderr}`);
  return r.stdout;
};
const once = (flags: string[], script: string) => t(['run', '--rm', ...flags, '--rootfs', rootfs, 'sh', '-c', script]).trim();
/** Fetch a URL from a container, retrying while the server comes up. */
const FETCH = (url: string) => `for i in $(seq 50); do wget -q -O- ${url} && exit 0; sleep 0.1; done; echo unreachable; exit 1`;

beforeAll(() => {
  fs.renameSync(makeBusyboxRootfs(home), rootfs);
});

afterAll(() => {
  for (const id of sandbox.run(['pod', 'ps', '-q', '--no-trunc']).stdout.split('\n').filter(Boolean)) sandbox.run(['pod', 'rm', '-f', '-t', '0', id]);
  sandbox.run(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('pod create -v', () => {
  it('a named, an anonymous and a bind volume are mounted in every member: one writes, the other reads', () => {
    const dir = path.join(home, 'bound');
    fs.mkdirSync(dir);
    t(['pod', 'create', '--name', 'vols', '-v', 'podvol:/named', '-v', '/anon', '-v', `${dir}:/bound:ro`]);
    const mounts = JSON.parse(t(['pod', 'inspect', 'vols'])).mounts;
    expect(mounts.map((m: { Type: string; Destination: string; RW: boolean }) => [m.Type, m.Destination, m.RW])).toEqual([
      ['volume', '/named', true],
      ['volume', '/anon', true],
      ['bind', '/bound', false],
    ]);
    expect(mounts[0]).toMatchObject({ Name: 'podvol', Source: expect.stringMatching(/\/volumes\/podvol\/_data$/) });
    // The anonymous volume has its name already: every member mounts the same one.
    expect(mounts[1].Name).toMatch(/^[0-9a-f]{64}$/);
    once(['--pod', 'vols'], 'echo named-data > /named/f && echo anon-data > /anon/f');
    fs.writeFileSync(path.join(dir, 'f'), 'bound-data\n');
    expect(once(['--pod', 'vols'], 'cat /named/f /anon/f /bound/f')).toBe('named-data\nanon-data\nbound-data');
    // :ro holds in the members; a member's own -v at the same destination wins over the pod's.
    expect(sandbox.run(['run', '--rm', '--pod', 'vols', '--rootfs', rootfs, 'sh', '-c', 'echo x > /bound/g']).status).not.toBe(0);
    expect(once(['--pod', 'vols', '-v', 'other:/named'], 'ls /named | wc -l')).toBe('0');
    // The named volume is the real one, seen from outside the pod too.
    expect(once(['-v', 'podvol:/v'], 'cat /v/f')).toBe('named-data');
    t(['pod', 'rm', '-f', '-t', '0', 'vols']);
  }, 60_000);

  it('bad volumes fail the pod create with exit 125 and leave no pod behind', () => {
    const missing = sandbox.run(['pod', 'create', '--name', 'bad', '-v', `${home}/nosuch:/x`]);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toMatch(/nosuch: no such file or directory/);
    expect(sandbox.run(['pod', 'create', '--name', 'bad', '-v', 'relative']).status).toBe(125);
    expect(sandbox.run(['pod', 'exists', 'bad']).status).toBe(1);
  });

  it('--userns is refused in one sentence with exit 125', () => {
    const r = sandbox.run(['pod', 'create', '--name', 'uns', '--userns', 'keep-id']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/--userns is not supported by tspod pod create/);
    expect(sandbox.run(['pod', 'exists', 'uns']).status).toBe(1);
  });
});

describe('pod create --network NAME --ip --mac-address', () => {
  it('the infra gets the address, members share it, another container on the network reaches the pod by name and by IP', () => {
    t(['network', 'create', '--subnet', '10.89.41.0/24', 'podnet']);
    t(['pod', 'create', '--name', 'webpod', '--network', 'podnet', '--ip', '10.89.41.50', '--mac-address', '92:d0:c6:0a:29:33']);
    expect(JSON.parse(t(['pod', 'inspect', 'webpod'])).InfraConfig).toMatchObject({ StaticIP: '10.89.41.50', StaticMAC: '92:d0:c6:0a:29:33', Networks: ['podnet'] });
    const addr = once(['--pod', 'webpod'], 'ip addr show eth0');
    expect(addr).toContain('inet 10.89.41.50/24');
    expect(addr).toContain('link/ether 92:d0:c6:0a:29:33');
    t(['run', '-d', '--name', 'websrv', '--pod', 'webpod', '--rootfs', rootfs, 'sh', '-c', 'mkdir /www && echo served-by-pod > /www/i && exec httpd -f -p 8080 -h /www']);
    expect(once(['--network', 'podnet'], FETCH('http://webpod:8080/i'))).toBe('served-by-pod');
    expect(once(['--network', 'podnet'], FETCH('http://10.89.41.50:8080/i'))).toBe('served-by-pod');
    // Without a user-defined network there is nothing to put the address on.
    expect(sandbox.run(['pod', 'create', '--name', 'noip', '--ip', '10.89.41.60']).status).toBe(125);
    t(['pod', 'rm', '-f', '-t', '0', 'webpod']);
    t(['network', 'rm', 'podnet']);
  }, 60_000);
});

describe('quadlet .pod with Volume= and Network=', () => {
  it('the .volume, .network and .pod services run; a .container member serves the volume to another container on the network', () => {
    const qdir = path.join(home, '.config', 'containers', 'systemd');
    fs.mkdirSync(qdir, { recursive: true });
    fs.writeFileSync(path.join(qdir, 'qdata.volume'), '[Volume]\n');
    fs.writeFileSync(path.join(qdir, 'qnet.network'), '[Network]\nSubnet=10.89.42.0/24\n');
    fs.writeFileSync(path.join(qdir, 'qpod.pod'), '[Pod]\nVolume=qdata.volume:/data\nNetwork=qnet.network\nIP=10.89.42.9\n');
    fs.writeFileSync(path.join(qdir, 'qweb.container'), `[Container]\nRootfs=${rootfs}\nPod=qpod.pod\nExec=sh -c "echo from-quadlet-volume > /data/i; exec httpd -f -p 8080 -h /data"\n`);
    const out = path.join(home, 'generator');
    t(['quadlet', '--user', out]);
    const podService = fs.readFileSync(path.join(out, 'qpod-pod.service'), 'utf8');
    expect(podService).toMatch(/pod create .*-v systemd-qdata:\/data/);
    expect(podService).toContain('--network=systemd-qnet');
    const unit = (name: string) => new ServiceRunner(fs.readFileSync(path.join(out, name), 'utf8'), { unitName: name, env: sandbox.env });
    const vol = unit('qdata-volume.service');
    const netw = unit('qnet-network.service');
    const pod = unit('qpod-pod.service');
    const web = unit('qweb.service');
    expect(vol.start(), vol.describe()).toBe(true);
    expect(netw.start(), netw.describe()).toBe(true);
    try {
      expect(pod.start(), pod.describe()).toBe(true);
      expect(web.start(), web.describe()).toBe(true);
      expect(once(['--network', 'systemd-qnet'], FETCH('http://systemd-qpod:8080/i'))).toBe('from-quadlet-volume');
      expect(once(['--network', 'systemd-qnet'], FETCH('http://10.89.42.9:8080/i'))).toBe('from-quadlet-volume');
      const cid = fs.readFileSync(expandSpecifiers('%t/%N.cid', web.r), 'utf8').trim();
      expect(t(['exec', cid, 'cat', '/data/i']).trim()).toBe('from-quadlet-volume');
      expect(once(['-v', 'systemd-qdata:/v'], 'cat /v/i')).toBe('from-quadlet-volume');
      expect(web.stop(), web.describe()).toBe(true);
    } finally {
      expect(pod.stop(), pod.describe()).toBe(true);
    }
    expect(sandbox.run(['pod', 'exists', 'systemd-qpod']).status).toBe(1);
  }, 90_000);

  it('UserNS= in a .pod is warned about when converting (tspod pod create refuses --userns)', () => {
    const qdir = path.join(home, 'qdir-userns');
    fs.mkdirSync(qdir, { recursive: true });
    fs.writeFileSync(path.join(qdir, 'u.pod'), '[Pod]\nUserNS=keep-id\n');
    const r = sandbox.run(['quadlet', '--dryrun', '--user'], { env: { QUADLET_UNIT_DIRS: qdir } });
    expect(r.stderr).toContain("UserNS=keep-id: tspod pod create does not support --userns yet");
  });
});
