import { describe, expect, it } from 'vitest';
import { checkDuplicates, parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from '../../../src/runtime/mount-options.js';
import { formatPortLines, formatPortsColumn, parsePublish, checkHostPorts } from '../../../src/network/ports.js';
import { pastaArgs } from '../../../src/network/pasta.js';

describe('-v, --mount and --tmpfs', () => {
  it('tells bind mounts from named and anonymous volumes', () => {
    expect(parseVolumeFlag('/host:/ctr:ro,Z')).toMatchObject({ kind: 'bind', source: '/host', destination: '/ctr', readonly: true });
    expect(parseVolumeFlag('data:/var/lib/x')).toMatchObject({ kind: 'volume', source: 'data', destination: '/var/lib/x', readonly: false });
    expect(parseVolumeFlag('/cache')).toMatchObject({ kind: 'volume', source: '', destination: '/cache' });
    expect(parseVolumeFlag('/cache:ro')).toMatchObject({ kind: 'volume', source: '', destination: '/cache', readonly: true });
    expect(parseVolumeFlag('./rel:/x:U')).toMatchObject({ kind: 'bind', chown: true });
    expect(() => parseVolumeFlag('/h:rel')).toThrow(/must be absolute/);
    expect(() => parseVolumeFlag('/h:/c:bogus')).toThrow(/invalid option "bogus"/);
    expect(() => parseVolumeFlag('a:b:c:d')).toThrow(/invalid volume/);
  });
  it('parses --mount and --tmpfs', () => {
    expect(parseMountFlag('type=bind,src=/a,dst=/b,readonly')).toMatchObject({ kind: 'bind', source: '/a', destination: '/b', readonly: true });
    expect(parseMountFlag('type=tmpfs,target=/t,tmpfs-size=1m')).toMatchObject({ kind: 'tmpfs', tmpfsOptions: 'size=1m' });
    expect(() => parseMountFlag('type=nfs,target=/x')).toThrow(/type must be bind, volume or tmpfs/);
    expect(() => parseMountFlag('type=bind,target=/x')).toThrow(/needs source=/);
    expect(parseTmpfsFlag('/run:size=10m,mode=700')).toMatchObject({ destination: '/run', tmpfsOptions: 'size=10m,mode=700' });
    expect(() => checkDuplicates([parseTmpfsFlag('/x'), parseVolumeFlag('v:/x')])).toThrow(/duplicate mount destination/);
  });
});

describe('-p and pasta', () => {
  it('parses every form Podman takes', () => {
    expect(parsePublish('8080:80')).toEqual([{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp', range: 1 }]);
    expect(parsePublish('127.0.0.1:8080:80/udp')).toEqual([{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp', range: 1 }]);
    expect(parsePublish('80')).toEqual([{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp', range: 1 }]);
    expect(parsePublish('127.0.0.1::80')[0]).toMatchObject({ hostIp: '127.0.0.1', hostPort: 0 });
    expect(parsePublish('[::1]:9000:90')[0]).toMatchObject({ hostIp: '::1', hostPort: 9000, containerPort: 90 });
    expect(parsePublish('8000-8002:80-82/tcp,udp')).toHaveLength(2);
    expect(() => parsePublish('8000-8002:80-81')).toThrow(/ranges differ/);
    expect(() => parsePublish('0:80')).toThrow(/1 to 65535/);
    expect(() => parsePublish('x:80')).toThrow(/invalid/);
  });
  it('refuses privileged host ports naming the sysctl', () => {
    expect(() => checkHostPorts(parsePublish('80:80'), 1024)).toThrow(/net\.ipv4\.ip_unprivileged_port_start/);
    expect(() => checkHostPorts(parsePublish('80:80'), 0)).not.toThrow();
  });
  it('formats port and ps lines', () => {
    const p = [...parsePublish('8000-8001:80-81'), ...parsePublish('127.0.0.1:53:53/udp')];
    expect(formatPortLines(p)).toEqual(['80/tcp -> 0.0.0.0:8000', '81/tcp -> 0.0.0.0:8001', '53/udp -> 127.0.0.1:53']);
    expect(formatPortsColumn(p)).toBe('0.0.0.0:8000-8001->80-81/tcp, 127.0.0.1:53->53/udp');
  });
  it('gives pasta every forwarding kind explicitly', () => {
    const args = pastaArgs('pasta', parsePublish('127.0.0.1:8080:80'), { netnsPath: '/n', pidFile: '/p' });
    expect(args).toEqual(['pasta', '--config-net', '--quiet', '--netns', '/n', '--pid', '/p', '--no-map-gw', '-t', '127.0.0.1/8080:80', '-u', 'none', '-T', 'none', '-U', 'none']);
    // pasta:--map-gw (Podman 5's way to reach the host's loopback) only drops --no-map-gw.
    expect(pastaArgs('pasta', [], { netnsPath: '/n', pidFile: '/p', options: ['--map-gw'] })).not.toContain('--no-map-gw');
  });
});
