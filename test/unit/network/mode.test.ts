import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCli } from '../../../src/cli/main.js';
import { complete } from '../../../src/completion/engine.js';
import { specFromCli } from '../../../src/completion/spec.js';
import { addressInNetwork, parseNetworkMode } from '../../../src/network/mode.js';
import { defaultRoute } from '../../../src/network/host-access.js';

describe('parseNetworkMode', () => {
  it('parses each mode and its options', () => {
    expect(parseNetworkMode('none')).toEqual({ kind: 'none' });
    expect(parseNetworkMode('pasta:--map-gw')).toEqual({ kind: 'pasta', options: ['--map-gw'] });
    expect(parseNetworkMode('container:web')).toEqual({ kind: 'container', container: 'web' });
    expect(parseNetworkMode('ns:/run/netns/x')).toEqual({ kind: 'ns', path: '/run/netns/x' });
    expect(parseNetworkMode('mynet')).toEqual({ kind: 'network', name: 'mynet', options: [] });
    expect(parseNetworkMode('slirp4netns:allow_host_loopback=true,mtu=1500,cidr=10.9.0.0/24,enable_ipv6=true,port_handler=slirp4netns')).toEqual({
      kind: 'slirp4netns',
      options: { allowHostLoopback: true, mtu: 1500, cidr: '10.9.0.0/24', enableIPv6: true, portHandler: 'slirp4netns' },
    });
  });

  it('takes rootlesskit as slirp4netns\'s port handler and IPv6 on by default, as Podman does, and outbound addresses', () => {
    expect(parseNetworkMode('slirp4netns')).toMatchObject({ options: { portHandler: 'rootlesskit', enableIPv6: true } });
    expect(parseNetworkMode('slirp4netns:enable_ipv6=false')).toMatchObject({ options: { enableIPv6: false } });
    expect(parseNetworkMode('slirp4netns:outbound_addr=127.0.0.2,enable_ipv6=true,outbound_addr6=::1')).toMatchObject({
      options: { outboundAddr: '127.0.0.2', outboundAddr6: '::1', enableIPv6: true },
    });
    expect(parseNetworkMode('slirp4netns:outbound_addr6=::1')).toMatchObject({ options: { outboundAddr6: '::1', enableIPv6: true } });
    expect(parseNetworkMode('slirp4netns:outbound_addr=lo')).toMatchObject({ options: { outboundAddr: 'lo' } });
    for (const bad of ['outbound_addr=999.1.1.1', 'outbound_addr=::1', 'outbound_addr=no-such-if0', 'outbound_addr=../lo', 'outbound_addr6=1.2.3.4', 'enable_ipv6=false,outbound_addr6=::1', 'port_handler=foo']) {
      expect(() => parseNetworkMode(`slirp4netns:${bad}`), bad).toThrow(/^(invalid|the slirp4netns option) [^\n]*$/);
    }
  });

  it('refuses bad values with one sentence', () => {
    for (const bad of ['ns:relative', 'container:', 'host:x', 'slirp4netns:mtu=0', 'slirp4netns:cidr=10.0.2.0/30', 'slirp4netns:what=1', 'bad name']) {
      expect(() => parseNetworkMode(bad), bad).toThrow(/./);
    }
  });

  it('computes addresses in a network', () => {
    expect(addressInNetwork('10.0.2.0/24', 100)).toBe('10.0.2.100');
    expect(addressInNetwork('10.9.3.7/24', 2)).toBe('10.9.3.2');
    expect(addressInNetwork('172.16.0.0/16', 3)).toBe('172.16.0.3');
  });

  it('reads the default route from /proc/net/route', () => {
    const routes = 'Iface\tDestination\tGateway \tFlags\nenp1\t0000A8C0\t00000000\t0001\neth0\t00000000\t010200C0\t0003\n';
    expect(defaultRoute(routes)).toEqual({ iface: 'eth0', gateway: '192.0.2.1' });
  });
});

describe('--network completion', () => {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-netmode-unit-'));
  const env = { defaultPaths: () => ({ storageRoot: store, runRoot: path.join(store, 'run') }) };
  const values = (...args: string[]) => complete(specFromCli(buildCli()), args, env).candidates.map((x) => x.value);
  it('offers slirp4netns options after the colon and after each comma, and pasta:--map-gw', () => {
    expect(values('run', '--network', 'slirp4netns:')).toContain('slirp4netns:allow_host_loopback=true');
    expect(values('run', '--network', 'slirp4netns:mtu=1500,po')).toEqual(['slirp4netns:mtu=1500,port_handler=rootlesskit', 'slirp4netns:mtu=1500,port_handler=slirp4netns']);
    expect(values('run', '--network', 'slirp4netns:out')).toEqual(['slirp4netns:outbound_addr=', 'slirp4netns:outbound_addr6=']);
    expect(values('run', '--network', 'pasta:')).toEqual(['pasta:--map-gw']);
  });
});
