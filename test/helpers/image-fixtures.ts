/**
 * Real images built from real files for the registry and image tests:
 *   busybox      one gzip layer: /bin/busybox (busybox-static) plus applet symlinks (OCI)
 *   busyboxDocker the same layer as a Docker v2 schema 2 image
 *   busyboxZstd  the same files as a zstd-compressed OCI layer
 *   busyboxTar   the same files as an uncompressed OCI layer (for tools to compress)
 *   multiLayer   two gzip layers: a hardlink, a setuid file, files of several owners;
 *                then a whiteout (.wh.old.txt) and an opaque directory (data/.wh..wh..opq)
 *   multiArch    an OCI index: linux/<host arch> (busybox) + linux/arm64/v8 (a tiny image)
 *   debianMinbase (separate, debianMinbaseImage()): Debian's minbase root filesystem made
 *                by debootstrap (test/setup/debian-minbase.sh, as root) as one gzip layer
 * Layers are made with GNU tar (--owner/--group/--numeric-owner, fixed mtime, sorted)
 * and gzip -n / zstd, so they are reproducible. Configs carry diff_ids, history and rootfs.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { goArch } from '../../src/image/manifest.js';
import { MediaType } from '../../src/image/media-types.js';
import type { RegistryClient } from '../../src/image/registry/client.js';
import { requireTools } from './registry-server.js';

export const BUSYBOX = '/bin/busybox';
const MTIME = '@1700000000';
const CREATED = '2023-11-14T22:13:20Z';

export interface BuiltBlob {
  digest: string;
  size: number;
  mediaType: string;
  path: string;
}

export interface BuiltLayer extends BuiltBlob {
  diffId: string;
}

export interface BuiltImage {
  manifest: Buffer;
  manifestDigest: string;
  manifestMediaType: string;
  config: BuiltBlob;
  layers: BuiltLayer[];
  platform: { os: string; architecture: string; variant?: string };
}

export interface BuiltIndex {
  index: Buffer;
  digest: string;
  mediaType: string;
  images: BuiltImage[];
}

export interface Fixtures {
  dir: string;
  busybox: BuiltImage;
  busyboxDocker: BuiltImage;
  busyboxZstd: BuiltImage;
  busyboxTar: BuiltImage;
  multiLayer: BuiltImage;
  multiArch: BuiltIndex;
}

export function sha256File(p: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(p, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return `sha256:${h.digest('hex')}`;
}

export function sha256(b: Uint8Array | string): string {
  return `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
}

const TAR_COMMON = ['--format=gnu', '--sort=name', `--mtime=${MTIME}`, '--numeric-owner'];

function tar(args: string[], cwd: string): void {
  execFileSync('tar', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Compress a tar and describe it as a layer. */
function layerFrom(tarPath: string, compression: 'gzip' | 'zstd', mediaType: string): BuiltLayer {
  const diffId = sha256File(tarPath);
  const out = `${tarPath}.${compression === 'gzip' ? 'gz' : 'zst'}`;
  const fd = fs.openSync(out, 'w');
  try {
    if (compression === 'gzip') execFileSync('gzip', ['-n', '-6', '-c', tarPath], { stdio: ['ignore', fd, 'pipe'] });
    else execFileSync('zstd', ['-q', '-3', '-c', '--no-progress', tarPath], { stdio: ['ignore', fd, 'pipe'] });
  } finally {
    fs.closeSync(fd);
  }
  return { digest: sha256File(out), size: fs.statSync(out).size, mediaType, path: out, diffId };
}

function writeBlob(dir: string, bytes: Buffer, mediaType: string): BuiltBlob {
  const digest = sha256(bytes);
  const p = path.join(dir, `${digest.slice(7)}.json`);
  fs.writeFileSync(p, bytes);
  return { digest, size: bytes.length, mediaType, path: p };
}

function makeImage(
  dir: string,
  format: 'oci' | 'docker',
  layers: BuiltLayer[],
  platform: BuiltImage['platform'],
  history: string[],
): BuiltImage {
  const config = {
    created: CREATED,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: history.map((h) => ({ created: CREATED, created_by: h })),
  };
  const configBlob = writeBlob(dir, Buffer.from(JSON.stringify(config)), format === 'oci' ? MediaType.OciConfig : MediaType.DockerConfig);
  const manifestMediaType = format === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestMediaType,
      config: { mediaType: configBlob.mediaType, digest: configBlob.digest, size: configBlob.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return { manifest, manifestDigest: sha256(manifest), manifestMediaType, config: configBlob, layers, platform };
}

/** Build every fixture under `dir` (a fresh temporary directory). Takes well under a second. */
export function buildFixtures(dir: string): Fixtures {
  // Modes must not depend on the building user's umask: files 0644, dirs 0755.
  const oldUmask = process.umask(0o022);
  try {
    return build(dir);
  } finally {
    process.umask(oldUmask);
  }
}

function build(dir: string): Fixtures {
  requireTools('tar', 'gzip', 'zstd');
  if (!fs.existsSync(BUSYBOX)) throw new Error(`the image fixtures need a static busybox at ${BUSYBOX}: apt-get install busybox-static`);
  fs.mkdirSync(dir, { recursive: true });
  const host = { os: 'linux', architecture: goArch(), ...(goArch() === 'arm64' ? { variant: 'v8' } : {}) };

  // --- busybox layer
  const bbRoot = path.join(dir, 'rootfs-busybox');
  fs.mkdirSync(path.join(bbRoot, 'bin'), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(bbRoot, 'bin', 'busybox'));
  fs.chmodSync(path.join(bbRoot, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'echo', 'true', 'false', 'ls', 'cat', 'env', 'id', 'sleep', 'test']) {
    fs.symlinkSync('busybox', path.join(bbRoot, 'bin', applet));
  }
  const bbTar = path.join(dir, 'busybox.tar');
  tar(['--create', '--file', bbTar, ...TAR_COMMON, '--owner=0', '--group=0', 'bin'], bbRoot);
  const bbGz = layerFrom(bbTar, 'gzip', MediaType.OciLayerGzip);
  const bbZst = layerFrom(bbTar, 'zstd', MediaType.OciLayerZstd);
  const busybox = makeImage(dir, 'oci', [bbGz], host, ['COPY busybox-static /bin (tspod fixture)']);
  const busyboxDocker = makeImage(dir, 'docker', [{ ...bbGz, mediaType: MediaType.DockerLayerGzip }], host, ['COPY busybox-static /bin (docker format)']);
  const busyboxZstd = makeImage(dir, 'oci', [bbZst], host, ['COPY busybox-static /bin (zstd)']);
  const bbPlain: BuiltLayer = { digest: bbGz.diffId, diffId: bbGz.diffId, size: fs.statSync(bbTar).size, mediaType: MediaType.OciLayerTar, path: bbTar };
  const busyboxTar = makeImage(dir, 'oci', [bbPlain], host, ['COPY busybox-static /bin (uncompressed)']);

  // --- multi-layer image: base layer
  const base = path.join(dir, 'rootfs-base');
  for (const d of ['etc', 'data', 'usr/bin', 'home/alice', 'home/bob']) fs.mkdirSync(path.join(base, d), { recursive: true });
  fs.writeFileSync(path.join(base, 'etc', 'hostname'), 'base\n');
  fs.writeFileSync(path.join(base, 'old.txt'), 'to be deleted by a whiteout\n');
  fs.writeFileSync(path.join(base, 'data', 'a.txt'), 'file a\n');
  fs.writeFileSync(path.join(base, 'data', 'b.txt'), 'file b\n');
  fs.linkSync(path.join(base, 'data', 'a.txt'), path.join(base, 'data', 'a-hardlink.txt'));
  fs.writeFileSync(path.join(base, 'usr', 'bin', 'suid-tool'), '#!/bin/sh\necho setuid\n');
  fs.chmodSync(path.join(base, 'usr', 'bin', 'suid-tool'), 0o4755);
  fs.writeFileSync(path.join(base, 'home', 'alice', 'notes'), 'alice\n');
  fs.writeFileSync(path.join(base, 'home', 'bob', 'notes'), 'bob\n');
  const baseTar = path.join(dir, 'base.tar');
  tar(['--create', '--file', baseTar, ...TAR_COMMON, '--owner=0', '--group=0', 'data', 'etc', 'old.txt', 'usr'], base);
  tar(['--append', '--file', baseTar, ...TAR_COMMON, '--owner=0', '--group=0', '--no-recursion', 'home'], base);
  tar(['--append', '--file', baseTar, ...TAR_COMMON, '--owner=1000', '--group=1000', 'home/alice'], base);
  tar(['--append', '--file', baseTar, ...TAR_COMMON, '--owner=2000', '--group=3000', 'home/bob'], base);
  const baseLayer = layerFrom(baseTar, 'gzip', MediaType.OciLayerGzip);

  // --- multi-layer image: upper layer with a whiteout and an opaque directory
  const upper = path.join(dir, 'rootfs-upper');
  fs.mkdirSync(path.join(upper, 'data'), { recursive: true });
  fs.mkdirSync(path.join(upper, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(upper, '.wh.old.txt'), '');
  fs.writeFileSync(path.join(upper, 'data', '.wh..wh..opq'), '');
  fs.writeFileSync(path.join(upper, 'data', 'c.txt'), 'file c replaces the directory contents\n');
  fs.writeFileSync(path.join(upper, 'etc', 'hostname'), 'upper\n');
  const upperTar = path.join(dir, 'upper.tar');
  tar(['--create', '--file', upperTar, ...TAR_COMMON, '--owner=0', '--group=0', '.wh.old.txt', 'data', 'etc'], upper);
  const upperLayer = layerFrom(upperTar, 'gzip', MediaType.OciLayerGzip);
  const multiLayer = makeImage(dir, 'oci', [baseLayer, upperLayer], host, ['ADD base /', 'RUN rm /old.txt && rm -rf /data/* && ...']);

  // --- second platform: a tiny arm64 image
  const armRoot = path.join(dir, 'rootfs-arm64');
  fs.mkdirSync(path.join(armRoot, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(armRoot, 'etc', 'arch'), 'arm64\n');
  const armTar = path.join(dir, 'arm64.tar');
  tar(['--create', '--file', armTar, ...TAR_COMMON, '--owner=0', '--group=0', 'etc'], armRoot);
  const armLayer = layerFrom(armTar, 'gzip', MediaType.OciLayerGzip);
  const other = host.architecture === 'arm64' ? { os: 'linux', architecture: 'amd64' } : { os: 'linux', architecture: 'arm64', variant: 'v8' };
  const armImage = makeImage(dir, 'oci', [armLayer], other, ['ADD arch /etc']);
  const images = [busybox, armImage];
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: images.map((i) => ({ mediaType: i.manifestMediaType, digest: i.manifestDigest, size: i.manifest.length, platform: i.platform })),
    }),
  );
  const multiArch: BuiltIndex = { index, digest: sha256(index), mediaType: MediaType.OciIndex, images };

  return { dir, busybox, busyboxDocker, busyboxZstd, busyboxTar, multiLayer, multiArch };
}

export function fileSource(b: BuiltBlob): { size: number; open(): fs.ReadStream } {
  return { size: b.size, open: () => fs.createReadStream(b.path) };
}

/** Push an image's blobs and manifest through the client under `tag`. */
export async function pushImage(
  client: RegistryClient,
  repository: string,
  tag: string | undefined,
  img: BuiltImage,
  opts: { chunkSize?: number } = {},
): Promise<string> {
  for (const blob of [...img.layers, img.config]) {
    await client.putBlob(repository, fileSource(blob), { digest: blob.digest, ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}) });
  }
  return client.putManifest({ repository, ...(tag ? { tag } : { digest: img.manifestDigest }) }, img.manifest, img.manifestMediaType);
}

export async function pushIndex(client: RegistryClient, repository: string, tag: string, idx: BuiltIndex): Promise<string> {
  for (const img of idx.images) await pushImage(client, repository, undefined, img);
  return client.putManifest({ repository, tag }, idx.index, idx.mediaType);
}

/** Write images into an OCI image layout directory (for skopeo's `oci:` transport). */
export function writeOciLayout(dir: string, entries: Array<{ ref: string; image: BuiltImage }>): void {
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests = [];
  for (const { ref, image } of entries) {
    for (const b of [...image.layers, image.config]) fs.copyFileSync(b.path, path.join(blobs, b.digest.slice(7)));
    fs.writeFileSync(path.join(blobs, image.manifestDigest.slice(7)), image.manifest);
    manifests.push({
      mediaType: image.manifestMediaType,
      digest: image.manifestDigest,
      size: image.manifest.length,
      annotations: { 'org.opencontainers.image.ref.name': ref },
    });
  }
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
}

/** Collect a readable stream into one buffer (tests only: blobs here are small). */
export async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

/** What the multi-layer image's root filesystem must look like once both layers are applied. */
export const MULTI_LAYER_EXPECTED = {
  present: [
    { path: 'etc/hostname', type: 'file', content: 'upper\n', mode: 0o644, uid: 0, gid: 0 },
    { path: 'data/c.txt', type: 'file', content: 'file c replaces the directory contents\n', mode: 0o644, uid: 0, gid: 0 },
    { path: 'usr/bin/suid-tool', type: 'file', content: '#!/bin/sh\necho setuid\n', mode: 0o4755, uid: 0, gid: 0 },
    { path: 'home/alice', type: 'dir', mode: 0o755, uid: 1000, gid: 1000 },
    { path: 'home/alice/notes', type: 'file', content: 'alice\n', mode: 0o644, uid: 1000, gid: 1000 },
    { path: 'home/bob', type: 'dir', mode: 0o755, uid: 2000, gid: 3000 },
    { path: 'home/bob/notes', type: 'file', content: 'bob\n', mode: 0o644, uid: 2000, gid: 3000 },
  ],
  /** Removed by the whiteout (.wh.old.txt) and the opaque directory (data/.wh..wh..opq). */
  absent: ['old.txt', 'data/a.txt', 'data/b.txt', 'data/a-hardlink.txt', '.wh.old.txt', 'data/.wh..wh..opq'],
  /** In the base layer alone: data/a-hardlink.txt and data/a.txt are one inode (a tar hardlink entry). */
  baseHardlink: ['data/a-hardlink.txt', 'data/a.txt'],
} as const;


/** Where test/setup/debian-minbase.sh leaves the rootfs tarball for the test user. */
export function debianMinbaseTarball(): string {
  const cache = process.env.TSPOD_TEST_CACHE ?? path.join(os.userInfo().homedir, '.cache', 'tspod-tests');
  return path.join(cache, 'debian-minbase.tar');
}

/**
 * The Debian minbase root filesystem (debootstrap --variant=minbase, made as root by
 * test/setup/debian-minbase.sh and cached) as a one-layer gzip OCI image under `dir`.
 * The gzip of the tarball is cached beside it, so only the first run pays for it.
 * A missing tarball is an error, never a skip: the setup step (or the mirror) failed.
 */
export function debianMinbaseImage(dir: string): BuiltImage {
  const tarball = debianMinbaseTarball();
  if (!fs.existsSync(tarball)) {
    throw new Error(
      `the Debian minbase tarball ${tarball} is missing: build it as root with ` +
        `'bash test/setup/debian-minbase.sh ${os.userInfo().username}' (debootstrap from deb.debian.org; .ci/run does this)`,
    );
  }
  requireTools('gzip');
  fs.mkdirSync(dir, { recursive: true });
  const gz = `${tarball}.gz`;
  const meta = `${tarball}.json`;
  let cached: { diffId: string; digest: string; size: number; tarMtimeMs: number } | undefined;
  try {
    cached = JSON.parse(fs.readFileSync(meta, 'utf8'));
  } catch {
    cached = undefined;
  }
  const tarMtimeMs = fs.statSync(tarball).mtimeMs;
  if (!cached || cached.tarMtimeMs !== tarMtimeMs || !fs.existsSync(gz) || fs.statSync(gz).size !== cached.size) {
    const tmp = `${gz}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      execFileSync('gzip', ['-n', '-6', '-c', tarball], { stdio: ['ignore', fd, 'pipe'] });
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, gz);
    cached = { diffId: sha256File(tarball), digest: sha256File(gz), size: fs.statSync(gz).size, tarMtimeMs };
    fs.writeFileSync(`${meta}.tmp`, JSON.stringify(cached));
    fs.renameSync(`${meta}.tmp`, meta);
  }
  const layer: BuiltLayer = { digest: cached.digest, diffId: cached.diffId, size: cached.size, mediaType: MediaType.OciLayerGzip, path: gz };
  const host = { os: 'linux', architecture: goArch(), ...(goArch() === 'arm64' ? { variant: 'v8' } : {}) };
  return makeImage(dir, 'oci', [layer], host, ['debootstrap --variant=minbase bookworm (tspod fixture)']);
}
