import net from 'node:net';
import { TspodError } from '../util/errors.js';
import type { NetworkAttachment } from './bridge.js';
import { DEFAULT_NETWORK, inSubnet, ipv4Subnet, ipv6Subnet, NetworkStore } from './networks-store.js';
import { inSubnet6, ip6ToBigInt } from './ipv6.js';

/** Network modes of --network that are not network names (Podman reserves them too). */
export const RESERVED_NETWORK_NAMES = new Set(['none', 'host', 'private', 'pasta', 'slirp4netns', 'container', 'ns', 'default']);

export interface UserNetworkFlags {
  ip?: string;
  ip6?: string;
  mac?: string;
  aliases?: string[];
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/**
 * `--network NAME[,NAME...]` naming networks: their attachments (--ip,
 * --mac-address and --network-alias apply to the first). `bridge` means the
 * default network "podman" (a bridge too when asked for by name; without
 * --network a container keeps the default mode, pasta, as in rootless Podman 5).
 * Undefined when the value is a network mode for someone else to parse;
 * `default` for `private`, the default mode.
 */
export function parseUserNetworks(storageRoot: string, value: string | undefined, flags: UserNetworkFlags): NetworkAttachment[] | 'default' | undefined {
  // Podman's NAME:ip=IP,mac=MAC,alias=NAME: the per-network form of --ip, --mac-address, --network-alias.
  const perNetwork = value === undefined ? null : /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):((?:ip6?|mac|alias|interface_name)=.*)$/.exec(value);
  if (perNetwork && !RESERVED_NETWORK_NAMES.has(perNetwork[1]) && perNetwork[1] !== 'bridge') {
    const opts: UserNetworkFlags = { ...flags, aliases: [...(flags.aliases ?? [])] };
    for (const item of perNetwork[2].split(',')) {
      const [key, v = ''] = item.split('=', 2);
      if (key === 'ip') opts.ip = v;
      else if (key === 'ip6') opts.ip6 = v;
      else if (key === 'mac') opts.mac = v;
      else if (key === 'alias') opts.aliases!.push(v);
      else if (key !== 'interface_name') throw new TspodError(`unknown network option "${key}" in --network ${value}: use ip=, ip6=, mac= or alias=`);
    }
    return parseUserNetworks(storageRoot, perNetwork[1], opts);
  }
  const extras = flags.ip !== undefined || flags.ip6 !== undefined || flags.mac !== undefined || (flags.aliases?.length ?? 0) > 0;
  if (value === undefined || value.includes(':') || value.includes('=') || RESERVED_NETWORK_NAMES.has(value)) {
    if (extras) throw new TspodError('--ip, --ip6, --mac-address and --network-alias need a user-defined network: create one with `tspod network create NAME` and add --network NAME');
    return value === 'private' ? 'default' : undefined;
  }
  const names = value.split(',').filter(Boolean).map((n) => (n === 'bridge' ? DEFAULT_NETWORK.name : n));
  const store = new NetworkStore(storageRoot);
  const out: NetworkAttachment[] = [];
  for (const name of names) {
    const rec = store.find(name);
    if (!rec) throw new TspodError(`unable to find network with name or ID ${name}: network not found (create it with 'tspod network create ${name}')`);
    if (out.some((a) => a.name === rec.name)) continue;
    out.push({ name: rec.name, aliases: [] });
  }
  if (out.length === 0) throw new TspodError(`invalid --network "${value}": name a network`);
  const first = out[0];
  const firstNet = store.get(first.name);
  if (flags.ip !== undefined) {
    if (!net.isIPv4(flags.ip)) throw new TspodError(`invalid --ip "${flags.ip}": give an IPv4 address`);
    const v4 = ipv4Subnet(firstNet);
    if (!v4) throw new TspodError(`--ip ${flags.ip}: network ${first.name} has no IPv4 subnet; use --ip6`);
    if (!inSubnet(flags.ip, v4.subnet) || flags.ip === v4.gateway) {
      throw new TspodError(`--ip ${flags.ip} is not a free host address of network ${first.name} (${v4.subnet}, gateway ${v4.gateway})`);
    }
    first.ip = flags.ip;
  }
  if (flags.ip6 !== undefined) {
    if (ip6ToBigInt(flags.ip6) === undefined) throw new TspodError(`invalid --ip6 "${flags.ip6}": give an IPv6 address`);
    const v6 = ipv6Subnet(firstNet);
    if (!v6) throw new TspodError(`--ip6 ${flags.ip6}: network ${first.name} has no IPv6 subnet; create it with --ipv6`);
    if (!inSubnet6(flags.ip6, v6.subnet) || ip6ToBigInt(flags.ip6) === ip6ToBigInt(v6.gateway)) {
      throw new TspodError(`--ip6 ${flags.ip6} is not a free host address of network ${first.name} (${v6.subnet}, gateway ${v6.gateway})`);
    }
    first.ip6 = flags.ip6;
  }
  if (flags.mac !== undefined) {
    if (!MAC_RE.test(flags.mac) || (parseInt(flags.mac.slice(0, 2), 16) & 1) === 1) {
      throw new TspodError(`invalid --mac-address "${flags.mac}": give a unicast MAC address like 92:d0:c6:0a:29:33`);
    }
    first.mac = flags.mac.toLowerCase();
  }
  first.aliases = [...new Set(flags.aliases ?? [])];
  for (const alias of first.aliases) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(alias)) throw new TspodError(`invalid --network-alias "${alias}": use letters, digits, '_', '.' and '-'`);
  }
  return out;
}
