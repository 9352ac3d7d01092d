/**
 * `tspod commit`: a container's changes as a new image. The new layer is made by
 * the WebAssembly core's differ (src/core/diff.ts) from the container's writable
 * layer (the overlay upper dir: 0/0 devices become whiteouts, opaque directories
 * `.wh..wh..opq`; with vfs, the copy compared with the image's tree), gzip
 * compressed, then unpacked into the store like a pulled layer, so the image is
 * the image's layers plus one, with the container's configuration (Cmd,
 * Entrypoint, Env, WorkingDir, User, Labels, ExposedPorts, StopSignal) and
 * `--change` applied on top, and a history entry.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { GlobalContext } from '../cli/context.js';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import type { ContainerRecord } from './container-store.js';

export interface CommitOptions {
  changes: string[];
  message?: string;
  author?: string;
  format: 'oci' | 'docker';
  pause: boolean;
  squash: boolean;
  /** Extra image config: --include-volumes and the like are not supported. */
}

/** Mount points every container gets; what they add to the writable layer is not the container's change. */
const RUNTIME_MOUNT_POINTS = ['/dev', '/proc', '/sys', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/run/tspod-init', '/run/.containerenv'];

export async function commitContainer(ctx: GlobalContext, nameOrId: string, reference: string | undefined, o: CommitOptions): Promise<string> {
  const { openStore, reconcile, containerRootfsPath } = await import('./lifecycle.js');
  const { ImageStore, normalizeName } = await import('../storage/image-store.js');
  const { containerRootfsDir } = await import('../storage/rootfs.js');
  const { layerDiffDir, chainIDs } = await import('../storage/layer-store.js');
  const { applyChanges, dropOnBuild } = await import('../image/import.js');
  const { MediaType } = await import('../image/media-types.js');
  const store = openStore(ctx);
  const found = store.find(nameOrId);
  if (!found) throw new TspodError(`no container with name or ID "${nameOrId}" found: no such container`); // 125, as Podman's commit
  const rec = await reconcile(store, found);
  if (!rec.config.imageId) {
    throw new TspodError(`container ${rec.name} runs from a --rootfs directory, not an image: export it (tspod export) and import the tarball instead`);
  }
  const names = reference ? [normalizeName(reference)] : [];
  const images = new ImageStore(ctx.storageRoot);
  const base = images.get(rec.config.imageId.replace(/^sha256:/, ''));
  const baseConfig = images.config(base);
  const baseManifest = JSON.parse(images.manifestBytes(base).toString('utf8')) as { layers?: { mediaType: string; digest: string; size: number }[] };
  const driver = images.driver() ?? 'overlay';
  const rootfs = await containerRootfsPath(store, rec);
  const dir = containerRootfsDir(ctx.storageRoot, rec.id);
  const lowers = [...base.layers].reverse().map((l) => layerDiffDir(ctx.storageRoot, l));

  type Source = import('../core/diff.js').DiffSource;
  let source: Source;
  let exclude: (name: string) => boolean;
  if (o.squash) {
    // One layer holding the whole root filesystem as the container sees it.
    source = { kind: 'trees', lower: emptyDir(dir), upper: rootfs };
    exclude = (n) => ['proc', 'sys', 'dev'].some((m) => n.startsWith(`${m}/`));
  } else {
    source = driver === 'vfs' ? { kind: 'trees', lower: layerDiffDir(ctx.storageRoot, base.layers.at(-1)!), upper: rootfs } : { kind: 'overlay', upper: path.join(dir, 'diff') };
    // Mount points the runtime made (absent from the image) are left out, as Podman leaves them out.
    const made = new Set(
      [...RUNTIME_MOUNT_POINTS, ...(rec.config.mounts ?? []).map((m) => m.destination)]
        .map((p) => p.replace(/^\/+/, '').replace(/\/+$/, ''))
        .filter((p) => !lowers.some((l) => fs.lstatSync(path.join(l, p), { throwIfNoEntry: false }))),
    );
    exclude = (n) => made.has(n) || [...made].some((m) => n.startsWith(`${m}/`));
  }

  // ONBUILD lives in the Docker config format only: with OCI, Podman warns for each trigger and drops it.
  // (The base image's own triggers, if any, go silently.)
  const onBuildForFormat = (config: ReturnType<typeof applyChanges>) => {
    if (o.format === 'docker') return config;
    let skip = ((baseConfig.config?.OnBuild as string[] | null | undefined) ?? []).length;
    return dropOnBuild(config, (trigger) => {
      if (skip-- <= 0) log.warn(`ONBUILD is not supported for OCI image format, ${trigger} will be ignored. Must use \`docker\` format`);
    });
  };
  const resume = o.pause && rec.state.status === 'running' ? await freeze(rec) : undefined;
  const staging = await images.stage('commit');
  try {
    const blobFile = path.join(staging.dir, 'layer.tar.gz');
    let layer: LayerResult;
    try {
      layer = await writeLayer(source, exclude, blobFile, rec.config.userns);
    } finally {
      resume?.();
    }
    const created = new Date().toISOString();
    const config = {
      ...baseConfig,
      created,
      ...(o.author ? { author: o.author } : {}),
      config: onBuildForFormat(applyChanges(containerConfig(rec, baseConfig.config ?? {}), o.changes)),
      rootfs: { type: 'layers', diff_ids: [...(o.squash ? [] : baseConfig.rootfs.diff_ids), layer.diffID] },
      history: [
        ...(o.squash ? [] : (baseConfig.history ?? [])),
        {
          created,
          created_by: `/bin/sh -c #(nop) commit ${rec.config.command.join(' ')}`.trim(),
          ...(o.author ? { author: o.author } : {}),
          ...(o.message ? { comment: o.message } : {}),
        },
      ],
    };
    const docker = o.format === 'docker';
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = `sha256:${crypto.createHash('sha256').update(configBytes).digest('hex')}`;
    const layerDesc = { mediaType: docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip, digest: layer.digest, size: layer.size };
    const baseLayers = o.squash ? [] : (baseManifest.layers ?? []).map((l) => ({ ...l, mediaType: docker ? toDockerLayerType(l.mediaType, MediaType) : toOciLayerType(l.mediaType, MediaType) }));
    const manifest = {
      schemaVersion: 2,
      mediaType: docker ? MediaType.DockerManifest : MediaType.OciManifest,
      config: { mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig, digest: configDigest, size: configBytes.length },
      layers: [...baseLayers, layerDesc],
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const diffIDs = config.rootfs.diff_ids;
    const chain = chainIDs(diffIDs);
    const chainID = chain.at(-1)!;
    const parent = chain.length > 1 ? chain.at(-2) : undefined;
    if (!images.hasLayer(chainID)) {
      const { installLayer, copyTree } = await import('../image/pull.js');
      const layerStaging = await images.stage('layer');
      try {
        const diff = path.join(layerStaging.dir, 'diff');
        fs.mkdirSync(diff, { mode: 0o755 });
        if (driver === 'vfs' && parent) await copyTree(layerDiffDir(ctx.storageRoot, parent), diff);
        await installLayer(
          images,
          layerStaging,
          fs.createReadStream(blobFile, { highWaterMark: 1 << 20 }),
          { desc: layerDesc, diffID: layer.diffID, chainID, ...(parent ? { parent } : {}), form: driver === 'vfs' ? 'vfs' : 'overlay', parentDone: Promise.resolve() },
          blobFile,
        );
      } finally {
        layerStaging.dispose();
      }
    } else if (!images.hasBlob(layer.digest)) {
      images.commitBlobFile(blobFile, layer.digest);
    }
    images.writeBlob(configBytes, configDigest);
    const manifestDigest = images.writeBlob(manifestBytes);
    const sizes = images.readLayers().layers;
    const stored = await images.putImage({
      id: configDigest.slice(7),
      names,
      digest: manifestDigest,
      digests: [manifestDigest],
      manifestMediaType: manifest.mediaType,
      layers: chain,
      created,
      added: created,
      size: chain.reduce((n, c) => n + (sizes[c]?.size ?? 0), 0) + configBytes.length,
    });
    return stored.id;
  } finally {
    staging.dispose();
  }
}

type ImageContainerConfig = import('../image/manifest.js').ContainerConfig;

/** The image config a container's settings make (Podman's commit takes the same fields). */
function containerConfig(rec: ContainerRecord, img: ImageContainerConfig): ImageContainerConfig {
  const c = rec.config;
  const entry = img.Entrypoint ?? [];
  const startsWithEntry = entry.length > 0 && entry.every((a, i) => c.command[i] === a);
  const out: ImageContainerConfig = { ...img };
  if (startsWithEntry) {
    out.Entrypoint = entry;
    out.Cmd = c.command.slice(entry.length);
  } else {
    delete out.Entrypoint;
    out.Cmd = c.command;
  }
  out.Env = c.env;
  out.WorkingDir = c.workdir;
  if (c.user) out.User = c.user;
  if (Object.keys(c.labels ?? {}).length) out.Labels = { ...c.labels };
  const ports = { ...(img.ExposedPorts ?? {}) };
  for (const p of c.ports ?? []) ports[`${p.containerPort}/${p.protocol}`] = {};
  if (Object.keys(ports).length) out.ExposedPorts = ports;
  if (c.stopSignal && c.stopSignal !== 'SIGTERM') out.StopSignal = c.stopSignal;
  return out;
}

function toDockerLayerType(t: string, M: typeof import('../image/media-types.js').MediaType): string {
  if (t === M.OciLayerGzip) return M.DockerLayerGzip;
  if (t === M.OciLayerTar) return M.DockerLayerTar;
  if (t === M.OciLayerZstd) return M.DockerLayerZstd;
  return t;
}

function toOciLayerType(t: string, M: typeof import('../image/media-types.js').MediaType): string {
  if (t === M.DockerLayerGzip) return M.OciLayerGzip;
  if (t === M.DockerLayerTar) return M.OciLayerTar;
  if (t === M.DockerLayerZstd) return M.OciLayerZstd;
  return t;
}

function emptyDir(containerDir: string): string {
  const d = path.join(containerDir, 'empty');
  fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  return d;
}

interface LayerResult {
  digest: string;
  diffID: string;
  size: number;
}

/**
 * The differ's entries (minus `exclude`d names) -> tar -> diffID -> gzip -> digest ->
 * file, in one pass (createLayerFromDiff's pipeline with a filter on the entries).
 */
async function writeLayer(
  src: import('../core/diff.js').DiffSource,
  exclude: (name: string) => boolean,
  file: string,
  userns?: { uidMap: import('./id-mappings.js').IdRange[]; gidMap: import('./id-mappings.js').IdRange[] },
): Promise<LayerResult> {
  const { diffEntries, writeTar, compressChunks, createHasher } = await import('../core/index.js');
  const { containerIdOf } = await import('./id-mappings.js');
  const diffHash = createHasher();
  const blobHash = createHasher();
  let size = 0;
  async function* filtered() {
    for await (const e of diffEntries(src)) {
      const name = e.header.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      const plain = name.replace(/(^|\/)\.wh\.(?!\.wh\.\.opq$)/, '$1');
      if (exclude(name) || exclude(plain)) continue;
      // A container with its own user namespace stores files under rootless ids: record the ids it sees.
      if (userns && e.header.uid !== undefined && e.header.gid !== undefined) {
        e.header = { ...e.header, uid: containerIdOf(e.header.uid, userns.uidMap) ?? e.header.uid, gid: containerIdOf(e.header.gid, userns.gidMap) ?? e.header.gid };
      }
      yield e;
    }
  }
  async function* tarBytes() {
    for await (const b of writeTar(filtered())) {
      diffHash.update(b);
      yield b;
    }
  }
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    for await (const piece of compressChunks(tarBytes(), 'gzip')) {
      blobHash.update(piece);
      size += piece.length;
      let off = 0;
      while (off < piece.length) off += fs.writeSync(fd, piece, off, piece.length - off);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { digest: `sha256:${blobHash.digestHex()}`, diffID: `sha256:${diffHash.digestHex()}`, size };
}

/** --pause: stop every process of the container while the layer is read; returns the undo. */
async function freeze(rec: ContainerRecord): Promise<() => void> {
  const { containerProcesses } = await import('./top.js');
  const pids = containerProcesses(rec.state.pid).map((p) => p.hostPid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGSTOP');
    } catch {
      // gone meanwhile
    }
  }
  return () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone meanwhile
      }
    }
  };
}
