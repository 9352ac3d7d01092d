import fs from 'node:fs';
import path from 'node:path';

/**
 * The /etc files tspod provides for a container. With a network namespace of
 * its own, the host's loopback resolvers (127.0.0.53 and the like) cannot be
 * reached from inside, so they are left out.
 */
export function hostsFile(hostname: string, extra: { ip: string; names: string[] }[] = []): string {
  const lines = [
    '127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4',
    '::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6',
    ...extra.map((e) => `${e.ip}\t${e.names.join(' ')}`),
    `127.0.1.1\t${hostname}`,
  ];
  return lines.join('\n') + '\n';
}

export function resolvConf(hostResolvConf: string, opts: { ownNetwork: boolean }): string {
  const lines = hostResolvConf.split('\n').filter((line) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) return line.trim() !== '';
    return !(opts.ownNetwork && (m[1].startsWith('127.') || m[1] === '::1'));
  });
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** Write hosts, hostname and resolv.conf into the container's userdata directory. */
/** --dns, --dns-search and --dns-option replace what the host's resolv.conf says of each. */
export interface DnsSettings {
  servers?: string[];
  search?: string[];
  options?: string[];
}

export function applyDnsSettings(base: string, dns: DnsSettings): string {
  let lines = base.split('\n').filter((l) => l.trim() !== '');
  const replace = (key: string, values: string[] | undefined, line: string) => {
    if (!values || values.length === 0) return;
    lines = lines.filter((l) => !new RegExp(`^\\s*${key}\\b`).test(l));
    lines.push(line);
  };
  if (dns.servers?.length) {
    lines = lines.filter((l) => !/^\s*nameserver\b/.test(l));
    lines.unshift(...dns.servers.map((s) => `nameserver ${s}`));
  }
  replace('search', dns.search, `search ${(dns.search ?? []).join(' ')}`);
  replace('options', dns.options, `options ${(dns.options ?? []).join(' ')}`);
  return lines.join('\n') + (lines.length ? '\n' : '');
}

export function writeEtcFiles(
  userdata: string,
  hostname: string,
  ownNetwork: boolean,
  extraNameservers: string[] = [],
  opts: { dns?: DnsSettings; addHosts?: { ip: string; names: string[] }[] } = {},
): { destination: string; source: string }[] {
  fs.mkdirSync(userdata, { recursive: true, mode: 0o700 });
  let hostResolv = '';
  try {
    hostResolv = fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    hostResolv = '';
  }
  const files: [string, string][] = [
    ['hosts', hostsFile(hostname, opts.addHosts ?? [])],
    ['hostname', `${hostname}\n`],
    ['resolv.conf', applyDnsSettings(extraNameservers.map((n) => `nameserver ${n}\n`).join('') + resolvConf(hostResolv, { ownNetwork }), opts.dns ?? {})],
  ];
  return files.map(([name, content]) => {
    const source = path.join(userdata, name);
    fs.writeFileSync(source, content, { mode: 0o644 });
    return { destination: `/etc/${name}`, source };
  });
}
