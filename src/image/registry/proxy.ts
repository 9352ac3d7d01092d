/**
 * HTTP(S) proxies as containers/image (Go's ProxyFromEnvironment) chooses them:
 * HTTPS_PROXY for https URLs, HTTP_PROXY for http ones, NO_PROXY exceptions, and never
 * for localhost or loopback addresses. Only `http://` proxies are supported (CONNECT
 * tunnels for https targets, absolute-form requests for http ones).
 */
import http from 'node:http';
import net from 'node:net';
import { TspodError } from '../../util/errors.js';
import { RegistryError } from './errors.js';

function env(e: NodeJS.ProcessEnv, name: string): string | undefined {
  return e[name] || e[name.toLowerCase()] || undefined;
}

/** Parse a proxy setting (`host:port` means `http://host:port`). */
export function parseProxyUrl(value: string): URL {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new TspodError(`invalid proxy "${value}"; set HTTP_PROXY/HTTPS_PROXY to http://host:port`);
  }
  if (u.protocol !== 'http:') {
    throw new TspodError(`proxy ${u.protocol}//${u.host} is not supported (only http:// proxies are); change HTTPS_PROXY/HTTP_PROXY`);
  }
  return u;
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function ipInCidr(ip: string, cidr: string): boolean {
  const [range, bitsS] = cidr.split('/');
  const bits = Number(bitsS);
  const fam = net.isIP(ip);
  if (!range || fam === 0 || fam !== net.isIP(range) || !Number.isInteger(bits)) return false;
  const list = new net.BlockList();
  list.addSubnet(range, bits, fam === 4 ? 'ipv4' : 'ipv6');
  return list.check(ip, fam === 4 ? 'ipv4' : 'ipv6');
}

/** Whether NO_PROXY exempts `host` (without brackets) on `port`. */
export function noProxyMatches(host: string, port: string, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const h = stripBrackets(host).toLowerCase();
  for (let entry of noProxy.split(/[\s,]+/).filter(Boolean)) {
    entry = entry.toLowerCase();
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (ipInCidr(h, entry)) return true;
      continue;
    }
    let entryPort: string | undefined;
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (m) {
      entry = m[1]!;
      entryPort = m[2];
    }
    entry = stripBrackets(entry);
    if (entryPort && entryPort !== port) continue;
    if (net.isIP(entry)) {
      if (entry === h) return true;
      continue;
    }
    const domain = entry.replace(/^\*?\./, '');
    if (h === domain || h.endsWith(`.${domain}`)) return true;
  }
  return false;
}

function isLoopback(host: string): boolean {
  const h = stripBrackets(host).toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  return h === '::1';
}

/** The proxy to use for `url` per the environment, or undefined for a direct connection. */
export function proxyFromEnvironment(url: URL, e: NodeJS.ProcessEnv = process.env): URL | undefined {
  const value = url.protocol === 'https:' ? env(e, 'HTTPS_PROXY') : env(e, 'HTTP_PROXY');
  if (!value) return undefined;
  if (isLoopback(url.hostname)) return undefined;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (noProxyMatches(url.hostname, port, env(e, 'NO_PROXY'))) return undefined;
  return parseProxyUrl(value);
}

export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username) return undefined;
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

/** Open a CONNECT tunnel through `proxy` to `host:port`. */
export function openTunnel(proxy: URL, host: string, port: string, registry: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const target = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
    const auth = proxyAuthorization(proxy);
    const req = http.request({
      host: stripBrackets(proxy.hostname),
      port: Number(proxy.port || 80),
      method: 'CONNECT',
      path: target,
      headers: { Host: target, ...(auth ? { 'Proxy-Authorization': auth } : {}) },
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`proxy ${proxy.host} did not answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    req.on('connect', (res, socket, head) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(
          new RegistryError(
            res.statusCode === 407
              ? `proxy ${proxy.host} requires authentication; put the credentials in the proxy URL (http://user:password@host:port)`
              : `proxy ${proxy.host} refused to connect to registry ${registry} (HTTP ${res.statusCode})`,
            { registry, status: res.statusCode ?? 0 },
          ),
        );
        return;
      }
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new RegistryError(`cannot reach proxy ${proxy.host} for registry ${registry}: ${err.code === 'ECONNREFUSED' ? 'connection refused' : err.message}`, { registry, status: 0, ...(err.code ? { code: err.code } : {}), cause: err }));
    });
    req.end();
  });
}
