import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readJsonFile, writeJsonAtomic } from '../storage/atomic.js';
import { withLock } from '../storage/lock.js';
import { TspodError } from '../util/errors.js';
import { labelMatches, matchesFilters } from '../util/filters.js';
import { randomHex } from '../util/random.js';

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
  subnet?: string;
  gateway?: string;
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
  const x = parseSubnet(a);
  const y = parseSubnet(b);
  return x.base < y.base + y.size && y.base < x.base + x.size;
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
    if (o.gateway && !o.subnet) throw new TspodError('cannot set gateway or range without subnet: add --subnet');
    if (o.gateway && !net.isIPv4(o.gateway)) throw new TspodError(`invalid gateway "${o.gateway}": give an IPv4 address`);
    if (o.subnet) parseSubnet(o.subnet);
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
      let subnet: string;
      if (o.subnet) {
        const { base, prefix } = parseSubnet(o.subnet);
        subnet = `${intToIp(base)}/${prefix}`;
        const clash = all.find((n) => n.subnets.some((s) => overlaps(s.subnet, subnet)));
        if (clash) throw new TspodError(`subnet ${subnet} is already used on the host or by another config (network ${clash.name}): choose another --subnet`);
      } else {
        // Podman's default range: the first free 10.89.N.0/24.
        let found: string | undefined;
        for (let n = 0; n < 256 && !found; n++) {
          const cand = `10.89.${n}.0/24`;
          if (!all.some((x) => x.subnets.some((s) => overlaps(s.subnet, cand)))) found = cand;
        }
        if (!found) throw new TspodError('no free subnet left in 10.89.0.0/16: give one with --subnet');
        subnet = found;
      }
      const { base } = parseSubnet(subnet);
      const gateway = o.gateway ?? intToIp(base + 1);
      if (!inSubnet(gateway, subnet)) throw new TspodError(`gateway ${gateway} not in subnet ${subnet}`);
      let iface: string | undefined;
      for (let i = 1; !iface; i++) if (!all.some((n) => n.network_interface === `podman${i}`)) iface = `podman${i}`;
      const rec: NetworkRecord = {
        name,
        id: randomHex(32),
        driver: 'bridge',
        network_interface: iface,
        created: new Date().toISOString(),
        subnets: [{ subnet, gateway }],
        ipv6_enabled: false,
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
