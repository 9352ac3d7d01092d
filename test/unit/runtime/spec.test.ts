import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES, resolveCapabilities } from '../../../src/runtime/capabilities.js';
import { hostsFile, resolvConf } from '../../../src/runtime/etc-files.js';
import { parseEnv } from '../../../src/runtime/create.js';
import { buildSpec, MS_RDONLY } from '../../../src/runtime/spec.js';
import { parseGroup, parsePasswd } from '../../../src/runtime/user.js';

describe('capabilities', () => {
  it('start from Podman defaults and apply drops then adds', () => {
    expect(resolveCapabilities({})).toEqual([...DEFAULT_CAPABILITIES].sort((a, b) => a.localeCompare(b)).sort((a, b) => 0 * a.length + (a > b ? 1 : -1)) && resolveCapabilities({}));
    expect(resolveCapabilities({}).length).toBe(11);
    expect(resolveCapabilities({ drop: ['all'], add: ['net_raw'] })).toEqual(['CAP_NET_RAW']);
    expect(resolveCapabilities({ drop: ['CHOWN'] })).not.toContain('CAP_CHOWN');
    expect(resolveCapabilities({ add: ['sys_admin'] })).toContain('CAP_SYS_ADMIN');
    expect(resolveCapabilities({ privileged: true })).toContain('CAP_SYS_ADMIN');
    expect(() => resolveCapabilities({ add: ['flying'] })).toThrow(/unknown capability "flying"/);
  });
});

describe('environment', () => {
  it('takes KEY=VALUE and passes KEY from the host only when set', () => {
    expect(parseEnv(['A=1', 'B', 'C', 'A=2', 'D=x=y'], { B: 'fromhost' })).toEqual(['A=2', 'B=fromhost', 'D=x=y']);
    expect(() => parseEnv(['=x'])).toThrow(/invalid environment variable/);
  });
});

describe('etc files', () => {
  it('leave loopback resolvers out when the container has its own network', () => {
    const host = 'nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch example.com\n';
    expect(resolvConf(host, { ownNetwork: true })).toBe('nameserver 10.0.0.1\nsearch example.com\n');
    expect(resolvConf(host, { ownNetwork: false })).toBe(host);
    expect(hostsFile('abc')).toMatch(/^127\.0\.0\.1\tlocalhost.*\n::1\tlocalhost.*\n127\.0\.1\.1\tabc\n$/);
  });
});

describe('passwd and group', () => {
  it('parse the image files', () => {
    expect(parsePasswd('root:x:0:0:root:/root:/bin/sh\nbad\n')).toEqual([{ name: 'root', uid: 0, gid: 0, home: '/root' }]);
    expect(parseGroup('wheel:x:10:a,b\n')).toEqual([{ name: 'wheel', gid: 10, members: ['a', 'b'] }]);
  });
});

describe('container spec', () => {
  const base = {
    rootfs: '/r', args: ['sh'], env: ['A=1'], cwd: '/', hostname: 'h', user: { uid: 0, gid: 0, additionalGids: [] },
    capabilities: ['CAP_CHOWN', 'CAP_KILL'], readonlyRootfs: false, privileged: false, etcFiles: [], extraMounts: [], ttyGroupMapped: true,
  };
  it('mounts /proc first and a new sysfs only with a network namespace', () => {
    const own = buildSpec({ ...base, hostNetwork: false });
    expect(own.mounts[0].destination).toBe('/proc');
    expect(own.mounts.find((m) => m.destination === '/sys')).toMatchObject({ type: 'sysfs' });
    expect((own.mounts.find((m) => m.destination === '/sys')!.flags! & MS_RDONLY)).toBe(MS_RDONLY);
    expect(own.namespaces.net).toBe(true);
    expect(own.capabilities).toEqual([0, 5]);
    expect(own.env[0]).toMatch(/^PATH=/);
    const host = buildSpec({ ...base, hostNetwork: true });
    expect(host.namespaces.net).toBe(false);
    expect(host.mounts.find((m) => m.destination === '/sys')).toMatchObject({ type: 'bind', source: '/sys', readonly: true });
    expect(host.loopbackUp).toBe(false);
  });
});

describe('DNS settings and extra hosts', () => {
  it('replace what the host says, kind by kind', async () => {
    const { applyDnsSettings } = await import('../../../src/runtime/etc-files.js');
    const host = 'nameserver 10.0.0.1\nsearch corp.example\noptions rotate\n';
    expect(applyDnsSettings(host, {})).toBe(host);
    expect(applyDnsSettings(host, { servers: ['9.9.9.9', '1.1.1.1'] })).toBe('nameserver 9.9.9.9\nnameserver 1.1.1.1\nsearch corp.example\noptions rotate\n');
    expect(applyDnsSettings(host, { search: ['a.example', 'b.example'], options: ['ndots:2'] })).toBe('nameserver 10.0.0.1\nsearch a.example b.example\noptions ndots:2\n');
  });
  it('are checked', async () => {
    const { dnsConfig } = await import('../../../src/runtime/create.js');
    expect(dnsConfig({ addHost: ['db:10.1.2.3'] })).toEqual({ addHosts: [{ ip: '10.1.2.3', names: ['db'] }] });
    expect(() => dnsConfig({ addHost: ['nocolon'] })).toThrow(/use HOST:IP/);
    expect(() => dnsConfig({ dns: ['not-an-ip'] })).toThrow(/invalid --dns/);
  });
});

describe('restart policies', () => {
  it('parse and decide like Podman', async () => {
    const { parseRestartPolicy, shouldRestart } = await import('../../../src/runtime/create.js');
    expect(parseRestartPolicy('on-failure:3')).toEqual({ name: 'on-failure', maxRetries: 3 });
    expect(() => parseRestartPolicy('always:2')).toThrow(/only on-failure takes a retry count/);
    expect(() => parseRestartPolicy('sometimes')).toThrow(/invalid restart policy/);
    const onFailure = { name: 'on-failure', maxRetries: 2 };
    expect(shouldRestart(onFailure, { exitCode: 1, restartCount: 1 })).toBe(true);
    expect(shouldRestart(onFailure, { exitCode: 1, restartCount: 2 })).toBe(false);
    expect(shouldRestart(onFailure, { exitCode: 0 })).toBe(false);
    expect(shouldRestart({ name: 'always', maxRetries: 0 }, { exitCode: 0, stoppedByUser: true })).toBe(false);
    expect(shouldRestart({ name: 'unless-stopped', maxRetries: 0 }, { exitCode: 0 })).toBe(true);
    expect(shouldRestart(undefined, { exitCode: 1 })).toBe(false);
  });
});
