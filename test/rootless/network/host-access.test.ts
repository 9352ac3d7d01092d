import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { addWebRoot, freePort, get, hostAddress, retry, loopbackServerForSuite } from './net-helpers.js';

const sandbox = new TspodSandbox('hostaccess');
const rootfs = makeBusyboxRootfs(sandbox.home);
addWebRoot(rootfs);
fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'timeout'));
const t = (args: string[]) => sandbox.run(args);

// A server on the host's loopback only: what allow_host_loopback (or pasta's --map-gw) opens.
const loopback = loopbackServerForSuite(sandbox.home);

afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

/** In a container: the address host.containers.internal names, then what a GET to ADDR:loopback.port() returns. */
function probe(network: string, target: 'host.containers.internal' | 'gateway'): { hostsEntry: string; body: string } {
  const pick = target === 'gateway' ? `ip route | sed -n 's/^default via \\([0-9.]*\\).*/\\1/p'` : `sed -n 's/^\\([0-9.]*\\)\\thost.containers.internal.*/\\1/p' /etc/hosts`;
  const script = `h=$(${pick}); sed -n 's/^\\([0-9.]*\\)\\thost.containers.internal host.docker.internal$/\\1/p' /etc/hosts; echo --; [ -n "$h" ] && timeout 4 wget -qO- http://$h:${loopback.port()}/ 2>/dev/null; true`;
  const r = t(['run', '--rm', '--network', network, '--rootfs', rootfs, 'sh', '-c', script]);
  expect(r.status, r.stderr).toBe(0);
  const [hostsEntry, body] = r.stdout.split('--\n');
  return { hostsEntry: hostsEntry.trim(), body };
}

describe('host.containers.internal and access to the host\'s loopback', () => {
  it('slirp4netns: the host\'s loopback is closed by default, host.containers.internal names the host\'s address', () => {
    const p = probe('slirp4netns', 'gateway');
    expect(p.hostsEntry).toBe(hostAddress());
    expect(p.body).toBe('');
  });

  it('slirp4netns:allow_host_loopback=true: host.containers.internal is 10.0.2.2 and reaches the host\'s loopback', () => {
    const p = probe('slirp4netns:allow_host_loopback=true', 'host.containers.internal');
    expect(p.hostsEntry).toBe('10.0.2.2');
    expect(p.body).toBe('from-host-loopback\n');
  });

  it('pasta: the gateway does not lead to the host\'s loopback (Podman 5 passes --no-map-gw)', () => {
    const p = probe('pasta', 'gateway');
    expect(p.body).toBe('');
    // The only host address is the one pasta gives the container: no entry, as in Podman 5.
    if (hostAddress() && fs.readFileSync('/proc/net/route', 'utf8').split('\n').length <= 4) expect(p.hostsEntry).toBe('');
  });

  it('pasta:--map-gw: host.containers.internal is the gateway, which reaches the host\'s loopback', () => {
    const p = probe('pasta:--map-gw', 'host.containers.internal');
    expect(p.hostsEntry).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(p.body).toBe('from-host-loopback\n');
  });

  it('--network none and host add no entry', () => {
    for (const mode of ['none', 'host']) {
      const r = t(['run', '--rm', '--network', mode, '--rootfs', rootfs, 'cat', '/etc/hosts']);
      expect(r.stdout, mode).not.toMatch(/host\.containers\.internal/);
    }
  });
});

describe('the client\'s source address reaches the server (TCP)', () => {
  it('slirp4netns (port_handler=slirp4netns): a client on the host\'s address is seen with that address', async () => {
    const addr = hostAddress();
    expect(addr).toBeDefined();
    const port = await freePort();
    t(['run', '-d', '--name', 'peer-slirp', '--network', 'slirp4netns:port_handler=slirp4netns', '-p', `${port}:8080`, '--rootfs', rootfs, 'httpd', '-f', '-p', '8080', '-h', '/www']);
    const seen = await retry('the CGI through slirp4netns', () => get(addr!, port, '/cgi-bin/peer'));
    expect(seen.trim().replace(/^\[(::ffff:)?|\]$/g, '')).toBe(addr);
    t(['rm', '-f', 'peer-slirp']);
  });

  it('pasta: a loopback client is seen as 127.0.0.1, not as a gateway address', async () => {
    const port = await freePort();
    t(['run', '-d', '--name', 'peer-pasta', '--network', 'pasta', '-p', `${port}:8080`, '--rootfs', rootfs, 'httpd', '-f', '-p', '8080', '-h', '/www']);
    const seen = await retry('the CGI through pasta', () => get('127.0.0.1', port, '/cgi-bin/peer'));
    expect(seen.trim().replace(/^\[(::ffff:)?|\]$/g, '')).toBe('127.0.0.1');
    t(['rm', '-f', 'peer-pasta']);
  });
});

describe('privileged host ports', () => {
  it('are refused in every publishing mode, naming net.ipv4.ip_unprivileged_port_start', () => {
    const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    if (start === 0) return; // every port is unprivileged here: nothing to refuse
    for (const mode of ['pasta', 'slirp4netns']) {
      const r = t(['create', '--network', mode, '-p', `${start - 1}:80`, '--rootfs', rootfs, 'true']);
      expect(r.status, mode).toBe(125);
      expect(r.stderr, mode).toMatch(/net\.ipv4\.ip_unprivileged_port_start/);
      expect(r.stderr.trim().split('\n'), mode).toHaveLength(1);
    }
  });
});

