import fs from 'node:fs';
import os from 'node:os';
import { type NetworkMode } from './mode.js';
import { slirpAddresses } from './slirp4netns.js';

/** The host's default IPv4 route: its interface and gateway (from /proc/net/route). */
export function defaultRoute(routes = readRoutes()): { iface: string; gateway: string } | undefined {
  for (const line of routes.split('\n').slice(1)) {
    const [iface, dest, gw] = line.trim().split(/\s+/);
    if (dest !== '00000000' || !gw) continue;
    // Little-endian hex, as the kernel prints it.
    const n = parseInt(gw, 16);
    return { iface, gateway: [0, 8, 16, 24].map((s) => (n >>> s) & 255).join('.') };
  }
  return undefined;
}

function readRoutes(): string {
  try {
    return fs.readFileSync('/proc/net/route', 'utf8');
  } catch {
    return '';
  }
}

/** The host's IPv4 addresses that are not loopback, interface by interface. */
function hostAddresses(): { iface: string; address: string }[] {
  return Object.entries(os.networkInterfaces()).flatMap(([iface, list]) =>
    (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => ({ iface, address: a.address })),
  );
}

/**
 * The address `host.containers.internal` (and `host.docker.internal`) names in
 * the container's /etc/hosts, as Podman chooses it:
 * - slirp4netns with allow_host_loopback: its gateway (10.0.2.2), which leads to
 *   the host's loopback; otherwise the host's first address, reached through NAT;
 * - pasta with --map-gw: the gateway pasta copied from the host, which it maps
 *   to the host; otherwise a host address other than the one pasta gives the
 *   container (which from inside would be the container itself); none if the
 *   host has no other, and then no entry is written (Podman 5 does the same);
 * - other modes: none.
 */
export function hostContainersInternal(mode: NetworkMode): string | undefined {
  if (mode.kind === 'slirp4netns') {
    return mode.options.allowHostLoopback ? slirpAddresses(mode.options).gateway : hostAddresses()[0]?.address;
  }
  if (mode.kind === 'pasta') {
    const route = defaultRoute();
    if (mode.options.includes('--map-gw')) return route?.gateway;
    const all = hostAddresses();
    const copied = all.find((a) => a.iface === route?.iface)?.address ?? all[0]?.address;
    return all.find((a) => a.address !== copied)?.address;
  }
  return undefined;
}
