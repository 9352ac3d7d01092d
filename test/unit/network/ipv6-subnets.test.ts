import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bigIntToIp6, inSubnet6, ip6ToBigInt, parseSubnet6, randomUlaSubnet } from '../../../src/network/ipv6.js';
import { NetworkStore } from '../../../src/network/networks-store.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-ipv6-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const base = { internal: false, disableDns: false, labels: {}, ignoreExisting: false };

describe('IPv6 addresses and subnets', () => {
  it('parses and prints addresses in the canonical form', () => {
    expect(ip6ToBigInt('::1')).toBe(1n);
    expect(ip6ToBigInt('fd00::')).toBe(0xfd00n << 112n);
    expect(ip6ToBigInt('::ffff:10.0.0.1')).toBe((0xffffn << 32n) | 0x0a000001n);
    expect(ip6ToBigInt('10.0.0.1')).toBeUndefined();
    expect(bigIntToIp6(ip6ToBigInt('FD00:0:0:1:0:0:0:5')!)).toBe('fd00:0:0:1::5');
    expect(bigIntToIp6(ip6ToBigInt('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3');
    expect(bigIntToIp6(ip6ToBigInt('1:2:3:4:5:6:7:8')!)).toBe('1:2:3:4:5:6:7:8');
    expect(bigIntToIp6(ip6ToBigInt('1:0:3:4:5:6:7:8')!)).toBe('1:0:3:4:5:6:7:8'); // a single zero group stays
    expect(bigIntToIp6(0n)).toBe('::');
  });

  it('masks a subnet to its prefix and knows its host addresses', () => {
    const s = parseSubnet6('fd00:1:2:3:4::1/64');
    expect(s).toEqual({ base: ip6ToBigInt('fd00:1:2:3::'), prefix: 64, size: 1n << 64n });
    expect(inSubnet6('fd00:1:2:3::1', 'fd00:1:2:3::/64')).toBe(true);
    expect(inSubnet6('fd00:1:2:3::', 'fd00:1:2:3::/64')).toBe(false);
    expect(inSubnet6('fd00:1:2:4::1', 'fd00:1:2:3::/64')).toBe(false);
    expect(() => parseSubnet6('fd00:zz::/64')).toThrow(/invalid subnet/);
    expect(() => parseSubnet6('fd00::/129')).toThrow(/prefix/);
    expect(() => parseSubnet6('fd00::')).toThrow(/CIDR/);
  });

  it('draws random ULA /64 subnets', () => {
    const a = randomUlaSubnet();
    expect(a).toMatch(/^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/);
    expect(randomUlaSubnet()).not.toBe(a);
  });
});

describe('dual-stack networks', () => {
  const store = new NetworkStore(root);

  it('--ipv6 alone allocates an IPv4 and a random ULA IPv6 subnet', async () => {
    const n = await store.create({ ...base, name: 'd1', ipv6: true });
    expect(n.ipv6_enabled).toBe(true);
    expect(n.subnets[0]).toEqual({ subnet: '10.89.0.0/24', gateway: '10.89.0.1' });
    expect(n.subnets[1].subnet).toMatch(/^fd[0-9a-f]{2}:.*::\/64$/);
    expect(n.subnets[1].gateway).toBe(n.subnets[1].subnet.replace('/64', '1'));
  });

  it('keeps given subnets and gateways in order and adds the missing IPv4 one (as Podman)', async () => {
    const n = await store.create({ ...base, name: 'd2', ipv6: true, subnets: ['fd00:9::/64', 'fd00:a::5/64'], gateways: ['fd00:9::fe'] });
    expect(n.subnets).toEqual([
      { subnet: 'fd00:9::/64', gateway: 'fd00:9::fe' },
      { subnet: 'fd00:a::/64', gateway: 'fd00:a::1' },
      { subnet: '10.89.1.0/24', gateway: '10.89.1.1' },
    ]);
    const m = await store.create({ ...base, name: 'd3', ipv6: true, subnets: ['10.99.0.0/24', 'fd00:3::/64'], gateways: ['10.99.0.254', 'fd00:3::fe'] });
    expect(m.subnets).toEqual([
      { subnet: '10.99.0.0/24', gateway: '10.99.0.254' },
      { subnet: 'fd00:3::/64', gateway: 'fd00:3::fe' },
    ]);
  });

  it('an IPv6 subnet without --ipv6 makes an IPv6-only network (as Podman 4.3)', async () => {
    const n = await store.create({ ...base, name: 'd4', subnets: ['fd00:1::/64'] });
    expect(n.subnets).toEqual([{ subnet: 'fd00:1::/64', gateway: 'fd00:1::1' }]);
    expect(n.ipv6_enabled).toBe(true);
    const v4 = await store.create({ ...base, name: 'd5' });
    expect(v4.ipv6_enabled).toBe(false);
    expect(v4.subnets).toHaveLength(1);
  });

  it('refuses bad subnets, gateways outside their subnet and overlaps', async () => {
    await expect(store.create({ ...base, name: 'e1', ipv6: true, subnets: ['fd00:zz::/64'] })).rejects.toThrow(/invalid subnet "fd00:zz::\/64"/);
    await expect(store.create({ ...base, name: 'e2', ipv6: true, subnets: ['fd00:5::/64'], gateways: ['fd00:6::1'] })).rejects.toThrow(/gateway fd00:6::1 not in subnet fd00:5::\/64/);
    await expect(store.create({ ...base, name: 'e3', ipv6: true, subnets: ['fd00:b::/64'], gateways: ['10.1.1.1'] })).rejects.toThrow(/not in subnet/);
    await expect(store.create({ ...base, name: 'e4', ipv6: true, subnets: ['fd00:9::/80'] })).rejects.toThrow(/already used.*d2/);
    await expect(store.create({ ...base, name: 'e5', ipv6: true, subnets: ['fd00:c::/64', 'fd00:c::/96'] })).rejects.toThrow(/overlaps/);
    await expect(store.create({ ...base, name: 'e6', subnets: ['fd00:d::/64'], gateways: ['fd00:d::1', 'fd00:d::2'] })).rejects.toThrow(/--subnet for each --gateway/);
    expect(store.list().map((n) => n.name)).not.toContain('e1');
  });
});
