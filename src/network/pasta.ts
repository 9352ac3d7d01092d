import fs from 'node:fs';
import { findExecutable } from '../util/which.js';
import type { PortMapping } from './ports.js';

/**
 * pasta's command line for a container (the container's pid is appended by the
 * launcher). Every forwarding kind is given explicitly: pasta's default for each
 * is `auto`, which would forward every port the container listens on.
 */
export function pastaArgs(
  pasta: string,
  ports: PortMapping[],
  opts: { netnsPath: string; pidFile: string; dnsForward?: string; options?: string[] },
): string[] {
  const args = [pasta, '--config-net', '--quiet', '--netns', opts.netnsPath, '--pid', opts.pidFile];
  // As Podman 5: the gateway address does not lead to the host's loopback unless `pasta:--map-gw` asks.
  // (This pasta has no --map-gw option: mapping is its default, so asking only drops --no-map-gw.)
  const user = opts.options ?? [];
  if (!user.includes('--map-gw')) args.push('--no-map-gw');
  args.push(...user.filter((o) => o !== '--map-gw'));
  const spec = (p: PortMapping) => {
    const host = p.range > 1 ? `${p.hostPort}-${p.hostPort + p.range - 1}` : `${p.hostPort}`;
    const ctr = p.range > 1 ? `${p.containerPort}-${p.containerPort + p.range - 1}` : `${p.containerPort}`;
    return `${p.hostIp ? `${p.hostIp}/` : ''}${host}:${ctr}`;
  };
  const tcp = ports.filter((p) => p.protocol === 'tcp');
  const udp = ports.filter((p) => p.protocol === 'udp');
  if (tcp.length) for (const p of tcp) args.push('-t', spec(p));
  else args.push('-t', 'none');
  if (udp.length) for (const p of udp) args.push('-u', spec(p));
  else args.push('-u', 'none');
  args.push('-T', 'none', '-U', 'none');
  if (opts.dnsForward) args.push('--dns-forward', opts.dnsForward);
  return args;
}

let cachedBinary: string | undefined;

/**
 * pasta's binary. /usr/bin/pasta re-executes itself as pasta.avx2 on CPUs
 * that have AVX2; naming that build directly saves one exec per container.
 */
export function pastaBinary(cpuinfo = () => fs.readFileSync('/proc/cpuinfo', 'utf8')): string {
  if (cachedBinary) return cachedBinary;
  const plain = findExecutable('pasta') ?? 'pasta';
  let avx2 = false;
  try {
    avx2 = fs.existsSync(`${plain}.avx2`) && /^flags\s*:.*\bavx2\b/m.test(cpuinfo());
  } catch {
    avx2 = false;
  }
  cachedBinary = avx2 ? `${plain}.avx2` : plain;
  return cachedBinary;
}
