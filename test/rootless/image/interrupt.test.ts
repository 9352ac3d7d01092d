import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type Fixtures, buildFixtures, pushImage } from '../../helpers/image-fixtures.js';
import { type FaultProxy, type RegistryServer, startFaultProxy, startRegistry } from '../../helpers/registry-server.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { readImagesDb, readLayersDb, storageRoot, tmpDir } from './helpers.js';

let reg: RegistryServer;
let proxy: FaultProxy;
let fx: Fixtures;
let client: RegistryClient;
let tmp: string;
let sb: TspodSandbox;

beforeAll(async () => {
  tmp = tmpDir('image-interrupt');
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  proxy = await startFaultProxy(reg.host);
  client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  await pushImage(client, 'fixtures/multi', 'v1', fx.multiLayer);
  sb = new TspodSandbox('image-interrupt');
}, 60_000);

afterAll(async () => {
  client?.close();
  sb?.dispose();
  await proxy?.stop();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const [base, upper] = [0, 1].map((i) => () => fx.multiLayer.layers[i]!.digest);
const blobRequests = () => proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('/blobs/')).map((r) => r.url.slice(r.url.lastIndexOf('/') + 1));

describe('interrupted pulls', { timeout: 90_000 }, () => {
  it('a failed layer leaves no image; the finished layer is kept and reused by the next pull', async () => {
    proxy.setHook((req) =>
      req.url?.endsWith(upper()) ? { kind: 'status', status: 404, body: '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}' } : { kind: 'pass' },
    );
    // The proxy lives in this process: run tspod asynchronously so it can answer.
    const r = await sb.runAsync(['pull', '--tls-verify=false', `${proxy.host}/fixtures/multi:v1`]);
    expect(r.status).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readImagesDb(sb).images).toEqual({});
    expect(Object.values(readLayersDb(sb).layers).map((l) => l.diffID)).toEqual([fx.multiLayer.layers[0]!.diffId]);
    expect(fs.readdirSync(path.join(storageRoot(sb), 'tmp'))).toEqual([]);

    proxy.setHook(() => ({ kind: 'pass' }));
    const again = await sb.runAsync(['pull', '--tls-verify=false', `${proxy.host}/fixtures/multi:v1`]);
    expect(again.stderr).toBe('');
    expect(again.stdout.trim()).toBe(fx.multiLayer.config.digest.slice(7));
    // Only the missing layer (and the config) were fetched again.
    expect(blobRequests()).not.toContain(base());
    expect(blobRequests()).toContain(upper());
  });

  it('Ctrl-C (SIGINT) or SIGTERM ends a pull by that signal, with its staging directories removed at once', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      sb.run(['rmi', '-a']);
      const { child, close } = await pullStuckOnUpperLayer();
      const ended = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, sig) => r(sig)));
      // The node process itself (the launcher execs it), as a terminal's Ctrl-C reaches it.
      process.kill(child.pid!, signal);
      expect(await ended).toBe(signal);
      await close();
      expect(readImagesDb(sb).images).toEqual({});
      expect(fs.readdirSync(path.join(storageRoot(sb), 'tmp'))).toEqual([]);
    }
    // The next pull completes what was interrupted.
    proxy.setHook(() => ({ kind: 'pass' }));
    const again = await sb.runAsync(['pull', '-q', '--tls-verify=false', `${proxy.host}/fixtures/multi:v1`]);
    expect(again.stdout.trim()).toBe(fx.multiLayer.config.digest.slice(7));
  });

  it('a killed pull leaves no image and no staging directory after the next pull', async () => {
    sb.run(['rmi', '-a']);
    expect(readLayersDb(sb).layers).toEqual({});
    const { child, close } = await pullStuckOnUpperLayer();
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.on('exit', r));
    await close();
    expect(readImagesDb(sb).images).toEqual({});
    // The killed pull left its staging directory (its lock died with it).
    expect(fs.readdirSync(path.join(storageRoot(sb), 'tmp')).length).toBeGreaterThan(0);
    proxy.setHook(() => ({ kind: 'pass' }));
    const again = await sb.runAsync(['pull', '--tls-verify=false', `${proxy.host}/fixtures/multi:v1`]);
    expect(again.stderr).toBe('');
    expect(again.stdout.trim()).toBe(fx.multiLayer.config.digest.slice(7));
    expect(fs.readdirSync(path.join(storageRoot(sb), 'tmp'))).toEqual([]);
  });
});

/**
 * `tspod pull` of fixtures/multi:v1 through a proxy that never answers for the upper
 * layer's blob: resolves once tspod asks for it (and a moment more, for the base layer
 * to land or not: either way the store must stay valid).
 */
async function pullStuckOnUpperLayer(): Promise<{ child: import('node:child_process').ChildProcess; close: () => Promise<void> }> {
  const http = await import('node:http');
  let requested!: () => void;
  const seen = new Promise<void>((r) => (requested = r));
  const held: import('node:http').ServerResponse[] = [];
  const [upHost, upPort] = reg.host.split(':');
  const hang = http.createServer((req, res) => {
    if (req.url?.endsWith(upper())) {
      held.push(res);
      requested();
      return;
    }
    const up = http.request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const hangHost = `127.0.0.1:${(hang.address() as import('node:net').AddressInfo).port}`;
  const { spawn } = await import('node:child_process');
  const { TSPOD_BIN } = await import('../../helpers/tspod.js');
  const child = spawn(TSPOD_BIN, ['pull', '--tls-verify=false', `${hangHost}/fixtures/multi:v1`], { env: sb.env, stdio: 'ignore', detached: true });
  await seen;
  await new Promise((r) => setTimeout(r, 300));
  const close = async () => {
    for (const res of held) res.destroy();
    hang.closeAllConnections();
    await new Promise((r) => hang.close(r));
  };
  return { child, close };
}

describe('push within one registry', { timeout: 60_000 }, () => {
  it('mounts the layers from the repository the image came from instead of uploading them', async () => {
    proxy.setHook(() => ({ kind: 'pass' }));
    const r = await sb.runAsync(['push', '--tls-verify=false', `${proxy.host}/fixtures/multi:v1`, `${proxy.host}/mounted/multi:v1`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const mounts = proxy.requests.filter((q) => q.method === 'POST' && q.url.includes('mount='));
    for (const l of fx.multiLayer.layers) expect(mounts.some((q) => q.url.includes(encodeURIComponent(l.digest)) || q.url.includes(l.digest))).toBe(true);
    // No layer bytes were sent.
    expect(proxy.requests.filter((q) => q.method === 'PUT' && fx.multiLayer.layers.some((l) => q.url.includes(encodeURIComponent(l.digest))))).toEqual([]);
    const m = await client.getManifest({ repository: 'mounted/multi', tag: 'v1' });
    expect(m.digest).toBe(fx.multiLayer.manifestDigest);
  });
});

describe('concurrent pulls', { timeout: 90_000 }, () => {
  it('two pulls of the same image at once both succeed and share one copy of each layer', async () => {
    const other = new TspodSandbox('image-concurrent');
    try {
      const ref = `${reg.host}/fixtures/multi:v1`;
      const [a, b] = await Promise.all([other.runAsync(['pull', '-q', '--tls-verify=false', ref]), other.runAsync(['pull', '-q', '--tls-verify=false', ref])]);
      expect([a.stderr, b.stderr]).toEqual(['', '']);
      expect([a.stdout.trim(), b.stdout.trim()]).toEqual([fx.multiLayer.config.digest.slice(7), fx.multiLayer.config.digest.slice(7)]);
      expect(Object.keys(readLayersDb(other).layers)).toHaveLength(2);
      expect(Object.keys(readImagesDb(other).images)).toHaveLength(1);
      expect(fs.readdirSync(path.join(storageRoot(other), 'tmp'))).toEqual([]);
      const layersDir = fs.readdirSync(path.join(storageRoot(other), 'layers')).filter((f) => f !== 'layers.json');
      expect(layersDir).toHaveLength(2);
    } finally {
      other.dispose();
    }
  });
});
