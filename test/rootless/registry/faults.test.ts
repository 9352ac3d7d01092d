import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { RegistryError } from '../../../src/image/registry/errors.js';
import { type Fixtures, buildFixtures, collect, pushImage, sha256 } from '../../helpers/image-fixtures.js';
import { type FaultProxy, type RegistryServer, startFaultProxy, startRegistry } from '../../helpers/registry-server.js';

let reg: RegistryServer;
let proxy: FaultProxy;
let fx: Fixtures;
let tmp: string;
let debug: string[] = [];
const clients: RegistryClient[] = [];
const REPO = 'faults/busybox';

function client(extra: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}): RegistryClient {
  const c = new RegistryClient({
    registry: proxy.host,
    tlsVerify: false,
    certDirs: [],
    retry: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 4 },
    onDebug: (m) => debug.push(m),
    ...extra,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-reg-faults-'));
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  proxy = await startFaultProxy(reg.host);
  const direct = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  await pushImage(direct, REPO, 'v1', fx.busybox);
  direct.close();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await proxy?.stop();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  debug = [];
  proxy.setHook(() => ({ kind: 'pass' }));
});

const layer = () => fx.busybox.layers[0]!;
const isBlobGet = (req: http.IncomingMessage, digest: string) => req.method === 'GET' && req.url === `/v2/${REPO}/blobs/${digest}`;

describe('interrupted downloads', { timeout: 30_000 }, () => {
  it('resumes a cut blob download with a Range request and checks the overlap', async () => {
    const l = layer();
    proxy.setHook((req, n) => (isBlobGet(req, l.digest) && n === 0 ? { kind: 'cut', afterBytes: 300_000 } : { kind: 'pass' }));
    const c = client();
    const bytes = await collect(await c.getBlob(REPO, l.digest, { size: l.size }));
    expect(bytes.length).toBe(l.size);
    expect(sha256(bytes)).toBe(l.digest);
    expect(bytes.equals(fs.readFileSync(l.path))).toBe(true);
    const gets = proxy.requests.filter((r) => r.url.endsWith(l.digest));
    expect(gets).toHaveLength(2);
    expect(gets[0]!.headers.range).toBeUndefined();
    expect(gets[1]!.headers.range).toBe(`bytes=${300_000 - 512}-`);
    expect(gets[1]!.headers['if-range']).toBe(`"${l.digest}"`);
    expect(debug.some((m) => /connection lost at 300000; resuming from 299488/.test(m))).toBe(true);
  });

  it('resumes a download that stalled past the idle timeout', async () => {
    const l = layer();
    proxy.setHook((req, n) => (isBlobGet(req, l.digest) && n === 0 ? { kind: 'stall', afterBytes: 400_000 } : { kind: 'pass' }));
    const c = client({ idleTimeoutMs: 500 });
    const t0 = Date.now();
    const bytes = await collect(await c.getBlob(REPO, l.digest, { size: l.size }));
    expect(sha256(bytes)).toBe(l.digest);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const gets = proxy.requests.filter((r) => r.url.endsWith(l.digest));
    expect(gets.map((r) => r.headers.range)).toEqual([undefined, `bytes=${400_000 - 512}-`]);
    expect(debug.some((m) => /connection lost at 400000/.test(m))).toBe(true);
  });

  it('restarts from zero when the server ignores the range', async () => {
    const l = layer();
    proxy.setHook((req, n) => (!isBlobGet(req, l.digest) ? { kind: 'pass' } : n === 0 ? { kind: 'cut', afterBytes: 123_457 } : { kind: 'ignoreRange' }));
    const c = client();
    const bytes = await collect(await c.getBlob(REPO, l.digest, { size: l.size }));
    expect(sha256(bytes)).toBe(l.digest);
    expect(proxy.requests.filter((r) => r.url.endsWith(l.digest)).map((r) => r.action)).toEqual(['cut', 'ignoreRange']);
    expect(debug.some((m) => /ignored the range; restarting from 0/.test(m))).toBe(true);
  });

  it('refuses a resumed range whose bytes do not continue the download', async () => {
    const l = layer();
    proxy.setHook((req, n) => {
      if (!isBlobGet(req, l.digest)) return { kind: 'pass' };
      if (n === 0) return { kind: 'cut', afterBytes: 200_000 };
      return {
        kind: 'mutate',
        fn: (b, status) => {
          const copy = Buffer.from(b);
          if (status === 206) copy[10] = copy[10]! ^ 0xff; // inside the 512-byte overlap
          return copy;
        },
      };
    });
    const c = client();
    const stream = await c.getBlob(REPO, l.digest, { size: l.size });
    await expect(collect(stream)).rejects.toThrow(/changed while its download was being resumed/);
  });

  it('gives up after the bounded number of resumes', async () => {
    const l = layer();
    proxy.setHook((req) => (isBlobGet(req, l.digest) ? { kind: 'cut', afterBytes: 100_000 } : { kind: 'pass' }));
    const c = client({ maxResumeAttempts: 2 });
    const stream = await c.getBlob(REPO, l.digest, { size: l.size });
    const err = await collect(stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(/^download of .* failed after \d+ bytes .*try again$/);
    expect(proxy.requests.filter((r) => r.url.endsWith(l.digest))).toHaveLength(3);
  });

  it('detects corrupted blob content (same length, wrong digest)', async () => {
    const cfg = fx.busybox.config;
    proxy.setHook((req) =>
      isBlobGet(req, cfg.digest) ? { kind: 'mutate', fn: (b) => Buffer.from(b.toString('latin1').replace('linux', 'LINUX'), 'latin1') } : { kind: 'pass' },
    );
    const c = client();
    const stream = await c.getBlob(REPO, cfg.digest, { size: cfg.size });
    await expect(collect(stream)).rejects.toThrow(/^blob digest mismatch for .*: got sha256:[0-9a-f]{64}; the registry is corrupt or compromised$/);
  });
});

describe('retries', { timeout: 30_000 }, () => {
  const isManifestGet = (req: http.IncomingMessage) => req.method === 'GET' && req.url === `/v2/${REPO}/manifests/v1`;

  it('retries a request answered 503 twice, then succeeds', async () => {
    proxy.setHook((req, n) => (isManifestGet(req) && n < 2 ? { kind: 'status', status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}' } : { kind: 'pass' }));
    const c = client();
    const m = await c.getManifest({ repository: REPO, tag: 'v1' });
    expect(m.digest).toBe(fx.busybox.manifestDigest);
    expect(proxy.requests.filter((r) => r.url === `/v2/${REPO}/manifests/v1`).map((r) => r.action)).toEqual(['status', 'status', 'pass']);
    expect(debug.filter((m) => /answered 503; retry/.test(m))).toHaveLength(2);
  });

  it('honours 429 with Retry-After and retries dropped connections', async () => {
    proxy.setHook((req, n) =>
      !isManifestGet(req) ? { kind: 'pass' } : n === 0 ? { kind: 'status', status: 429, headers: { 'Retry-After': '0' } } : n === 1 ? { kind: 'drop' } : { kind: 'pass' },
    );
    const c = client();
    expect((await c.getManifest({ repository: REPO, tag: 'v1' })).digest).toBe(fx.busybox.manifestDigest);
    expect(proxy.requests.filter((r) => r.url === `/v2/${REPO}/manifests/v1`).map((r) => r.action)).toEqual(['status', 'drop', 'pass']);
  });

  it('stops after the bounded number of attempts with a clear message', async () => {
    proxy.setHook((req) => (isManifestGet(req) ? { kind: 'status', status: 503 } : { kind: 'pass' }));
    const c = client();
    await expect(c.getManifest({ repository: REPO, tag: 'v1' })).rejects.toThrow(
      `registry ${proxy.host} failed with HTTP 503 for ${proxy.host}/${REPO}:v1; try again later`,
    );
    expect(proxy.requests.filter((r) => r.url === `/v2/${REPO}/manifests/v1`)).toHaveLength(4);
  });

  it('does not retry a 404', async () => {
    const c = client();
    await expect(c.getManifest({ repository: REPO, tag: 'nope' })).rejects.toThrow(/^manifest unknown/);
    expect(proxy.requests.filter((r) => r.url === `/v2/${REPO}/manifests/nope`)).toHaveLength(1);
  });
});

describe('manifest verification', { timeout: 30_000 }, () => {
  it('rejects a manifest fetched by digest whose bytes hash differently', async () => {
    const d = fx.busybox.manifestDigest;
    proxy.setHook((req) => (req.url === `/v2/${REPO}/manifests/${d}` ? { kind: 'mutate', fn: (b) => Buffer.concat([b, Buffer.from(' ')]) } : { kind: 'pass' }));
    const c = client();
    const err = await c.getManifest({ repository: REPO, digest: d }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).code).toBe('DIGEST_MISMATCH');
    expect((err as Error).message).toMatch(/^manifest digest mismatch for .*@sha256:[0-9a-f]{64}: the registry sent content with digest sha256:/);
  });
});

describe('redirects', { timeout: 30_000 }, () => {
  let basicReg: RegistryServer;
  let front: FaultProxy;
  let storage: http.Server;
  let storageSeen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    basicReg = await startRegistry({ mode: 'basic' });
    const pusher = new RegistryClient({ registry: basicReg.host, tlsVerify: false, certDirs: [], credentials: () => ({ username: basicReg.username, password: basicReg.password }) });
    await pushImage(pusher, REPO, 'v1', fx.busybox);
    pusher.close();
    front = await startFaultProxy(basicReg.host);
    // "blob storage" on another loopback address: serves blobs it fetches from the registry with its own credentials
    storage = http.createServer((req, res) => {
      storageSeen.push({ ...req.headers });
      const digest = new URL(req.url ?? '/', 'http://x').pathname.split('/').pop();
      const [h, p] = basicReg.host.split(':');
      http.get({ host: h, port: Number(p), path: `/v2/${REPO}/blobs/${digest}`, auth: `${basicReg.username}:${basicReg.password}`, agent: false }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, { 'content-length': ur.headers['content-length'] ?? '', 'content-type': 'application/octet-stream' });
        ur.pipe(res);
      });
    });
    await new Promise<void>((r) => storage.listen(0, '127.0.0.2', r));
  });

  afterAll(async () => {
    storage?.closeAllConnections();
    await new Promise<void>((r) => (storage ? storage.close(() => r()) : r()));
    await front?.stop();
    await basicReg?.stop();
  });

  it('follows a blob redirect to another host without sending it the Authorization header', async () => {
    const l = layer();
    const sport = (storage.address() as net.AddressInfo).port;
    front.setHook((req) =>
      isBlobGet(req, l.digest) ? { kind: 'redirect', status: 307, location: `http://127.0.0.2:${sport}/storage/${l.digest}?sig=abc` } : { kind: 'pass' },
    );
    storageSeen = [];
    const c = new RegistryClient({ registry: front.host, tlsVerify: false, certDirs: [], credentials: () => ({ username: basicReg.username, password: basicReg.password }) });
    clients.push(c);
    const bytes = await collect(await c.getBlob(REPO, l.digest, { size: l.size }));
    expect(sha256(bytes)).toBe(l.digest);
    const blobReq = front.requests.find((r) => r.url === `/v2/${REPO}/blobs/${l.digest}`);
    expect(blobReq?.headers.authorization).toMatch(/^Basic /); // the registry itself got the credentials
    expect(storageSeen).toHaveLength(1);
    expect(storageSeen[0]!.authorization).toBeUndefined(); // the other host did not
  });
});

describe('upload failures', { timeout: 30_000 }, () => {
  const isUpload = (req: http.IncomingMessage, method: string) => req.method === method && (req.url ?? '').includes('/blobs/uploads/');

  it('restarts a streamed monolithic upload whose PUT failed with 503', async () => {
    const data = Buffer.from('streamed upload that fails once\n'.repeat(1000));
    let puts = 0;
    proxy.setHook((req) => (isUpload(req, 'PUT') && puts++ === 0 ? { kind: 'status', status: 503 } : { kind: 'pass' }));
    const c = client();
    const r = await c.putBlob('faults/upload', { size: data.length, open: () => Readable.from([data.subarray(0, 1000), data.subarray(1000)]) });
    expect(r.digest).toBe(sha256(data));
    expect(proxy.requests.filter((q) => q.method === 'POST')).toHaveLength(2); // a new session
    expect(proxy.requests.filter((q) => q.method === 'PUT').map((q) => q.action)).toEqual(['status', 'pass']);
    expect(sha256(await collect(await c.getBlob('faults/upload', r.digest)))).toBe(r.digest);
  });

  it('restarts a chunked upload whose PATCH connection dropped', async () => {
    const data = Buffer.alloc(200_000, 7);
    let patches = 0;
    proxy.setHook((req) => (isUpload(req, 'PATCH') && patches++ === 1 ? { kind: 'drop' } : { kind: 'pass' }));
    const c = client();
    const r = await c.putBlob('faults/upload', data, { chunkSize: 64 * 1024 });
    expect(r).toEqual({ digest: sha256(data), size: data.length, via: 'uploaded' });
    expect(proxy.requests.filter((q) => q.method === 'POST')).toHaveLength(2);
    expect(debug.some((m) => /restarting it in/.test(m))).toBe(true);
    expect((await collect(await c.getBlob('faults/upload', r.digest))).equals(data)).toBe(true);
  });

  it('does not restart an upload the registry rejects for good', async () => {
    proxy.setHook((req) => (isUpload(req, 'PUT') ? { kind: 'status', status: 400, body: '{"errors":[{"code":"DIGEST_INVALID","message":"digest invalid"}]}' } : { kind: 'pass' }));
    const c = client();
    await expect(c.putBlob('faults/upload', Buffer.from('x'))).rejects.toThrow(/^digest invalid/);
    expect(proxy.requests.filter((q) => q.method === 'POST')).toHaveLength(1);
  });
});

describe('refused formats', { timeout: 30_000 }, () => {
  it('refuses a schema 1 manifest with a clear message', async () => {
    const schema1 = JSON.stringify({ schemaVersion: 1, name: REPO, tag: 'old', architecture: 'amd64', fsLayers: [], history: [], signatures: [] });
    proxy.setHook((req) =>
      req.url === `/v2/${REPO}/manifests/old`
        ? { kind: 'status', status: 200, headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' }, body: schema1 }
        : req.url === `/v2/${REPO}/manifests/old-json`
          ? { kind: 'status', status: 200, headers: { 'Content-Type': 'application/json' }, body: schema1 }
          : { kind: 'pass' },
    );
    const c = client();
    await expect(c.getManifest({ repository: REPO, tag: 'old' })).rejects.toThrow(/deprecated Docker schema 1 manifest format/);
    await expect(c.getManifest({ repository: REPO, tag: 'old-json' })).rejects.toThrow(/deprecated Docker schema 1 manifest format/);
  });
});
