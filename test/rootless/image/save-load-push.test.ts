import '../../helpers/require-unprivileged.js';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTar } from '../../../src/core/index.js';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type Fixtures, buildFixtures, pushImage } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { layerDiff, listTree, readImagesDb, tmpDir } from './helpers.js';

let reg: RegistryServer;
let fx: Fixtures;
let client: RegistryClient;
let tmp: string;
let sb: TspodSandbox;
let sb2: TspodSandbox;
let multiId: string;

beforeAll(async () => {
  tmp = tmpDir('image-save');
  fs.chmodSync(tmp, 0o755);
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  await pushImage(client, 'fixtures/multi', 'v1', fx.multiLayer);
  sb = new TspodSandbox('image-save');
  sb2 = new TspodSandbox('image-load');
  multiId = fx.multiLayer.config.digest.slice(7);
  const p = sb.run(['pull', '-q', '--tls-verify=false', `${reg.host}/fixtures/multi:v1`], { timeout: 120_000 });
  if (p.status !== 0) throw new Error(p.stderr);
}, 90_000);

afterAll(async () => {
  client?.close();
  sb?.dispose();
  sb2?.dispose();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function archiveFiles(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const e of readTar([fs.readFileSync(file)])) {
    const parts = [];
    for await (const c of e.body()) parts.push(c);
    out.set(e.header.name, Buffer.concat(parts));
  }
  return out;
}
const sha = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

describe('save, load and push', { timeout: 120_000 }, () => {
  const dockerTar = () => path.join(tmp, 'multi-docker.tar');
  const ociTar = () => path.join(tmp, 'multi-oci.tar');

  it('save --format oci-archive keeps the manifest, config and compressed blobs byte for byte', async () => {
    const r = sb.run(['save', '--format', 'oci-archive', '-o', ociTar(), `${reg.host}/fixtures/multi:v1`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const files = await archiveFiles(ociTar());
    expect(files.get(`blobs/sha256/${fx.multiLayer.manifestDigest.slice(7)}`)!.equals(fx.multiLayer.manifest)).toBe(true);
    for (const l of fx.multiLayer.layers) expect(files.get(`blobs/sha256/${l.digest.slice(7)}`)!.equals(fs.readFileSync(l.path))).toBe(true);
    const index = JSON.parse(files.get('index.json')!.toString());
    expect(index.manifests[0]).toMatchObject({ digest: fx.multiLayer.manifestDigest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } });
    // skopeo (containers/image) reads it and sees the same digest.
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${ociTar()}`], { encoding: 'utf8', env: { ...process.env, HOME: sb.home } }));
    expect(inspect.Digest).toBe(fx.multiLayer.manifestDigest);
  });

  it('save (docker-archive) writes manifest.json, the config unchanged and uncompressed layers named by diffID', async () => {
    const r = sb.run(['save', '-o', dockerTar(), multiId]);
    expect(r.stderr).toBe('');
    const files = await archiveFiles(dockerTar());
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    expect(manifest).toEqual([{ Config: `${multiId}.json`, RepoTags: [`${reg.host}/fixtures/multi:v1`], Layers: fx.multiLayer.layers.map((l) => `${l.diffId.slice(7)}.tar`) }]);
    expect(sha(files.get(`${multiId}.json`)!)).toBe(fx.multiLayer.config.digest);
    for (const l of fx.multiLayer.layers) expect(sha(files.get(`${l.diffId.slice(7)}.tar`)!)).toBe(l.diffId);
    const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `docker-archive:${dockerTar()}`], { encoding: 'utf8', env: { ...process.env, HOME: sb.home } }));
    expect(config.rootfs.diff_ids).toEqual(fx.multiLayer.layers.map((l) => l.diffId));
  });

  it('save to a terminal-less stdout works and refuses unknown images', () => {
    const r = sb.run(['save', 'nosuch']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('Error: nosuch: image not known\n');
  });

  it('load -i docker-archive into another store: same image ID, same tree', () => {
    const r = sb2.run(['load', '-i', dockerTar()], { timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`Loaded image: ${reg.host}/fixtures/multi:v1\n`);
    const rec = readImagesDb(sb2).images[multiId]!;
    expect(rec).toBeDefined();
    const a = listTree(sb, layerDiff(sb, readImagesDb(sb).images[multiId]!.layers[1]!));
    const b = listTree(sb2, layerDiff(sb2, rec.layers[1]!));
    const strip = (t: typeof a) => t.map(({ ino: _i, ...rest }) => rest);
    expect(strip(b)).toEqual(strip(a));
  });

  it('load from stdin (oci-archive) keeps the manifest digest; push then gives the registry the same digests', () => {
    sb2.run(['rmi', '-a']);
    // A Buffer goes to stdin byte for byte (the helper's type says string).
    const r = sb2.run(['load'], { input: fs.readFileSync(ociTar()) as unknown as string, timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`Loaded image: ${reg.host}/fixtures/multi:v1\n`);
    const rec = readImagesDb(sb2).images[multiId]!;
    expect(rec.digest).toBe(fx.multiLayer.manifestDigest);
    const push = sb2.run(['push', '--tls-verify=false', '--digestfile', path.join(sb2.home, 'digest'), multiId, `${reg.host}/pushed/multi:v2`]);
    expect(push.stderr).toBe('');
    expect(push.status).toBe(0);
    expect(fs.readFileSync(path.join(sb2.home, 'digest'), 'utf8')).toBe(fx.multiLayer.manifestDigest);
  });

  it('push of a pulled image: manifest digest unchanged; pulling it back gives the same image', async () => {
    const push = sb.run(['push', '--tls-verify=false', `${reg.host}/fixtures/multi:v1`, `${reg.host}/other/multi:v3`]);
    expect(push.stderr).toBe('');
    const m = await client.getManifest({ repository: 'other/multi', tag: 'v3' });
    expect(m.digest).toBe(fx.multiLayer.manifestDigest);
    const fresh = new TspodSandbox('image-pushed');
    try {
      const p = fresh.run(['pull', '-q', '--tls-verify=false', `${reg.host}/other/multi:v3`], { timeout: 120_000 });
      expect(p.stderr).toBe('');
      expect(p.stdout.trim()).toBe(multiId);
    } finally {
      fresh.dispose();
    }
  });
});
