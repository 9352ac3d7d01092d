import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { RegistryError } from '../../../src/image/registry/errors.js';
import { type Fixtures, buildFixtures, pushImage } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';

let reg: RegistryServer;
let fx: Fixtures;
let tmp: string;
let certsd: string;
const clients: RegistryClient[] = [];
function client(opts: Partial<ConstructorParameters<typeof RegistryClient>[0]>): RegistryClient {
  const c = new RegistryClient({ registry: reg.host, ...opts });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-reg-tls-'));
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'tls' });
  certsd = path.join(tmp, 'home', '.config', 'containers', 'certs.d');
  fs.mkdirSync(path.join(certsd, reg.host), { recursive: true });
  fs.writeFileSync(path.join(certsd, reg.host, 'ca.crt'), reg.caCert!);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('TLS registry', { timeout: 30_000 }, () => {
  it('fails verification without the CA and says where to put it', async () => {
    const empty = path.join(tmp, 'empty-certs.d');
    const c = client({ certDirs: [empty, '/nonexistent/certs.d'] });
    const err = await c.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    const msg = (err as Error).message;
    expect(msg).toMatch(new RegExp(`^cannot verify the TLS certificate of registry ${reg.host.replace(/\./g, '\\.')}`));
    expect(msg).toContain(`${empty}/${reg.host}/ca.crt`);
    expect(msg).toContain('--tls-verify=false');
    expect(msg).not.toContain('\n');
  });

  it('trusts the CA from certs.d/<host:port>/ca.crt and round-trips an image', async () => {
    const c = client({ certDirs: [certsd] });
    expect(await c.ping()).toEqual({ scheme: 'https', auth: 'none' });
    expect(await pushImage(c, 'tls/busybox', 'v1', fx.busybox)).toBe(fx.busybox.manifestDigest);
    const m = await c.getManifest({ repository: 'tls/busybox', digest: fx.busybox.manifestDigest });
    expect(m.bytes.equals(fx.busybox.manifest)).toBe(true);
  });

  it('with --tls-verify=false uses HTTPS without verification (no fallback to http)', async () => {
    const c = client({ certDirs: [], tlsVerify: false });
    expect(await c.ping()).toEqual({ scheme: 'https', auth: 'none' });
    const m = await c.getManifest({ repository: 'tls/busybox', tag: 'v1' });
    expect(m.digest).toBe(fx.busybox.manifestDigest);
  });

  it('the CA of another registry does not help', async () => {
    const other = path.join(tmp, 'other-certs.d');
    fs.mkdirSync(path.join(other, '127.0.0.1:1'), { recursive: true });
    fs.writeFileSync(path.join(other, '127.0.0.1:1', 'ca.crt'), reg.caCert!);
    const c = client({ certDirs: [other] });
    await expect(c.ping()).rejects.toThrow(/^cannot verify the TLS certificate/);
  });
});

describe('TLS registry requiring client certificates', { timeout: 30_000 }, () => {
  let mreg: RegistryServer;
  beforeAll(async () => {
    mreg = await startRegistry({ mode: 'tls', clientAuth: true });
  });
  afterAll(async () => {
    await mreg?.stop();
  });

  function certsDir(name: string, withClientCert: boolean): string {
    const d = path.join(tmp, name);
    fs.mkdirSync(path.join(d, mreg.host), { recursive: true });
    fs.writeFileSync(path.join(d, mreg.host, 'ca.crt'), mreg.caCert!);
    if (withClientCert) {
      fs.writeFileSync(path.join(d, mreg.host, 'client.cert'), mreg.clientCert!);
      fs.writeFileSync(path.join(d, mreg.host, 'client.key'), mreg.clientKey!);
    }
    return d;
  }

  it('presents certs.d/<host>/client.cert + client.key', async () => {
    const c = new RegistryClient({ registry: mreg.host, certDirs: [certsDir('mtls-ok', true)] });
    clients.push(c);
    expect(await c.ping()).toEqual({ scheme: 'https', auth: 'none' });
    expect(await pushImage(c, 'mtls/busybox', 'v1', fx.busybox)).toBe(fx.busybox.manifestDigest);
    expect((await c.getManifest({ repository: 'mtls/busybox', tag: 'v1' })).digest).toBe(fx.busybox.manifestDigest);
  });

  it('says a client certificate is needed when none is configured', async () => {
    const dir = certsDir('mtls-none', false);
    const c = new RegistryClient({ registry: mreg.host, certDirs: [dir], retry: { maxAttempts: 1 } });
    clients.push(c);
    const err = await c.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(
      `registry ${mreg.host} requires a TLS client certificate; put client.cert and client.key in ${dir}/${mreg.host}/`,
    );
  });
});
