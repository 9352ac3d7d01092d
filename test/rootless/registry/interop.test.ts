import '../../helpers/require-unprivileged.js';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/image/manifest.js';
import { MediaType } from '../../../src/image/media-types.js';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type Fixtures, buildFixtures, collect, pushImage, pushIndex, sha256, sha256File, writeOciLayout } from '../../helpers/image-fixtures.js';
import { type RegistryServer, requireTools, startRegistry } from '../../helpers/registry-server.js';

const run = promisify(execFile);
let reg: RegistryServer;
let token: RegistryServer;
let fx: Fixtures;
let tmp: string;
let client: RegistryClient;
let policy: string;

/** skopeo as the unprivileged user, with its own HOME and an accept-anything policy. */
async function skopeo(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('skopeo', ['--policy', policy, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: path.join(tmp, 'home'), TMPDIR: tmp },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 25_000,
    });
    return stdout;
  } catch (err) {
    throw new Error(`skopeo ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr ?? err}`);
  }
}

beforeAll(async () => {
  requireTools('skopeo');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-reg-interop-'));
  fs.mkdirSync(path.join(tmp, 'home'));
  policy = path.join(tmp, 'policy.json');
  fs.writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  [reg, token] = await Promise.all([startRegistry({ mode: 'plain' }), startRegistry({ mode: 'token' })]);
  client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
});

afterAll(async () => {
  client?.close();
  await Promise.all([reg?.stop(), token?.stop()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('interoperability with skopeo (containers/image)', { timeout: 30_000 }, () => {
  it('skopeo inspects an image pushed by tspod with identical digests', async () => {
    await pushImage(client, 'interop/busybox', 'v1', fx.busybox);
    const info = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/interop/busybox:v1`));
    expect(info.Digest).toBe(fx.busybox.manifestDigest);
    expect(info.Layers).toEqual(fx.busybox.layers.map((l) => l.digest));
    expect(info.Architecture).toBe(fx.busybox.platform.architecture);
    const raw = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/interop/busybox:v1`);
    expect(Buffer.from(raw).equals(fx.busybox.manifest)).toBe(true);
    const cfg = await skopeo('inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/interop/busybox:v1`);
    expect(sha256(cfg)).toBe(fx.busybox.config.digest);
  });

  it('skopeo copies tspod-pushed images (Docker format, multi-layer) to a dir with identical bytes', async () => {
    for (const [repo, img] of [
      ['interop/docker', fx.busyboxDocker],
      ['interop/multi', fx.multiLayer],
    ] as const) {
      await pushImage(client, repo, 'v1', img, { chunkSize: 128 * 1024 });
      const dir = path.join(tmp, repo.replace('/', '-'));
      await skopeo('copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/${repo}:v1`, `dir:${dir}`);
      const manifest = fs.readFileSync(path.join(dir, 'manifest.json'));
      expect(manifest.equals(img.manifest)).toBe(true);
      for (const b of [...img.layers, img.config]) {
        expect(sha256File(path.join(dir, b.digest.slice(7)))).toBe(b.digest);
      }
    }
  });

  it('skopeo copies a tspod-pushed two-platform index with --all, keeping every digest', async () => {
    await pushIndex(client, 'interop/multiarch', 'v1', fx.multiArch);
    const layout = path.join(tmp, 'multiarch-oci');
    await skopeo('copy', '--quiet', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${reg.host}/interop/multiarch:v1`, `oci:${layout}:v1`);
    const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(fx.multiArch.digest);
    const stored = fs.readFileSync(path.join(layout, 'blobs', 'sha256', fx.multiArch.digest.slice(7)));
    expect(stored.equals(fx.multiArch.index)).toBe(true);
    for (const img of fx.multiArch.images) {
      expect(fs.existsSync(path.join(layout, 'blobs', 'sha256', img.manifestDigest.slice(7)))).toBe(true);
    }
  });

  it('tspod pulls what skopeo pushed from an OCI layout, with identical digests', async () => {
    const layout = path.join(tmp, 'src-oci');
    writeOciLayout(layout, [{ ref: 'multi', image: fx.multiLayer }]);
    await skopeo('copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:multi`, `docker://${reg.host}/interop/from-skopeo:v1`);
    const m = await client.getManifest({ repository: 'interop/from-skopeo', tag: 'v1' });
    expect(m.digest).toBe(fx.multiLayer.manifestDigest);
    for (const l of fx.multiLayer.layers) {
      const bytes = await collect(await client.getBlob('interop/from-skopeo', l.digest, { size: l.size }));
      expect(bytes.equals(fs.readFileSync(l.path))).toBe(true);
    }
  });

  it('tspod pulls a zstd image skopeo recompressed, and its layer decompresses to the same diff_id', async () => {
    const layout = path.join(tmp, 'src-oci-bb');
    writeOciLayout(layout, [{ ref: 'bb', image: fx.busyboxTar }]); // uncompressed: skopeo compresses it
    await skopeo('copy', '--quiet', '--format', 'oci', '--dest-compress-format', 'zstd', '--dest-tls-verify=false', `oci:${layout}:bb`, `docker://${reg.host}/interop/zstd:v1`);
    const got = await client.getManifest({ repository: 'interop/zstd', tag: 'v1' });
    const m = parseManifest(got.bytes, got.mediaType);
    if (m.kind !== 'image') throw new Error('expected an image manifest');
    expect(m.layers).toHaveLength(1);
    expect(m.layers[0]!.mediaType).toBe(MediaType.OciLayerZstd);
    const zst = path.join(tmp, 'layer.tar.zst');
    fs.writeFileSync(zst, await collect(await client.getBlob('interop/zstd', m.layers[0]!.digest, { size: m.layers[0]!.size })));
    await run('zstd', ['-q', '-d', '-f', zst, '-o', path.join(tmp, 'layer.tar')]);
    expect(sha256File(path.join(tmp, 'layer.tar'))).toBe(fx.busybox.layers[0]!.diffId);
    const cfg = JSON.parse((await collect(await client.getBlob('interop/zstd', m.config.digest))).toString());
    expect(cfg.rootfs.diff_ids).toEqual([fx.busybox.layers[0]!.diffId]);
  });

  it('skopeo reads, with bearer tokens, an image tspod pushed with bearer tokens', async () => {
    const c = new RegistryClient({ registry: token.host, tlsVerify: false, certDirs: [], credentials: () => ({ username: token.username, password: token.password }) });
    try {
      await pushImage(c, 'private/busybox', 'v1', fx.busybox);
    } finally {
      c.close();
    }
    const info = JSON.parse(
      await skopeo('inspect', '--tls-verify=false', '--creds', `${token.username}:${token.password}`, `docker://${token.host}/private/busybox:v1`),
    );
    expect(info.Digest).toBe(fx.busybox.manifestDigest);
    await expect(skopeo('inspect', '--tls-verify=false', '--no-creds', `docker://${token.host}/private/busybox:v1`)).rejects.toThrow(/unauthorized|authentication required/i);
  });
});
