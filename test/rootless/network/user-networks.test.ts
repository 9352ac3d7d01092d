import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TspodSandbox } from '../../helpers/tspod.js';
import { webRootfs } from './net-helpers.js';

const sandbox = new TspodSandbox('usernet');
const rootfs = webRootfs(sandbox.home, 'hello-bridge\n');
const t = (args: string[]) => sandbox.run(args);
/** Let vitest's worker answer its RPC between runs of synchronous commands (a loaded machine makes them slow). */
const breathe = () => new Promise((r) => setTimeout(r, 0));
const netDir = path.join(sandbox.runDir, 'networks');
const rootlessNetns = path.join(netDir, 'rootless-netns');

afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

function get(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: '/', timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

async function retry<T>(what: string, fn: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Leases recorded for a network (the IPAM state). */
function leases(network: string): { container: string; ip: string; veth: string }[] {
  try {
    return JSON.parse(fs.readFileSync(path.join(netDir, 'ipam.json'), 'utf8'))[network] ?? [];
  } catch {
    return [];
  }
}

/** veth interfaces in the rootless network namespace, as the kernel lists them. */
function rootlessVeths(): string[] {
  const r = t(['unshare', 'sh', '-c', `[ -e ${rootlessNetns} ] || exit 0; PATH=$PATH:/usr/sbin:/sbin nsenter --net=${rootlessNetns} ip -o link show type veth`]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1].trim().split('@')[0]);
}

/** Processes of this sandbox whose command line names a word (the forwarder, the namespace's pasta). */
function processesWith(word: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
        return cmd.includes(sandbox.runDir) && cmd.includes(word) && fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

function defaultGateway(): string | undefined {
  for (const line of fs.readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === '00000000' && f[2] && f[2] !== '00000000') {
      const n = parseInt(f[2], 16);
      return [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255].join('.');
    }
  }
  return undefined;
}

describe('network create, ls, inspect, exists, rm, prune', () => {
  it('creates networks with Podman\'s defaults and shapes', async () => {
    expect(t(['network', 'create', 'alpha']).stdout).toBe('alpha\n');
    const beta = t(['network', 'create', '--subnet', '10.77.3.0/24', '--gateway', '10.77.3.254', '--internal', '--label', 'tier=db', '--disable-dns', 'beta']);
    expect(beta.stderr).toBe('');
    const [a] = JSON.parse(t(['network', 'inspect', 'alpha']).stdout);
    expect(a).toMatchObject({ name: 'alpha', driver: 'bridge', subnets: [{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }], internal: false, dns_enabled: true, ipv6_enabled: false });
    expect(a.id).toMatch(/^[0-9a-f]{64}$/);
    expect(a.network_interface).toMatch(/^podman\d+$/);
    const [b] = JSON.parse(t(['network', 'inspect', 'beta']).stdout);
    expect(b).toMatchObject({ subnets: [{ subnet: '10.77.3.0/24', gateway: '10.77.3.254' }], internal: true, dns_enabled: false, labels: { tier: 'db' } });
    expect(t(['network', 'inspect', '--format', '{{.Name}} {{.Driver}}', 'beta']).stdout).toBe('beta bridge\n');
    await breathe();
    // An unnamed network gets podmanN and the next free subnet.
    const unnamed = t(['network', 'create']).stdout.trim();
    expect(unnamed).toMatch(/^podman\d+$/);
    expect(JSON.parse(t(['network', 'inspect', unnamed]).stdout)[0].subnets[0].subnet).toBe('10.89.1.0/24');

    await breathe();
    const ls = t(['network', 'ls']).stdout.split('\n');
    expect(ls[0]).toMatch(/^NETWORK ID\s+NAME\s+DRIVER$/);
    expect(ls.slice(1).filter(Boolean).map((l) => l.split(/\s+/)[1])).toEqual(['podman', 'alpha', 'beta', unnamed]);
    expect(t(['network', 'ls', '-q', '--filter', 'label=tier=db']).stdout).toBe('beta\n');
    expect(t(['network', 'ls', '--filter', 'name=^al', '--format', '{{.Name}}']).stdout).toBe('alpha\n');
    expect(t(['network', 'exists', 'alpha']).status).toBe(0);
    expect(t(['network', 'exists', 'nope']).status).toBe(1);
    expect(t(['network', 'rm', unnamed]).stdout).toBe(`${unnamed}\n`);
  });

  it('refuses bad input in one line with exit 125, and honours --ignore', async () => {
    const cases: [string[], RegExp][] = [
      [['network', 'create', 'alpha'], /network name alpha already used/],
      [['network', 'create', 'bad name'], /names must match/],
      [['network', 'create', '--subnet', '10.77.3.0/25', 'overlap'], /already used/],
      [['network', 'create', '--subnet', '10.60.0.0/24', '--gateway', '10.61.0.1', 'gw'], /not in subnet/],
      [['network', 'create', 'host'], /conflicts with a valid network mode/],
      [['network', 'rm', 'podman'], /default network podman cannot be removed/],
      [['run', '--rm', '--network', 'nosuchnet', '--rootfs', rootfs, 'true'], /network not found/],
      [['run', '--rm', '--ip', '10.1.1.1', '--rootfs', rootfs, 'true'], /need a user-defined network/],
      [['run', '--rm', '--network', 'alpha', '--ip', '10.5.5.5', '--rootfs', rootfs, 'true'], /not a free host address of network alpha/],
    ];
    for (const [args, msg] of cases) {
      const r = t(args);
      expect(r.status, args.join(' ')).toBe(125);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      await breathe();
    }
    const missing = t(['network', 'rm', 'nope']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/unable to find network with name or ID nope/);
    expect(t(['network', 'inspect', 'nope']).status).toBe(1);
    expect(t(['network', 'create', '--ignore', 'alpha'])).toMatchObject({ status: 0, stdout: 'alpha\n' });
  });

  it('refuses to remove a network a container uses unless forced; prune keeps used ones', async () => {
    t(['network', 'create', 'gamma']);
    t(['network', 'create', 'unused1']);
    expect(t(['create', '--name', 'holder', '--network', 'gamma', '--rootfs', rootfs, 'true']).status).toBe(0);
    const refused = t(['network', 'rm', 'gamma']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/has associated containers/);
    await breathe();
    const pruned = t(['network', 'prune', '-f']).stdout.split('\n').filter(Boolean).sort();
    expect(pruned).toEqual(['alpha', 'beta', 'unused1']);
    expect(t(['network', 'ls', '-q']).stdout).toBe('podman\ngamma\n');
    expect(t(['network', 'rm', '-f', 'gamma']).stdout).toBe('gamma\n');
    expect(t(['container', 'exists', 'holder']).status).toBe(1);
  });
});

describe('containers on a user network', () => {
  it('reach each other by name and alias, get --ip and --mac-address, publish ports, and lose each other on disconnect', async () => {
    expect(t(['network', 'create', 'alpha']).status).toBe(0);
    const port = await freePort();
    const web = t(['run', '-d', '--name', 'web', '--network', 'alpha', '--network-alias', 'www', '--ip', '10.89.0.50', '--mac-address', '92:d0:c6:0a:29:33', '-p', `${port}:8080`, '--rootfs', rootfs, 'httpd', '-f', '-v', '-p', '8080', '-h', '/www']);
    expect(web.stderr).toBe('');
    expect(web.status).toBe(0);
    // A long-lived member keeps the rootless namespace up for the leak checks below.
    expect(t(['run', '-d', '--name', 'keeper', '--network', 'alpha', '--rootfs', rootfs, 'sleep', '600']).status).toBe(0);

    const addr = t(['exec', 'web', 'ip', '-o', '-4', 'addr', 'show', 'eth0']).stdout;
    expect(addr).toContain('10.89.0.50/24');
    expect(t(['exec', 'web', 'cat', '/sys/class/net/eth0/address']).stdout).toBe('92:d0:c6:0a:29:33\n');
    expect(t(['inspect', '--format', '{{.HostConfig.NetworkMode}} {{.NetworkSettings.Networks.alpha.IPAddress}} {{.NetworkSettings.Networks.alpha.Gateway}} {{.NetworkSettings.MacAddress}}', 'web']).stdout).toBe(
      'bridge 10.89.0.50 10.89.0.1 92:d0:c6:0a:29:33\n',
    );
    expect(t(['ps', '--filter', 'network=alpha', '--format', '{{.Names}}']).stdout.split('\n').filter(Boolean).sort()).toEqual(['keeper', 'web']);

    const fetch = t(['run', '--rm', '--network', 'alpha', '--rootfs', rootfs, 'sh', '-c', 'timeout 5 wget -q -O - http://web:8080/ && timeout 5 wget -q -O - http://www:8080/']);
    expect(fetch.stderr).toBe('');
    expect(fetch.stdout).toBe('hello-bridge\nhello-bridge\n');

    // From the host, through the published port (the forwarder into the rootless namespace).
    expect(await retry('GET through the published port', () => get(port))).toBe('hello-bridge\n');
    expect(t(['port', 'web']).stdout).toBe(`8080/tcp -> 0.0.0.0:${port}\n`);
    // A client from a non-loopback address keeps it: httpd -v logs who connected.
    const hostAddr = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (hostAddr) {
      expect(await get(port, hostAddr)).toBe('hello-bridge\n');
      await retry('the request in the log', async () => expect(t(['logs', 'web']).stderr + t(['logs', 'web']).stdout).toContain(`[::ffff:${hostAddr}]:`));
    }

    // Outbound: host.containers.internal, the host's gateway address, is the host itself through pasta (its default --map-gw).
    const gw = defaultGateway();
    if (gw) {
      const server = http.createServer((_q, res) => res.end('from-host\n'));
      const hostPort = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)));
      try {
        // Asynchronously: this process's own event loop serves the request.
        const out = await sandbox.runAsync(['exec', 'keeper', 'timeout', '5', 'wget', '-q', '-O', '-', `http://host.containers.internal:${hostPort}/`]);
        expect(out.stdout, out.stderr).toBe('from-host\n');
      } finally {
        server.close();
      }
    }

    expect(t(['network', 'disconnect', 'alpha', 'web']).status).toBe(0);
    const after = t(['exec', 'keeper', 'sh', '-c', 'timeout 3 wget -q -O - http://10.89.0.50:8080/ || echo unreachable; grep -c web /etc/hosts || true']);
    expect(after.stdout).toBe('unreachable\n0\n');
    expect(leases('alpha').map((l) => l.ip)).not.toContain('10.89.0.50');

    // Connected again while running: reachable by name again.
    expect(t(['network', 'connect', 'alpha', 'web']).status).toBe(0);
    expect(t(['exec', 'keeper', 'timeout', '5', 'wget', '-q', '-O', '-', 'http://web:8080/']).stdout).toBe('hello-bridge\n');
  });

  it('network inspect lists the running containers attached (Podman 5\'s containers map; podman 4.3 has none)', () => {
    const [alpha] = JSON.parse(t(['network', 'inspect', 'alpha']).stdout);
    const id = (name: string) => t(['inspect', '--format', '{{.Id}}', name]).stdout.trim();
    expect(Object.keys(alpha.containers).sort()).toEqual([id('web'), id('keeper')].sort());
    for (const name of ['web', 'keeper']) {
      const entry = alpha.containers[id(name)];
      expect(entry.name).toBe(name);
      const [[iface, info]] = Object.entries(entry.interfaces) as [string, { subnets: { ipnet: string; gateway: string }[]; mac_address: string }][];
      expect(t(['exec', name, 'ip', '-o', '-4', 'addr', 'show', iface]).stdout).toContain(`inet ${info.subnets[0].ipnet} `);
      expect(info.subnets[0].gateway).toBe('10.89.0.1');
      expect(t(['exec', name, 'cat', `/sys/class/net/${iface}/address`]).stdout).toBe(`${info.mac_address}\n`);
    }
    expect(t(['network', 'inspect', '--format', '{{len .Containers}}', 'alpha']).stdout).toBe('2\n');
    // The default network carries none of them (they use pasta or a user network).
    expect(JSON.parse(t(['network', 'inspect', 'podman']).stdout)[0].containers).toEqual({});
  });

  it('leaves nothing behind after rm -f: no veth, no lease, no forwarder', async () => {
    const web = t(['inspect', '--format', '{{.Id}}', 'web']).stdout.trim();
    const mine = leases('alpha').find((l) => l.container === web);
    expect(mine).toBeDefined();
    expect(rootlessVeths()).toContain(mine!.veth);
    expect(processesWith('--portfwd').length).toBe(1);

    expect(t(['rm', '-f', 'web']).status).toBe(0);
    expect(leases('alpha').some((l) => l.container === web)).toBe(false);
    const keeper = leases('alpha');
    expect(keeper).toHaveLength(1);
    expect(rootlessVeths()).toEqual([keeper[0].veth]);
    await retry('the forwarder to end', async () => expect(processesWith('--portfwd')).toEqual([]));

    // The last member gone: the rootless namespace and its pasta go too.
    expect(t(['rm', '-f', 'keeper']).status).toBe(0);
    expect(leases('alpha')).toEqual([]);
    expect(fs.existsSync(rootlessNetns)).toBe(false);
    await retry('the namespace\'s pasta to end', async () => expect(processesWith('rootless-netns')).toEqual([]));
  });

  it('frees the address when a container stops, and a killed monitor leaks nothing', async () => {
    expect(t(['run', '--name', 'once', '--network', 'alpha', '--rootfs', rootfs, 'true']).status).toBe(0);
    expect(leases('alpha')).toEqual([]);
    // A start that fails (no such command) gives its address back too.
    expect(t(['run', '--name', 'broken', '--network', 'alpha', '--rootfs', rootfs, 'no-such-command']).status).toBe(127);
    expect(leases('alpha')).toEqual([]);
    expect(t(['run', '-d', '--name', 'victim', '--network', 'alpha', '--rootfs', rootfs, 'sleep', '600']).status).toBe(0);
    const state = JSON.parse(t(['inspect', 'victim']).stdout)[0].State;
    const monitorPid = Number(fs.readFileSync(path.join(sandbox.runDir, 'containers', JSON.parse(t(['inspect', 'victim']).stdout)[0].Id, 'monitor.pid'), 'utf8'));
    process.kill(monitorPid, 'SIGKILL');
    process.kill(state.Pid, 'SIGKILL');
    await retry('the container to be seen exited', async () => expect(t(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout).toMatch(/victim Exited/));
    expect(leases('alpha')).toEqual([]);
    expect(fs.existsSync(rootlessNetns)).toBe(false);
    t(['rm', '-f', 'once', 'broken', 'victim']);
  });
});
