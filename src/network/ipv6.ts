import crypto from 'node:crypto';
import net from 'node:net';
import { TspodError } from '../util/errors.js';

/** IPv6 addresses as 128-bit integers, for the subnets of dual-stack networks. */

const FULL = (1n << 128n) - 1n;

/** `fd00::1` -> 128-bit integer; undefined when it is not an IPv6 address. */
export function ip6ToBigInt(ip: string): bigint | undefined {
  if (!net.isIPv6(ip) || ip.includes('%')) return undefined;
  let text = ip;
  // A trailing dotted IPv4 part (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** 128-bit integer -> the canonical text form (RFC 5952: lower case, the longest run of zero groups as `::`). */
export function bigIntToIp6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(16 * (7 - i))) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export interface Subnet6 {
  base: bigint;
  prefix: number;
  size: bigint;
}

export function isIPv6Cidr(cidr: string): boolean {
  return cidr.includes(':');
}

/** `fd00:1::/64` -> base address (masked to the prefix) and prefix, checked. */
export function parseSubnet6(cidr: string): Subnet6 {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(cidr);
  const addr = m ? ip6ToBigInt(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (addr === undefined || !(prefix >= 8 && prefix <= 126)) {
    throw new TspodError(`invalid subnet "${cidr}": give an IPv6 network in CIDR form with a prefix from /8 to /126, e.g. fd00:1:2:3::/64`);
  }
  const size = 1n << BigInt(128 - prefix);
  return { base: addr & (FULL ^ (size - 1n)), prefix, size };
}

export function formatSubnet6(s: Subnet6): string {
  return `${bigIntToIp6(s.base)}/${s.prefix}`;
}

/** A host address of the subnet: neither its first (the subnet-router anycast address) nor, as Podman, its last. */
export function inSubnet6(ip: string, cidr: string): boolean {
  const n = ip6ToBigInt(ip);
  const { base, size } = parseSubnet6(cidr);
  return n !== undefined && n > base && n < base + size - 1n;
}

export function overlaps6(a: string, b: string): boolean {
  const x = parseSubnet6(a);
  const y = parseSubnet6(b);
  return x.base < y.base + y.size && y.base < x.base + x.size;
}

/** Podman's default IPv6 subnet: a random unique local fdXX:XXXX:XXXX:XXXX::/64 (RFC 4193). */
export function randomUlaSubnet(): string {
  const b = crypto.randomBytes(7);
  return formatSubnet6({ base: (0xfdn << 120n) | (BigInt(`0x${b.toString('hex')}`) << 64n), prefix: 64, size: 1n << 64n });
}
