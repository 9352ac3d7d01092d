import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readJsonFile, writeJsonAtomic } from '../storage/atomic.js';
import { withLock } from '../storage/lock.js';
import { TspodError } from '../util/errors.js';
import { labelMatches, matchesFilters } from '../util/filters.js';
import { randomHex } from '../util/random.js';
import { bigIntToIp6, formatSubnet6, inSubnet6, isIPv6Cidr, overlaps6, parseSubnet6, randomUlaSubnet } from './ipv6.js';

/** A network as Podman's `network inspect` shows it (netavark's JSON shape). */
export interface NetworkRecord {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  created: string;
  subnets: { subnet: string; gateway: string }[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  ipam_options: { driver: string };
}

/** Podman's default network: always listed, never removed; containers on it use pasta (Podman 5 rootless). */
export const DEFAULT_NETWORK: NetworkRecord = {
  name: 'podman',
  id: '2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9' /* sha256('podman'), as Podman */,
  driver: 'bridge',
  network_interface: 'podman0',
  created: new Date(0).toISOString(),
  subnets: [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }],
  ipv6_enabled: false,
  internal: false,
  dns_enabled: false,
  ipam_options: { driver: 'host-local' },
};

/** Words --network takes as modes, so never network names. */
const MODE_NAMES = new Set(['none', 'host', 'bridge', 'private', 'pasta', 'slirp4netns', 'container', 'ns', 'default']);

export const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Podman's exit status when a network does not exist (rm, inspect). */
export const NO_SUCH_NETWORK = 1;

export interface CreateNetworkOptions {
  name?: string;
  /** --subnet, repeatable: IPv4 and IPv6 ones (dual stack) */
  subnets?: string[];
  /** --gateway, repeatable: the Nth for the Nth subnet */
  gateways?: string[];
  /** --ipv6: dual stack; the missing IPv4 or IPv6 subnet is allocated */
  ipv6?: boolean;
  internal: boolean;
  disableDns: boolean;
  labels: Record<string, string>;
  ignoreExisting: boolean;
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** `10.89.0.0/24` -> base address and prefix, checked; the base is masked to the prefix. */
export function parseSubnet(cidr: string): { base: number; prefix: number; size: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!m || net.isIPv4(m[1]) === false || Number(m[2]) > 30 || Number(m[2]) < 8) {
    throw new TspodError(`invalid subnet "${cidr}": give an IPv4 network in CIDR form with a prefix from /8 to /30, e.g. 10.89.5.0/24`);
  }
  const prefix = Number(m[2]);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ipToInt(m[1]) / size) * size;
  return { base, prefix, size };
}

export function inSubnet(ip: string, cidr: string): boolean {
  const { base, size } = parseSubnet(cidr);
  const n = ipToInt(ip);
  return net.isIPv4(ip) && n > base && n < base + size - 1;
}

function overlaps(a: string, b: string): boolean {
  if (isIPv6Cidr(a) || isIPv6Cidr(b)) return isIPv6Cidr(a) && isIPv6Cidr(b) && overlaps6(a, b);
  const x = parseSubnet(a);
  const y = parseSubnet(b);
  return x.base < y.base + y.size && y.base < x.base + x.size;
}

/** A network's IPv4 subnet (absent on an IPv6-only network). */
export function ipv4Subnet(n: NetworkRecord): { subnet: string; gateway: string } | undefined {
  return n.subnets.find((s) => !isIPv6Cidr(s.subnet));
}

/** A network's IPv6 subnet, if it has one. */
export function ipv6Subnet(n: NetworkRecord): { subnet: string; gateway: string } | undefined {
  return n.subnets.find((s) => isIPv6Cidr(s.subnet));
}

/** One --subnet checked and masked to its prefix, IPv4 or IPv6. */
function normalizeSubnet(cidr: string): string {
  if (isIPv6Cidr(cidr)) return formatSubnet6(parseSubnet6(cidr));
  const { base, prefix } = parseSubnet(cidr);
  return `${intToIp(base)}/${prefix}`;
}

/** The gateway of a subnet: given (checked to be a host address in it) or its first address. */
function gatewayOf(subnet: string, given: string | undefined): string {
  if (isIPv6Cidr(subnet)) {
    const gw = given ?? bigIntToIp6(parseSubnet6(subnet).base + 1n);
    if (!net.isIPv6(gw) || !inSubnet6(gw, subnet)) throw new TspodError(`gateway ${gw} not in subnet ${subnet}: give a host address of the subnet with --gateway`);
    return gw;
  }
  const gw = given ?? intToIp(parseSubnet(subnet).base + 1);
  if (!net.isIPv4(gw) || !inSubnet(gw, subnet)) throw new TspodError(`gateway ${gw} not in subnet ${subnet}: give a host address of the subnet with --gateway`);
  return gw;
}

/**
 * User-defined networks, one JSON file each under `<root>/networks/` (as
 * Podman keeps `networks/NAME.json`), changed under one lock.
 */
export class NetworkStore {
  readonly dir: string;

  constructor(storageRoot: string) {
    this.dir = path.join(storageRoot, 'networks');
  }

  private file(name: string): string {
    return path.join(this.dir, `${name}.json`);
  }

  get lockPath(): string {
    return path.join(this.dir, 'networks.lock');
  }

  /** Every network, the default one first. */
  list(): NetworkRecord[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
    } catch {
      names = [];
    }
    const nets = names
      .map((f) => readJsonFile<NetworkRecord | undefined>(path.join(this.dir, f), undefined))
      .filter((n): n is NetworkRecord => !!n)
      .sort((a, b) => a.name.localeCompare(b.name));
    return [DEFAULT_NETWORK, ...nets];
  }

  /** By name, full id or unique id prefix. */
  find(nameOrId: string): NetworkRecord | undefined {
    const all = this.list();
    const byName = all.find((n) => n.name === nameOrId);
    if (byName) return byName;
    if (!/^[0-9a-f]+$/.test(nameOrId)) return undefined;
    const byId = all.filter((n) => n.id.startsWith(nameOrId));
    if (byId.length > 1) throw new TspodError(`more than one network matches the ID prefix ${nameOrId}: give more of the ID`);
    return byId[0];
  }

  get(nameOrId: string): NetworkRecord {
    const found = this.find(nameOrId);
    if (!found) throw new TspodError(`unable to find network with name or ID ${nameOrId}: network not found`, { exitCode: NO_SUCH_NETWORK });
    return found;
  }

  async create(o: CreateNetworkOptions): Promise<NetworkRecord> {
    if (o.name !== undefined && !NETWORK_NAME_RE.test(o.name)) {
      throw new TspodError(`network name ${o.name} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
    }
    if (o.name !== undefined && MODE_NAMES.has(o.name)) {
      throw new TspodError(`cannot create network with name "${o.name}" because it conflicts with a valid network mode`);
    }
    const givenGateways = o.gateways ?? [];
    if (givenGateways.length > (o.subnets ?? []).length) throw new TspodError('cannot set gateway or range without subnet: add a --subnet for each --gateway');
    for (const gw of givenGateways) if (!net.isIP(gw)) throw new TspodError(`invalid gateway "${gw}": give an IPv4 or IPv6 address`);
    const given = (o.subnets ?? []).map(normalizeSubnet);
    for (let i = 0; i < given.length; i++) {
      for (let j = 0; j < i; j++) if (overlaps(given[i], given[j])) throw new TspodError(`subnet ${given[i]} overlaps subnet ${given[j]}: give subnets that do not overlap`);
    }
    const givenSubnets = given.map((subnet, i) => ({ subnet, gateway: gatewayOf(subnet, givenGateways[i]) }));
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return withLock(this.lockPath, () => {
      const all = this.list();
      if (o.name !== undefined) {
        const existing = all.find((n) => n.name === o.name);
        if (existing) {
          if (o.ignoreExisting) return existing;
          throw new TspodError(`network name ${o.name} already used: network already exists`);
        }
      }
      let name = o.name;
      for (let i = 1; name === undefined; i++) if (!all.some((n) => n.name === `podman${i}`)) name = `podman${i}`;
      for (const { subnet } of givenSubnets) {
        const clash = all.find((n) => n.subnets.some((s) => overlaps(s.subnet, subnet)));
        if (clash) throw new TspodError(`subnet ${subnet} is already used on the host or by another config (network ${clash.name}): choose another --subnet`);
      }
      const subnets = [...givenSubnets];
      const hasV6 = subnets.some((s) => isIPv6Cidr(s.subnet));
      // As Podman: an IPv4 subnet is allocated unless only IPv6 ones were given without --ipv6; --ipv6 allocates a missing IPv6 one.
      if (!subnets.some((s) => !isIPv6Cidr(s.subnet)) && (o.ipv6 || !hasV6)) {
        // Podman's default range: the first free 10.89.N.0/24.
        let found: string | undefined;
        for (let n = 0; n < 256 && !found; n++) {
          const cand = `10.89.${n}.0/24`;
          if (!all.some((x) => x.subnets.some((s) => overlaps(s.subnet, cand)))) found = cand;
        }
        if (!found) throw new TspodError('no free subnet left in 10.89.0.0/16: give one with --subnet');
        subnets.push({ subnet: found, gateway: gatewayOf(found, undefined) });
      }
      if (o.ipv6 && !hasV6) {
        let found: string | undefined;
        for (let i = 0; i < 100 && !found; i++) {
          const cand = randomUlaSubnet();
          if (!all.some((x) => x.subnets.some((s) => overlaps(s.subnet, cand)))) found = cand;
        }
        if (!found) throw new TspodError('no free IPv6 subnet found: give one with --subnet');
        subnets.push({ subnet: found, gateway: gatewayOf(found, undefined) });
      }
      let iface: string | undefined;
      for (let i = 1; !iface; i++) if (!all.some((n) => n.network_interface === `podman${i}`)) iface = `podman${i}`;
      const rec: NetworkRecord = {
        name,
        id: randomHex(32),
        driver: 'bridge',
        network_interface: iface,
        created: new Date().toISOString(),
        subnets,
        ipv6_enabled: subnets.some((s) => isIPv6Cidr(s.subnet)),
        internal: o.internal,
        dns_enabled: !o.disableDns,
        ...(Object.keys(o.labels).length ? { labels: o.labels } : {}),
        ipam_options: { driver: 'host-local' },
      };
      writeJsonAtomic(this.file(name), rec, 0o644);
      return rec;
    });
  }

  async remove(name: string): Promise<void> {
    if (name === DEFAULT_NETWORK.name) throw new TspodError(`default network ${name} cannot be removed`);
    await withLock(this.lockPath, () => fs.rmSync(this.file(name), { force: true }));
  }
}

/** `network ls --filter`: name= (regexp), id=, label=, driver=; different keys must all match. */
export function networkMatches(n: NetworkRecord, filters: string[]): boolean {
  return matchesFilters(filters, (key, v) => {
    switch (key) {
      case 'name':
        return new RegExp(v).test(n.name);
      case 'id':
        return n.id.startsWith(v);
      case 'driver':
        return n.driver === v;
      case 'label':
        return labelMatches(n.labels ?? {}, v);
      default:
        throw new TspodError(`invalid filter "${key}": network filters are name, id, label and driver`);
    }
  });
}
