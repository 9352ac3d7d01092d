/**
 * `tspod pull`: reference -> registry -> manifest (platform chosen) -> layers fetched and
 * unpacked 3 at a time into staging directories -> committed one by one -> image record.
 *
 * Runs inside the rootless user namespace. A layer is committed (tree renamed into
 * layers/, blob into blobs/, layers.json updated) as soon as it is unpacked and its digest
 * and diffID are verified; the image record is written last. Ctrl-C or a failure leaves
 * no image; completed layers stay and the next pull reuses them; staging directories of
 * dead processes are removed by the next pull.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openLayerStream } from '../core/index.js';
import { prestartDecodeThread } from '../core/off-thread.js';
import { ImageStore, type ImageRecord, type Staging } from '../storage/image-store.js';
import { chainIDs, hexOf, layerDiffDir, type LayerRecord } from '../storage/layer-store.js';
import { LayerUnpacker, type UnpackForm } from '../storage/unpack.js';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import { packageRoot } from '../util/paths.js';
import { resolveCredentials } from './auth-file.js';
import { type Platform, hostPlatform } from './manifest.js';
import { type ImageReference, parseImageReference, parseTransportReference } from './reference.js';
import { loadRegistriesConf } from './registries-conf.js';
import { RegistryClient, resolveImage, type Credentials, type ResolvedImage } from './registry/index.js';

export interface PullOptions {
  storageRoot: string;
  runRoot: string;
  /** Graph driver form of the layers. */
  driver: 'overlay' | 'vfs';
  platform?: Partial<Platform>;
  tlsVerify?: boolean;
  /** `user[:password]` */
  creds?: string;
  authFile?: string;
  certDir?: string;
  /** Progress lines go here (a terminal); undefined for quiet. */
  progress?: NodeJS.WriteStream;
  /** Layers fetched at once (default 3). */
  concurrency?: number;
}

export interface PullResult {
  id: string;
  name: string;
  image: ImageRecord;
}

/** The candidates to try for what the user typed (short names through registries.conf). */
export function pullCandidates(input: string): ImageReference[] {
  let text = input;
  if (/^[a-z-]+:/.test(text) && !/^[^/]*:\d/.test(text)) {
    const t = parseTransportReference(text);
    if (t.transport !== 'docker') {
      throw new TspodError(`pulling from the ${t.transport} transport is not supported yet; use a registry reference (docker://...) or 'tspod load'`);
    }
    text = text.replace(/^docker:(\/\/)?/, '');
  }
  const ref = parseImageReference(text);
  if (!ref.isShortName) return [ref];
  const conf = loadRegistriesConf();
  return conf.resolveShortName(ref, { isTerminal: false }).candidates;
}

function credentialsFor(ref: ImageReference, opts: PullOptions): (registry: string) => Credentials | undefined {
  return () => {
    if (opts.creds !== undefined) {
      const i = opts.creds.indexOf(':');
      return i < 0 ? { username: opts.creds, password: '' } : { username: opts.creds.slice(0, i), password: opts.creds.slice(i + 1) };
    }
    return resolveCredentials(ref, opts.authFile ? { authFile: opts.authFile } : {});
  };
}

export function newClient(ref: ImageReference, opts: Pick<PullOptions, 'tlsVerify' | 'creds' | 'authFile' | 'certDir'> & Partial<PullOptions>): RegistryClient {
  const conf = loadRegistriesConf();
  conf.checkNotBlocked(ref);
  const insecure = conf.isInsecure(ref);
  return new RegistryClient({
    registry: ref.registry,
    tlsVerify: opts.tlsVerify ?? !insecure,
    credentials: credentialsFor(ref, opts as PullOptions),
    ...(opts.certDir ? { certDirs: [opts.certDir] } : {}),
    onDebug: (m) => log.debug(m),
  });
}


/** Pull an image into the store. */
export async function pullImage(input: string, opts: PullOptions): Promise<PullResult> {
  const { localTransport, pullLocal } = await import('./local-transports.js');
  const local = localTransport(input);
  if (local) {
    const { image, record } = await pullLocal(opts.storageRoot, local, opts.driver);
    return { id: image.id, name: image.names[0] ?? image.id, image: record };
  }
  const candidates = pullCandidates(input);
  const progress = new Progress(opts.progress);
  let lastError: unknown;
  const conf = loadRegistriesConf();
  let tried = 0;
  for (const ref of candidates) {
    progress.line(`Trying to pull ${ref.toString()}...`);
    conf.checkNotBlocked(ref);
    // registries.conf: the usable mirrors in order, then the (rewritten) location; the
    // image keeps the name asked for, whichever source served it.
    for (const source of pullSources(conf, ref)) {
      tried++;
      const client = newClient(source.ref, { ...opts, tlsVerify: opts.tlsVerify ?? !source.insecure });
      let resolved: ResolvedImage;
      try {
        resolved = await resolveImage(client, source.ref, { platform: opts.platform ?? hostPlatform(), onManifest: prestartForLayers });
      } catch (err) {
        client.close();
        lastError = err;
        log.debug(`pulling ${ref.toString()} from ${source.ref.toString()} failed: ${(err as Error).message}`);
        continue;
      }
      try {
        return await storePulled(client, ref, resolved, opts, progress, source.ref);
      } finally {
        client.close();
        progress.done();
      }
    }
  }
  if (tried > 1 && lastError instanceof Error) {
    throw new TspodError(`${input} could not be pulled from any of ${candidates.map((c) => c.registry).join(', ')}: ${lastError.message}`, { cause: lastError });
  }
  throw lastError;
}

/**
 * `pull --all-tags`: every tag of a repository, from the tags list API, pulled one after
 * the other (a short name means docker.io, as for Podman, without search registries).
 * A tag or digest in the reference is refused, as Docker does.
 */
export async function pullAllTags(input: string, opts: PullOptions): Promise<PullResult[]> {
  const { localTransport } = await import('./local-transports.js');
  const local = localTransport(input);
  if (local) throw new TspodError(`pulling all tags is not supported for ${local.transport} transport`);
  let text = input;
  if (/^[a-z-]+:/.test(text) && !/^[^/]*:\d/.test(text)) {
    const t = parseTransportReference(text);
    if (t.transport !== 'docker') throw new TspodError(`pulling all tags is not supported for ${t.transport} transport`);
    text = text.replace(/^docker:(\/\/)?/, '');
  }
  const ref = parseImageReference(text);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new TspodError(`tag or digest can't be used with --all-tags/-a: give the repository alone, such as ${ref.name}`);
  }
  loadRegistriesConf().checkNotBlocked(ref);
  const client = newClient(ref, opts);
  let tags: string[];
  try {
    tags = await client.listTags(ref.repository);
  } finally {
    client.close();
  }
  const results: PullResult[] = [];
  for (const tag of tags) results.push(await pullImage(`${ref.name}:${tag}`, opts));
  return results;
}

/** Where to fetch `ref` from: registries.conf's mirrors, then its location (the reference itself without a [[registry]] table). */
function pullSources(conf: ReturnType<typeof loadRegistriesConf>, ref: ImageReference): Array<{ ref: ImageReference; insecure: boolean }> {
  if (!conf.findRegistry(ref)) return [{ ref, insecure: conf.isInsecure(ref) }];
  return conf.pullSources(ref).map((s) => ({ ref: parseImageReference(s.reference), insecure: s.insecure }));
}

/** `source`: the reference the blobs come from (a mirror or rewritten location); `ref` names the image. */
async function storePulled(client: RegistryClient, ref: ImageReference, img: ResolvedImage, opts: PullOptions, progress: Progress, source: ImageReference = ref): Promise<PullResult> {
  const store = new ImageStore(opts.storageRoot);
  store.checkDriver(opts.driver);
  await store.cleanStale();
  const configDigest = img.manifest.config.digest;
  const id = hexOf(configDigest);
  const diffIDs = img.config.rootfs.diff_ids;
  const chain = chainIDs(diffIDs);
  progress.line('Getting image source signatures');

  const form: UnpackForm = opts.driver === 'vfs' ? 'vfs' : 'overlay';
  const have = store.readLayers().layers;
  const fetchBytes = img.manifest.layers.reduce((n, d, i) => (have[chain[i]!] ? n : n + d.size), 0);
  const done: Promise<void>[] = [];
  const tasks: Array<() => Promise<void>> = [];
  for (let i = 0; i < img.manifest.layers.length; i++) {
    const desc = img.manifest.layers[i]!;
    const chainID = chain[i]!;
    let resolveDone!: () => void;
    let rejectDone!: (e: unknown) => void;
    done.push(new Promise<void>((res, rej) => ((resolveDone = res), (rejectDone = rej))));
    done[i]!.catch(() => undefined);
    const parentDone = i > 0 ? done[i - 1]! : Promise.resolve();
    if (have[chainID]) {
      progress.line(`Copying blob ${desc.digest.slice(0, 19)} skipped: already exists`);
      resolveDone();
      continue;
    }
    tasks.push(async () => {
      try {
        await fetchLayer(client, source, store, {
          desc,
          diffID: diffIDs[i]!,
          chainID,
          parent: i > 0 ? chain[i - 1] : undefined,
          form,
          parentDone,
          progress,
          offThread: decodeLayerOffThread(desc.size, fetchBytes),
        });
        resolveDone();
      } catch (err) {
        rejectDone(err);
        throw err;
      }
    });
  }
  await runLimited(tasks, opts.concurrency ?? 3);

  progress.line(`Copying config ${configDigest.slice(0, 19)} done`);
  store.writeBlob(img.configBytes, configDigest);
  store.writeBlob(img.manifestBytes, img.manifestDigest);
  progress.line('Writing manifest to image destination');
  const sizes = store.readLayers().layers;
  const size = chain.reduce((n, c) => n + (sizes[c]?.size ?? 0), 0) + img.configBytes.length;
  const name = ref.toString();
  const rec: ImageRecord = {
    id,
    names: [name],
    digest: img.manifestDigest,
    digests: [img.manifestDigest, ...(img.index ? [img.index.digest] : [])],
    manifestMediaType: img.manifestMediaType,
    layers: chain,
    created: img.config.created ?? new Date().toISOString(),
    added: new Date().toISOString(),
    size,
  };
  const image = await store.putImage(rec);
  return { id, name, image };
}

interface LayerJob {
  desc: { digest: string; size: number; mediaType: string };
  diffID: string;
  chainID: string;
  parent?: string;
  form: UnpackForm;
  parentDone: Promise<void>;
  progress: Progress;
  offThread: boolean;
}

async function fetchLayer(client: RegistryClient, ref: ImageReference, store: ImageStore, job: LayerJob): Promise<void> {
  const { desc, progress } = job;
  const short = desc.digest.slice(0, 19);
  const bar = progress.bar(`Copying blob ${short}`, desc.size);
  const staging = await store.stage('layer');
  try {
    const blobFile = path.join(staging.dir, 'blob');
    const diff = path.join(staging.dir, 'diff');
    const fd = fs.openSync(blobFile, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    let source: AsyncIterable<Uint8Array>;
    try {
      // openLayerStream verifies the digest (on the decoding thread for big layers): hashing
      // here too cost the main thread ~50 ms on the 49 MB Debian layer.
      const stream = await client.getBlob(ref.repository, desc.digest, { size: desc.size, verify: false });
      if (job.form === 'vfs') {
        // Download now (in parallel with the others); unpack on top of the parent's tree once it is there.
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          writeAll(fd, chunk);
          bar.add(chunk.length);
        }
        fs.closeSync(fd);
        await job.parentDone;
        fs.mkdirSync(diff, { mode: 0o755 });
        if (job.parent) await copyTree(layerDiffDir(store.storageRoot, job.parent), diff);
        source = fs.createReadStream(blobFile, { highWaterMark: 1 << 20 });
      } else {
        fs.mkdirSync(diff, { mode: 0o755 });
        source = teeToFile(stream as AsyncIterable<Buffer>, fd, (n) => bar.add(n));
      }
      await installLayer(store, staging, source, job, blobFile);
      bar.finish('done');
    } finally {
      try {
        fs.closeSync(fd);
      } catch {
        // closed already
      }
    }
  } catch (err) {
    bar.finish('failed');
    throw err;
  } finally {
    disposeQuietly(staging);
  }
}

/**
 * Whether a layer of `size` bytes, among layers totalling `totalBytes` unpacked at the same
 * time, is hashed and decompressed on a worker thread (src/core/off-thread.ts). A single
 * big layer leaves the second core mostly idle: the main thread decodes, parses and
 * hands files out while the thread pool waits for them (Debian minbase pull, 2 cores:
 * 2.5 -> 1.8 s). Several big layers in flight already keep both cores busy, and a
 * thread then added ~35 MB of memory and no speed (the 477 MB five-layer bench image:
 * 4.6-5.6 s and 145 MB in-thread, 5.7-5.9 s and 180 MB with it). Below 4 MiB, the
 * thread's start-up (~15 ms of CPU) is not worth it. Above 64 MiB, the memory target
 * (150 MB whatever the layer size) wins: the main thread's peak grows with the bytes
 * the thread hands over (49 MB Debian layer: 136-142 MB; a 166 MB one-layer image:
 * 144-163 MB, against 108-116 MB decoding on the main thread, 4.6 against 4.9 s).
 */
export function decodeLayerOffThread(size: number, totalBytes: number): boolean {
  return size >= 4 << 20 && size <= 64 << 20 && size * 2 >= totalBytes;
}

/**
 * Once the manifest is known: when a layer will likely decode on the worker thread,
 * start that thread now. It takes ~50 ms to boot and more to load the core, and the
 * main thread meanwhile fetches the config, opens the store and asks for the blob,
 * instead of waiting for the thread with the blob's first bytes in hand. Whether a
 * layer is in the store already is not known yet: then the thread goes unused (it
 * never holds the process). Small images never start it.
 */
function prestartForLayers(layers: ReadonlyArray<{ size: number }>): void {
  const total = layers.reduce((n, l) => n + l.size, 0);
  if (layers.some((l) => decodeLayerOffThread(l.size, total))) prestartDecodeThread();
}

export interface InstallJob {
  desc: { digest: string; size: number; mediaType: string };
  diffID: string;
  chainID: string;
  parent?: string;
  form: UnpackForm;
  /** Settles when the parent layer is committed. */
  parentDone: Promise<void>;
  /** Decode on a worker thread (decodeLayerOffThread). */
  offThread?: boolean;
}

/**
 * Unpack a layer blob (verified against its digest and diffID) into staging/diff, which
 * the caller created (for vfs: with the parent's tree copied in), and commit it after
 * its parent. The blob file, when given, moves into blobs/.
 */
export async function installLayer(store: ImageStore, staging: Staging, source: AsyncIterable<Uint8Array>, job: InstallJob, blobFile: string | undefined): Promise<void> {
  const { desc } = job;
  const diff = path.join(staging.dir, 'diff');
  const what = `layer ${desc.digest}`;
  const entries = openLayerStream(source, { digest: desc.digest, diffID: job.diffID, mediaType: desc.mediaType, what, offThread: job.offThread === true });
  // The caller made diff/ afresh: in the overlay form only what this layer writes is there.
  const unpacker = new LayerUnpacker(diff, { form: job.form, what, emptyRoot: job.form === 'overlay' });
  // Drive the generator by hand to get its return value (the verified digests and sizes).
  let size = 0;
  let blobSynced: Promise<void> | undefined;
  try {
    for (;;) {
      const r = await entries.next();
      if (r.done) {
        size = r.value.size;
        break;
      }
      unpacker.stats.entries++;
      await unpacker.entry(r.value);
    }
    // The blob is whole and verified: its fsync (~70 ms for a 30 MB blob) runs on the
    // thread pool while the last files are created, instead of after them.
    if (blobFile) blobSynced = fsyncFile(blobFile);
    await unpacker.finish();
  } finally {
    // Files still being written on the thread pool land before anyone removes staging.
    await unpacker.settle();
    await blobSynced?.catch(() => undefined);
  }
  await blobSynced;
  if (unpacker.stats.skippedDevices > 0) log.debug(`${what}: ${unpacker.stats.skippedDevices} device nodes skipped (rootless)`);
  const rec: LayerRecord = {
    id: job.chainID,
    ...(job.parent ? { parent: job.parent } : {}),
    diffID: job.diffID,
    digest: desc.digest,
    compressedSize: desc.size,
    mediaType: desc.mediaType,
    size,
    created: new Date().toISOString(),
  };
  // Unpacked in parallel, committed bottom-up: a record's parent is always recorded first.
  await job.parentDone;
  await store.commitLayer(staging, rec, blobFile, { blobSynced: blobSynced !== undefined });
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function disposeQuietly(s: Staging): void {
  try {
    s.dispose();
  } catch (err) {
    log.debug(`cannot remove staging directory ${s.dir}: ${(err as Error).message}`);
  }
}

export function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
}

/** fs.write at a position until all of `chunk` is written. */
async function writeAllAt(fd: number, chunk: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    off += await new Promise<number>((resolve, reject) =>
      fs.write(fd, chunk, off, chunk.length - off, position + off, (err, n) => (err ? reject(err) : resolve(n))),
    );
  }
}

/** Blob bytes the thread pool may still be writing (bounds memory when the disk is slow). */
const BLOB_WRITE_BEHIND = 1 << 20;

/**
 * The blob's bytes, passed on as they come and written to `fd` on the thread pool (in
 * order, one write at a time) rather than on the main thread, which decompresses and
 * parses meanwhile; the end (or any exit) waits for the writes, so the file is whole
 * before the layer is committed and before the caller closes fd.
 */
async function* teeToFile(src: AsyncIterable<Buffer>, fd: number, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  let writes: Promise<void> = Promise.resolve();
  let behind = 0;
  let position = 0;
  let failure: { err: unknown } | undefined;
  try {
    for await (const chunk of src) {
      const at = position;
      position += chunk.length;
      behind += chunk.length;
      writes = writes
        .then(() => (failure ? undefined : writeAllAt(fd, chunk, at)))
        .then(
          () => void (behind -= chunk.length),
          (err: unknown) => void (failure ??= { err }),
        );
      if (behind > BLOB_WRITE_BEHIND) await writes;
      if (failure) throw failure.err;
      onBytes(chunk.length);
      yield chunk;
    }
    await writes;
    if (failure) throw failure.err;
  } finally {
    await writes;
  }
}

/** cp -a: ownership, modes, hardlinks, xattrs, times (we are root in the namespace). */
export async function copyTree(from: string, to: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('cp', ['-a', '--reflink=auto', '--', `${from}/.`, `${to}/`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new TspodError(`cannot copy the layer tree ${from}: ${err.trim()}`))));
  });
}

/** Run tasks with at most `limit` at once; the first failure is thrown after the running ones settle. */
export async function runLimited(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  let failure: unknown;
  let failed = false;
  const worker = async () => {
    while (!failed && next < tasks.length) {
      const t = tasks[next++]!;
      try {
        await t();
      } catch (err) {
        if (!failed) {
          failed = true;
          failure = err;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failed) throw failure;
}

// ---------------------------------------------------------------- progress

/** Go's units.HumanSize-like: 4.5MB -> "4.5MiB" as Podman's progress bars print (binary). */
function mib(n: number): string {
  if (n < 1024) return `${n}b`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)}MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(1)}GiB`;
}

interface Bar {
  add(n: number): void;
  finish(status: string): void;
}

/**
 * Podman-like progress on a terminal: status lines, and one live line per layer
 * redrawn in place (`Copying blob sha256:abc... 1.2MiB / 3.4MiB`), ending in `done`.
 */
export class Progress {
  private bars: Array<{ label: string; total: number; cur: number; status?: string }> = [];
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WriteStream | undefined) {}

  line(text: string): void {
    if (!this.out) return;
    this.flushBars();
    this.out.write(`${text}\n`);
  }

  bar(label: string, total: number): Bar {
    const b: { label: string; total: number; cur: number; status?: string } = { label, total, cur: 0 };
    if (!this.out) return { add: () => undefined, finish: () => undefined };
    this.bars.push(b);
    this.schedule();
    return {
      add: (n) => {
        b.cur += n;
        this.schedule();
      },
      finish: (status) => {
        b.status = status;
        this.redraw();
      },
    };
  }

  private schedule(): void {
    if (this.timer || !this.out) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.redraw();
    }, 100);
    this.timer.unref();
  }

  private redraw(): void {
    if (!this.out) return;
    const cols = this.out.columns || 80;
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const b of this.bars) {
      const tail = b.status ?? `${mib(b.cur)} / ${mib(b.total)}`;
      text += `\r\x1b[K${`${b.label} ${tail}`.slice(0, cols - 1)}\n`;
    }
    this.drawn = this.bars.length;
    this.out.write(text);
  }

  /** Finished bars scroll up; unfinished ones are redrawn below the next line. */
  private flushBars(): void {
    if (!this.out || this.bars.length === 0) return;
    this.redraw();
    const open = this.bars.filter((b) => b.status === undefined);
    if (open.length === 0) {
      this.bars = [];
      this.drawn = 0;
    }
  }

  done(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.out && this.bars.length > 0) this.redraw();
    this.bars = [];
    this.drawn = 0;
  }
}
