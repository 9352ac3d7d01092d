import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { MULTI_LAYER_EXPECTED, type Fixtures, buildFixtures, pushImage } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';
import { layerDiff, listTree, readImagesDb, storageRoot, tmpDir, type TreeEntry } from './helpers.js';

let reg: RegistryServer;
let fx: Fixtures;
let client: RegistryClient;
let tmp: string;
const sandboxes: TspodSandbox[] = [];

beforeAll(async () => {
  tmp = tmpDir('image-rootfs');
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  await pushImage(client, 'fixtures/multi', 'v1', fx.multiLayer);
}, 60_000);

afterAll(async () => {
  client?.close();
  for (const sb of sandboxes) sb.dispose();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function expectMultiLayerRootfs(tree: TreeEntry[]) {
  const byPath = new Map(tree.map((e) => [e.path, e]));
  for (const p of MULTI_LAYER_EXPECTED.present) {
    const e = byPath.get(p.path);
    expect(e, p.path).toBeDefined();
    expect({ type: e!.type, mode: e!.mode, uid: e!.uid, gid: e!.gid }).toEqual({ type: p.type === 'dir' ? 'd' : 'f', mode: p.mode, uid: p.uid, gid: p.gid });
  }
  for (const p of MULTI_LAYER_EXPECTED.absent) expect(byPath.has(p), `${p} must be gone`).toBe(false);
}

function driver(sb: TspodSandbox, args: string[]) {
  const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const r = sb.run(['unshare', tsx, path.join(REPO_ROOT, 'test', 'rootless', 'image', 'rootfs-driver.ts'), ...args]);
  if (r.status !== 0) throw new Error(`rootfs driver failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

describe.each(['overlay', 'vfs'])('container root filesystem (%s)', { timeout: 90_000 }, (drv) => {
  let sb: TspodSandbox;
  const id = () => fx.multiLayer.config.digest.slice(7);

  it('pulls the multi-layer image with this driver', () => {
    sb = new TspodSandbox(`image-rootfs-${drv}`);
    sandboxes.push(sb);
    const r = sb.run(['--storage-driver', drv, 'pull', '-q', '--tls-verify=false', `${reg.host}/fixtures/multi:v1`], { timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(id());
    if (drv === 'vfs') {
      // A vfs layer is the flattened tree up to it: whiteouts and opaque dirs applied.
      const rec = readImagesDb(sb).images[id()]!;
      expectMultiLayerRootfs(listTree(sb, layerDiff(sb, rec.layers[1]!)));
      const base = new Map(listTree(sb, layerDiff(sb, rec.layers[0]!)).map((e) => [e.path, e]));
      expect(base.get('data/a.txt')!.ino).toBe(base.get('data/a-hardlink.txt')!.ino);
    }
    // Another driver is refused for this store.
    const other = sb.run(['--storage-driver', drv === 'vfs' ? 'overlay' : 'vfs', 'pull', '-q', '--tls-verify=false', `${reg.host}/fixtures/multi:v1`]);
    if (drv === 'vfs') expect(other.stderr).toMatch(/holds layers for the vfs driver/);
  });

  it('prepares a root filesystem equal to the image, writable, idempotent; release unmounts; rmi waits for removal', () => {
    const out = driver(sb, ['prepare', storageRoot(sb), sb.runDir, id(), 'ctr1']);
    expect(out.driver).toBe(drv);
    expect(out.same).toBe(true);
    expect(out.upper).toEqual(expect.arrayContaining(['new.txt']));
    if (drv === 'overlay') {
      expect(out.mounted).toBe(true);
      expect(out.hostnameWhiteout).toBe('c 0');
    }
    const tree = listTree(sb, out.rootfs);
    const byPath = new Map(tree.map((e) => [e.path, e]));
    expect(byPath.has('etc/hostname')).toBe(false);
    expect(byPath.get('new.txt')).toMatchObject({ type: 'f' });
    // Everything else as the image says.
    expectMultiLayerRootfs(tree.filter((e) => e.path !== 'etc/hostname').concat([{ path: 'etc/hostname', type: 'f', mode: 0o644, uid: 0, gid: 0 } as TreeEntry]));
    // In use: rmi refuses (exit 2) until the container's root filesystem is removed.
    const inUse = sb.run(['rmi', id()]);
    expect(inUse.stderr).toMatch(/image is in use by a container/);
    expect(inUse.status).toBe(2);
    driver(sb, ['release', storageRoot(sb), sb.runDir, id(), 'ctr1']);
    expect(sb.run(['rmi', id()]).status).toBe(2);
    driver(sb, ['remove', storageRoot(sb), sb.runDir, id(), 'ctr1']);
    expect(fs.existsSync(path.join(storageRoot(sb), 'container-rootfs', 'ctr1'))).toBe(false);
    const rmi = sb.run(['rmi', id()]);
    expect(rmi.stderr).toBe('');
    expect(rmi.stdout).toContain(`Deleted: ${id()}`);
  });
});
