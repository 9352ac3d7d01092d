import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type Fixtures, buildFixtures, pushImage } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { readImagesDb, readLayersDb, storageRoot, tmpDir } from './helpers.js';

let reg: RegistryServer;
let fx: Fixtures;
let client: RegistryClient;
let tmp: string;
let sb: TspodSandbox;
let bbId: string;
let multiId: string;

beforeAll(async () => {
  tmp = tmpDir('image-commands');
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  await pushImage(client, 'fixtures/busybox', 'v1', fx.busybox);
  await pushImage(client, 'fixtures/multi', 'v1', fx.multiLayer);
  sb = new TspodSandbox('image-commands');
  bbId = fx.busybox.config.digest.slice(7);
  multiId = fx.multiLayer.config.digest.slice(7);
  for (const r of ['fixtures/busybox:v1', 'fixtures/multi:v1']) {
    const p = sb.run(['pull', '-q', '--tls-verify=false', `${reg.host}/${r}`]);
    if (p.status !== 0) throw new Error(p.stderr);
  }
}, 90_000);

afterAll(async () => {
  client?.close();
  sb?.dispose();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const ok = (args: string[]) => {
  const r = sb.run(args);
  if (r.status !== 0) throw new Error(`tspod ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  expect(r.stderr).toBe('');
  return r.stdout;
};

describe('image commands', { timeout: 60_000 }, () => {
  it('images: Podman table, one row per name, newest first', () => {
    const out = ok(['images']);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(lines).toHaveLength(3);
    // Both fixtures are created at the same instant: ties are broken by ID.
    const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
    const bb = rows.find((r) => r[0] === `${reg.host}/fixtures/busybox`)!;
    expect(bb.slice(1, 3)).toEqual(['v1', bbId.slice(0, 12)]);
    expect(bb[3]).toMatch(/ago$/);
    expect(bb[4]).toMatch(/^[\d.]+ (kB|MB)$/);
  });

  it('images -q, --no-trunc, --digests, --format, --filter, --sort', () => {
    expect(ok(['images', '-q']).trim().split('\n').sort()).toEqual([bbId.slice(0, 12), multiId.slice(0, 12)].sort());
    expect(ok(['images', '-q', '--no-trunc']).trim().split('\n').sort()).toEqual([`sha256:${bbId}`, `sha256:${multiId}`].sort());
    expect(ok(['images', '--digests']).split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(ok(['images', '--digests'])).toContain(fx.busybox.manifestDigest);
    expect(ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', '--filter', 'reference=*/fixtures/busybox'])).toBe(`${reg.host}/fixtures/busybox:v1 ${bbId.slice(0, 12)}\n`);
    expect(ok(['images', '-q', '--filter', 'reference=busybox'])).toBe(`${bbId.slice(0, 12)}\n`);
    expect(ok(['images', '-q', '--filter', 'reference=fixtures/multi:v1'])).toBe(`${multiId.slice(0, 12)}\n`);
    expect(ok(['images', '-q', '--filter', 'dangling=true'])).toBe('');
    expect(ok(['images', '-q', '--filter', 'label=nope'])).toBe('');
    const sorted = ok(['images', '--sort', 'repository', '--format', '{{.Repository}}']).trim().split('\n');
    expect(sorted).toEqual([...sorted].sort());
    const json = JSON.parse(ok(['images', '--format', 'json']));
    expect(json.map((j: { Id: string }) => j.Id).sort()).toEqual([bbId, multiId].sort());
    expect(json.find((j: { Id: string }) => j.Id === bbId)).toMatchObject({
      RepoTags: [`${reg.host}/fixtures/busybox:v1`],
      RepoDigests: [`${reg.host}/fixtures/busybox@${fx.busybox.manifestDigest}`],
      Digest: fx.busybox.manifestDigest,
      Dangling: false,
    });
    expect(sb.run(['images', '--sort', 'bogus']).status).toBe(125);
    expect(sb.run(['images', '--filter', 'bogus=1']).stderr).toMatch(/^Error: unsupported image filter "bogus"/);
  });

  it('image inspect: Podman JSON shape', () => {
    const [img] = JSON.parse(ok(['image', 'inspect', `${reg.host}/fixtures/multi:v1`]));
    expect(img).toMatchObject({
      Id: multiId,
      Digest: fx.multiLayer.manifestDigest,
      RepoTags: [`${reg.host}/fixtures/multi:v1`],
      RepoDigests: [`${reg.host}/fixtures/multi@${fx.multiLayer.manifestDigest}`],
      Created: '2023-11-14T22:13:20Z',
      Architecture: fx.multiLayer.platform.architecture,
      Os: 'linux',
      RootFS: { Type: 'layers', Layers: fx.multiLayer.layers.map((l) => l.diffId) },
      Config: { Cmd: ['/bin/sh'], WorkingDir: '/' },
      ManifestType: 'application/vnd.oci.image.manifest.v1+json',
    });
    expect(img.History).toHaveLength(2);
    expect(img.Size).toBeGreaterThan(0);
    expect(Object.keys(img).slice(0, 4)).toEqual(['Id', 'Digest', 'RepoTags', 'RepoDigests']);
    expect(ok(['image', 'inspect', '--format', '{{.Id}} {{.Os}}', multiId.slice(0, 8)])).toBe(`${multiId} linux\n`);
    const missing = sb.run(['image', 'inspect', 'nosuch']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('Error: nosuch: image not known\n');
    // `tspod inspect` takes an image when the name is no container, as podman's does.
    expect(JSON.parse(ok(['inspect', `${reg.host}/fixtures/multi:v1`]))).toEqual([img]);
    expect(ok(['inspect', '--format', '{{.Id}}', multiId.slice(0, 12)])).toBe(`${multiId}\n`);
    expect(sb.run(['inspect', 'nosuch']).status).not.toBe(0);
  });

  it('history: newest first, image ID on the top row, sizes per layer', () => {
    const lines = ok(['history', `${reg.host}/fixtures/multi:v1`]).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^${multiId.slice(0, 12)}\\s+\\S.* ago\\s+RUN rm /old.txt && rm -rf /data/\\* && \\.\\.\\.\\s+[\\d.]+ (B|kB)`));
    expect(lines[2]).toMatch(/^<missing>\s+.* ago\s+ADD base \/\s+[\d.]+ kB/);
    expect(ok(['history', '-q', multiId])).toBe(`${multiId}\n<missing>\n`);
    const json = JSON.parse(ok(['history', '--format', 'json', multiId]));
    expect(json[0]).toMatchObject({ id: multiId, createdBy: 'RUN rm /old.txt && rm -rf /data/* && ...' });
  });

  it('image exists', () => {
    expect(sb.run(['image', 'exists', bbId]).status).toBe(0);
    expect(sb.run(['image', 'exists', `${reg.host}/fixtures/busybox:v1`]).status).toBe(0);
    expect(sb.run(['image', 'exists', 'nosuch:latest']).status).toBe(1);
  });

  it('tag and untag', () => {
    ok(['tag', bbId, 'myapp', 'quay.io/me/app:2']);
    const names = readImagesDb(sb).images[bbId]!.names;
    expect(names).toEqual(expect.arrayContaining(['localhost/myapp:latest', 'quay.io/me/app:2', `${reg.host}/fixtures/busybox:v1`]));
    expect(ok(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `id=${bbId}`]).trim().split('\n').sort()).toEqual(
      [`${reg.host}/fixtures/busybox:v1`, 'localhost/myapp:latest', 'quay.io/me/app:2'].sort(),
    );
    expect(ok(['image', 'inspect', '--format', '{{.Id}}', 'myapp'])).toBe(`${bbId}\n`);
    // A name moves: tagging another image with it takes it away from this one.
    ok(['tag', multiId, 'myapp']);
    expect(readImagesDb(sb).images[bbId]!.names).not.toContain('localhost/myapp:latest');
    ok(['untag', multiId, 'myapp']);
    expect(readImagesDb(sb).images[multiId]!.names).toEqual([`${reg.host}/fixtures/multi:v1`]);
    expect(sb.run(['untag', bbId, 'not:there']).status).toBe(1);
    expect(sb.run(['tag', 'nosuch', 'x']).stderr).toBe('Error: nosuch: image not known\n');
  });

  it('rmi: a name of a multi-name image only untags it; by ID needs -f; unknown is exit 1', () => {
    ok(['tag', bbId, 'extra:1']);
    expect(ok(['rmi', 'quay.io/me/app:2'])).toBe('Untagged: quay.io/me/app:2\n');
    expect(readImagesDb(sb).images[bbId]!.names).toEqual(expect.arrayContaining(['localhost/extra:1', `${reg.host}/fixtures/busybox:v1`]));
    const byId = sb.run(['rmi', bbId]);
    expect(byId.status).toBe(125);
    expect(byId.stderr).toMatch(/more than one tag .*please force removal/);
    const missing = sb.run(['rmi', 'nosuch']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('Error: nosuch: image not known\n');
    expect(sb.run(['rmi', '-i', 'nosuch']).status).toBe(0);
  });

  it('rmi refuses an image a container uses (exit 2)', () => {
    // What run IMAGE records: a rootfs marker prepared by src/storage/rootfs.ts.
    const marker = path.join(storageRoot(sb), 'container-rootfs', 'c0ffee');
    fs.mkdirSync(marker, { recursive: true });
    fs.writeFileSync(path.join(marker, 'image'), multiId);
    const r = sb.run(['rmi', multiId]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^Error: image used by c0ffee: image is in use by a container/);
    fs.rmSync(marker, { recursive: true });
  });

  it('rmi -f by ID deletes the image, its layers and blobs; shared layers stay', () => {
    const layersBefore = Object.keys(readLayersDb(sb).layers).length;
    const out = ok(['rmi', '-f', bbId]);
    expect(out).toMatch(new RegExp(`^Untagged: .*\\nUntagged: .*\\nDeleted: ${bbId}\\n$`));
    expect(readImagesDb(sb).images[bbId]).toBeUndefined();
    expect(Object.keys(readLayersDb(sb).layers)).toHaveLength(layersBefore - 1);
    const blobs = fs.readdirSync(path.join(storageRoot(sb), 'blobs', 'sha256'));
    expect(blobs).not.toContain(fx.busybox.layers[0]!.digest.slice(7));
    expect(blobs).not.toContain(bbId);
    expect(blobs).toContain(multiId);
    expect(fs.readdirSync(path.join(storageRoot(sb), 'layers')).filter((f) => f !== 'layers.json')).toHaveLength(layersBefore - 1);
  });

  it('image prune removes dangling images; rmi -a removes the rest', () => {
    ok(['untag', multiId]);
    expect(ok(['images', '--format', '{{.Repository}} {{.Tag}} {{.Dangling}}'])).toBe('<none> <none> true\n');
    expect(ok(['image', 'prune', '-f'])).toBe(`${multiId}\n`);
    expect(readImagesDb(sb).images).toEqual({});
    expect(readLayersDb(sb).layers).toEqual({});
    expect(fs.readdirSync(path.join(storageRoot(sb), 'blobs', 'sha256'))).toEqual([]);
    const p = sb.run(['pull', '-q', '--tls-verify=false', `${reg.host}/fixtures/busybox:v1`]);
    expect(p.status).toBe(0);
    expect(ok(['rmi', '-a'])).toBe(`Untagged: ${reg.host}/fixtures/busybox:v1\nDeleted: ${bbId}\n`);
    expect(ok(['images'])).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n$/);
  });
});
