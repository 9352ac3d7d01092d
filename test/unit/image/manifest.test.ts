import { describe, expect, it } from 'vitest';
import {
  type ImageIndex,
  amd64LevelFromFlags,
  hostAmd64Level,
  checkConfigMatchesManifest,
  compatibleVariants,
  formatPlatform,
  goArch,
  hostPlatform,
  parseImageConfig,
  parseManifest,
  parsePlatform,
  selectPlatform,
} from '../../../src/image/manifest.js';
import { MediaType, classifyLayer, isSchema1MediaType, layerMediaType } from '../../../src/image/media-types.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;

const dockerManifest = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifest,
  config: { mediaType: MediaType.DockerConfig, size: 1469, digest: D('a') },
  layers: [{ mediaType: MediaType.DockerLayerGzip, size: 2811478, digest: D('b') }],
};

function index(entries: Array<{ arch: string; variant?: string; os?: string; c: string }>, mediaType: string = MediaType.OciIndex): ImageIndex {
  const m = parseManifest(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: entries.map((e) => ({
        mediaType: MediaType.OciManifest,
        digest: D(e.c),
        size: 100,
        platform: { os: e.os ?? 'linux', architecture: e.arch, ...(e.variant ? { variant: e.variant } : {}) },
      })),
    }),
  );
  if (m.kind !== 'index') throw new Error('not an index');
  return m;
}

describe('parseManifest', () => {
  it('parses a Docker v2 schema 2 manifest', () => {
    const m = parseManifest(JSON.stringify(dockerManifest));
    expect(m.kind).toBe('image');
    if (m.kind !== 'image') return;
    expect(m.mediaType).toBe(MediaType.DockerManifest);
    expect(m.config.digest).toBe(D('a'));
    expect(m.layers).toHaveLength(1);
    expect(m.layers[0]!.size).toBe(2811478);
  });

  it('parses an OCI manifest without mediaType field using the hint or shape', () => {
    const doc = { schemaVersion: 2, config: { mediaType: MediaType.OciConfig, size: 2, digest: D('c') }, layers: [] };
    expect(parseManifest(Buffer.from(JSON.stringify(doc))).mediaType).toBe(MediaType.OciManifest);
    expect(parseManifest(JSON.stringify(doc), `${MediaType.DockerManifest}; charset=utf-8`).mediaType).toBe(MediaType.DockerManifest);
    const idx = parseManifest(JSON.stringify({ schemaVersion: 2, manifests: [] }));
    expect(idx.kind).toBe('index');
    expect(idx.mediaType).toBe(MediaType.OciIndex);
  });

  it('parses a Docker manifest list with platforms', () => {
    const idx = index([{ arch: 'amd64', c: '1' }, { arch: 'arm', variant: 'v7', c: '2' }], MediaType.DockerManifestList);
    expect(idx.mediaType).toBe(MediaType.DockerManifestList);
    expect(idx.manifests[1]!.platform).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
  });

  it('refuses schema 1 with a clear message', () => {
    expect(() => parseManifest(JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }))).toThrow(/deprecated Docker schema 1/);
    expect(() => parseManifest('{}', MediaType.DockerSchema1SignedManifest)).toThrow(/schema 1/);
    expect(isSchema1MediaType('application/vnd.docker.distribution.manifest.v1+prettyjws')).toBe(true);
  });

  it('rejects malformed documents', () => {
    expect(() => parseManifest('not json')).toThrow(/invalid manifest: not valid JSON/);
    expect(() => parseManifest('[]')).toThrow(/not a JSON object/);
    expect(() => parseManifest(JSON.stringify({ ...dockerManifest, layers: [{ mediaType: 'x', size: 1, digest: 'sha256:zz' }] }))).toThrow(/malformed digest/);
    expect(() => parseManifest(JSON.stringify({ ...dockerManifest, config: { mediaType: 'x', size: -1, digest: D('a') } }))).toThrow(/invalid size/);
    expect(() => parseManifest(JSON.stringify({ schemaVersion: 3 }))).toThrow(/unsupported schemaVersion/);
    expect(() => parseManifest(JSON.stringify({ schemaVersion: 2, mediaType: 'application/x-other' }))).toThrow(/unsupported media type/);
  });
});

describe('image config', () => {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [D('d')] },
    history: [{ created_by: 'ADD x /' }],
  };
  it('parses and checks against the manifest', () => {
    const c = parseImageConfig(JSON.stringify(config));
    expect(c.rootfs.diff_ids).toEqual([D('d')]);
    const m = parseManifest(JSON.stringify(dockerManifest));
    if (m.kind !== 'image') throw new Error();
    expect(() => checkConfigMatchesManifest(m, c)).not.toThrow();
    expect(() => checkConfigMatchesManifest({ ...m, layers: [] }, c)).toThrow(/0 layers but the config lists 1/);
  });
  it('rejects configs without rootfs or platform', () => {
    expect(() => parseImageConfig(JSON.stringify({ ...config, rootfs: undefined }))).toThrow(/rootfs/);
    expect(() => parseImageConfig(JSON.stringify({ ...config, rootfs: { type: 'layers', diff_ids: ['x'] } }))).toThrow(/rootfs/);
    expect(() => parseImageConfig(JSON.stringify({ ...config, os: undefined }))).toThrow(/architecture or os/);
  });
});

describe('media types', () => {
  it('classifies layers', () => {
    expect(classifyLayer(MediaType.DockerLayerGzip)).toEqual({ compression: 'gzip', foreign: false });
    expect(classifyLayer(MediaType.OciLayerZstd)).toEqual({ compression: 'zstd', foreign: false });
    expect(classifyLayer(MediaType.OciLayerTar)).toEqual({ compression: 'none', foreign: false });
    expect(classifyLayer(MediaType.DockerForeignLayerGzip)).toEqual({ compression: 'gzip', foreign: true });
    expect(classifyLayer(MediaType.OciNonDistributableLayerGzip)).toEqual({ compression: 'gzip', foreign: true });
    expect(classifyLayer(MediaType.OciNonDistributableLayerZstd)).toEqual({ compression: 'zstd', foreign: true });
    expect(classifyLayer('application/vnd.oci.image.layer.v1.tar+GZIP; x=y')).toEqual({ compression: 'gzip', foreign: false });
    expect(classifyLayer(MediaType.OciConfig)).toBeUndefined();
    expect(layerMediaType('oci', 'zstd')).toBe(MediaType.OciLayerZstd);
    expect(layerMediaType('docker', 'gzip')).toBe(MediaType.DockerLayerGzip);
  });
});

describe('platforms', () => {
  it('maps Node arch names to Go ones', () => {
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
    expect(goArch('ia32')).toBe('386');
    expect(goArch('ppc64', 'LE')).toBe('ppc64le');
    expect(goArch('ppc64', 'BE')).toBe('ppc64');
    expect(goArch('s390x')).toBe('s390x');
    expect(goArch('mipsel')).toBe('mipsle');
    expect(hostPlatform('x64', 'linux')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(hostPlatform('arm64', 'linux')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(hostPlatform('arm', 'linux', '6')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
    expect(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe('linux/arm64/v8');
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(() => parsePlatform('linux//v7')).toThrow(/invalid platform/);
  });

  it('selects the matching platform', () => {
    const idx = index([
      { arch: 'amd64', c: '1' },
      { arch: 'arm64', variant: 'v8', c: '2' },
      { arch: 'arm', variant: 'v6', c: '3' },
      { arch: 'arm', variant: 'v7', c: '4' },
      { arch: 'unknown', os: 'unknown', c: '5' },
    ]);
    expect(selectPlatform(idx, { os: 'linux', architecture: 'amd64' }).digest).toBe(D('1'));
    expect(selectPlatform(idx, { os: 'linux', architecture: 'arm64' }).digest).toBe(D('2'));
    expect(selectPlatform(idx, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest).toBe(D('4'));
    expect(selectPlatform(idx, { os: 'linux', architecture: 'arm', variant: 'v8' }).digest).toBe(D('4'));
    expect(selectPlatform(idx, { os: 'linux', architecture: 'arm', variant: 'v6' }).digest).toBe(D('3'));
    const host = hostPlatform();
    if (host.architecture === 'amd64') expect(selectPlatform(idx).digest).toBe(D('1'));
  });

  it('accepts arm64 entries without a variant and prefers exact variants', () => {
    const idx = index([{ arch: 'arm64', c: '1' }, { arch: 'amd64', variant: 'v3', c: '2' }, { arch: 'amd64', c: '3' }]);
    expect(selectPlatform(idx, { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest).toBe(D('1'));
    expect(selectPlatform(idx, { os: 'linux', architecture: 'amd64' }, { amd64Level: 1 }).digest).toBe(D('3'));
    expect(selectPlatform(idx, { os: 'linux', architecture: 'amd64' }, { amd64Level: 2 }).digest).toBe(D('3'));
    // an x86-64-v3 (or v4) host prefers the v3 build
    expect(selectPlatform(idx, { os: 'linux', architecture: 'amd64' }, { amd64Level: 3 }).digest).toBe(D('2'));
    expect(selectPlatform(idx, { os: 'linux', architecture: 'amd64' }, { amd64Level: 4 }).digest).toBe(D('2'));
    const onlyV3 = index([{ arch: 'amd64', variant: 'v3', c: '7' }]);
    expect(() => selectPlatform(onlyV3, { os: 'linux', architecture: 'amd64' }, { amd64Level: 2 })).toThrow(/no image for platform linux\/amd64/);
    expect(selectPlatform(idx, { os: 'linux', architecture: 'amd64', variant: 'v3' }).digest).toBe(D('2'));
    expect(compatibleVariants('arm', 'v7')).toEqual(['v7', 'v6', 'v5', undefined]);
    expect(compatibleVariants('amd64', undefined, 3)).toEqual(['v3', 'v2', 'v1', undefined]);
  });

  it('detects the x86-64 level from CPU flags', () => {
    const v2 = ['cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3'];
    const v3 = [...v2, 'avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave'];
    const v4 = [...v3, 'avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'];
    expect(amd64LevelFromFlags(new Set(['sse2']))).toBe(1);
    expect(amd64LevelFromFlags(new Set(v2))).toBe(2);
    expect(amd64LevelFromFlags(new Set(v3))).toBe(3);
    expect(amd64LevelFromFlags(new Set(v4))).toBe(4);
    expect(amd64LevelFromFlags(new Set(v3.filter((f) => f !== 'avx2')))).toBe(2);
    expect([1, 2, 3, 4]).toContain(hostAmd64Level());
  });

  it('explains what is available when nothing matches', () => {
    const idx = index([{ arch: 'arm64', variant: 'v8', c: '1' }, { arch: 'unknown', os: 'unknown', c: '2' }]);
    expect(() => selectPlatform(idx, { os: 'linux', architecture: 'riscv64' })).toThrow(
      'no image for platform linux/riscv64 in the manifest list (available: linux/arm64/v8); choose one with --platform',
    );
    expect(() => selectPlatform(idx, { os: 'windows', architecture: 'arm64' })).toThrow(/windows\/arm64/);
  });
});
