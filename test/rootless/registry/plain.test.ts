import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, selectPlatform } from '../../../src/image/manifest.js';
import { MediaType } from '../../../src/image/media-types.js';
import { parseImageReference } from '../../../src/image/reference.js';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { RegistryError } from '../../../src/image/registry/errors.js';
import { resolveImage } from '../../../src/image/registry/resolve.js';
import { type Fixtures, buildFixtures, collect, fileSource, pushImage, pushIndex, sha256 } from '../../helpers/image-fixtures.js';
import { type RegistryServer, freePort, startRegistry } from '../../helpers/registry-server.js';

let reg: RegistryServer;
let fx: Fixtures;
let client: RegistryClient;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-reg-plain-'));
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
});

afterAll(async () => {
  client?.close();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('plain HTTP registry', { timeout: 30_000 }, () => {
  it('pings over plain http after https fails (insecure registry) and needs no auth', async () => {
    expect(await client.ping()).toEqual({ scheme: 'http', auth: 'none' });
  });

  it('refuses plain http when TLS verification is on', async () => {
    const strict = new RegistryClient({ registry: reg.host, certDirs: [] });
    try {
      await expect(strict.getManifest({ repository: 'x/y', tag: 'latest' })).rejects.toThrow(
        `TLS handshake with registry ${reg.host} failed (it does not answer HTTPS); if it serves plain HTTP, use --tls-verify=false or mark it insecure in registries.conf`,
      );
    } finally {
      strict.close();
    }
  });

  it('pushes monolithically, then pulls back by tag and digest with identical bytes', async () => {
    const digest = await pushImage(client, 'fixtures/busybox', 'v1', fx.busybox);
    expect(digest).toBe(fx.busybox.manifestDigest);
    const byTag = await client.getManifest({ repository: 'fixtures/busybox', tag: 'v1' });
    expect(byTag.bytes.equals(fx.busybox.manifest)).toBe(true);
    expect(byTag.digest).toBe(fx.busybox.manifestDigest);
    expect(byTag.mediaType).toBe(MediaType.OciManifest);
    const byDigest = await client.getManifest({ repository: 'fixtures/busybox', digest });
    expect(byDigest.bytes.equals(fx.busybox.manifest)).toBe(true);
    const m = parseManifest(byDigest.bytes, byDigest.mediaType);
    if (m.kind !== 'image') throw new Error('expected an image manifest');
    for (const layer of [...m.layers, m.config]) {
      const stream = await client.getBlob('fixtures/busybox', layer.digest, { size: layer.size });
      const bytes = await collect(stream);
      expect(sha256(bytes)).toBe(layer.digest);
    }
    const layerBytes = await collect(await client.getBlob('fixtures/busybox', fx.busybox.layers[0]!.digest));
    expect(layerBytes.equals(fs.readFileSync(fx.busybox.layers[0]!.path))).toBe(true);
  });

  it('pushes in chunks (PATCH + PUT) and pulls back identical blobs', async () => {
    const digest = await pushImage(client, 'fixtures/chunked', 'v1', fx.busybox, { chunkSize: 256 * 1024 });
    expect(digest).toBe(fx.busybox.manifestDigest);
    // a fresh chunked upload of a blob with unknown digest, chunk size not dividing the size
    const data = Buffer.alloc(300_001);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const r = await client.putBlob('fixtures/chunked', data, { chunkSize: 65_536 });
    expect(r).toEqual({ digest: sha256(data), size: data.length, via: 'uploaded' });
    const back = await collect(await client.getBlob('fixtures/chunked', r.digest, { size: data.length }));
    expect(back.equals(data)).toBe(true);
    const layer = await collect(await client.getBlob('fixtures/chunked', fx.busybox.layers[0]!.digest));
    expect(sha256(layer)).toBe(fx.busybox.layers[0]!.digest);
  });

  it('skips blobs the repository has and mounts across repositories', async () => {
    const layer = fx.busybox.layers[0]!;
    expect(await client.blobExists('fixtures/busybox', layer.digest)).toEqual({ size: layer.size });
    expect(await client.blobExists('fixtures/other', layer.digest)).toBeUndefined();
    expect((await client.putBlob('fixtures/busybox', fileSource(layer), { digest: layer.digest })).via).toBe('exists');
    const mounted = await client.putBlob('fixtures/other', fileSource(layer), { digest: layer.digest, mountFrom: ['fixtures/busybox'] });
    expect(mounted.via).toBe('mounted');
    expect(await client.blobExists('fixtures/other', layer.digest)).toEqual({ size: layer.size });
    // mount from a repository that lacks the blob: the registry answers 202 and the client uploads
    const cfg = fx.multiLayer.config;
    const up = await client.putBlob('fixtures/other', fileSource(cfg), { digest: cfg.digest, mountFrom: ['fixtures/busybox'] });
    expect(up.via).toBe('uploaded');
    expect(await client.blobExists('fixtures/other', cfg.digest)).toEqual({ size: cfg.size });
  });

  it('round-trips the multi-layer, Docker-format and zstd images', async () => {
    for (const [repo, img] of [
      ['fixtures/multi', fx.multiLayer],
      ['fixtures/docker', fx.busyboxDocker],
      ['fixtures/zstd', fx.busyboxZstd],
    ] as const) {
      await pushImage(client, repo, 'latest', img);
      const got = await client.getManifest({ repository: repo, tag: 'latest' });
      expect(got.digest).toBe(img.manifestDigest);
      expect(got.mediaType).toBe(img.manifestMediaType);
      for (const l of img.layers) {
        const bytes = await collect(await client.getBlob(repo, l.digest, { size: l.size }));
        expect(bytes.equals(fs.readFileSync(l.path))).toBe(true);
      }
    }
    const zstd = parseManifest((await client.getManifest({ repository: 'fixtures/zstd', tag: 'latest' })).bytes);
    expect(zstd.kind === 'image' && zstd.layers[0]!.mediaType).toBe(MediaType.OciLayerZstd);
  });

  it('pushes a two-platform index and selects a platform from it', async () => {
    const digest = await pushIndex(client, 'fixtures/multiarch', 'latest', fx.multiArch);
    expect(digest).toBe(fx.multiArch.digest);
    const got = await client.getManifest({ repository: 'fixtures/multiarch', tag: 'latest' });
    expect(got.mediaType).toBe(MediaType.OciIndex);
    const idx = parseManifest(got.bytes, got.mediaType);
    if (idx.kind !== 'index') throw new Error('expected an index');
    for (const img of fx.multiArch.images) {
      const d = selectPlatform(idx, img.platform);
      expect(d.digest).toBe(img.manifestDigest);
      const child = await client.getManifest({ repository: 'fixtures/multiarch', digest: d.digest });
      expect(child.bytes.equals(img.manifest)).toBe(true);
    }
    expect(() => selectPlatform(idx, { os: 'linux', architecture: 's390x' })).toThrow(/no image for platform linux\/s390x/);
  });

  it('heads manifests and lists tags across pages', async () => {
    const head = await client.headManifest({ repository: 'fixtures/busybox', tag: 'v1' });
    expect(head).toEqual({ digest: fx.busybox.manifestDigest, mediaType: MediaType.OciManifest, size: fx.busybox.manifest.length });
    expect(await client.headManifest({ repository: 'fixtures/busybox', tag: 'nope' })).toBeUndefined();
    for (const t of ['a', 'b', 'c']) await client.putManifest({ repository: 'fixtures/busybox', tag: t }, fx.busybox.manifest, fx.busybox.manifestMediaType);
    const tags = await client.listTags('fixtures/busybox', { pageSize: 2 });
    expect(tags.sort()).toEqual(['a', 'b', 'c', 'v1']);
  });

  it('reports a missing tag, a missing blob and a manifest with missing blobs clearly', async () => {
    await expect(client.getManifest({ repository: 'fixtures/busybox', tag: 'missing' })).rejects.toThrow(
      `manifest unknown: ${reg.host}/fixtures/busybox:missing not found`,
    );
    const missing = `sha256:${'0'.repeat(64)}`;
    const err = await client.getBlob('fixtures/busybox', missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).message).toMatch(/^blob unknown: .*not found/);
    expect((err as RegistryError).exitCode).toBe(125);
    await expect(client.putManifest({ repository: 'fixtures/empty', tag: 'x' }, fx.multiLayer.manifest, fx.multiLayer.manifestMediaType)).rejects.toThrow(
      /manifest blob unknown: .*push the layers first/,
    );
  });

  it('refuses to push a manifest under a digest it does not hash to', async () => {
    await expect(
      client.putManifest({ repository: 'fixtures/busybox', digest: fx.multiLayer.manifestDigest }, fx.busybox.manifest, fx.busybox.manifestMediaType),
    ).rejects.toThrow(/hash to/);
  });

  it('says so when nothing listens', async () => {
    const port = await freePort();
    const c = new RegistryClient({ registry: `127.0.0.1:${port}`, certDirs: [] });
    try {
      await expect(c.ping()).rejects.toThrow(`cannot reach registry 127.0.0.1:${port}: connection refused`);
    } finally {
      c.close();
    }
    // the insecure fallback to http ends with the same clear message
    const c2 = new RegistryClient({ registry: `127.0.0.1:${port}`, tlsVerify: false, certDirs: [] });
    try {
      await expect(c2.ping()).rejects.toThrow(`cannot reach registry 127.0.0.1:${port}: connection refused`);
    } finally {
      c2.close();
    }
  });

  it('releases connections when a blob stream is abandoned half-way (more times than the pool has sockets)', async () => {
    const l = fx.busybox.layers[0]!;
    for (let i = 0; i < 12; i++) {
      const s = await client.getBlob('fixtures/busybox', l.digest, { size: l.size });
      await new Promise<void>((resolve, reject) => {
        s.once('data', () => {
          s.destroy();
          resolve();
        });
        s.once('error', reject);
      });
    }
    for (let i = 0; i < 12; i++) {
      const s = await client.getBlob('fixtures/busybox', l.digest, { size: l.size });
      s.destroy(); // never read at all
      await new Promise((r) => s.once('close', r));
    }
    const m = await client.getManifest({ repository: 'fixtures/busybox', tag: 'v1' });
    expect(m.digest).toBe(fx.busybox.manifestDigest);
  });

  it('starts a blob at an offset, and stores and serves an empty blob', async () => {
    const l = fx.busybox.layers[0]!;
    const whole = fs.readFileSync(l.path);
    const tail = await collect(await client.getBlob('fixtures/busybox', l.digest, { offset: 1_000_000, size: l.size }));
    expect(tail.equals(whole.subarray(1_000_000))).toBe(true);
    const empty = await client.putBlob('fixtures/busybox', Buffer.alloc(0), { chunkSize: 1024 });
    expect(empty).toEqual({ digest: sha256(''), size: 0, via: 'uploaded' });
    expect((await collect(await client.getBlob('fixtures/busybox', empty.digest, { size: 0 }))).length).toBe(0);
  });

  it('refuses a blob whose size is not the expected one', async () => {
    const l = fx.busybox.layers[0]!;
    await expect(collect(await client.getBlob('fixtures/busybox', l.digest, { size: l.size + 1 }))).rejects.toThrow(/were expected; the image is corrupt/);
  });

  it('resolves references to an image manifest and config, through an index when needed', async () => {
    const single = await resolveImage(client, { registry: reg.host, repository: 'fixtures/busybox', tag: 'v1' });
    expect(single.index).toBeUndefined();
    expect(single.manifestDigest).toBe(fx.busybox.manifestDigest);
    expect(single.config.rootfs.diff_ids).toEqual([fx.busybox.layers[0]!.diffId]);
    expect(sha256(single.configBytes)).toBe(fx.busybox.config.digest);
    for (const img of fx.multiArch.images) {
      const r = await resolveImage(client, { repository: 'fixtures/multiarch', tag: 'latest' }, { platform: img.platform });
      expect(r.index?.digest).toBe(fx.multiArch.digest);
      expect(r.manifestDigest).toBe(img.manifestDigest);
      expect(r.config.architecture).toBe(img.platform.architecture);
    }
    await expect(resolveImage(client, { repository: 'fixtures/multiarch', tag: 'latest' }, { platform: { os: 'linux', architecture: 'mips64' } })).rejects.toThrow(
      /no image for platform linux\/mips64/,
    );
  });

  it('accepts a parsed image reference as is, a missing tag meaning latest', async () => {
    await client.putManifest({ repository: 'fixtures/busybox', tag: 'latest' }, fx.busybox.manifest, fx.busybox.manifestMediaType);
    const ref = parseImageReference(`${reg.host}/fixtures/busybox`);
    expect(ref.tag).toBeUndefined();
    expect((await client.getManifest(ref)).digest).toBe(fx.busybox.manifestDigest);
    const byDigest = parseImageReference(`${reg.host}/fixtures/busybox@${fx.busybox.manifestDigest}`);
    expect((await client.getManifest(byDigest)).bytes.equals(fx.busybox.manifest)).toBe(true);
    await expect(client.getManifest(parseImageReference('quay.io/fixtures/busybox:v1'))).rejects.toThrow(/given to the client of/);
  });

  it('fetches foreign layers from their urls first, then from the registry', async () => {
    const l = fx.busybox.layers[0]!;
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === `/layers/${l.digest.slice(7)}`) {
        res.writeHead(200, { 'Content-Length': String(l.size) });
        fs.createReadStream(l.path).pipe(res);
      } else {
        res.writeHead(404, { 'Content-Length': '0' });
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    try {
      const base = `http://127.0.0.2:${(server.address() as net.AddressInfo).port}`;
      const foreign = { mediaType: MediaType.DockerForeignLayerGzip, digest: l.digest, size: l.size, urls: [`${base}/missing`, `${base}/layers/${l.digest.slice(7)}`] };
      // the repository does not have the blob: it can only come from the URL
      const bytes = await collect(await client.getLayer('fixtures/nothing-here', foreign));
      expect(sha256(bytes)).toBe(l.digest);
      expect(seen).toEqual(['/missing', `/layers/${l.digest.slice(7)}`]);
      // no usable URL: the registry serves it
      const fromRegistry = await collect(await client.getLayer('fixtures/busybox', { ...foreign, urls: [`${base}/missing`] }));
      expect(sha256(fromRegistry)).toBe(l.digest);
      // an ordinary layer never goes to its urls
      seen.length = 0;
      await collect(await client.getLayer('fixtures/busybox', { ...foreign, mediaType: MediaType.OciLayerGzip }));
      expect(seen).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
