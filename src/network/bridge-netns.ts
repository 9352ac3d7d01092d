import fs from 'node:fs';
import path from 'node:path';
import { MNT_DETACH, native } from '../native/addon.js';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import { findExecutable } from '../util/which.js';
import { ipv4Subnet, ipv6Subnet, type NetworkRecord, parseSubnet } from './networks-store.js';
import { parseSubnet6 } from './ipv6.js';
import { spawnSync } from 'node:child_process';

/**
 * The rootless network namespace: one per user (per run root), where the
 * bridges of user-defined networks live. It is kept by a bind mount inside
 * tspod's mount namespace and gets the host's connectivity from one pasta
 * attached to it; nftables in it masquerades the bridges' subnets. It exists
 * while some container is attached to a user network (see bridge.ts).
 */
export function rootlessNetnsDir(runRoot: string): string {
  return path.join(runRoot, 'networks');
}

export function rootlessNetnsPath(runRoot: string): string {
  return path.join(rootlessNetnsDir(runRoot), 'rootless-netns');
}

function pastaPidFile(runRoot: string): string {
  return path.join(rootlessNetnsDir(runRoot), 'rootless-netns.pasta.pid');
}

/** Firewall mark and routing table of the forwarder's transparent sockets (see portfwd.c). */
const TPROXY_MARK = 0x7470;
/** The mark the forwarder puts on its transparent sockets (PORTFWD_SOCKET_MARK in portfwd.c). */
const TPROXY_SOCKET_MARK = 0x7471;

/** The address pasta answers DNS on, for hosts whose resolvers are loopback ones (as Podman uses). */
export const DNS_FORWARD = '169.254.1.1';

/** ip and nft live in sbin, which an ordinary user's PATH often lacks. */
export const TOOL_PATH = `${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}:/usr/local/sbin:/usr/sbin:/sbin`;

/** Run a program; its stderr becomes the error when it fails. */
export function run(argv: string[], input?: string): string {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PATH: TOOL_PATH } });
  if (r.error) throw new TspodError(`cannot run ${argv[0]}: ${r.error.message}; install ${argv[0] === 'nft' ? 'nftables' : argv[0] === 'ip' ? 'iproute2' : 'util-linux'}`);
  if (r.status !== 0) {
    throw new TspodError(`${argv.filter((a) => !a.includes('\n')).join(' ')} failed: ${(r.stderr || r.stdout || `exit status ${r.status}`).trim().replace(/\n/g, '; ')}`);
  }
  return r.stdout;
}

/** A bind-mounted namespace file shows nsfs's device; a plain left-over file does not. */
export function isNamespaceMount(file: string): boolean {
  try {
    return fs.statSync(file).dev === fs.statSync('/proc/self/ns/net').dev;
  } catch {
    return false;
  }
}

function pastaAlive(runRoot: string): boolean {
  try {
    const pid = Number(fs.readFileSync(pastaPidFile(runRoot), 'utf8').trim());
    return pid > 1 && /^pas/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8'));
  } catch {
    return false;
  }
}

export function inNetns(netns: string, argv: string[], input?: string): string {
  return run(['nsenter', `--net=${netns}`, ...argv], input);
}

/** Create the namespace (if it is not there) and its pasta (if it is not running). Caller holds the IPAM lock. */
export function ensureRootlessNetns(runRoot: string): string {
  const file = rootlessNetnsPath(runRoot);
  if (!isNamespaceMount(file)) {
    // A pasta left from a namespace that is gone (system migrate, a new pause process) serves nobody.
    stopPasta(runRoot);
    // A new namespace has no bridges yet (and may reuse the old one's inode number).
    fs.rmSync(path.join(path.dirname(file), 'bridges'), { recursive: true, force: true });
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, '');
    run(['unshare', `--net=${file}`, 'true']);
    inNetns(file, [
      'sh',
      '-c',
      `ip link set lo up && echo 1 > /proc/sys/net/ipv4/ip_forward && { [ ! -e /proc/sys/net/ipv6 ] || echo 1 > /proc/sys/net/ipv6/conf/all/forwarding; } && ip rule add fwmark ${TPROXY_MARK} lookup ${TPROXY_MARK} && ip route add local 0.0.0.0/0 dev lo table ${TPROXY_MARK}`,
    ]);
    // The forwarder marks its sockets (TPROXY_SOCKET_MARK): their connections are remembered, their replies routed locally.
    inNetns(
      file,
      ['nft', '-f', '-'],
      `table ip tspod_tproxy {\n` +
        `chain output { type route hook output priority mangle; meta mark ${TPROXY_SOCKET_MARK} ct mark set ${TPROXY_MARK}; }\n` +
        `chain prerouting { type filter hook prerouting priority mangle; ct direction reply ct mark ${TPROXY_MARK} meta mark set ${TPROXY_MARK}; }\n}\n`,
    );
  }
  if (!pastaAlive(runRoot)) {
    const pasta = findExecutable('pasta');
    if (!pasta) throw new TspodError('pasta is not installed: user-defined networks reach the outside through it; install the passt package');
    fs.rmSync(pastaPidFile(runRoot), { force: true });
    // Every forwarding kind explicitly off: published ports go through tspod's own forwarder.
    run([pasta, '--config-net', '--quiet', '--netns', file, '--pid', pastaPidFile(runRoot), '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none', '--dns-forward', DNS_FORWARD]);
  }
  return file;
}

function stopPasta(runRoot: string): void {
  try {
    const pid = Number(fs.readFileSync(pastaPidFile(runRoot), 'utf8').trim());
    if (pid > 1 && /^pas/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8'))) process.kill(pid, 'SIGTERM');
  } catch {
    // not running
  }
  fs.rmSync(pastaPidFile(runRoot), { force: true });
}

/** End pasta and release the namespace (no container is attached any more). */
export function removeRootlessNetns(runRoot: string): void {
  stopPasta(runRoot);
  fs.rmSync(path.join(rootlessNetnsDir(runRoot), 'bridges'), { recursive: true, force: true });
  const file = rootlessNetnsPath(runRoot);
  if (isNamespaceMount(file)) {
    try {
      native().umount(file, MNT_DETACH);
    } catch (err) {
      log.debug(`cannot unmount ${file}: ${(err as Error).message}`);
    }
  }
  fs.rmSync(file, { force: true });
}

/** nftables table name of a network: one table each, replaced as a whole. */
function tableName(n: NetworkRecord): string {
  return `tspod_${n.network_interface.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * The network's bridge with its gateway address, and its nftables table:
 * masquerade to the outside, or for --internal no forwarding out at all.
 * Idempotent: run at every attach.
 */
export function ensureBridge(netns: string, n: NetworkRecord): void {
  // Done once per namespace: a marker names the namespace (its inode) and the network (its id) it was done for.
  const marker = bridgeMarker(netns, n);
  const stamp = `${fs.statSync(netns).ino} ${n.id}`;
  try {
    if (fs.readFileSync(marker, 'utf8') === stamp) return;
  } catch {
    // not set up in this namespace yet
  }
  const v4 = ipv4Subnet(n);
  const v6 = ipv6Subnet(n);
  const br = n.network_interface;
  const addrs = [
    ...(v4 ? [`ip addr replace ${v4.gateway}/${parseSubnet(v4.subnet).prefix} dev ${br}`] : []),
    // nodad: the gateway answers at once (duplicate address detection would hold it back for a second or two).
    ...(v6 ? [`ip addr replace ${v6.gateway}/${parseSubnet6(v6.subnet).prefix} dev ${br} nodad`] : []),
  ];
  inNetns(netns, ['sh', '-c', `ip link show ${br} >/dev/null 2>&1 || ip link add ${br} type bridge; ${[...addrs, `ip link set ${br} up`].join(' && ')}`]);
  const table = tableName(n);
  // One table per family (ip, ip6), each replaced as a whole.
  const script = [v4 ? (['ip', v4.subnet] as const) : undefined, v6 ? (['ip6', v6.subnet] as const) : undefined]
    .filter((x) => x !== undefined)
    .map(([family, subnet]) => {
      const rules = n.internal
        ? `chain forward { type filter hook forward priority filter; ${family} saddr ${subnet} ${family} daddr != ${subnet} drop; ${family} daddr ${subnet} ${family} saddr != ${subnet} drop; }`
        : `chain postrouting { type nat hook postrouting priority srcnat; ${family} saddr ${subnet} ${family} daddr != ${subnet} masquerade; }`;
      return `table ${family} ${table} {}\ndelete table ${family} ${table}\ntable ${family} ${table} {\n${rules}\n}\n`;
    })
    .join('');
  inNetns(netns, ['nft', '-f', '-'], script);
  fs.mkdirSync(path.dirname(marker), { recursive: true, mode: 0o700 });
  fs.writeFileSync(marker, stamp);
}

function bridgeMarker(netns: string, n: NetworkRecord): string {
  return path.join(path.dirname(netns), 'bridges', n.network_interface);
}

/** The bridge and its table go when the network is removed (if the namespace exists). */
export function removeBridge(runRoot: string, n: NetworkRecord): void {
  const netns = rootlessNetnsPath(runRoot);
  fs.rmSync(bridgeMarker(netns, n), { force: true });
  if (!isNamespaceMount(netns)) return;
  try {
    inNetns(netns, ['sh', '-c', `ip link del ${n.network_interface} 2>/dev/null; nft delete table ip ${tableName(n)} 2>/dev/null; nft delete table ip6 ${tableName(n)} 2>/dev/null; true`]);
  } catch (err) {
    log.debug(`cannot remove bridge ${n.network_interface}: ${(err as Error).message}`);
  }
}

export function haveNetworkTools(): void {
  for (const tool of ['ip', 'nft', 'nsenter', 'unshare']) {
    if (!findExecutable(tool, TOOL_PATH)) {
      throw new TspodError(`${tool} is not installed: user-defined networks need it; install ${tool === 'ip' ? 'iproute2' : tool === 'nft' ? 'nftables' : 'util-linux'}`);
    }
  }
}
