import fs from 'node:fs';
import net from 'node:net';
import { TspodError } from '../util/errors.js';

/**
 * A container's `--network` value, parsed. The record keeps the text; every
 * consumer parses it here, so each mode's options are checked in one place.
 */
export type NetworkMode =
  | { kind: 'none' }
  | { kind: 'host' }
  /** pasta options given after `pasta:` (passed on, except --map-gw, which only drops tspod's --no-map-gw) */
  | { kind: 'pasta'; options: string[] }
  | { kind: 'slirp4netns'; options: Slirp4netnsOptions }
  /** share another container's network namespace (its id once created) */
  | { kind: 'container'; container: string }
  /** join the network namespace at a path */
  | { kind: 'ns'; path: string }
  /** a user-defined network by name (bridge networks) */
  | { kind: 'network'; name: string; options: string[] };

export interface Slirp4netnsOptions {
  allowHostLoopback: boolean;
  mtu: number;
  cidr: string;
  enableIPv6: boolean;
  /** published ports: tspod's forwarder (Podman's default, rootlesskit) or slirp4netns's add_hostfwd */
  portHandler: 'slirp4netns' | 'rootlesskit';
  /** slirp4netns --outbound-addr / --outbound-addr6: an address or a host interface name */
  outboundAddr?: string;
  outboundAddr6?: string;
}

export const SLIRP4NETNS_DEFAULTS: Slirp4netnsOptions = {
  allowHostLoopback: false,
  mtu: 65520,
  cidr: '10.0.2.0/24',
  // Podman 4's default (podman-run(1), containers.conf(5)): fd00::/64 by SLAAC, gateway fd00::2, DNS fd00::3.
  enableIPv6: true,
  portHandler: 'rootlesskit',
};

/** A network interface of the host (slirp4netns resolves its address itself). */
function hostInterface(name: string): boolean {
  return /^[^/\s]{1,15}$/.test(name) && name !== '.' && name !== '..' && fs.existsSync(`/sys/class/net/${name}`);
}

function bool(key: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new TspodError(`invalid slirp4netns option ${key}=${value}: use true or false`);
}

function parseSlirpOptions(text: string): Slirp4netnsOptions {
  const o = { ...SLIRP4NETNS_DEFAULTS };
  for (const item of text.split(',').filter(Boolean)) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? 'true' : item.slice(eq + 1);
    switch (key) {
      case 'allow_host_loopback':
        o.allowHostLoopback = bool(key, value);
        break;
      case 'enable_ipv6':
        o.enableIPv6 = bool(key, value);
        break;
      case 'mtu':
        if (!/^\d+$/.test(value) || Number(value) < 68 || Number(value) > 65521) {
          throw new TspodError(`invalid slirp4netns option mtu=${value}: give a number from 68 to 65521`);
        }
        o.mtu = Number(value);
        break;
      case 'cidr': {
        const [addr, bits] = value.split('/');
        if (net.isIPv4(addr) === false || !/^\d+$/.test(bits ?? '') || Number(bits) > 25 || Number(bits) < 1) {
          throw new TspodError(`invalid slirp4netns option cidr=${value}: give an IPv4 network such as 10.0.2.0/24 (prefix at most /25)`);
        }
        o.cidr = value;
        break;
      }
      case 'port_handler':
        if (value !== 'slirp4netns' && value !== 'rootlesskit') {
          throw new TspodError(`invalid slirp4netns option port_handler=${value}: use slirp4netns or rootlesskit`);
        }
        o.portHandler = value;
        break;
      case 'outbound_addr':
        if (!net.isIPv4(value) && !hostInterface(value)) {
          throw new TspodError(`invalid outbound_addr "${value}": give an IPv4 address or the name of one of the host's network interfaces`);
        }
        o.outboundAddr = value;
        break;
      case 'outbound_addr6':
        if (!net.isIPv6(value) && !hostInterface(value)) {
          throw new TspodError(`invalid outbound_addr6 "${value}": give an IPv6 address or the name of one of the host's network interfaces`);
        }
        o.outboundAddr6 = value;
        break;
      default:
        throw new TspodError(
          `unknown slirp4netns option "${key}": use allow_host_loopback, mtu, cidr, enable_ipv6, outbound_addr, outbound_addr6 or port_handler`,
        );
    }
  }
  if (o.outboundAddr6 && !o.enableIPv6) throw new TspodError('the slirp4netns option outbound_addr6 needs IPv6: drop enable_ipv6=false');
  return o;
}

export function parseNetworkMode(text: string): NetworkMode {
  const colon = text.indexOf(':');
  const head = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  switch (head) {
    case 'none':
    case 'host':
      if (rest) throw new TspodError(`the ${head} network mode takes no options: use --network ${head}`);
      return { kind: head };
    case 'pasta':
      return { kind: 'pasta', options: rest.split(',').filter(Boolean) };
    case 'slirp4netns':
      return { kind: 'slirp4netns', options: parseSlirpOptions(rest) };
    case 'container':
      if (!rest) throw new TspodError('--network container: needs a container name or ID: --network container:NAME');
      return { kind: 'container', container: rest };
    case 'ns':
      if (!rest.startsWith('/')) throw new TspodError(`--network ns: needs an absolute path to a network namespace, such as ns:/run/netns/NAME`);
      return { kind: 'ns', path: rest };
    case 'bridge':
    case 'private':
      return { kind: 'network', name: head, options: rest.split(',').filter(Boolean) };
    default:
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(head)) throw new TspodError(`invalid network mode "${text}"`);
      return { kind: 'network', name: head, options: rest.split(',').filter(Boolean) };
  }
}

/** Modes in which tspod starts a helper that forwards published ports. */
export function publishesPorts(mode: NetworkMode): boolean {
  return mode.kind === 'pasta' || mode.kind === 'slirp4netns';
}

/** The first, second, third ... address of an IPv4 network (`10.0.2.0/24`, 2 -> 10.0.2.2). */
export function addressInNetwork(cidr: string, offset: number): string {
  const [addr, bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const value = addr.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  const n = value - (value % size) + offset;
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
