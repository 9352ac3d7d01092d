/**
 * OCI distribution-spec client: manifests, blobs (streamed, verified, resumable),
 * uploads (monolithic, chunked, cross-repository mount), tags.
 *
 *   const client = new RegistryClient({ registry: '127.0.0.1:5000', tlsVerify: false, credentials });
 *   const { bytes, mediaType, digest } = await client.getManifest({ repository: 'library/alpine', tag: '3.19' });
 *   const stream = await client.getBlob('library/alpine', layer.digest, { size: layer.size });
 *   client.close();
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { TspodError } from '../../util/errors.js';
import { type Descriptor, isDigest, parseManifest, schema1Error } from '../manifest.js';
import { MANIFEST_ACCEPT, classifyLayer, isImageManifestMediaType, isIndexMediaType, isSchema1MediaType, stripParams } from '../media-types.js';
import { digestBytes, newDigester, parseDigest } from './digest.js';
import { RegistryError } from './errors.js';
import { backoffDelay, isRetryableNetworkError, isRetryableStatus, sleep } from './retry.js';
import { Transport, drain, readBody } from './transport.js';
import type {
  BlobSource,
  GetBlobOptions,
  ManifestHead,
  ManifestResult,
  PutBlobOptions,
  PutBlobResult,
  RegistryClientOptions,
  RegistryRef,
} from './types.js';

/** Manifests larger than this are refused (as containers/image does). */
export const MANIFEST_SIZE_LIMIT = 4 * 1024 * 1024;
/** Bytes re-requested before the resume point to check the data continues where it stopped. */
const RESUME_OVERLAP = 512;

const pull = (repo: string) => [`repository:${repo}:pull`];
const push = (repo: string) => [`repository:${repo}:pull,push`];

function checkRepo(repo: string): void {
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repo)) {
    throw new TspodError(`invalid repository name "${repo}": use lowercase letters, digits and separators (. _ - /)`);
  }
}

/** The digest when there is one, else the tag, else `latest` (as a reference without either means). */
function manifestRef(ref: RegistryRef): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** Turn a (possibly relative) upload Location into a URL string, adding query parameters. */
function withQuery(location: string, base: URL, params: Record<string, string>): string {
  const u = new URL(location, base);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.href;
}

/** Read `size` bytes at most from an async iterator of chunks, keeping leftovers. */
class ChunkReader {
  private it: AsyncIterator<Buffer>;
  private pending: Buffer | undefined;
  constructor(stream: Readable) {
    this.it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }
  async read(size: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let n = 0;
    while (n < size) {
      let c = this.pending;
      this.pending = undefined;
      if (!c) {
        const r = await this.it.next();
        if (r.done) break;
        c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      }
      if (n + c.length > size) {
        this.pending = c.subarray(size - n);
        c = c.subarray(0, size - n);
      }
      parts.push(c);
      n += c.length;
    }
    return Buffer.concat(parts);
  }
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

export class RegistryClient {
  readonly registry: string;
  readonly transport: Transport;
  private readonly maxResume: number;
  private readonly onDebug: ((m: string) => void) | undefined;

  constructor(opts: RegistryClientOptions) {
    this.registry = opts.registry;
    this.onDebug = opts.onDebug;
    this.transport = new Transport(opts);
    this.maxResume = opts.maxResumeAttempts ?? 5;
  }

  /** Release pooled connections. */
  close(): void {
    this.transport.close();
  }

  private name(ref: RegistryRef): string {
    if (ref.registry !== undefined && ref.registry !== this.registry) {
      throw new TspodError(`internal error: reference to registry ${ref.registry} given to the client of ${this.registry}`);
    }
    checkRepo(ref.repository);
    return ref.repository;
  }

  private display(repo: string, reference: string): string {
    return `${this.registry}/${repo}${reference.includes(':') && isDigest(reference) ? '@' : ':'}${reference}`;
  }

  /** `GET /v2/`: checks the registry is reachable and learns how it authenticates. */
  async ping(): Promise<{ scheme: 'https' | 'http'; auth: 'none' | 'basic' | 'bearer' | 'other' }> {
    await this.transport.ping();
    return { scheme: this.transport.baseUrl!.protocol === 'https:' ? 'https' : 'http', auth: this.transport.authScheme };
  }

  /**
   * Fetch a manifest by tag or digest. Verifies the digest when fetched by digest;
   * refuses schema 1.
   */
  async getManifest(ref: RegistryRef, opts: { accept?: readonly string[] } = {}): Promise<ManifestResult> {
    const repo = this.name(ref);
    const reference = manifestRef(ref);
    const subject = this.display(repo, reference);
    const res = await this.transport.request({
      method: 'GET',
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { Accept: (opts.accept ?? MANIFEST_ACCEPT).join(', ') },
      scopes: pull(repo),
      expect: [200],
      ctx: { kind: 'manifest', subject },
    });
    const len = Number(res.headers['content-length']);
    if (Number.isFinite(len) && len > MANIFEST_SIZE_LIMIT) {
      res.destroy();
      throw new RegistryError(`manifest of ${subject} is ${len} bytes, more than the ${MANIFEST_SIZE_LIMIT}-byte limit; refusing it`, { registry: this.registry, status: 200 });
    }
    const bytes = await readBody(res, MANIFEST_SIZE_LIMIT, this.registry);
    const contentType = stripParams(String(res.headers['content-type'] ?? ''));
    if (isSchema1MediaType(contentType)) throw schema1Error();
    if (ref.digest) {
      const { algorithm } = parseDigest(ref.digest);
      const got = digestBytes(bytes, algorithm);
      if (got !== ref.digest) {
        throw new RegistryError(`manifest digest mismatch for ${subject}: the registry sent content with digest ${got}; the registry is corrupt or compromised`, {
          registry: this.registry,
          status: 200,
          code: 'DIGEST_MISMATCH',
        });
      }
    }
    let mediaType = contentType;
    if (!isIndexMediaType(mediaType) && !isImageManifestMediaType(mediaType)) {
      mediaType = parseManifest(bytes, contentType).mediaType;
    }
    const digest = ref.digest ?? digestBytes(bytes);
    return { bytes, mediaType, digest };
  }

  /** HEAD a manifest: its digest, media type and size, or undefined when absent. */
  async headManifest(ref: RegistryRef): Promise<ManifestHead | undefined> {
    const repo = this.name(ref);
    const reference = manifestRef(ref);
    const res = await this.transport.request({
      method: 'HEAD',
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { Accept: MANIFEST_ACCEPT.join(', ') },
      scopes: pull(repo),
      expect: [200, 404],
      ctx: { kind: 'manifest', subject: this.display(repo, reference) },
    });
    await drain(res);
    if (res.statusCode === 404) return undefined;
    const d = res.headers['docker-content-digest'];
    const len = Number(res.headers['content-length']);
    return {
      digest: typeof d === 'string' && isDigest(d) ? d : undefined,
      mediaType: res.headers['content-type'] ? stripParams(String(res.headers['content-type'])) : undefined,
      size: Number.isFinite(len) ? len : undefined,
    };
  }

  /** HEAD a blob: its size when the repository has it, undefined otherwise. */
  async blobExists(repository: string, digest: string): Promise<{ size: number | undefined } | undefined> {
    const repo = this.name({ repository });
    parseDigest(digest);
    const res = await this.transport.request({
      method: 'HEAD',
      path: `/v2/${repo}/blobs/${digest}`,
      scopes: pull(repo),
      expect: [200, 404],
      ctx: { kind: 'blob', subject: `${this.registry}/${repo}@${digest}` },
    });
    await drain(res);
    if (res.statusCode === 404) return undefined;
    const len = Number(res.headers['content-length']);
    return { size: Number.isFinite(len) ? len : undefined };
  }

  private async openBlob(repo: string, digest: string, from: number, ifRange: string | undefined): Promise<IncomingMessage> {
    const headers: Record<string, string> = {};
    if (from > 0) {
      headers.Range = `bytes=${from}-`;
      if (ifRange) headers['If-Range'] = ifRange;
    }
    return this.transport.request({
      method: 'GET',
      path: `/v2/${repo}/blobs/${digest}`,
      headers,
      scopes: pull(repo),
      expect: from > 0 ? [200, 206] : [200],
      ctx: { kind: 'blob', subject: `${this.registry}/${repo}@${digest}` },
    });
  }

  /**
   * Stream a blob. The returned stream verifies size and digest at its end (when
   * starting at offset 0) and errors on a mismatch. An interrupted download is resumed
   * with a Range request (re-reading a small overlap to check the data continues where
   * it stopped), or restarted from zero when the server ignores ranges.
   */
  async getBlob(repository: string, digest: string, opts: GetBlobOptions = {}): Promise<Readable> {
    const repo = this.name({ repository });
    return this.streamBlob(digest, `${this.registry}/${repo}@${digest}`, (from, ifRange) => this.openBlob(repo, digest, from, ifRange), opts);
  }

  /**
   * Stream a layer: a foreign / non-distributable layer with `urls` is fetched from
   * those first (no credentials sent; digest verified), then from the registry.
   */
  async getLayer(repository: string, layer: Descriptor, opts: Omit<GetBlobOptions, 'size'> = {}): Promise<Readable> {
    const kind = classifyLayer(layer.mediaType);
    const https = (layer.urls ?? []).filter((u) => /^https?:\/\//i.test(u));
    if (kind?.foreign && https.length) {
      for (const u of https) {
        try {
          const url = new URL(u);
          return await this.streamBlob(layer.digest, u, (from, ifRange) => this.transport.fetchUrl(url, from, ifRange), { ...opts, size: layer.size });
        } catch (err) {
          this.onDebug?.(`foreign layer ${layer.digest}: ${u} failed (${(err as Error).message}); trying the next source`);
        }
      }
    }
    return this.getBlob(repository, layer.digest, { ...opts, size: layer.size });
  }

  private async streamBlob(
    digest: string,
    subject: string,
    open: (from: number, ifRange: string | undefined) => Promise<IncomingMessage>,
    opts: GetBlobOptions,
  ): Promise<Readable> {
    const { algorithm } = parseDigest(digest);
    const startOffset = opts.offset ?? 0;
    const verify = opts.verify ?? startOffset === 0;
    if (verify && startOffset !== 0) throw new TspodError('internal error: cannot verify a blob digest when starting at an offset');
    const first = await open(startOffset, undefined);
    const registry = this.registry;
    const maxResume = this.maxResume;
    const policy = this.transport.policy;
    const debug = (m: string) => this.onDebug?.(m);
    let current = first; // the response being read, destroyed when the stream closes

    async function* body(): AsyncGenerator<Buffer> {
      const digester = verify ? newDigester(algorithm) : undefined;
      let res = first;
      let pos = startOffset; // absolute offset of the next byte to deliver
      let tail = Buffer.alloc(0); // last bytes delivered, to check a resumed range overlaps correctly
      let resumes = 0;
      let etag = typeof first.headers.etag === 'string' && !first.headers.etag.startsWith('W/') ? first.headers.etag : undefined;
      // Where the current response starts (absolute) and how it must be checked.
      let resStart = startOffset;
      if (first.statusCode === 200 && startOffset > 0) resStart = 0; // Range ignored
      if (first.statusCode === 206) {
        const cr = String(first.headers['content-range'] ?? '');
        const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr.trim());
        if (!m || Number(m[1]) !== startOffset) {
          throw new RegistryError(`registry ${registry} answered a ranged download of ${subject} with a wrong range (${cr || 'none'})`, { registry, status: 206 });
        }
      }
      let total: number | undefined = opts.size;
      const noteTotal = (r: IncomingMessage, start: number) => {
        const cr = r.headers['content-range'];
        const m = typeof cr === 'string' ? /\/(\d+)\s*$/.exec(cr) : null;
        const len = Number(r.headers['content-length']);
        const t = m ? Number(m[1]) : Number.isFinite(len) ? start + len : undefined;
        if (t !== undefined) {
          if (total !== undefined && t !== total) {
            throw new RegistryError(`blob ${subject} is ${t} bytes but ${total} were expected; the image is corrupt`, { registry, status: r.statusCode ?? 0, code: 'SIZE_MISMATCH' });
          }
          total = t;
        }
      };
      try {
        noteTotal(first, resStart);
        for (;;) {
          let cur = resStart; // absolute offset of the next byte of `res`
          try {
            for await (const raw of res as AsyncIterable<Buffer>) {
              let chunk = raw;
              if (cur < pos) {
                // Bytes already delivered: they must equal what we delivered (overlap check) or be skipped.
                const n = Math.min(chunk.length, pos - cur);
                const tailStart = pos - tail.length;
                const a = Math.max(cur, tailStart);
                const b = cur + n;
                if (a < b && !chunk.subarray(a - cur, b - cur).equals(tail.subarray(a - tailStart, b - tailStart))) {
                  throw new RegistryError(`blob ${subject} changed while its download was being resumed; try again`, { registry, status: 0, code: 'RESUME_MISMATCH' });
                }
                cur += n;
                chunk = chunk.subarray(n);
                if (chunk.length === 0) continue;
              }
              digester?.update(chunk);
              cur += chunk.length;
              pos += chunk.length;
              if (opts.size !== undefined && pos > opts.size) {
                throw new RegistryError(`blob ${subject} is longer than the ${opts.size} bytes expected; the image is corrupt`, { registry, status: 200, code: 'SIZE_MISMATCH' });
              }
              // keep the last RESUME_OVERLAP bytes without copying whole chunks
              tail =
                chunk.length >= RESUME_OVERLAP
                  ? Buffer.from(chunk.subarray(chunk.length - RESUME_OVERLAP))
                  : Buffer.concat([tail, chunk]).subarray(Math.max(0, tail.length + chunk.length - RESUME_OVERLAP));
              yield chunk;
            }
            if (total !== undefined && pos < total) {
              const e = new Error(`connection closed after ${pos} of ${total} bytes`) as NodeJS.ErrnoException;
              e.code = 'ECONNRESET';
              throw e;
            }
            break;
          } catch (err) {
            res.destroy();
            if (err instanceof RegistryError || !isRetryableNetworkError(err) || resumes >= maxResume) {
              if (err instanceof RegistryError) throw err;
              throw new RegistryError(`download of ${subject} failed after ${pos} bytes (${(err as Error).message}); try again`, { registry, status: 0, code: (err as NodeJS.ErrnoException).code, cause: err });
            }
            resumes++;
            const d = backoffDelay(policy, resumes + 1);
            await sleep(d);
            const from = Math.max(0, pos - Math.min(tail.length, RESUME_OVERLAP));
            debug(`blob ${digest}: connection lost at ${pos}; resuming from ${from} (attempt ${resumes}/${maxResume})`);
            res = await open(from, etag);
            current = res;
            if (res.statusCode === 206) {
              const cr = String(res.headers['content-range'] ?? '');
              const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr.trim());
              if (!m || Number(m[1]) !== from) {
                throw new RegistryError(`registry ${registry} answered a resumed download of ${subject} with a wrong range (${cr || 'none'}); try again`, { registry, status: 206 });
              }
              resStart = from;
            } else {
              debug(`blob ${digest}: server ignored the range; restarting from 0 and skipping ${pos} bytes`);
              resStart = 0;
              etag = typeof res.headers.etag === 'string' && !res.headers.etag.startsWith('W/') ? res.headers.etag : etag;
            }
            noteTotal(res, resStart);
          }
        }
        if (opts.size !== undefined && pos !== opts.size) {
          throw new RegistryError(`blob ${subject} has ${pos} bytes but ${opts.size} were expected; the image is corrupt`, { registry, status: 200, code: 'SIZE_MISMATCH' });
        }
        if (digester) {
          const got = digester.digest();
          if (got !== digest) {
            throw new RegistryError(`blob digest mismatch for ${subject}: got ${got}; the registry is corrupt or compromised`, { registry, status: 200, code: 'DIGEST_MISMATCH' });
          }
        }
      } finally {
        res.destroy();
      }
    }
    const out = Readable.from(body(), { objectMode: false, highWaterMark: 64 * 1024 });
    // A stream destroyed before it was ever read never runs the generator's finally.
    out.once('close', () => current.destroy());
    return out;
  }

  /**
   * Try a cross-repository mount. Returns 'mounted' (201), or the upload Location when
   * the registry answered 202 (mount refused: upload into that session instead).
   */
  async mountBlob(repository: string, digest: string, fromRepository: string): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const repo = this.name({ repository });
    const from = this.name({ repository: fromRepository });
    parseDigest(digest);
    const res = await this.transport.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      scopes: [...push(repo), ...pull(from)],
      expect: [201, 202],
      ctx: { kind: 'upload', subject: `${this.registry}/${repo}@${digest}` },
    });
    await drain(res);
    if (res.statusCode === 201) return { mounted: true };
    const loc = res.headers.location;
    if (!loc) throw new RegistryError(`registry ${this.registry} started an upload without a Location`, { registry: this.registry, status: 202 });
    return { mounted: false, location: loc };
  }

  private async startUpload(repo: string, subject: string): Promise<string> {
    const res = await this.transport.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/`,
      scopes: push(repo),
      expect: [202],
      ctx: { kind: 'upload', subject },
    });
    await drain(res);
    const loc = res.headers.location;
    if (!loc) throw new RegistryError(`registry ${this.registry} started an upload without a Location`, { registry: this.registry, status: 202 });
    return loc;
  }

  /**
   * Upload a blob unless the repository has it: existence check, then optional
   * cross-repository mounts, then a monolithic PUT or chunked PATCHes + PUT.
   */
  async putBlob(repository: string, source: BlobSource, opts: PutBlobOptions = {}): Promise<PutBlobResult> {
    const repo = this.name({ repository });
    const size = source instanceof Uint8Array ? source.length : source.size;
    const digest = opts.digest;
    if (digest) parseDigest(digest);
    const subject = `${this.registry}/${repo}@${digest ?? 'new blob'}`;
    if (digest && !opts.skipExistsCheck) {
      const e = await this.blobExists(repo, digest);
      if (e) return { digest, size, via: 'exists' };
    }
    let location: string | undefined;
    if (digest) {
      for (const from of opts.mountFrom ?? []) {
        if (from === repo) continue;
        const r = await this.mountBlob(repo, digest, from);
        if (r.mounted) return { digest, size, via: 'mounted' };
        location = r.location; // registry declined the mount and opened an upload session: use it
        break;
      }
    }
    // A failed upload session is abandoned and the upload started again (the source is
    // re-openable), within the retry policy.
    for (let attempt = 1; ; attempt++) {
      const start = location ?? (await this.startUpload(repo, subject));
      try {
        return await this.upload(repo, source, size, digest, opts.chunkSize, start, subject);
      } catch (err) {
        location = undefined;
        const retryable =
          err instanceof RegistryError &&
          (err.status === 0 ? isRetryableNetworkError(err.cause) : isRetryableStatus(err.status) || err.code === 'BLOB_UPLOAD_UNKNOWN');
        if (!retryable || attempt >= this.transport.policy.maxAttempts) throw err;
        const d = backoffDelay(this.transport.policy, attempt + 1);
        this.onDebug?.(`upload of ${subject} failed (${(err as Error).message}); restarting it in ${d} ms`);
        await sleep(d);
      }
    }
  }

  private async upload(
    repo: string,
    source: BlobSource,
    size: number,
    expectedDigest: string | undefined,
    chunkSize: number | undefined,
    startLocation: string,
    subject: string,
  ): Promise<PutBlobResult> {
    let digest = expectedDigest;
    let location = startLocation;
    const base = this.transport.baseUrl!;
    const open = (): Readable => (source instanceof Uint8Array ? Readable.from([Buffer.from(source)]) : source.open());

    const chunked = chunkSize !== undefined && chunkSize > 0 && size > 0;
    if (!chunked) {
      if (!digest) {
        const d = newDigester();
        for await (const c of open() as AsyncIterable<Buffer>) d.update(c);
        digest = d.digest();
      }
      const res = await this.transport.request({
        method: 'PUT',
        path: withQuery(location, base, { digest }),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
        body: source instanceof Uint8Array ? source : () => source.open(),
        scopes: push(repo),
        expect: [201],
        ctx: { kind: 'upload', subject: `${this.registry}/${repo}@${digest}` },
        // a streamed body cannot be replayed inside an upload session
        retry: source instanceof Uint8Array,
      });
      await drain(res);
      return { digest, size, via: 'uploaded' };
    }

    const reader = new ChunkReader(open());
    const d = newDigester(digest ? parseDigest(digest).algorithm : 'sha256');
    let offset = 0;
    try {
      while (offset < size) {
        const chunk = await reader.read(Math.min(chunkSize!, size - offset));
        if (chunk.length === 0) break;
        d.update(chunk);
        const res = await this.transport.request({
          method: 'PATCH',
          path: new URL(location, base).href,
          headers: {
            'Content-Type': 'application/octet-stream',
            'Content-Range': `${offset}-${offset + chunk.length - 1}`,
          },
          body: chunk,
          scopes: push(repo),
          expect: [202],
          ctx: { kind: 'upload', subject },
          retry: false,
        });
        await drain(res);
        offset += chunk.length;
        const loc = res.headers.location;
        if (loc) location = loc;
      }
    } finally {
      await reader.close();
    }
    if (offset !== size) {
      throw new TspodError(`blob source for ${subject} gave ${offset} bytes but ${size} were announced`);
    }
    const computed = d.digest();
    if (digest && computed !== digest) {
      throw new TspodError(`blob content does not match its digest ${digest} (it hashes to ${computed}); the local copy is corrupt`);
    }
    digest = computed;
    const res = await this.transport.request({
      method: 'PUT',
      path: withQuery(location, base, { digest }),
      headers: { 'Content-Type': 'application/octet-stream' },
      scopes: push(repo),
      expect: [201],
      ctx: { kind: 'upload', subject: `${this.registry}/${repo}@${digest}` },
      retry: false,
    });
    await drain(res);
    return { digest, size, via: 'uploaded' };
  }

  /** Upload a manifest under a tag or digest; returns its digest. */
  async putManifest(ref: RegistryRef, bytes: Uint8Array, mediaType: string): Promise<string> {
    const repo = this.name(ref);
    const reference = manifestRef(ref);
    const digest = ref.digest ? (parseDigest(ref.digest), digestBytes(bytes, parseDigest(ref.digest).algorithm)) : digestBytes(bytes);
    if (ref.digest && digest !== ref.digest) {
      throw new TspodError(`manifest bytes hash to ${digest}, not to the digest ${ref.digest} they are pushed as`);
    }
    const res = await this.transport.request({
      method: 'PUT',
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { 'Content-Type': mediaType },
      body: bytes,
      scopes: push(repo),
      expect: [200, 201, 202],
      ctx: { kind: 'manifest', subject: this.display(repo, reference) },
    });
    await drain(res);
    return digest;
  }

  /** All tags of a repository (following `Link: <...>; rel="next"` pagination). */
  async listTags(repository: string, opts: { pageSize?: number } = {}): Promise<string[]> {
    const repo = this.name({ repository });
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list${opts.pageSize ? `?n=${opts.pageSize}` : ''}`;
    for (let pages = 0; path && pages < 10_000; pages++) {
      const res: IncomingMessage = await this.transport.request({
        method: 'GET',
        path,
        scopes: pull(repo),
        expect: [200],
        ctx: { kind: 'tags', subject: `${this.registry}/${repo}` },
      });
      const text = (await readBody(res, 16 * 1024 * 1024, this.registry)).toString('utf8');
      let doc: { tags?: unknown };
      try {
        doc = JSON.parse(text);
      } catch {
        throw new RegistryError(`registry ${this.registry} sent a tag list for ${repo} that is not JSON`, { registry: this.registry, status: 200 });
      }
      if (Array.isArray(doc.tags)) tags.push(...doc.tags.filter((t): t is string => typeof t === 'string'));
      const link = res.headers.link;
      const m = typeof link === 'string' ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      path = m ? m[1] : undefined;
    }
    return tags;
  }
}

/** A client for the registry of `ref` (convenience for callers holding a parsed reference). */
export function createRegistryClient(ref: { registry: string }, opts: Omit<RegistryClientOptions, 'registry'> = {}): RegistryClient {
  return new RegistryClient({ ...opts, registry: ref.registry });
}
