import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { addUdpPrinter, addWebRoot, freePort, get, helperPids, poolIdlePids, retry, sendUdp } from './net-helpers.js';

const sandbox = new TspodSandbox('netmodes');
const rootfs = makeBusyboxRootfs(sandbox.home);
addWebRoot(rootfs);
addUdpPrinter(rootfs, sandbox.home);
const t = (args: string[]) => sandbox.run(args);

afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('--network container:NAME and ns:PATH', () => {
  it('shares the other container\'s interfaces, listening ports, hosts and resolv.conf', async () => {
    const port = await freePort();
    const run = t(['run', '-d', '--name', 'owner', '-p', `${port}:8080`, '--rootfs', rootfs, 'httpd', '-f', '-p', '8080', '-h', '/www']);
    expect(run.stderr).toBe('');
    const owner = t(['run', '--rm', '--rootfs', rootfs, 'true']); // a bystander: its own namespace
    expect(owner.status).toBe(0);
    const ownerIfaces = t(['exec', 'owner', 'sh', '-c', 'ip -o addr | sort']).stdout;
    const r = t(['run', '--rm', '--network', 'container:owner', '--rootfs', rootfs, 'sh', '-c',
      'ip -o addr | sort; echo --; netstat -ltn | grep -c :8080; wget -qO- http://127.0.0.1:8080/; echo --; cat /etc/hosts /etc/resolv.conf']);
    expect(r.stderr).toBe('');
    const [ifaces, listening, files] = r.stdout.split('--\n');
    // The same addresses; IPv6 duplicate-address detection ("tentative") and SLAAC lifetimes change between two reads.
    const stable = (text: string) => text.replace(/ tentative\b/g, '').replace(/valid_lft \S+ preferred_lft \S+/g, '');
    expect(stable(ifaces)).toBe(stable(ownerIfaces));
    expect(listening).toBe('1\nhello-web\n');
    expect(files).toBe(t(['exec', 'owner', 'cat', '/etc/hosts', '/etc/resolv.conf']).stdout);
    // The owner's published port still serves, from the host.
    expect(await retry('GET through the owner\'s port', () => get('127.0.0.1', port))).toBe('hello-web\n');
  });

  it('records the other container by id, discards its own -p with Podman\'s warning, and keeps its own host name', () => {
    const id = t(['inspect', '--format', '{{.Id}}', 'owner']).stdout.trim();
    const c = t(['create', '--name', 'joiner', '--network', 'container:owner', '-p', '18111:80', '--hostname', 'joiner-host', '--rootfs', rootfs, 'hostname']);
    expect(c.status).toBe(0);
    expect(c.stderr).toMatch(/Port mappings have been discarded/);
    expect(t(['port', 'joiner']).stdout).toBe('');
    expect(t(['inspect', '--format', '{{.HostConfig.NetworkMode}}', 'joiner']).stdout.trim()).toBe(`container:${id}`);
    const s = t(['start', '-a', 'joiner']);
    expect(s.stdout).toBe('joiner-host\n');
    // The owner cannot go while another container lives in its namespace.
    const rm = t(['rm', '-f', 'owner']);
    expect(rm.status).toBe(125);
    expect(rm.stderr).toMatch(/has dependent containers which must be removed before it/);
    expect(t(['rm', 'joiner']).status).toBe(0);
  });

  it('refuses an unknown container, and a stopped one at start', () => {
    const r = t(['run', '--rm', '--network', 'container:no-such', '--rootfs', rootfs, 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('Error: looking up container to share net namespace with: no container with name or ID "no-such" found: no such container\n');
    expect(t(['create', '--name', 'stopped', '--rootfs', rootfs, 'true']).stderr).toBe('');
    const s = t(['run', '--rm', '--network', 'container:stopped', '--rootfs', rootfs, 'true']);
    expect(s.status).toBe(125);
    expect(s.stderr).toMatch(/not running/);
    expect(s.stderr.trim().split('\n')).toHaveLength(1);
    t(['rm', 'stopped']);
  });

  it('joins a network namespace by path (ns:PATH)', async () => {
    const pid = t(['inspect', '--format', '{{.State.Pid}}', 'owner']).stdout.trim();
    const r = t(['run', '--rm', '--network', `ns:/proc/${pid}/ns/net`, '--rootfs', rootfs, 'wget', '-qO-', 'http://127.0.0.1:8080/']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello-web\n');
    const bad = t(['run', '--rm', '--network', 'ns:/nonexistent/netns', '--rootfs', rootfs, 'true']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/does not exist/);
    // The pasta pool's idle entry (started after the bystander's run) is no container's.
    const containerPastas = async () => {
      const idle = await poolIdlePids(sandbox.runDir);
      return helperPids('pasta', sandbox.runDir).filter((p) => !idle.includes(p));
    };
    expect(await containerPastas()).toHaveLength(1);
    t(['rm', '-f', 'owner']);
    expect(await containerPastas()).toEqual([]);
  });

  it('checks mode names and options in one line', () => {
    for (const bad of ['ns:relative', 'container:', 'none:x', 'slirp4netns:mtu=abc', 'slirp4netns:bogus=1', 'slirp4netns:allow_host_loopback=maybe', 'slirp4netns:cidr=10.0.2.0']) {
      const r = t(['create', '--network', bad, '--rootfs', rootfs, 'true']);
      expect(r.status, bad).toBe(125);
      expect(r.stderr.trim().split('\n'), bad).toHaveLength(1);
    }
  });
});

describe('--network slirp4netns', () => {
  const slirps = () => helperPids('slirp4netns', sandbox.runDir);

  it('carries TCP and UDP through published ports, and ends with rm -f', async () => {
    const tcp = await freePort();
    const udp = await freePort();
    const run = t(['run', '-d', '--name', 'slirp-web', '--network', 'slirp4netns', '-p', `${tcp}:8080`, '-p', `${udp}:9999/udp`, '--rootfs', rootfs,
      'sh', '-c', 'udp-print 9999 > /tmp/udp.txt & exec httpd -f -p 8080 -h /www']);
    expect(run.stderr).toBe('');
    expect(await retry('GET through slirp4netns', () => get('127.0.0.1', tcp))).toBe('hello-web\n');
    await retry('a datagram through slirp4netns', async () => {
      await sendUdp(udp, 'ping-udp\n');
      await new Promise((r) => setTimeout(r, 200));
      expect(t(['exec', 'slirp-web', 'cat', '/tmp/udp.txt']).stdout).toContain('ping-udp');
    });
    expect(t(['port', 'slirp-web']).stdout).toBe(`8080/tcp -> 0.0.0.0:${tcp}\n9999/udp -> 0.0.0.0:${udp}\n`);
    expect(slirps()).toHaveLength(1);
    const inside = t(['exec', 'slirp-web', 'sh', '-c', 'ip -o -4 addr show tap0; cat /etc/resolv.conf']).stdout;
    expect(inside).toMatch(/inet 10\.0\.2\.100\/24/);
    expect(inside).toMatch(/^nameserver 10\.0\.2\.3$/m);
    expect(t(['rm', '-f', 'slirp-web']).status).toBe(0);
    expect(slirps()).toEqual([]);
    const dir = fs.readdirSync(path.join(sandbox.runDir, 'containers'), { recursive: true }).map(String);
    expect(dir.filter((f) => /slirp4netns\.(sock|pid)$|netns$/.test(f))).toEqual([]);
    await new Promise<void>((resolve, reject) => {
      const s = net.createServer().once('error', reject).listen(tcp, '0.0.0.0', () => s.close(() => resolve()));
    });
  });

  it('applies mtu and cidr, and ends when the container exits on its own', async () => {
    const r = t(['run', '-d', '--name', 'slirp-short', '--network', 'slirp4netns:mtu=1500,cidr=10.9.0.0/24', '--rootfs', rootfs,
      'sh', '-c', 'ip -o -4 addr show tap0; ip link show tap0; ip route; sleep 1']);
    expect(r.stderr).toBe('');
    expect(t(['wait', 'slirp-short']).stdout).toBe('0\n');
    const out = t(['logs', 'slirp-short']).stdout;
    expect(out).toMatch(/inet 10\.9\.0\.100\/24/);
    expect(out).toMatch(/mtu 1500/);
    expect(out).toMatch(/default via 10\.9\.0\.2/);
    await retry('slirp4netns to end with its container', async () => expect(slirps()).toEqual([]));
    t(['rm', 'slirp-short']);
  });

  it('outlives a killed monitor (it ends with the container), and leaves nothing behind after rm -f', async () => {
    t(['run', '-d', '--name', 'slirp-orphan', '--network', 'slirp4netns', '--rootfs', rootfs, 'sleep', '60']);
    expect(slirps()).toHaveLength(1);
    const monitor = Number(t(['inspect', '--format', '{{.State.ConmonPid}}', 'slirp-orphan']).stdout.trim());
    expect(monitor).toBeGreaterThan(1);
    process.kill(monitor, 'SIGKILL');
    // Its exit fd is the container's pidfd, not the monitor's pipe: the container keeps its network.
    await new Promise((r) => setTimeout(r, 300));
    expect(slirps()).toHaveLength(1);
    expect(t(['exec', 'slirp-orphan', 'ip', '-o', '-4', 'addr', 'show', 'tap0']).stdout).toMatch(/10\.0\.2\.100/);
    expect(t(['rm', '-f', 'slirp-orphan']).status).toBe(0);
    await retry('slirp4netns to end with its container', async () => expect(slirps()).toEqual([]));
  });
});
