import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { updateHostsFile } from '../../../src/network/bridge.js';
import { parseUserNetworks } from '../../../src/network/bridge-options.js';
import { inSubnet, networkMatches, NetworkStore, parseSubnet } from '../../../src/network/networks-store.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-netstore-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('subnets', () => {
  it('masks the base to the prefix and knows host addresses', () => {
    expect(parseSubnet('10.89.3.7/24')).toEqual({ base: (10 << 24) + (89 << 16) + (3 << 8), prefix: 24, size: 256 });
    expect(inSubnet('10.89.3.1', '10.89.3.0/24')).toBe(true);
    expect(inSubnet('10.89.3.0', '10.89.3.0/24')).toBe(false); // the network address
    expect(inSubnet('10.89.3.255', '10.89.3.0/24')).toBe(false); // broadcast
    expect(inSubnet('10.89.4.1', '10.89.3.0/24')).toBe(false);
    expect(() => parseSubnet('10.89.3.0')).toThrow(/CIDR/);
    expect(() => parseSubnet('10.89.3.0/31')).toThrow(/prefix/);
  });
});

describe('NetworkStore', () => {
  const store = new NetworkStore(root);
  it('allocates the next free 10.89.N.0/24 and podmanN interface, and refuses overlaps', async () => {
    const a = await store.create({ name: 'a', internal: false, disableDns: false, labels: {}, ignoreExisting: false });
    const b = await store.create({ internal: true, disableDns: true, labels: { x: 'y' }, ignoreExisting: false });
    expect(a.subnets).toEqual([{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }]);
    expect(b).toMatchObject({ name: 'podman1', network_interface: 'podman2', internal: true, dns_enabled: false, subnets: [{ subnet: '10.89.1.0/24' }] });
    expect(a.network_interface).toBe('podman1');
    await expect(store.create({ name: 'c', subnets: ['10.89.0.128/25'], internal: false, disableDns: false, labels: {}, ignoreExisting: false })).rejects.toThrow(/already used/);
    await expect(store.create({ name: 'a', internal: false, disableDns: false, labels: {}, ignoreExisting: false })).rejects.toThrow(/already used/);
    expect((await store.create({ name: 'a', internal: false, disableDns: false, labels: {}, ignoreExisting: true })).id).toBe(a.id);
    expect(store.list().map((n) => n.name)).toEqual(['podman', 'a', 'podman1']);
    expect(store.find(a.id.slice(0, 6))?.name).toBe('a');
  });

  it('filters by name (regexp), label and driver', () => {
    const [, a, p1] = store.list();
    expect(networkMatches(a, ['name=^a$'])).toBe(true);
    expect(networkMatches(p1, ['label=x=y'])).toBe(true);
    expect(networkMatches(a, ['label=x'])).toBe(false);
    expect(networkMatches(a, ['driver=bridge'])).toBe(true);
    expect(() => networkMatches(a, ['colour=red'])).toThrow(/network filters/);
  });

  it('parses --network lists and checks --ip against the first network', () => {
    expect(parseUserNetworks(root, 'pasta', {})).toBeUndefined();
    expect(parseUserNetworks(root, 'container:x', {})).toBeUndefined();
    expect(parseUserNetworks(root, 'private', {})).toBe('default');
    expect(parseUserNetworks(root, 'a,podman1,a', { ip: '10.89.0.9', aliases: ['db'] })).toEqual([
      { name: 'a', ip: '10.89.0.9', aliases: ['db'] },
      { name: 'podman1', aliases: [] },
    ]);
    expect(parseUserNetworks(root, 'bridge', {})).toEqual([{ name: 'podman', aliases: [] }]);
    expect(parseUserNetworks(root, 'a:ip=10.89.0.7,alias=x,alias=y', {})).toEqual([{ name: 'a', ip: '10.89.0.7', aliases: ['x', 'y'] }]);
    expect(() => parseUserNetworks(root, 'a:ip=10.89.0.7,colour=red', {})).toThrow(/unknown network option/);
    expect(() => parseUserNetworks(root, 'a', { ip: '10.89.0.1' })).toThrow(/not a free host address/);
    expect(() => parseUserNetworks(root, 'a', { mac: '01:00:00:00:00:01' })).toThrow(/unicast/);
    expect(() => parseUserNetworks(root, 'none', { ip: '10.0.0.2' })).toThrow(/need a user-defined network/);
    expect(() => parseUserNetworks(root, 'zz', {})).toThrow(/network not found/);
  });
});

describe('/etc/hosts of members', () => {
  it('replaces its block in place (the file is bind-mounted), after the localhost lines', () => {
    const file = path.join(root, 'hosts');
    fs.writeFileSync(file, '127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tabc\n');
    const inode = fs.statSync(file).ino;
    updateHostsFile(file, ['10.89.0.2\tabc web', '10.89.0.3\tdb']);
    updateHostsFile(file, ['10.89.0.2\tabc web']);
    expect(fs.readFileSync(file, 'utf8')).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost\n# tspod networks begin\n10.89.0.2\tabc web\n# tspod networks end\n127.0.1.1\tabc\n');
    updateHostsFile(file, []);
    expect(fs.readFileSync(file, 'utf8')).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tabc\n');
    expect(fs.statSync(file).ino).toBe(inode);
  });
});
