import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type Fixtures, buildFixtures, pushImage } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';
import { PodmanPeer } from '../../helpers/podman-peer.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { layerDiff, listTree, podmanTree, readImagesDb, tmpDir, type TreeEntry } from './helpers.js';

// The peer: podman (containers/storage, vfs driver, its own store in a temp dir) pulls the
// same images from the same loopback registry; the root filesystems must be the same.
let reg: RegistryServer;
let fx: Fixtures;
let tmp: string;
let sb: TspodSandbox;
let peer: PodmanPeer;
const havePodman = spawnSync('podman', ['--version']).status === 0;

beforeAll(async () => {
  if (!havePodman) return;
  tmp = tmpDir('image-podman');
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  const client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  await pushImage(client, 'fixtures/multi', 'v1', fx.multiLayer);
  await pushImage(client, 'fixtures/busybox', 'v1', fx.busybox);
  client.close();
  sb = new TspodSandbox('image-podman');
  peer = new PodmanPeer(tmp);
}, 90_000);

afterAll(async () => {
  if (!havePodman) return;
  peer?.dispose();
  sb?.dispose();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const podman = (args: string[]): string => peer.run(args);


const comparable = (t: TreeEntry[]) =>
  t.map((e) => ({ path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, link: e.link, sha256: e.sha256, nlink: e.type === 'd' ? undefined : e.nlink, mtime: e.mtime }));

describe.skipIf(!havePodman)('the same image unpacked by podman and by tspod', { timeout: 180_000 }, () => {
  for (const [name, img] of [['multi', () => fx.multiLayer], ['busybox', () => fx.busybox]] as const) {
    it(`${name}: names, types, modes, owners, link targets, contents, hardlinks and mtimes are equal`, () => {
      const ref = `${reg.host}/fixtures/${name}:v1`;
      podman(['pull', '-q', '--tls-verify=false', ref]);
      const theirs = podmanTree(peer, ref);
      const r = sb.run(['--storage-driver', 'vfs', 'pull', '-q', '--tls-verify=false', ref], { timeout: 120_000 });
      expect(r.stderr).toBe('');
      const id = img().config.digest.slice(7);
      expect(r.stdout.trim()).toBe(id);
      expect(podman(['image', 'inspect', '--format', '{{.Id}}', ref]).trim()).toBe(id);
      const top = readImagesDb(sb).images[id]!.layers.at(-1)!;
      const ours = listTree(sb, layerDiff(sb, top));
      expect(comparable(ours)).toEqual(comparable(theirs));
    });
  }

  it('archives move both ways: podman save -> tspod load, tspod save -> podman load, image IDs kept', () => {
    const ref = `${reg.host}/fixtures/multi:v1`;
    const id = fx.multiLayer.config.digest.slice(7);
    sb.run(['--storage-driver', 'vfs', 'pull', '-q', '--tls-verify=false', ref], { timeout: 120_000 });
    for (const format of ['docker-archive', 'oci-archive']) {
      podman(['pull', '-q', '--tls-verify=false', ref]);
      const fromPodman = path.join(tmp, `podman-${format}.tar`);
      podman(['save', '-q', '--format', format, '-o', fromPodman, ref]);
      const loader = new TspodSandbox(`image-podman-load-${format}`);
      try {
        const r = loader.run(['load', '-i', fromPodman], { timeout: 120_000 });
        expect(r.stderr).toBe('');
        expect(r.stdout).toMatch(/^Loaded image: /);
        expect(Object.keys(readImagesDb(loader).images), `${format} from podman: ${r.stdout} ${podman(['images', '--no-trunc'])}`).toEqual([id]);
      } finally {
        loader.dispose();
      }
      const fromTspod = path.join(tmp, `tspod-${format}.tar`);
      const s = sb.run(['save', '--format', format, '-o', fromTspod, ref]);
      expect(s.stderr).toBe('');
      podman(['rmi', '-f', ref]);
      const out = podman(['load', '-i', fromTspod]);
      expect(out).toMatch(/Loaded image/);
      expect(podman(['image', 'inspect', '--format', '{{.Id}}', id]).trim()).toBe(id);
    }
  });

  // podman converts the config of an image it loaded from a docker-archive when it saves
  // it as an oci-archive (new bytes, new ID): tspod must load exactly what the archive says.
  it('an image podman loaded from a tspod docker-archive and saved as oci-archive loads with the config the archive holds', () => {
    const ref = `${reg.host}/fixtures/multi:v1`;
    const id = fx.multiLayer.config.digest.slice(7);
    const fromTspod = path.join(tmp, 'tspod-roundtrip.tar');
    sb.run(['--storage-driver', 'vfs', 'pull', '-q', '--tls-verify=false', ref], { timeout: 120_000 });
    expect(sb.run(['save', '-o', fromTspod, ref]).stderr).toBe('');
    peer.spawn(['rmi', '-f', ref]);
    podman(['load', '-i', fromTspod]);
    const back = path.join(tmp, 'podman-roundtrip-oci.tar');
    podman(['save', '-q', '--format', 'oci-archive', '-o', back, ref]);
    const loader = new TspodSandbox('image-podman-roundtrip');
    try {
      const r = loader.run(['load', '-i', back], { timeout: 120_000 });
      expect(r.stderr).toBe('');
      const raw = spawnSync('skopeo', ['inspect', '--raw', `oci-archive:${back}`], { env: peer.env, encoding: 'utf8' }).stdout;
      const configDigest = JSON.parse(raw).config.digest as string;
      expect(Object.keys(readImagesDb(loader).images)).toEqual([configDigest.slice(7)]);
      expect(readImagesDb(loader).images[configDigest.slice(7)]!.digest).toBe(JSON.parse(spawnSync('skopeo', ['inspect', `oci-archive:${back}`], { env: peer.env, encoding: 'utf8' }).stdout).Digest);
      void id;
    } finally {
      loader.dispose();
    }
  });
});
