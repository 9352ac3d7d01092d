import fs from 'node:fs';
import net from 'node:net';
import { TspodError } from '../util/errors.js';

/** One published port (range), as Podman records it. */
export interface PortMapping {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  range: number;
}

function port(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new TspodError(`invalid ${what} "${text}": ports are numbers from 1 to 65535`);
  return n;
}

function portRange(text: string, what: string): { start: number; count: number } {
  const [a, b] = text.split('-');
  const start = port(a, what);
  const end = b === undefined ? start : port(b, what);
  if (end < start) throw new TspodError(`invalid ${what} range "${text}": the end is below the start`);
  return { start, count: end - start + 1 };
}

/**
 * `-p [IP:][HOSTPORT:]CTRPORT[/tcp|udp]`, with ranges (`8000-8010:80-90`); an
 * IPv6 address in brackets. An omitted host port is 0: pick one at start.
 */
export function parsePublish(spec: string): PortMapping[] {
  let rest = spec;
  let protocols: ('tcp' | 'udp')[] = ['tcp'];
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const proto = rest.slice(slash + 1);
    protocols = proto.split(',').map((p) => {
      if (p !== 'tcp' && p !== 'udp') throw new TspodError(`invalid protocol "${p}" in -p ${spec}: use tcp or udp`);
      return p;
    });
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1];
    rest = v6[2];
  }
  const parts = rest.split(':');
  if (parts.length > 3 || (v6 && parts.length > 2)) throw new TspodError(`invalid -p ${spec}: use [IP:][HOSTPORT:]CONTAINERPORT[/PROTOCOL]`);
  let hostPart = '';
  let ctrPart: string;
  if (parts.length === 3) {
    [hostIp, hostPart, ctrPart] = parts;
    if (hostIp && net.isIP(hostIp) === 0) throw new TspodError(`invalid host IP "${hostIp}" in -p ${spec}`);
  } else if (parts.length === 2) [hostPart, ctrPart] = parts;
  else ctrPart = parts[0];
  const ctr = portRange(ctrPart, 'container port');
  const host = hostPart ? portRange(hostPart, 'host port') : { start: 0, count: ctr.count };
  if (host.count !== ctr.count) throw new TspodError(`invalid -p ${spec}: the host and container port ranges differ in length`);
  return protocols.map((protocol) => ({ hostIp, hostPort: host.start, containerPort: ctr.start, protocol, range: ctr.count }));
}

/** net.ipv4.ip_unprivileged_port_start: ports below need privileges the user lacks. */
export function unprivilegedPortStart(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  } catch {
    return 1024;
  }
}

export function checkHostPorts(ports: PortMapping[], firstUnprivileged = unprivilegedPortStart()): void {
  for (const p of ports) {
    if (p.hostPort !== 0 && p.hostPort < firstUnprivileged) {
      throw new TspodError(
        `rootless tspod cannot publish host port ${p.hostPort}: ports below ${firstUnprivileged} need privileges (lower net.ipv4.ip_unprivileged_port_start, or use a port from ${firstUnprivileged} up)`,
      );
    }
  }
}

/** A free host port for a mapping without one (the kernel picks; checked again when pasta binds). */
export async function pickFreePort(protocol: 'tcp' | 'udp', hostIp: string): Promise<number> {
  if (protocol === 'udp') {
    const dgram = await import('node:dgram');
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket(hostIp.includes(':') ? 'udp6' : 'udp4');
      s.on('error', reject);
      s.bind(0, hostIp || undefined, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, hostIp || undefined, () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}

/** `tspod port` lines: `80/tcp -> 0.0.0.0:8080`. */
export function formatPortLines(ports: PortMapping[]): string[] {
  const lines: string[] = [];
  for (const p of ports) {
    for (let i = 0; i < p.range; i++) lines.push(`${p.containerPort + i}/${p.protocol} -> ${p.hostIp || '0.0.0.0'}:${p.hostPort + i}`);
  }
  return lines;
}

/** The PORTS column of ps: `0.0.0.0:8080->80/tcp`. */
export function formatPortsColumn(ports: PortMapping[]): string {
  return ports
    .map((p) => {
      const host = p.range > 1 ? `${p.hostPort}-${p.hostPort + p.range - 1}` : `${p.hostPort}`;
      const ctr = p.range > 1 ? `${p.containerPort}-${p.containerPort + p.range - 1}` : `${p.containerPort}`;
      return `${p.hostIp || '0.0.0.0'}:${host}->${ctr}/${p.protocol}`;
    })
    .join(', ');
}
