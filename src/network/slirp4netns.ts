import path from 'node:path';
import { addressInNetwork, type Slirp4netnsOptions } from './mode.js';
import type { PortMapping } from './ports.js';

/** Where the launcher puts slirp4netns's ready and exit pipes (see run_resident_helper in container.c). */
const READY_FD = 3;
const EXIT_FD = 4;

/** The container's address, gateway (the host) and DNS forwarder in slirp4netns's network. */
export function slirpAddresses(o: Slirp4netnsOptions): { guest: string; gateway: string; dns: string } {
  return { guest: addressInNetwork(o.cidr, 100), gateway: addressInNetwork(o.cidr, 2), dns: addressInNetwork(o.cidr, 3) };
}

/**
 * slirp4netns for a container: it configures tap0 in the namespace file the
 * launcher binds, says it is ready on READY_FD, ends when EXIT_FD closes (the
 * monitor holds the other end), and forwards published ports through
 * `add_hostfwd` calls on its API socket, which keep the client's address.
 */
export function slirp4netnsHelper(slirp: string, runDir: string, o: Slirp4netnsOptions, ports: PortMapping[]) {
  const netnsPath = path.join(runDir, 'netns');
  const apiSocket = path.join(runDir, 'slirp4netns.sock');
  const argv = [
    slirp,
    '--configure',
    `--mtu=${o.mtu}`,
    `--cidr=${o.cidr}`,
    ...(o.allowHostLoopback ? [] : ['--disable-host-loopback']),
    ...(o.enableIPv6 ? ['--enable-ipv6'] : []),
    `--ready-fd=${READY_FD}`,
    `--exit-fd=${EXIT_FD}`,
    // Relative to runDir (the helper starts there): socket paths are limited to 108 bytes.
    `--api-socket=${path.basename(apiSocket)}`,
    '--netns-type=path',
    netnsPath,
    'tap0',
  ];
  const guest = slirpAddresses(o).guest;
  const apiRequests: string[] = [];
  for (const p of ports) {
    for (let i = 0; i < p.range; i++) {
      apiRequests.push(
        JSON.stringify({
          execute: 'add_hostfwd',
          arguments: { proto: p.protocol, host_addr: p.hostIp || '0.0.0.0', host_port: p.hostPort + i, guest_addr: guest, guest_port: p.containerPort + i },
        }),
      );
    }
  }
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
  };
}
