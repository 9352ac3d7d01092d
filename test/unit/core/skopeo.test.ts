import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLayerStream } from '../../../src/core/layer.js';
import { readTar } from '../../../src/core/tar.js';
import { run, sampleData } from './helpers.js';

// Archives written by containers/image (what `podman save` uses) through skopeo, from
// an OCI layout whose layers GNU tar and gzip/zstd made. Read with our tar reader; the
// layers inside are streamed straight from the outer archive into openLayerStream.
const haveSkopeo = spawnSync('skopeo', ['--version']).status === 0;
let dir: string;
let layout: string;
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const diffIDs: string[] = [];
const layerDigests: string[] = [];

function blob(data: Buffer): { digest: string; size: number } {
  const digest = sha(data);
  fs.writeFileSync(path.join(layout, 'blobs/sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

beforeAll(() => {
  if (!haveSkopeo) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-skopeo-'));
  layout = path.join(dir, 'layout');
  fs.mkdirSync(path.join(layout, 'blobs/sha256'), { recursive: true });
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'etc/os-release'), 'ID=tspod-test\n');
  fs.writeFileSync(path.join(tree, 'blob.bin'), sampleData(2_000_000, 3));
  fs.symlinkSync('etc/os-release', path.join(tree, 'os-release'));
  const tar1 = run('tar', ['--format=pax', '--sort=name', '-cf', '-', '-C', tree, '.']);
  const tree2 = path.join(dir, 'tree2');
  fs.mkdirSync(path.join(tree2, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(tree2, 'etc/.wh.os-release'), '');
  fs.writeFileSync(path.join(tree2, 'etc/new'), 'second layer\n');
  const tar2 = run('tar', ['--format=gnu', '-cf', '-', '-C', tree2, '.']);
  diffIDs.push(sha(tar1), sha(tar2));
  const l1 = blob(run('gzip', ['-c'], tar1));
  const l2 = blob(run('gzip', ['-9', '-c'], tar2));
  layerDigests.push(l1.digest, l2.digest);
  const config = blob(
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIDs } })),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [l1, l2].map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
      }),
    ),
  );
  fs.writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  fs.writeFileSync(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'test' } }],
    }),
  );
});
afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

async function* fileStream(p: string) {
  yield* fs.createReadStream(p, { highWaterMark: 64 * 1024 });
}

describe.skipIf(!haveSkopeo)('archives written by skopeo (containers/image, as podman save)', () => {
  it('docker-archive: uncompressed layers streamed from inside the archive, diffIDs verified', async () => {
    const out = path.join(dir, 'docker.tar');
    run('skopeo', ['--insecure-policy', 'copy', '-q', `oci:${layout}:test`, `docker-archive:${out}:tspod/test:latest`]);
    const files = new Map<string, Buffer>();
    for await (const e of readTar(fileStream(out))) {
      if (e.header.name.endsWith('.json')) {
        const parts: Buffer[] = [];
        for await (const c of e.body()) parts.push(Buffer.from(c));
        files.set(e.header.name, Buffer.concat(parts));
      }
    }
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Layers: string[]; RepoTags: string[] }[];
    expect(manifest[0].RepoTags[0]).toMatch(/(^|\/)tspod\/test:latest$/);
    const seen: string[] = [];
    for await (const e of readTar(fileStream(out))) {
      const i = manifest[0].Layers.indexOf(e.header.name);
      if (i < 0) continue;
      for await (const le of openLayerStream(e.body(), { diffID: diffIDs[i], mediaType: 'application/vnd.docker.image.rootfs.diff.tar' })) {
        seen.push(`${le.header.name}${le.whiteout ? ` (whiteout ${le.whiteout.path})` : ''}`);
      }
    }
    expect(seen).toContain('./etc/os-release');
    expect(seen).toContain('./blob.bin');
    expect(seen).toContain('./etc/.wh.os-release (whiteout etc/os-release)');
  });

  it('oci-archive: gzip layers checked against their digests and diffIDs', async () => {
    const out = path.join(dir, 'oci.tar');
    run('skopeo', ['--insecure-policy', 'copy', '-q', `oci:${layout}:test`, `oci-archive:${out}:test`]);
    let layers = 0;
    for await (const e of readTar(fileStream(out))) {
      const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(e.header.name);
      if (!m || !layerDigests.includes(`sha256:${m[1]}`)) continue;
      const digest = `sha256:${m[1]}`;
      let n = 0;
      for await (const le of openLayerStream(e.body(), { digest, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', onComplete: (r) => expect(diffIDs).toContain(r.diffID) })) {
        n++;
        for await (const _ of le.body()) void _;
      }
      expect(n).toBeGreaterThan(1);
      layers++;
    }
    expect(layers).toBe(2);
  });
});
