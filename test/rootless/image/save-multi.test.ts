import '../../helpers/require-unprivileged.js';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type Fixtures, buildFixtures, pushImage } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';
import { PodmanPeer } from '../../helpers/podman-peer.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { tmpDir } from './helpers.js';

// `save` with several names, as podman 4.3 does it: with -m each name is an image (only
// docker-archive); without -m the first name is the image and the others are more tags
// for it (docker-archive) or ignored (the OCI formats and docker-dir). podman and skopeo
// read the results.
let reg: RegistryServer;
let fx: Fixtures;
let tmp: string;
let sb: TspodSandbox;
let peer: PodmanPeer;

beforeAll(async () => {
  tmp = tmpDir('image-save-multi');
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  const client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  await pushImage(client, 'fixtures/multi', 'v1', fx.multiLayer);
  await pushImage(client, 'fixtures/busybox', 'v1', fx.busybox);
  client.close();
  sb = new TspodSandbox('image-save-multi');
  for (const r of ['fixtures/busybox:v1', 'fixtures/multi:v1']) expect(sb.run(['pull', '-q', '--tls-verify=false', `${reg.host}/${r}`]).status).toBe(0);
  expect(sb.run(['tag', `${reg.host}/fixtures/busybox:v1`, 'localhost/bb:alias']).status).toBe(0);
  peer = new PodmanPeer(tmp);
}, 90_000);

afterAll(async () => {
  peer?.dispose();
  sb?.dispose();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const podman = (args: string[]): string => peer.run(args);

const at = (...p: string[]) => path.join(tmp, ...p);
const tarJson = (file: string, member: string) => JSON.parse(execFileSync('tar', ['-xOf', file, member], { encoding: 'utf8' }));
const podmanNames = () =>
  podman(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])
    .trim()
    .split('\n')
    .filter(Boolean)
    .sort();

describe('save with several names', { timeout: 90_000 }, () => {
  const busybox = () => `${reg.host}/fixtures/busybox:v1`;
  const multi = () => `${reg.host}/fixtures/multi:v1`;
  const bbId = () => fx.busybox.config.digest.slice(7);
  const multiId = () => fx.multiLayer.config.digest.slice(7);

  it('-m: a docker-archive with every image (one entry per image, its names); podman loads them all', () => {
    const r = sb.run(['save', '-m', '-o', at('m.tar'), busybox(), multi(), 'localhost/bb:alias']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const manifest = tarJson(at('m.tar'), 'manifest.json');
    expect(manifest.map((m: { Config: string; RepoTags: string[] }) => [m.Config, m.RepoTags])).toEqual([
      [`${bbId()}.json`, [busybox(), 'localhost/bb:alias']],
      [`${multiId()}.json`, [multi()]],
    ]);
    podman(['load', '-q', '-i', at('m.tar')]);
    expect(podmanNames()).toEqual([`${busybox()} ${bbId().slice(0, 12)}`, `${multi()} ${multiId().slice(0, 12)}`, `localhost/bb:alias ${bbId().slice(0, 12)}`].sort());
    podman(['rmi', '-a', '-f']);
  });

  it('without -m: the other names tag the first image in a docker-archive', () => {
    const r = sb.run(['save', '-o', at('tags.tar'), busybox(), multi(), 'extra:x']);
    expect(r.stderr).toBe('');
    const manifest = tarJson(at('tags.tar'), 'manifest.json');
    expect(manifest).toHaveLength(1);
    expect(manifest[0].Config).toBe(`${bbId()}.json`);
    expect(manifest[0].RepoTags).toEqual([busybox(), multi(), 'localhost/extra:x'].sort());
    podman(['load', '-q', '-i', at('tags.tar')]);
    expect(podmanNames()).toEqual([busybox(), multi(), 'localhost/extra:x'].map((n) => `${n} ${bbId().slice(0, 12)}`).sort());
    podman(['rmi', '-a', '-f']);
  });

  it('without -m the OCI formats and docker-dir hold the first image only; skopeo and podman read them', () => {
    expect(sb.run(['save', '--format', 'oci-archive', '-o', at('o.tar'), busybox(), multi()]).stderr).toBe('');
    expect(tarJson(at('o.tar'), 'index.json').manifests).toHaveLength(1);
    const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci-archive:${at('o.tar')}`], { encoding: 'utf8', env: peer.env }));
    expect(config.rootfs.diff_ids).toEqual(fx.busybox.layers.map((l) => l.diffId));
    expect(podman(['load', '-q', '-i', at('o.tar')])).toMatch(/Loaded image/);
    expect(podman(['images', '-q', '--no-trunc']).trim()).toBe(`sha256:${bbId()}`);
    podman(['rmi', '-a', '-f']);
    expect(sb.run(['save', '--format', 'oci-dir', '-o', at('od'), busybox(), multi()]).stderr).toBe('');
    const index = JSON.parse(fs.readFileSync(at('od', 'index.json'), 'utf8'));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'])).toEqual([busybox()]);
    // (podman pull oci: names the image after the directory, which mkdtemp made mixed-case.)
    expect(JSON.parse(skopeo(['inspect', '--config', `oci:${at('od')}:${busybox()}`])).rootfs.diff_ids).toEqual(fx.busybox.layers.map((l) => l.diffId));
    expect(sb.run(['save', '--format', 'docker-dir', '-o', at('dd'), busybox(), multi()]).stderr).toBe('');
    expect(JSON.parse(skopeo(['inspect', '--raw', `dir:${at('dd')}`])).config.digest).toBe(fx.busybox.config.digest);
    podman(['rmi', '-a', '-f']);
  });

  it("-m with another format than docker-archive: Podman's error and 125", () => {
    for (const format of ['oci-archive', 'oci-dir', 'docker-dir']) {
      const r = sb.run(['save', '-m', '--format', format, '-o', at(`bad-${format}`), busybox(), multi()]);
      expect(r.status).toBe(125);
      expect(r.stderr).toBe(`Error: unsupported format "${format}" for saving multiple images (only docker-archive)\n`);
      expect(fs.existsSync(at(`bad-${format}`))).toBe(false);
    }
    // One image with -m is fine in any format.
    expect(sb.run(['save', '-m', '--format', 'oci-archive', '-o', at('one.tar'), busybox()]).status).toBe(0);
  });
});

function skopeo(args: string[]): string {
  return execFileSync('skopeo', args, { encoding: 'utf8', env: peer.env });
}
