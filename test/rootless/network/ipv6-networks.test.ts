import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('ipv6net');
const rootfs = makeBusyboxRootfs(sandbox.home);
fs.mkdirSync(path.join(rootfs, 'www'));
fs.writeFileSync(path.join(rootfs, 'www', 'index.html'), 'hello-v6\n');
// busybox wget -T crashes (static glibc build): bound waits with timeout instead.
fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'timeout'));
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
