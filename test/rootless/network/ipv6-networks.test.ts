import '../../helpers/require-unprivileged.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TspodSandbox } from '../../helpers/tspod.js';
import { freePort, get, retry, webRootfs } from './net-helpers.js';

const sandbox = new TspodSandbox('ipv6net');
const rootfs = webRootfs(sandbox.home, 'hello-v6\n');
const t = (args: string[]) => sandbox.run(args);
/** Let vitest's worker answer its RPC between runs of synchronous commands. */
const breathe = () => new Promise((r) => setTimeout(r, 0));

afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('network create --ipv6', () => {
  it('allocates a random ULA /64 next to the IPv4 subnet, or takes several --subnet/--gateway, in Podman\'s shape', async () => {
    expect(t(['network', 'create', '--ipv6', 'dual']).stdout).toBe('dual\n');
    const [d] = JSON.parse(t(['network', 'inspect', 'dual']).stdout);
    expect(d).toMatchObject({ name: 'dual', ipv6_enabled: true, subnets: [{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }, {}] });
    expect(d.subnets).toHaveLength(2);
    expect(d.subnets[1].subnet).toMatch(/^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/);
    expect(d.subnets[1].gateway).toBe(d.subnets[1].subnet.replace('/64', '1'));

    const given = t(['network', 'create', '--ipv6', '--subnet', '10.99.0.0/24', '--subnet', 'fd00:3::/64', '--gateway', '10.99.0.254', '--gateway', 'fd00:3::fe', 'given']);
    expect(given.stderr).toBe('');
    expect(JSON.parse(t(['network', 'inspect', 'given']).stdout)[0].subnets).toEqual([
      { subnet: '10.99.0.0/24', gateway: '10.99.0.254' },
      { subnet: 'fd00:3::/64', gateway: 'fd00:3::fe' },
    ]);
    await breathe();
    // As Podman 4.3: --ipv6 with only an IPv6 subnet adds an IPv4 one; an IPv6 subnet without --ipv6 makes an IPv6-only network.
    expect(t(['network', 'create', '--ipv6', '--subnet', 'fd00:4::/64', 'v6first']).status).toBe(0);
    expect(JSON.parse(t(['network', 'inspect', 'v6first']).stdout)[0].subnets).toEqual([
      { subnet: 'fd00:4::/64', gateway: 'fd00:4::1' },
      { subnet: '10.89.1.0/24', gateway: '10.89.1.1' },
    ]);
    expect(t(['network', 'create', '--subnet', 'fd00:5::/64', 'v6only']).status).toBe(0);
    expect(JSON.parse(t(['network', 'inspect', 'v6only']).stdout)[0]).toMatchObject({ ipv6_enabled: true, subnets: [{ subnet: 'fd00:5::/64', gateway: 'fd00:5::1' }] });
    expect(JSON.parse(t(['network', 'inspect', 'v6only']).stdout)[0].subnets).toHaveLength(1);
    await breathe();
    expect(t(['network', 'ls', '--format', '{{.Name}} {{.IPv6Enabled}}']).stdout).toBe('podman false\ndual true\ngiven true\nv6first true\nv6only true\n');
    expect(t(['network', 'inspect', '--format', '{{range .Subnets}}{{.Subnet}} {{end}}', 'given']).stdout).toBe('10.99.0.0/24 fd00:3::/64 \n');
  });

  it('refuses a bad IPv6 subnet, a gateway outside its subnet and overlaps in one line with exit 125', async () => {
    const cases: [string[], RegExp][] = [
      [['--ipv6', '--subnet', 'fd00:zz::/64'], /invalid subnet "fd00:zz::\/64"/],
      [['--ipv6', '--subnet', 'fd00:8::/129'], /invalid subnet/],
      [['--ipv6', '--subnet', 'fd00:6::/64', '--gateway', 'fd00:7::1'], /gateway fd00:7::1 not in subnet fd00:6::\/64/],
      [['--ipv6', '--subnet', 'fd00:6::/64', '--gateway', '10.1.1.1'], /gateway 10.1.1.1 not in subnet fd00:6::\/64/],
      [['--ipv6', '--subnet', 'fd00:3::/80'], /subnet fd00:3::\/80 is already used .*network given/],
      [['--ipv6', '--subnet', 'fd00:9::/64', '--subnet', 'fd00:9::/96'], /overlaps/],
      [['--ipv6', '--subnet', 'fd00:9::/64', '--gateway', 'nonsense'], /invalid gateway "nonsense"/],
    ];
    for (const [args, msg] of cases) {
      const r = t(['network', 'create', ...args, 'bad']);
      expect(r.status, args.join(' ')).toBe(125);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      await breathe();
    }
    expect(t(['network', 'exists', 'bad']).status).toBe(1);
  });
});

/** The host's IPv6 default gateway (pasta maps it to the host's loopback, as for IPv4), if the host has one. */
function hostIpv6Gateway(): string | undefined {
  for (const line of fs.readFileSync('/proc/net/ipv6_route', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === '0'.repeat(32) && f[1] === '00' && f[4] && f[4] !== '0'.repeat(32)) return f[4].match(/.{4}/g)!.join(':');
  }
  return undefined;
}

/** `ip` run in the rootless network namespace, where the bridges live. */
function inRootlessNetns(cmd: string): string {
  const netns = path.join(sandbox.runDir, 'networks', 'rootless-netns');
  const r = t(['unshare', 'sh', '-c', `PATH=$PATH:/usr/sbin:/sbin nsenter --net=${netns} ${cmd}`]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('containers on an IPv6 network', () => {
  it('get an address from the subnet (or --ip6), a default route via the gateway, AAAA names, and reach each other over IPv6', async () => {
    expect(t(['network', 'create', '--ipv6', '--subnet', 'fd00:66::/64', '--subnet', '10.98.0.0/24', '--gateway', 'fd00:66::fe', 'six']).stderr).toBe('');
    const web = t(['run', '-d', '--name', 'web', '--network', 'six', '--ip6', 'fd00:66::50', '--rootfs', rootfs, 'httpd', '-f', '-v', '-p', '[::]:8080', '-h', '/www']);
    expect(web.stderr).toBe('');
    expect(web.status).toBe(0);
    expect(t(['exec', 'web', 'ip', '-o', '-6', 'addr', 'show', 'eth0', 'scope', 'global']).stdout).toMatch(/inet6 fd00:66::50\/64 /);
    expect(t(['exec', 'web', 'ip', '-6', 'route', 'show', 'default']).stdout).toMatch(/^default via fd00:66::fe dev eth0/);
    const [{ network_interface: bridge }] = JSON.parse(t(['network', 'inspect', 'six']).stdout);
    expect(inRootlessNetns(`ip -o -6 addr show dev ${bridge} scope global`)).toMatch(/inet6 fd00:66::fe\/64 /);
    expect(t(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.GlobalIPv6Address}}/{{$v.GlobalIPv6PrefixLen}} {{$v.IPv6Gateway}} {{$v.IPAddress}}{{end}}', 'web']).stdout).toBe(
      'six fd00:66::50/64 fd00:66::fe 10.98.0.2\n',
    );
    await breathe();

    // A second member: the first free address after the subnet's first, the web server by IPv6 address and by name (its /etc/hosts has both).
    const client = t(['run', '--rm', '--network', 'six', '--rootfs', rootfs, 'sh', '-c', 'ip -o -6 addr show eth0 scope global; timeout 5 wget -q -O - "http://[fd00:66::50]:8080/" && grep -w web /etc/hosts']);
    expect(client.stderr).toBe('');
    expect(client.stdout).toMatch(/inet6 fd00:66::1\/64 /);
    expect(client.stdout).toContain('hello-v6\n');
    expect(client.stdout).toMatch(/^fd00:66::50\tweb$/m);
    expect(client.stdout).toMatch(/^10\.98\.0\.2\tweb$/m);
    // The server saw the client's IPv6 address (httpd -v logs it).
    expect(t(['logs', 'web']).stdout + t(['logs', 'web']).stderr).toMatch(/fd00:66::1\]?:/);
    await breathe();

    const cases: [string[], RegExp][] = [
      [['--network', 'six', '--ip6', 'fd00:66::50'], /IP address fd00:66::50 is already allocated on network six \(container web\)/],
      [['--network', 'six', '--ip6', 'fd00:67::5'], /--ip6 fd00:67::5 is not a free host address of network six/],
      [['--network', 'six', '--ip6', 'fd00:66::fe'], /not a free host address/],
      [['--network', 'six', '--ip6', '10.98.0.9'], /invalid --ip6/],
      [['--network', 'dual', '--ip6', 'fd00:66::9'], /not a free host address of network dual/],
      [['--ip6', 'fd00:66::9'], /need a user-defined network/],
      [['--network', 'v6only', '-p', '18080:80'], /cannot publish ports on network v6only/],
    ];
    for (const [args, msg] of cases) {
      const r = t(['run', '--rm', ...args, '--rootfs', rootfs, 'true']);
      expect(r.status, args.join(' ')).toBe(125);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      await breathe();
    }
  });

  it('network connect --ip6 gives a running container a fixed IPv6 address on another network', async () => {
    const c = t(['network', 'connect', '--ip6', 'fd00:3::77', 'given', 'web']);
    expect(c.stderr).toBe('');
    expect(t(['exec', 'web', 'ip', '-o', '-6', 'addr', 'show', 'eth1', 'scope', 'global']).stdout).toMatch(/inet6 fd00:3::77\/64 /);
    expect(t(['inspect', '--format', '{{.NetworkSettings.Networks.given.GlobalIPv6Address}} {{.NetworkSettings.Networks.given.IPv6Gateway}}', 'web']).stdout).toBe('fd00:3::77 fd00:3::fe\n');
    expect(t(['network', 'disconnect', 'given', 'web']).status).toBe(0);
  });

  it('an IPv6-only network gives only an IPv6 address', async () => {
    const r = t(['run', '--rm', '--network', 'v6only', '--rootfs', rootfs, 'sh', '-c', 'ip -o addr show eth0 scope global']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/inet6 fd00:5::2\/64 /);
    expect(r.stdout).not.toMatch(/inet /);
  });

  it.runIf(hostIpv6Gateway())('reach the host over IPv6 through the rootless namespace (pasta maps its gateway to the host loopback)', async () => {
    const www = path.join(sandbox.home, 'host-www6');
    fs.mkdirSync(www);
    fs.writeFileSync(path.join(www, 'index.html'), 'from-host-v6\n');
    const port = await freePort();
    const server = spawn('busybox', ['httpd', '-f', '-p', `[::1]:${port}`, '-h', www], { stdio: 'ignore' });
    try {
      await retry('the host [::1] server', () => get('::1', port));
      const gw = hostIpv6Gateway()!;
      const r = t(['run', '--rm', '--network', 'six', '--rootfs', rootfs, 'timeout', '5', 'wget', '-q', '-O', '-', `http://[${gw}]:${port}/`]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('from-host-v6\n');
      // An --internal network does not forward IPv6 out either (its ip6 table drops it).
      expect(t(['network', 'create', '--ipv6', '--internal', '--subnet', 'fd00:68::/64', 'inner']).stderr).toBe('');
      const inner = t(['run', '--rm', '--network', 'inner', '--rootfs', rootfs, 'sh', '-c', `ip -o -6 addr show eth0 scope global; timeout 3 wget -q -O - http://[${gw}]:${port}/; echo rc=$?`]);
      expect(inner.stdout).toMatch(/inet6 fd00:68::2\/64 /);
      expect(inner.stdout).not.toContain('from-host-v6');
      expect(inner.stdout).toMatch(/rc=[1-9]/);
      // Outbound IPv6 of a routed network leaves masqueraded, as Podman's (netavark) rules do.
      const [{ network_interface: bridge }] = JSON.parse(t(['network', 'inspect', 'six']).stdout);
      expect(inRootlessNetns(`nft list table ip6 tspod_${bridge}`)).toMatch(/ip6 saddr fd00:66::\/64 ip6 daddr != fd00:66::\/64 masquerade/);
    } finally {
      server.kill();
    }
  });
});
