import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLayerStream } from '../../../src/core/layer.js';
import { readTar } from '../../../src/core/tar.js';
import { run, sampleData } from './helpers.js';

// `podman save` archives (docker-archive and oci-archive) of an image imported from a
// GNU tar rootfs, read with our tar reader; layers streamed from inside the archive
// and checked against the config's diff_ids.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-podman-'));
const store = ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'run'), '--storage-driver', 'vfs'];
const tree = path.join(dir, 'tree');
fs.mkdirSync(path.join(tree, 'usr/lib'), { recursive: true });
fs.writeFileSync(path.join(tree, 'usr/lib/blob'), sampleData(1_000_000, 2));
fs.writeFileSync(path.join(tree, `usr/lib/${'long-name-'.repeat(15)}`), 'long\n');
fs.symlinkSync(`../${'target/'.repeat(20)}x`, path.join(tree, 'usr/longlink'));
fs.linkSync(path.join(tree, 'usr/lib/blob'), path.join(tree, 'usr/hardlink'));
run('tar', ['--format=gnu', '-cf', path.join(dir, 'rootfs.tar'), '-C', tree, '.']);
const podmanWorks =
  spawnSync('podman', [...store, 'import', path.join(dir, 'rootfs.tar'), 'localhost/tspod-core-test:latest'], { timeout: 60_000 }).status === 0;

afterAll(() => {
  spawnSync('podman', [...store, 'unshare', 'rm', '-rf', path.join(dir, 'root'), path.join(dir, 'run')], { timeout: 60_000 });
  fs.rmSync(dir, { recursive: true, force: true });
});

async function* fileStream(p: string) {
  yield* fs.createReadStream(p, { highWaterMark: 64 * 1024 });
}

async function jsonFiles(archive: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for await (const e of readTar(fileStream(archive))) {
    if (e.header.type !== 'file' || e.header.size > 1_000_000) continue;
    const parts: Buffer[] = [];
    for await (const c of e.body()) parts.push(Buffer.from(c));
    files.set(e.header.name, Buffer.concat(parts));
  }
  return files;
}

describe.skipIf(!podmanWorks)('archives written by podman save', () => {
  it('docker-archive: layer.tar streamed from inside, diffID verified, entries as GNU tar wrote them', async () => {
    const out = path.join(dir, 'docker.tar');
    run('podman', [...store, 'save', '-q', '-o', out, 'localhost/tspod-core-test:latest']);
    const files = await jsonFiles(out);
    const [m] = JSON.parse(files.get('manifest.json')!.toString()) as { Config: string; Layers: string[] }[];
    const config = JSON.parse(files.get(m.Config)!.toString()) as { rootfs: { diff_ids: string[] } };
    const names: string[] = [];
    for await (const e of readTar(fileStream(out))) {
      const i = m.Layers.indexOf(e.header.name);
      if (i < 0) continue;
      for await (const le of openLayerStream(e.body(), { diffID: config.rootfs.diff_ids[i], mediaType: 'application/vnd.docker.image.rootfs.diff.tar' })) {
        names.push(`${le.header.type} ${le.header.name}${le.header.linkname ? ` -> ${le.header.linkname}` : ''}`);
      }
    }
    expect(names).toContain(`file ./usr/lib/${'long-name-'.repeat(15)}`);
    expect(names).toContain(`symlink ./usr/longlink -> ../${'target/'.repeat(20)}x`);
    expect(names.some((n) => /^hardlink \.\/usr\/(hardlink|lib\/blob) -> \.\/usr\/(lib\/blob|hardlink)$/.test(n))).toBe(true);
  });

  it('oci-archive: the layer blob verified against its digest and diffID', async () => {
    const out = path.join(dir, 'oci.tar');
    run('podman', [...store, 'save', '-q', '--format', 'oci-archive', '-o', out, 'localhost/tspod-core-test:latest']);
    const files = await jsonFiles(out);
    const index = JSON.parse(files.get('index.json')!.toString()) as { manifests: { digest: string }[] };
    const manifest = JSON.parse(files.get(`blobs/sha256/${index.manifests[0].digest.slice(7)}`)!.toString()) as {
      config: { digest: string };
      layers: { digest: string; mediaType: string }[];
    };
    const config = JSON.parse(files.get(`blobs/sha256/${manifest.config.digest.slice(7)}`)!.toString()) as { rootfs: { diff_ids: string[] } };
    let checked = 0;
    for await (const e of readTar(fileStream(out))) {
      const i = manifest.layers.findIndex((l) => e.header.name === `blobs/sha256/${l.digest.slice(7)}`);
      if (i < 0) continue;
      let n = 0;
      for await (const le of openLayerStream(e.body(), { digest: manifest.layers[i].digest, diffID: config.rootfs.diff_ids[i], mediaType: manifest.layers[i].mediaType })) {
        for await (const _ of le.body()) void _;
        n++;
      }
      expect(n).toBeGreaterThan(4);
      checked++;
    }
    expect(checked).toBe(manifest.layers.length);
  });
});
