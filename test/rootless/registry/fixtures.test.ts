import '../../helpers/require-unprivileged.js';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImageConfig, parseManifest } from '../../../src/image/manifest.js';
import { MediaType, classifyLayer } from '../../../src/image/media-types.js';
import { type Fixtures, buildFixtures, sha256, sha256File } from '../../helpers/image-fixtures.js';

let fx: Fixtures;
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-fixtures-'));
  fx = buildFixtures(path.join(tmp, 'fx'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** `tar -tv` lines of a compressed layer: [mode string, owner, size, name, link target]. */
function listing(layer: string, decompress: string): string[] {
  return execFileSync('sh', ['-c', `${decompress} < '${layer}' | tar -tv --numeric-owner -f -`], { encoding: 'utf8' }).trim().split('\n');
}

describe('image fixtures', { timeout: 30_000 }, () => {
  it('are consistent: digests, sizes, diff_ids, config and manifest agree', () => {
    for (const img of [fx.busybox, fx.busyboxDocker, fx.busyboxZstd, fx.busyboxTar, fx.multiLayer, ...fx.multiArch.images]) {
      const m = parseManifest(img.manifest, img.manifestMediaType);
      if (m.kind !== 'image') throw new Error('expected an image');
      expect(sha256(img.manifest)).toBe(img.manifestDigest);
      const config = parseImageConfig(fs.readFileSync(img.config.path));
      expect(m.config.digest).toBe(sha256File(img.config.path));
      expect(config.rootfs.diff_ids).toEqual(img.layers.map((l) => l.diffId));
      expect(config.history).toHaveLength(img.layers.length);
      expect(config.architecture).toBe(img.platform.architecture);
      for (const [i, l] of img.layers.entries()) {
        expect(m.layers[i]!.digest).toBe(sha256File(l.path));
        expect(m.layers[i]!.size).toBe(fs.statSync(l.path).size);
        expect(classifyLayer(l.mediaType)).toBeDefined();
      }
    }
    const idx = parseManifest(fx.multiArch.index);
    expect(idx.kind === 'index' && idx.manifests.map((d) => d.platform?.architecture)).toEqual(fx.multiArch.images.map((i) => i.platform.architecture));
  });

  it('the busybox layer holds the static busybox and applet symlinks', () => {
    const lines = listing(fx.busybox.layers[0]!.path, 'gzip -dc');
    expect(lines.some((l) => /^-rwxr-xr-x 0\/0 +\d+ .* bin\/busybox$/.test(l))).toBe(true);
    for (const applet of ['sh', 'echo', 'true']) expect(lines.some((l) => l.startsWith('lrwxrwxrwx 0/0') && l.endsWith(`bin/${applet} -> busybox`))).toBe(true);
    // gzip and zstd variants decompress to the same tar (the diff_id)
    const fromZstd = execFileSync('zstd', ['-dc', fx.busyboxZstd.layers[0]!.path], { maxBuffer: 64 * 1024 * 1024 });
    expect(sha256(fromZstd)).toBe(fx.busybox.layers[0]!.diffId);
    expect(fx.busyboxZstd.layers[0]!.mediaType).toBe(MediaType.OciLayerZstd);
    expect(fx.busyboxDocker.layers[0]!.mediaType).toBe(MediaType.DockerLayerGzip);
  });

  it('the multi-layer image has a hardlink, a setuid file, several owners, a whiteout and an opaque dir', () => {
    const base = listing(fx.multiLayer.layers[0]!.path, 'gzip -dc');
    expect(base).toContainEqual(expect.stringMatching(/^hrw-r--r-- 0\/0 .* data\/a\.txt link to data\/a-hardlink\.txt$/));
    expect(base).toContainEqual(expect.stringMatching(/^-rwsr-xr-x 0\/0 .* usr\/bin\/suid-tool$/));
    expect(base).toContainEqual(expect.stringMatching(/^-rw-r--r-- 1000\/1000 .* home\/alice\/notes$/));
    expect(base).toContainEqual(expect.stringMatching(/^drwxr-xr-x 2000\/3000 .* home\/bob\/$/));
    const upper = listing(fx.multiLayer.layers[1]!.path, 'gzip -dc');
    expect(upper).toContainEqual(expect.stringMatching(/^-rw-r--r-- 0\/0 +0 .* \.wh\.old\.txt$/));
    expect(upper).toContainEqual(expect.stringMatching(/^-rw-r--r-- 0\/0 +0 .* data\/\.wh\.\.wh\.\.opq$/));
  });

  it('are reproducible', () => {
    const again = buildFixtures(path.join(tmp, 'again'));
    expect(again.busybox.manifestDigest).toBe(fx.busybox.manifestDigest);
    expect(again.multiLayer.manifestDigest).toBe(fx.multiLayer.manifestDigest);
    expect(again.multiArch.digest).toBe(fx.multiArch.digest);
  });
});
