import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readJsonFile, writeJsonAtomic } from '../storage/atomic.js';
import { FileLock } from '../storage/lock.js';
import { TspodError } from '../util/errors.js';
import { launcherPath } from '../util/paths.js';
import type { ContainerRecord, ContainerStore } from '../runtime/container-store.js';
import type { NetworkHelperSpec } from '../runtime/spec.js';
import type { PortMapping } from './ports.js';
import { defaultRoute } from './host-access.js';
import { portForwarderPidFile, stopPortForwarder } from './port-forwarder.js';
import {
  DNS_FORWARD,
  ensureBridge,
  ensureRootlessNetns,
  haveNetworkTools,
  inNetns,
  isNamespaceMount,
  removeRootlessNetns,
  run,
  rootlessNetnsDir,
  rootlessNetnsPath,
  TOOL_PATH,
} from './bridge-netns.js';
import { intToIp, ipv4Subnet, ipv6Subnet, type NetworkRecord, NetworkStore, parseSubnet } from './networks-store.js';
import { bigIntToIp6, ip6ToBigInt, parseSubnet6 } from './ipv6.js';

/** A container's membership of a user-defined network, fixed at create or by `network connect`. */
export interface NetworkAttachment {
  name: string;
  /** --ip: a fixed address; otherwise one is allocated at each start */
  ip?: string;
  /** --ip6: a fixed IPv6 address on a network with an IPv6 subnet */
  ip6?: string;
  mac?: string;
  aliases: string[];
}

/** An address in use: which container holds it, under which names, through which veth. */
export interface Lease {
  container: string;
  name: string;
  hostname: string;
  aliases: string[];
  /** the IPv4 address ('' on an IPv6-only network) */
  ip: string;
  /** the IPv6 address, on networks with an IPv6 subnet */
  ip6?: string;
  mac: string;
  veth: string;
  iface: string;
  at: number;
}

/** network name -> leases; lives in the run root, so a reboot frees everything. */
type Ipam = Record<string, Lease[]>;

function ipamFile(runRoot: string): string {
  return path.join(rootlessNetnsDir(runRoot), 'ipam.json');
}

/**
 * The IPAM lock, taken synchronously: teardown runs from synchronous paths. It
 * is the innermost lock (taken after a container's own), so no cycle.
 */
function withIpamLock<T>(runRoot: string, fn: () => T): T {
  const lockPath = path.join(rootlessNetnsDir(runRoot), 'ipam.lock');
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 30_000;
  let lock: FileLock | undefined;
  while (!(lock = FileLock.tryAcquire(lockPath))) {
    if (Date.now() > deadline) throw new TspodError(`timed out waiting for the network lock ${lockPath}`);
    Atomics.wait(sleeper, 0, 0, 10);
  }
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/** A lease of a container that is gone, or stopped for a while, is free again. */
function collectGarbage(ipam: Ipam, store: ContainerStore, keep: string): void {
  for (const [net, leases] of Object.entries(ipam)) {
    ipam[net] = leases.filter((l) => {
      if (l.container === keep) return true;
      const rec = store.find(l.container);
      if (!rec) return false;
      return rec.state.status === 'running' || Date.now() - l.at < 60_000;
    });
    if (ipam[net].length === 0) delete ipam[net];
  }
}

function pickAddress(n: NetworkRecord, taken: Set<string>): string {
  const v4 = ipv4Subnet(n);
  if (!v4) return '';
  const { base, size } = parseSubnet(v4.subnet);
  for (let i = base + 1; i < base + size - 1; i++) {
    const ip = intToIp(i);
    if (ip !== v4.gateway && !taken.has(ip)) return ip;
  }
  throw new TspodError(`network ${n.name} has no free address left in ${v4.subnet}: remove unused containers or create a bigger network`);
}

/** The next free IPv6 host address after the subnet's first (as netavark's host-local allocator). */
function pickAddress6(n: NetworkRecord, taken: Set<string>): string | undefined {
  const v6 = ipv6Subnet(n);
  if (!v6) return undefined;
  const { base, size } = parseSubnet6(v6.subnet);
  const gateway = ip6ToBigInt(v6.gateway);
  // At most taken.size + 1 candidates are skipped, so this ends quickly even in a /64.
  for (let i = base + 1n; i < base + size - 1n; i++) {
    const ip = bigIntToIp6(i);
    if (i !== gateway && !taken.has(ip)) return ip;
  }
  throw new TspodError(`network ${n.name} has no free address left in ${v6.subnet}: remove unused containers or create a bigger network`);
}

/** Refuse a static --ip/--ip6 some other container holds on this network. */
function checkFree(n: NetworkRecord, list: Lease[], a: NetworkAttachment): void {
  for (const [flag, want] of [
    ['--ip', a.ip],
    ['--ip6', a.ip6],
  ] as const) {
    const holder = want ? list.find((l) => l.ip === want || l.ip6 === want) : undefined;
    if (holder) throw new TspodError(`IP address ${want} is already allocated on network ${n.name} (container ${holder.name}): choose another ${flag}`);
  }
}

/** A locally administered MAC address (Podman's are random too). */
function randomMac(): string {
  const b = crypto.randomBytes(6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function vethName(containerId: string, index: number): string {
  return `veth${containerId.slice(0, 9)}${index}`;
}

/**
 * Lines of /etc/hosts for the members of this container's DNS-enabled
 * networks, and host.containers.internal: pasta maps the host's gateway
 * address to the host itself (its default --map-gw).
 */
function hostsEntries(ipam: Ipam, networks: NetworkStore, containerId: string): string[] {
  const gateway = defaultRoute()?.gateway;
  const lines: string[] = gateway ? [`${gateway}\thost.containers.internal host.docker.internal`] : [];
  const seen = new Set<string>();
  for (const [net, leases] of Object.entries(ipam)) {
    if (!leases.some((l) => l.container === containerId)) continue;
    const rec = networks.find(net);
    if (!rec || !rec.dns_enabled) continue;
    for (const l of leases) {
      const names = l.container === containerId ? [l.hostname, l.name, ...l.aliases] : [l.name, ...l.aliases];
      // Both addresses, as Podman writes them: a name resolves to A and AAAA.
      for (const ip of [l.ip, l.ip6]) {
        if (!ip) continue;
        const line = `${ip}\t${[...new Set(names)].join(' ')}`;
        if (!seen.has(line)) lines.push(line);
        seen.add(line);
      }
    }
  }
  return lines;
}

const BEGIN = '# tspod networks begin';
const END = '# tspod networks end';

/**
 * Put the member lines into a container's /etc/hosts. Written in place: the
 * file is bind-mounted into the running container, a rename would not show.
 */
export function updateHostsFile(file: string, entries: string[]): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const lines = text.split('\n');
  const b = lines.indexOf(BEGIN);
  const e = lines.indexOf(END);
  if (b >= 0 && e > b) lines.splice(b, e - b + 1);
  // After the localhost lines, before the 127.0.1.1 line: the container's own name resolves to its address.
  const at = Math.min(2, lines.length);
  if (entries.length) lines.splice(at, 0, BEGIN, ...entries, END);
  const next = lines.join('\n');
  if (next !== text) fs.writeFileSync(file, next);
}

function syncHosts(ipam: Ipam, networks: NetworkStore, store: ContainerStore, containers: Set<string>): void {
  for (const id of containers) updateHostsFile(path.join(store.runDir(id), 'hosts'), hostsEntries(ipam, networks, id));
}

function membersOf(ipam: Ipam, nets: string[]): Set<string> {
  return new Set(nets.flatMap((n) => (ipam[n] ?? []).map((l) => l.container)));
}

/**
 * Lease addresses for a container about to start and prepare its networks:
 * the rootless namespace, each bridge, the /etc/hosts of every member. Returns
 * the helper the launcher runs once the container's network namespace exists
 * (veth pairs, addresses, routes, then the port forwarder).
 */
export function attachBridgeNetworks(
  storageRoot: string,
  store: ContainerStore,
  rec: ContainerRecord,
  attachments: NetworkAttachment[],
  ports: PortMapping[],
): NetworkHelperSpec {
  haveNetworkTools();
  const runRoot = store.runRoot;
  const networks = new NetworkStore(storageRoot);
  const runDir = store.runDir(rec.id);
  const ctrNetns = path.join(runDir, 'netns');
  const pidFile = portForwarderPidFile(runDir);
  const nets = attachments.map((a) => networks.get(a.name));
  const leases: Lease[] = withIpamLock(runRoot, () => {
    const ipam = readJsonFile<Ipam>(ipamFile(runRoot), {});
    collectGarbage(ipam, store, rec.id);
    for (const list of Object.values(ipam)) for (let i = list.length - 1; i >= 0; i--) if (list[i].container === rec.id) list.splice(i, 1);
    const netns = ensureRootlessNetns(runRoot);
    const out = attachments.map((a, i) => {
      const n = nets[i];
      ensureBridge(netns, n);
      const list = (ipam[n.name] ??= []);
      checkFree(n, list, a);
      const ip6 = a.ip6 ?? pickAddress6(n, new Set(list.flatMap((l) => (l.ip6 ? [l.ip6] : []))));
      const lease: Lease = {
        container: rec.id,
        name: rec.name,
        hostname: rec.config.hostname,
        aliases: a.aliases,
        ip: a.ip ?? pickAddress(n, new Set(list.map((l) => l.ip))),
        ...(ip6 ? { ip6 } : {}),
        mac: a.mac ?? randomMac(),
        veth: vethName(rec.id, i),
        iface: `eth${i}`,
        at: Date.now(),
      };
      list.push(lease);
      return lease;
    });
    writeJsonAtomic(ipamFile(runRoot), ipam);
    syncHosts(ipam, networks, store, membersOf(ipam, nets.map((n) => n.name)));
    return out;
  });
  fixResolvConf(path.join(runDir, 'resolv.conf'));
  if (ports.length && leases[0] && !leases[0].ip) {
    throw new TspodError(`cannot publish ports on network ${nets[0].name}: it has no IPv4 subnet and tspod's forwarder reaches containers over IPv4; use a network with an IPv4 subnet (network create --ipv6 gives both)`);
  }
  const script = [
    'set -e',
    `export PATH='${TOOL_PATH}'`,
    ...leases.map((l, i) => linkCommands(rootlessNetnsPath(runRoot), ctrNetns, nets[i], l, i === 0)),
  ];
  const forwards = leases.length === 0 ? [] : ports.flatMap((p) => Array.from({ length: p.range }, (_, k) => `${p.protocol}:${p.hostIp || '0.0.0.0'}:${p.hostPort + k}:${leases[0].ip}:${p.containerPort + k}`));
  // The forwarder holds the host ports; it ends with the container's first process (the launcher names it), not with the monitor.
  if (forwards.length) script.push(`exec '${launcherPath()}' --portfwd '${rootlessNetnsPath(runRoot)}' "$TSPOD_CONTAINER_PID" '${pidFile}' ${forwards.join(' ')}`);
  return { argv: ['/bin/sh', '-c', script.join('\n'), 'tspod-network'], netnsPath: ctrNetns, pidFile };
}

/** The shell lines that plug one veth pair in: bridge end in the rootless namespace, ethN in the container's. */
function linkCommands(rootless: string, ctrNetns: string, n: NetworkRecord, l: Lease, defaultRoute: boolean): string {
  const v4 = ipv4Subnet(n);
  const v6 = ipv6Subnet(n);
  const inside = [
    `link set ${l.iface} address ${l.mac}`,
    ...(v4 && l.ip ? [`addr add ${l.ip}/${parseSubnet(v4.subnet).prefix} dev ${l.iface}`] : []),
    // nodad: usable at once (duplicate address detection would hold it for a second or two; the IPAM already makes it unique).
    ...(v6 && l.ip6 ? [`addr add ${l.ip6}/${parseSubnet6(v6.subnet).prefix} dev ${l.iface} nodad`] : []),
    `link set ${l.iface} up`,
    ...(defaultRoute && !n.internal && v4 ? [`route add default via ${v4.gateway}`] : []),
    ...(defaultRoute && !n.internal && v6 && l.ip6 ? [`route add ::/0 via ${v6.gateway} dev ${l.iface}`] : []),
  ];
  return [
    `nsenter --net='${rootless}' ip link del ${l.veth} 2>/dev/null || true`,
    `nsenter --net='${rootless}' ip link add ${l.veth} type veth peer name ${l.iface} netns '${ctrNetns}'`,
    `nsenter --net='${rootless}' ip link set ${l.veth} master ${n.network_interface} up`,
    `printf '%s\\n' ${inside.map((c) => `'${c}'`).join(' ')} | nsenter --net='${ctrNetns}' ip -batch -`,
  ].join('\n');
}

/** Without a usable resolver from the host, point the container at pasta's DNS forwarder (through the rootless namespace). */
function fixResolvConf(file: string): void {
  try {
    const text = fs.readFileSync(file, 'utf8');
    if (!/^\s*nameserver\s/m.test(text)) fs.writeFileSync(file, `nameserver ${DNS_FORWARD}\n${text}`);
  } catch {
    // no resolv.conf (none was written)
  }
}

/**
 * The container stopped or is removed: end its port forwarder (user networks
 * and slirp4netns; it also ends by itself with the container, a moment later:
 * this frees the host ports before `rm -f` returns), free its addresses, drop
 * it from the other members' /etc/hosts, and end the rootless namespace when
 * nobody is attached any more. Its veth pairs went with its network namespace.
 */
export function releaseBridgeNetworks(store: ContainerStore, id: string): void {
  stopPortForwarder(store.runDir(id));
  const runRoot = store.runRoot;
  if (!fs.existsSync(ipamFile(runRoot))) return;
  withIpamLock(runRoot, () => {
    const ipam = readJsonFile<Ipam>(ipamFile(runRoot), {});
    const nets = Object.keys(ipam).filter((n) => ipam[n].some((l) => l.container === id));
    if (nets.length === 0) return;
    const netns = rootlessNetnsPath(runRoot);
    for (const n of nets) {
      for (const l of ipam[n].filter((x) => x.container === id)) {
        // Normally gone with the container's namespace; not when that is still held somewhere.
        if (isNamespaceMount(netns)) {
          try {
            inNetns(netns, ['sh', '-c', `ip link del ${l.veth} 2>/dev/null; true`]);
          } catch {
            // already gone
          }
        }
      }
      ipam[n] = ipam[n].filter((l) => l.container !== id);
      if (ipam[n].length === 0) delete ipam[n];
    }
    writeJsonAtomic(ipamFile(runRoot), ipam);
    syncHosts(ipam, new NetworkStore(store.storageRoot), store, membersOf(ipam, nets));
    if (Object.keys(ipam).length === 0) removeRootlessNetns(runRoot);
  });
}

/** Current leases of one network (for inspect and the leak checks). */
export function networkLeases(runRoot: string, name: string): Lease[] {
  return readJsonFile<Ipam>(ipamFile(runRoot), {})[name] ?? [];
}

/** One container on a network as Podman 5's `network inspect` lists it (entities.NetworkContainerInfo). */
export interface NetworkContainerInfo {
  name: string;
  interfaces: Record<string, { subnets: { ipnet: string; gateway?: string }[]; mac_address: string }>;
}

/**
 * `network inspect`'s `containers`: the running containers with an address
 * on the network, by full id, with their interface there (Podman 5's shape;
 * podman 4.3 prints no such field).
 */
export function networkContainers(store: ContainerStore, n: NetworkRecord): Record<string, NetworkContainerInfo> {
  const out: Record<string, NetworkContainerInfo> = {};
  const v4 = ipv4Subnet(n);
  const v6 = ipv6Subnet(n);
  for (const l of networkLeases(store.runRoot, n.name)) {
    // A lease whose container is gone or stopped is garbage the next attach collects.
    if (store.find(l.container)?.state.status !== 'running') continue;
    const entry = (out[l.container] ??= { name: l.name, interfaces: {} });
    const subnets: { ipnet: string; gateway?: string }[] = [];
    if (v4 && l.ip) subnets.push({ ipnet: `${l.ip}/${parseSubnet(v4.subnet).prefix}`, ...(n.internal ? {} : { gateway: v4.gateway }) });
    if (v6 && l.ip6) subnets.push({ ipnet: `${l.ip6}/${parseSubnet6(v6.subnet).prefix}`, ...(n.internal ? {} : { gateway: v6.gateway }) });
    entry.interfaces[l.iface] = { subnets, mac_address: l.mac };
  }
  return out;
}

/** `network connect` on a running container: one more veth pair, now. */
export function connectRunning(storageRoot: string, store: ContainerStore, rec: ContainerRecord, a: NetworkAttachment): void {
  haveNetworkTools();
  const runRoot = store.runRoot;
  const networks = new NetworkStore(storageRoot);
  const n = networks.get(a.name);
  const ctrNetns = path.join(store.runDir(rec.id), 'netns');
  if (!isNamespaceMount(ctrNetns)) throw new TspodError(`container ${rec.name} has no network namespace tspod can join: connect it while it is stopped`);
  withIpamLock(runRoot, () => {
    const ipam = readJsonFile<Ipam>(ipamFile(runRoot), {});
    collectGarbage(ipam, store, rec.id);
    const mine = Object.values(ipam).flat().filter((l) => l.container === rec.id);
    const used = new Set(mine.map((l) => Number(l.iface.slice(3))));
    let index = 0;
    while (used.has(index)) index++;
    const list = (ipam[n.name] ??= []);
    checkFree(n, list, a);
    const ip6 = a.ip6 ?? pickAddress6(n, new Set(list.flatMap((l) => (l.ip6 ? [l.ip6] : []))));
    const netns = ensureRootlessNetns(runRoot);
    ensureBridge(netns, n);
    const lease: Lease = {
      container: rec.id,
      name: rec.name,
      hostname: rec.config.hostname,
      aliases: a.aliases,
      ip: a.ip ?? pickAddress(n, new Set(list.map((l) => l.ip))),
      ...(ip6 ? { ip6 } : {}),
      mac: a.mac ?? randomMac(),
      veth: vethName(rec.id, index),
      iface: `eth${index}`,
      at: Date.now(),
    };
    run(['/bin/sh', '-c', `set -e\nexport PATH='${TOOL_PATH}'\n${linkCommands(netns, ctrNetns, n, lease, mine.length === 0)}`]);
    list.push(lease);
    writeJsonAtomic(ipamFile(runRoot), ipam);
    syncHosts(ipam, networks, store, membersOf(ipam, [n.name, ...Object.keys(ipam).filter((k) => ipam[k].some((l) => l.container === rec.id))]));
  });
}

/** `network disconnect` on a running container: its veth on that network goes, its names with it. */
export function disconnectRunning(store: ContainerStore, rec: ContainerRecord, network: string): void {
  const runRoot = store.runRoot;
  withIpamLock(runRoot, () => {
    const ipam = readJsonFile<Ipam>(ipamFile(runRoot), {});
    const list = ipam[network] ?? [];
    const mine = list.filter((l) => l.container === rec.id);
    const netns = rootlessNetnsPath(runRoot);
    for (const l of mine) {
      if (isNamespaceMount(netns)) inNetns(netns, ['sh', '-c', `ip link del ${l.veth} 2>/dev/null; true`]);
    }
    const members = membersOf(ipam, Object.keys(ipam).filter((k) => ipam[k].some((l) => l.container === rec.id)));
    ipam[network] = list.filter((l) => l.container !== rec.id);
    if (ipam[network].length === 0) delete ipam[network];
    writeJsonAtomic(ipamFile(runRoot), ipam);
    syncHosts(ipam, new NetworkStore(store.storageRoot), store, members);
    if (Object.keys(ipam).length === 0) removeRootlessNetns(runRoot);
  });
}

/**
 * `inspect`'s NetworkSettings for a container on user networks: Podman's
 * per-network entries (address, gateway, MAC, aliases) while it runs, empty
 * addresses when it does not.
 */
export function bridgeNetworkSettings(storageRoot: string, store: ContainerStore, rec: ContainerRecord, attachments: NetworkAttachment[]) {
  const ipam = readJsonFile<Ipam>(ipamFile(store.runRoot), {});
  const networks = new NetworkStore(storageRoot);
  const entries = attachments.map((a) => {
    const n = networks.find(a.name);
    const lease = rec.state.status === 'running' ? (ipam[a.name] ?? []).find((l) => l.container === rec.id) : undefined;
    const v4 = n && ipv4Subnet(n);
    const v6 = n && ipv6Subnet(n);
    const has4 = !!(lease?.ip && v4);
    const has6 = !!(lease?.ip6 && v6);
    return [
      a.name,
      {
        EndpointID: '',
        Gateway: has4 ? v4!.gateway : '',
        IPAddress: has4 ? lease!.ip : '',
        IPPrefixLen: has4 ? parseSubnet(v4!.subnet).prefix : 0,
        IPv6Gateway: has6 ? v6!.gateway : '',
        GlobalIPv6Address: has6 ? lease!.ip6! : '',
        GlobalIPv6PrefixLen: has6 ? parseSubnet6(v6!.subnet).prefix : 0,
        MacAddress: lease?.mac ?? '',
        NetworkID: n?.id ?? '',
        DriverOpts: null,
        IPAMConfig: null,
        Links: null,
        Aliases: [rec.id.slice(0, 12), ...a.aliases],
      },
    ] as const;
  });
  const first = entries[0]?.[1];
  return {
    Bridge: '',
    SandboxKey: rec.state.status === 'running' ? path.join(store.runDir(rec.id), 'netns') : '',
    Gateway: first?.Gateway ?? '',
    IPAddress: first?.IPAddress ?? '',
    IPPrefixLen: first?.IPPrefixLen ?? 0,
    MacAddress: first?.MacAddress ?? '',
    Networks: Object.fromEntries(entries),
  };
}
