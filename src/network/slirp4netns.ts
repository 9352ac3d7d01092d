import net from 'node:net';
import path from 'node:path';
import { TspodError } from '../util/errors.js';
import { launcherPath } from '../util/paths.js';
import { addressInNetwork, type Slirp4netnsOptions } from './mode.js';
import { portForwarderPidFile } from './port-forwarder.js';
import type { PortMapping } from './ports.js';

/** Where the launcher puts slirp4netns's ready and exit pipes (see run_resident_helper in container.c). */
const READY_FD = 3;
const EXIT_FD = 4;

/** The container's address, gateway (the host) and DNS forwarder in slirp4netns's network. */
export function slirpAddresses(o: Slirp4netnsOptions): { guest: string; gateway: string; dns: string } {
  return { guest: addressInNetwork(o.cidr, 100), gateway: addressInNetwork(o.cidr, 2), dns: addressInNetwork(o.cidr, 3) };
}

/** A word for /bin/sh, quoted. */
const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * slirp4netns for a container: it configures tap0 in the namespace file the
 * launcher binds and says it is ready on READY_FD. Its EXIT_FD is a pidfd of the
 * container's first process (`tspod-launch --portfwd --exit-with`), so it lives
 * as long as the container, not as long as the monitor (a killed monitor leaves
 * the container its network and ports). Published ports, as Podman's two port
 * handlers:
 * - rootlesskit (the default): tspod's forwarder (`tspod-launch --portfwd`,
 *   started first, so a taken port fails the start) listens on the host and
 *   connects inside the container's namespace to its tap0 address, which the
 *   server sees as the client's, as with Podman's rootlessport. It too ends
 *   with the container's first process.
 * - slirp4netns: `add_hostfwd` calls on slirp4netns's API socket, slower but
 *   they keep the client's address.
 */
export function slirp4netnsHelper(slirp: string, runDir: string, o: Slirp4netnsOptions, ports: PortMapping[]) {
  const netnsPath = path.join(runDir, 'netns');
  const apiSocket = path.join(runDir, 'slirp4netns.sock');
  const slirpArgv = [
    slirp,
    '--configure',
    `--mtu=${o.mtu}`,
    `--cidr=${o.cidr}`,
    ...(o.allowHostLoopback ? [] : ['--disable-host-loopback']),
    ...(o.enableIPv6 ? ['--enable-ipv6'] : []),
    ...(o.outboundAddr ? [`--outbound-addr=${o.outboundAddr}`] : []),
    ...(o.outboundAddr6 ? [`--outbound-addr6=${o.outboundAddr6}`] : []),
    `--ready-fd=${READY_FD}`,
    `--exit-fd=${EXIT_FD}`,
    // Relative to runDir (the helper starts there): socket paths are limited to 108 bytes.
    `--api-socket=${path.basename(apiSocket)}`,
    '--netns-type=path',
    netnsPath,
    'tap0',
  ];
  const guest = slirpAddresses(o).guest;
  const each = ports.flatMap((p) => Array.from({ length: p.range }, (_, i) => ({ ...p, hostPort: p.hostPort + i, containerPort: p.containerPort + i })));
  const apiRequests: string[] = [];
  const script: string[] = [];
  // Neither handler binds IPv6 host addresses (slirp4netns's API refuses them too).
  const v6 = each.find((p) => net.isIPv6(p.hostIp));
  if (v6) throw new TspodError(`cannot publish on the IPv6 address ${v6.hostIp} with slirp4netns: give an IPv4 host address (or none), or use --network pasta`);
  if (o.portHandler === 'slirp4netns') {
    for (const p of each) {
      apiRequests.push(
        JSON.stringify({
          execute: 'add_hostfwd',
          arguments: { proto: p.protocol, host_addr: p.hostIp || '0.0.0.0', host_port: p.hostPort, guest_addr: guest, guest_port: p.containerPort },
        }),
      );
    }
  } else if (each.length) {
    const forwards = each.map((p) => `${p.protocol}:${p.hostIp || '0.0.0.0'}:${p.hostPort}:${guest}:${p.containerPort}`);
    // The forwarder must not hold slirp4netns's ready pipe: a failing slirp4netns would then go unnoticed for 15 s.
    script.push(`${shellWord(launcherPath())} --portfwd --no-transparent ${shellWord(netnsPath)} "$TSPOD_CONTAINER_PID" ${shellWord(portForwarderPidFile(runDir))} ${forwards.join(' ')} ${READY_FD}>&- ${EXIT_FD}>&- || exit 125`);
  }
  // TSPOD_CONTAINER_PID: set by the launcher for its network helpers (run_network_helper in container.c).
  script.push(`exec ${shellWord(launcherPath())} --portfwd --exit-with "$TSPOD_CONTAINER_PID" ${EXIT_FD} "$@"`);
  const argv = ['/bin/sh', '-c', script.join('\n'), 'tspod-slirp4netns', ...slirpArgv];
  return {
    argv,
    netnsPath,
    pidFile: path.join(runDir, 'slirp4netns.pid'),
    readyFd: READY_FD,
    exitFd: EXIT_FD,
    logFile: path.join(runDir, 'slirp4netns.log'),
    apiSocket,
    apiRequests,
    cwd: runDir,
    // As Podman: no duplicate address detection on tap0, which would hold its IPv6 addresses back for 1-2 s.
    ipv6NoDad: o.enableIPv6,
  };
}
