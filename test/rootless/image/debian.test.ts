import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type BuiltImage, debianMinbaseImage, pushImage } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';
import { PodmanPeer } from '../../helpers/podman-peer.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { layerDiff, listTree, podmanTree, readImagesDb, tmpDir, type TreeEntry } from './helpers.js';

// A real distribution image: Debian's minbase root filesystem, made by debootstrap as root
// (test/setup/debian-minbase.sh, cached in ~/.cache/tspod-tests), pushed to a loopback
// registry as one gzip layer. tspod pulls it, runs it, and its unpacked tree must equal
// the one podman (containers/storage, vfs) unpacks from the same registry.
// No tarball is a failure (debianMinbaseImage throws), not a skip.
let reg: RegistryServer;
let img: BuiltImage;
let tmp: string;
let sb: TspodSandbox;
let peer: PodmanPeer;
const ref = () => `${reg.host}/debian/minbase:bookworm`;

beforeAll(async () => {
  tmp = tmpDir('image-debian');
  img = debianMinbaseImage(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  const client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  await pushImage(client, 'debian/minbase', 'bookworm', img);
  client.close();
  sb = new TspodSandbox('image-debian');
  peer = new PodmanPeer(tmp);
}, 180_000);

afterAll(async () => {
  peer?.dispose();
  sb?.dispose();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const podman = (args: string[]): string => peer.run(args, { timeout: 180_000 });

const comparable = (t: TreeEntry[]) =>
  t.map((e) => ({ path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, link: e.link, sha256: e.sha256, size: e.size, nlink: e.type === 'd' ? undefined : e.nlink, mtime: e.mtime }));

describe('Debian minbase (debootstrap) from a loopback registry', { timeout: 240_000 }, () => {
  it('tspod pulls it: the image ID is the config digest and the layer is verified', () => {
    const r = sb.run(['pull', '-q', '--tls-verify=false', ref()], { timeout: 180_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(img.config.digest.slice(7));
  });

  it('runs: dash, coreutils and dpkg work and see the packages debootstrap installed', () => {
    const r = sb.run(['run', '--rm', '--network', 'none', ref(), 'sh', '-c', '. /etc/os-release && echo "$ID $VERSION_CODENAME" && dpkg-query -W -f "\\${Package}\\n" | grep -cx -e dpkg -e coreutils -e apt -e base-files && id -u'], { timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('debian bookworm\n4\n0\n');
    expect(r.status).toBe(0);
  });

  it('its unpacked tree equals podman\'s: names, types, modes, owners, link targets, contents, hardlinks, mtimes', () => {
    podman(['pull', '-q', '--tls-verify=false', ref()]);
    expect(podman(['image', 'inspect', '--format', '{{.Id}}', ref()]).trim()).toBe(img.config.digest.slice(7));
    const theirs = comparable(podmanTree(peer, ref(), { timeout: 180_000 }));
    const top = readImagesDb(sb).images[img.config.digest.slice(7)]!.layers.at(-1)!;
    const ours = comparable(listTree(sb, layerDiff(sb, top)));
    // A real distribution: thousands of entries, several owners and setuid programs.
    expect(ours.length).toBeGreaterThan(3000);
    expect(ours.some((e) => e.type === 'f' && (e.mode & 0o4000) !== 0)).toBe(true);
    expect(new Set(ours.map((e) => e.gid)).size).toBeGreaterThan(1);
    expect(ours.some((e) => e.type === 'l')).toBe(true);
    const theirsByPath = new Map(theirs.map((e) => [e.path, e]));
    const differing = ours.filter((e) => JSON.stringify(e) !== JSON.stringify(theirsByPath.get(e.path))).slice(0, 5);
    expect(differing.map((e) => ({ ours: e, theirs: theirsByPath.get(e.path) }))).toEqual([]);
    expect(ours.map((e) => e.path)).toEqual(theirs.map((e) => e.path));
  });

  it('tspod pushes it under a new name with the same digests; podman pulls that and runs it', () => {
    const dest = `${reg.host}/debian/pushed:1`;
    const r = sb.run(['push', '-q', '--tls-verify=false', ref(), dest], { timeout: 180_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(podman(['pull', '-q', '--tls-verify=false', dest]).trim()).toBe(img.config.digest.slice(7));
    expect(podman(['image', 'inspect', '--format', '{{.Digest}}', dest]).trim()).toBe(img.manifestDigest);
    const out = podman(['run', '--rm', '--network', 'none', dest, 'sh', '-c', '. /etc/os-release && echo "$ID $VERSION_CODENAME"']);
    expect(out).toBe('debian bookworm\n');
  });

  it('rmi refuses it while a container uses it (exit 2); rmi -f removes the container with it, as podman does', () => {
    const created = sb.run(['create', '--name', 'debian-user', '--network', 'none', ref(), 'true']);
    expect(created.status).toBe(0);
    const refused = sb.run(['rmi', ref()]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^Error: image used by [0-9a-f]{64}: image is in use by a container/);
    const forced = sb.run(['rmi', '-f', ref()]);
    expect(forced.stderr).toBe('');
    expect(forced.stdout).toContain(`Deleted: ${img.config.digest.slice(7)}`);
    expect(sb.run(['container', 'exists', 'debian-user']).status).toBe(1);
    expect(sb.run(['image', 'exists', img.config.digest.slice(7)]).status).toBe(1);
  });
});
