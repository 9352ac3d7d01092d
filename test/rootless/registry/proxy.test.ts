import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import type { RegistryClientOptions } from '../../../src/image/registry/types.js';
import { type Fixtures, buildFixtures, collect, pushImage, sha256 } from '../../helpers/image-fixtures.js';
import { type ForwardProxy, type RegistryServer, freePort, startForwardProxy, startRegistry } from '../../helpers/registry-server.js';

let plain: RegistryServer;
let tlsReg: RegistryServer;
let proxy: ForwardProxy;
let authProxy: ForwardProxy;
let fx: Fixtures;
let tmp: string;
let certsd: string;
const clients: RegistryClient[] = [];
function client(opts: RegistryClientOptions): RegistryClient {
  const c = new RegistryClient(opts);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-reg-proxy-'));
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  [plain, tlsReg, proxy, authProxy] = await Promise.all([
    startRegistry({ mode: 'plain' }),
    startRegistry({ mode: 'tls' }),
    startForwardProxy(),
    startForwardProxy({ username: 'pu', password: 'pp' }),
  ]);
  certsd = path.join(tmp, 'certs.d');
  fs.mkdirSync(path.join(certsd, tlsReg.host), { recursive: true });
  fs.writeFileSync(path.join(certsd, tlsReg.host, 'ca.crt'), tlsReg.caCert!);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all([plain?.stop(), tlsReg?.stop(), proxy?.stop(), authProxy?.stop()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('HTTP proxies', { timeout: 30_000 }, () => {
  it('tunnels HTTPS through CONNECT, verifying the registry certificate end to end', async () => {
    proxy.seen.length = 0;
    const c = client({ registry: tlsReg.host, certDirs: [certsd], proxy: proxy.url });
    expect(await pushImage(c, 'proxied/busybox', 'v1', fx.busybox)).toBe(fx.busybox.manifestDigest);
    const l = fx.busybox.layers[0]!;
    expect(sha256(await collect(await c.getBlob('proxied/busybox', l.digest, { size: l.size })))).toBe(l.digest);
    expect(proxy.seen.length).toBeGreaterThan(3);
    expect(proxy.seen.every((s) => s.kind === 'connect' && s.target === tlsReg.host)).toBe(true);
    // without the CA the tunnel still carries a TLS handshake that fails verification
    const bad = client({ registry: tlsReg.host, certDirs: [], proxy: proxy.url });
    await expect(bad.ping()).rejects.toThrow(/^cannot verify the TLS certificate/);
  });

  it('sends plain HTTP requests in absolute form', async () => {
    proxy.seen.length = 0;
    const c = client({ registry: plain.host, tlsVerify: false, certDirs: [], proxy: proxy.url });
    expect(await pushImage(c, 'proxied/busybox', 'v1', fx.busybox)).toBe(fx.busybox.manifestDigest);
    expect((await c.getManifest({ repository: 'proxied/busybox', tag: 'v1' })).digest).toBe(fx.busybox.manifestDigest);
    const http = proxy.seen.filter((s) => s.kind === 'http');
    expect(http.length).toBeGreaterThan(3);
    expect(http.every((s) => s.target.startsWith(`http://${plain.host}/v2/`))).toBe(true);
  });

  it('authenticates to the proxy with credentials from its URL, and explains a 407', async () => {
    authProxy.seen.length = 0;
    const u = new URL(authProxy.url);
    const ok = client({ registry: tlsReg.host, certDirs: [certsd], proxy: `http://pu:pp@${u.host}` });
    expect((await ok.getManifest({ repository: 'proxied/busybox', tag: 'v1' })).digest).toBe(fx.busybox.manifestDigest);
    expect(authProxy.seen.every((s) => s.proxyAuthorization === `Basic ${Buffer.from('pu:pp').toString('base64')}`)).toBe(true);
    const no = client({ registry: tlsReg.host, certDirs: [certsd], proxy: authProxy.url });
    await expect(no.ping()).rejects.toThrow(`proxy ${u.host} requires authentication; put the credentials in the proxy URL (http://user:password@host:port)`);
  });

  it('ignores HTTPS_PROXY for loopback registries, as containers/image does', async () => {
    proxy.seen.length = 0;
    const c = client({ registry: tlsReg.host, certDirs: [certsd], env: { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url } });
    expect((await c.getManifest({ repository: 'proxied/busybox', tag: 'v1' })).digest).toBe(fx.busybox.manifestDigest);
    expect(proxy.seen).toHaveLength(0);
  });

  it('says when the proxy itself cannot be reached', async () => {
    const port = await freePort();
    const c = client({ registry: tlsReg.host, certDirs: [certsd], proxy: `http://127.0.0.1:${port}` });
    await expect(c.ping()).rejects.toThrow(`cannot reach proxy 127.0.0.1:${port} for registry ${tlsReg.host}: connection refused`);
    const h = client({ registry: plain.host, tlsVerify: false, certDirs: [], proxy: `http://127.0.0.1:${port}` });
    await expect(h.ping()).rejects.toThrow(`cannot reach proxy 127.0.0.1:${port} for registry ${plain.host}: connection refused`);
  });
});
