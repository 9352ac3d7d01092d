import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';

// slirp4netns's IPv6, on by default as in Podman 4 (podman-run(1): "enable_ipv6=true|false:
// Enable IPv6. Default is true."): tap0 gets an fd00::/64 address by SLAAC with the
// gateway (the host) at fd00::2, at once (no duplicate address detection, as Podman).
const sandbox = new TspodSandbox('slirp-ipv6');
const rootfs = makeBusyboxRootfs(sandbox.home);
const t = (args: string[]) => sandbox.run(args);
const podman = ['podman', '--runtime', 'runc'];
const havePodman = spawnSync('sh', ['-c', 'command -v podman && command -v runc'], { stdio: 'ignore' }).status === 0;

// tap0's global IPv6 address (waiting for SLAAC at most 5 s), its default IPv6 route, and accept_dad of tap0 and of the namespace's default.
const PROBE = [
  'i=0; while [ $i -lt 50 ] && ! ip -o -6 addr show dev tap0 scope global | grep -q inet6; do sleep 0.1; i=$((i+1)); done',
  'ip -o -6 addr show dev tap0 scope global | grep -o "inet6 [^ ]*"; echo "route $(ip -6 route show default | grep -o "via [^ ]* dev [^ ]*")"',
  'echo "dad $(cat /proc/sys/net/ipv6/conf/tap0/accept_dad) $(cat /proc/sys/net/ipv6/conf/default/accept_dad)"',
].join('\n');

/** The host's first global IPv6 address that is not loopback (an outbound_addr6 slirp4netns can bind). */
function hostIPv6(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv6' && !a.internal && a.scopeid === 0 && !a.address.startsWith('fe80:')) return a.address;
  }
  return undefined;
}

/** A server on the host's IPv6 loopback that answers each connection with the address it came from. */
let echo: { port: number; close: () => void } | undefined;
beforeAll(async () => {
  const srv = net.createServer((c) => c.end(`${c.remoteAddress}\n`));
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '::1', resolve));
  echo = { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
});
afterAll(() => {
  echo?.close();
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

/** nc from a container to the slirp4netns gateway's IPv6 address (the host's loopback with allow_host_loopback). */
async function dialHost(options: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return sandbox.runAsync(['run', '--rm', '--network', `slirp4netns:${options}`, '--rootfs', rootfs, 'nc', '-w', '5', 'fd00::2', String(echo!.port)]);
}

describe('slirp4netns IPv6', () => {
  it('is on by default: tap0 gets an fd00::/64 address, the gateway is the router, no DAD on tap0', () => {
    const r = t(['run', '--rm', '--network', 'slirp4netns', '--rootfs', rootfs, 'sh', '-c', PROBE]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^inet6 fd00::[0-9a-f:]+\/64\nroute via fe80::2 dev tap0\ndad 0 1\n$/);
  });

  it('enable_ipv6=false leaves tap0 with a link-local address only', () => {
    const r = t(['run', '--rm', '--network', 'slirp4netns:enable_ipv6=false', '--rootfs', rootfs, 'sh', '-c',
      'ip -o -6 addr show dev tap0 scope global | wc -l; ip -o -6 addr show dev tap0 scope link | wc -l']);
    expect(r).toMatchObject({ status: 0, stdout: '0\n1\n', stderr: '' });
  });

  it.skipIf(!havePodman)('gives the same addresses as podman run --network slirp4netns', () => {
    const p = spawnSync(podman[0], [...podman.slice(1), 'run', '--rm', '--network', 'slirp4netns', '--rootfs', rootfs, 'sh', '-c', PROBE], {
      encoding: 'utf8',
    });
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^inet6 fd00::[0-9a-f:]+\/64\nroute via fe80::2 dev tap0\ndad 0 1\n$/);
  });

  it('reaches the host over IPv6 (allow_host_loopback: fd00::2 is the host\'s ::1), not with enable_ipv6=false', async () => {
    expect(await dialHost('allow_host_loopback=true')).toMatchObject({ status: 0, stdout: '::1\n', stderr: '' });
    const off = await dialHost('allow_host_loopback=true,enable_ipv6=false');
    expect(off.status).not.toBe(0);
    expect(off.stdout).toBe('');
  });

  const v6 = hostIPv6();
  it.skipIf(!v6)('outbound_addr6 needs no enable_ipv6: the host sees the connection come from that address', async () => {
    expect(await dialHost(`allow_host_loopback=true,outbound_addr6=${v6}`)).toMatchObject({ status: 0, stdout: `${v6}\n`, stderr: '' });
    const r = t(['create', '--network', `slirp4netns:enable_ipv6=false,outbound_addr6=${v6}`, '--rootfs', rootfs, 'true']);
    expect(r).toMatchObject({ status: 125, stderr: 'Error: the slirp4netns option outbound_addr6 needs IPv6: drop enable_ipv6=false\n' });
  });
});
