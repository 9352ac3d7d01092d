import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHasher, decompressChunks, sniffCompression, writeTar } from '../core/index.js';
import { goArch } from '../system/info.js';
import { normalizeName } from '../storage/image-store.js';
import { TspodError } from '../util/errors.js';
import { trustedCaCertificates } from '../util/trusted-cas.js';
import type { ContainerConfig } from './manifest.js';
import { loadArchive } from './load.js';

/**
 * Apply `--change` instructions (Dockerfile syntax: CMD, ENTRYPOINT, ENV, EXPOSE,
 * LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL: the ones Podman accepts) to an
 * image config. ONBUILD triggers go to `OnBuild`, which only the Docker config
 * format has (see dropOnBuild).
 */
export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  const out: ContainerConfig = { ...config };
  for (const change of changes) {
    const m = /^\s*(\w+)\s+(.*)$/s.exec(change);
    if (!m) throw new TspodError(`invalid --change "${change}": use an instruction such as CMD, ENV or WORKDIR followed by its value`);
    const [, instr, rest] = m;
    const value = rest.trim();
    const list = (): string[] => {
      if (value.startsWith('[')) {
        try {
          const arr = JSON.parse(value) as unknown;
          if (Array.isArray(arr) && arr.every((x) => typeof x === 'string')) return arr as string[];
        } catch {
          // shell form below
        }
      }
      return ['/bin/sh', '-c', value];
    };
    const pairs = (): [string, string][] => {
      if (!value.includes('=')) {
        const sp = value.indexOf(' ');
        if (sp < 0) throw new TspodError(`invalid --change "${change}": ${instr} needs KEY=VALUE`);
        return [[value.slice(0, sp), value.slice(sp + 1).trim()]];
      }
      return value.split(/\s+/).map((kv) => {
        const eq = kv.indexOf('=');
        return [kv.slice(0, eq), kv.slice(eq + 1).replace(/^"(.*)"$/, '$1')];
      });
    };
    switch (instr.toUpperCase()) {
      case 'CMD':
        out.Cmd = list();
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = list();
        break;
      case 'ENV': {
        const env = new Map((out.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e]));
        for (const [k, v] of pairs()) env.set(k, `${k}=${v}`);
        out.Env = [...env.values()];
        break;
      }
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(pairs()) };
        break;
      case 'EXPOSE':
        out.ExposedPorts = { ...(out.ExposedPorts ?? {}) };
        for (const p of value.split(/\s+/)) out.ExposedPorts[p.includes('/') ? p : `${p}/tcp`] = {};
        break;
      case 'VOLUME':
        out.Volumes = { ...(out.Volumes ?? {}) };
        for (const v of value.startsWith('[') ? (JSON.parse(value) as string[]) : value.split(/\s+/)) out.Volumes[v] = {};
        break;
      case 'USER':
        out.User = value;
        break;
      case 'WORKDIR':
        out.WorkingDir = value;
        break;
      case 'STOPSIGNAL':
        out.StopSignal = value;
        break;
      case 'ONBUILD':
        // Kept as written (the trigger instruction and its arguments), after the base image's own.
        out.OnBuild = [...((out.OnBuild as string[] | null | undefined) ?? []), value];
        break;
      default:
        throw new TspodError(`invalid --change "${change}": ${instr} is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL`);
    }
  }
  return out;
}

/**
 * An OCI image config has no OnBuild: the triggers are dropped, as Podman drops
 * them; `warn` gets each one (commit warns, import says nothing).
 */
export function dropOnBuild(config: ContainerConfig, warn?: (trigger: string) => void): ContainerConfig {
  if (!('OnBuild' in config)) return config;
  const { OnBuild, ...rest } = config;
  if (warn) for (const trigger of (OnBuild as string[] | null) ?? []) warn(trigger);
  return rest;
}

/** A local copy of the source: a file as is, stdin or a URL downloaded to a temporary file. */
async function localSource(source: string, tmpDir: string): Promise<string> {
  if (/^https?:\/\//.test(source)) {
    const file = path.join(tmpDir, 'download');
    await download(source, file);
    return file;
  }
  if (source === '-') {
    const file = path.join(tmpDir, 'stdin');
    await pipeline(process.stdin, fs.createWriteStream(file));
    return file;
  }
  if (!fs.existsSync(source)) throw new TspodError(`cannot import ${source}: no such file; give a tarball, - for stdin, or a URL`);
  return source;
}

/** An http(s) download, redirects followed; https trusts what every tspod TLS client trusts. */
async function download(url: string, file: string, redirects = 5): Promise<void> {
  const get = url.startsWith('https:')
    ? (u: string, cb: (res: http.IncomingMessage) => void) => https.get(u, { ca: trustedCaCertificates().ca }, cb)
    : (u: string, cb: (res: http.IncomingMessage) => void) => http.get(u, cb);
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    get(url, resolve).on('error', (err) => reject(new TspodError(`cannot download ${url}: ${err.message}`)));
  });
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
    res.resume();
    return download(new URL(res.headers.location, url).href, file, redirects - 1);
  }
  if (status !== 200) {
    res.resume();
    throw new TspodError(`cannot download ${url}: HTTP ${status}`);
  }
  await pipeline(res, fs.createWriteStream(file));
}

async function* plainLayer(file: string): AsyncGenerator<Uint8Array> {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(512);
  const n = fs.readSync(fd, head, 0, 512, 0);
  fs.closeSync(fd);
  const compression = sniffCompression(head.subarray(0, n));
  const raw = fs.createReadStream(file);
  yield* compression === 'none' ? raw : decompressChunks(raw, compression);
}

/**
 * `tspod import`: a root filesystem tarball (plain, gzip or zstd; a file, stdin
 * or a URL) becomes a one-layer image, through the same code as `load`.
 */
export async function importTarball(
  storageRoot: string,
  driver: 'overlay' | 'vfs',
  source: string,
  opts: { reference?: string; changes: string[]; message?: string },
): Promise<{ id: string; names: string[] }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-import-'));
  try {
    const file = await localSource(source, tmp);
    const hasher = createHasher();
    let size = 0;
    for await (const chunk of plainLayer(file)) {
      hasher.update(chunk);
      size += chunk.length;
    }
    const diffID = `sha256:${hasher.digestHex()}`;
    const created = new Date().toISOString();
    const config = {
      architecture: goArch(),
      os: 'linux',
      created,
      config: dropOnBuild(applyChanges({}, opts.changes)),
      rootfs: { type: 'layers', diff_ids: [diffID] },
      history: [{ created, created_by: `/bin/sh -c #(nop) ADD file:${path.basename(source)} in /`, ...(opts.message ? { comment: opts.message } : {}) }],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configHex = (() => {
      const h = createHasher();
      h.update(configBytes);
      return h.digestHex();
    })();
    const names = opts.reference ? [normalizeName(opts.reference)] : [];
    const manifest = Buffer.from(JSON.stringify([{ Config: `${configHex}.json`, RepoTags: names, Layers: ['layer.tar'] }]));
    const entries = async function* () {
      yield { header: { name: 'manifest.json', type: 'file' as const, size: manifest.length, mode: 0o644 }, body: manifest };
      yield { header: { name: `${configHex}.json`, type: 'file' as const, size: configBytes.length, mode: 0o644 }, body: configBytes };
      yield { header: { name: 'layer.tar', type: 'file' as const, size, mode: 0o644 }, body: plainLayer(file) };
    };
    const [loaded] = await loadArchive(storageRoot, Readable.from(writeTar(entries())), driver);
    return { id: loaded.id, names: loaded.names };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
