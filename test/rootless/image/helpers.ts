/**
 * Shared setup for the image suites: a sandboxed tspod, the fixtures, a plain loopback
 * registry with them pushed, and a tree lister that runs inside tspod's user namespace.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeTar, type TarWriteEntry } from '../../../src/core/index.js';
import { compressChunks } from '../../../src/core/index.js';
import { MediaType } from '../../../src/image/media-types.js';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { sha256 } from '../../helpers/image-fixtures.js';
import type { PodmanPeer } from '../../helpers/podman-peer.js';
import { TspodSandbox } from '../../helpers/tspod.js';

export interface TreeEntry {
  path: string;
  type: 'f' | 'd' | 'l' | 'c' | 'b' | 'p' | 's';
  mode: number;
  uid: number;
  gid: number;
  link?: string;
  size?: number;
  sha256?: string;
  rdev?: [number, number];
  opaque?: string;
  ino: number;
  nlink: number;
  mtime: number;
}

export const LISTER = String.raw`
import os, sys, json, hashlib, stat
root = sys.argv[1]
out = []
for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    for name in sorted(dirnames + filenames):
        p = os.path.join(dirpath, name)
        st = os.lstat(p)
        m = st.st_mode
        t = 'd' if stat.S_ISDIR(m) else 'l' if stat.S_ISLNK(m) else 'c' if stat.S_ISCHR(m) else 'b' if stat.S_ISBLK(m) else 'p' if stat.S_ISFIFO(m) else 's' if stat.S_ISSOCK(m) else 'f'
        e = {'path': os.path.relpath(p, root), 'type': t, 'mode': stat.S_IMODE(m), 'uid': st.st_uid, 'gid': st.st_gid, 'ino': st.st_ino, 'nlink': st.st_nlink, 'mtime': int(st.st_mtime)}
        if t == 'l': e['link'] = os.readlink(p)
        if t == 'f':
            e['size'] = st.st_size
            with open(p, 'rb') as f: e['sha256'] = hashlib.sha256(f.read()).hexdigest()
        if t == 'c': e['rdev'] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
        if t == 'd':
            try: e['opaque'] = os.getxattr(p, 'user.overlay.opaque', follow_symlinks=False).decode()
            except OSError: pass
        out.append(e)
print(json.dumps(out))
`;

/** List a tree as seen inside the sandbox's user namespace (ids as the container sees them). */
export function listTree(sb: TspodSandbox, dir: string): TreeEntry[] {
  const r = sb.run(['unshare', '/usr/bin/python3', '-c', LISTER, dir]);
  if (r.status !== 0) throw new Error(`lister failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as TreeEntry[];
}

export function storageRoot(sb: TspodSandbox): string {
  return path.join(sb.home, '.local', 'share', 'tspod');
}

export function readImagesDb(sb: TspodSandbox): { images: Record<string, { id: string; names: string[]; layers: string[]; digest: string }> } {
  const f = path.join(storageRoot(sb), 'images', 'images.json');
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : { images: {} };
}

export function readLayersDb(sb: TspodSandbox): { layers: Record<string, { id: string; diffID: string; digest: string; parent?: string; size: number }> } {
  const f = path.join(storageRoot(sb), 'layers', 'layers.json');
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : { layers: {} };
}

export function layerDiff(sb: TspodSandbox, chainID: string): string {
  return path.join(storageRoot(sb), 'layers', chainID.replace(/^sha256:/, ''), 'diff');
}

async function collectGen(g: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of g) parts.push(c);
  return Buffer.concat(parts);
}

/** Build a one-or-more-layer OCI image from tar entries (written by the core's tar writer) and push it. */
export async function pushCraftedImage(client: RegistryClient, repository: string, tag: string, layers: TarWriteEntry[][]): Promise<{ manifestDigest: string; id: string }> {
  const descs = [];
  const diffIds = [];
  for (const entries of layers) {
    const tar = await collectGen(writeTar(entries));
    const gz = await collectGen(compressChunks((async function* () { yield tar; })(), 'gzip'));
    const digest = sha256(gz);
    await client.putBlob(repository, gz, { digest });
    descs.push({ mediaType: MediaType.OciLayerGzip, digest, size: gz.length });
    diffIds.push(sha256(tar));
  }
  const { goArch } = await import('../../../src/image/manifest.js');
  const config = Buffer.from(JSON.stringify({
    created: '2024-01-01T00:00:00Z', architecture: goArch(), os: 'linux',
    config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'crafted' })),
  }));
  const configDigest = sha256(config);
  await client.putBlob(repository, config, { digest: configDigest });
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length }, layers: descs }));
  const manifestDigest = await client.putManifest({ repository, tag }, manifest, MediaType.OciManifest);
  return { manifestDigest, id: configDigest.slice(7) };
}

export function tmpDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tspod-${name}-`));
}

/** The tree of an image in podman's store (the peer), listed like listTree's, from inside podman's user namespace. */
export function podmanTree(peer: PodmanPeer, image: string, opts: { timeout?: number } = {}): TreeEntry[] {
  const inner = `p=$(podman ${peer.store.join(' ')} image mount ${image}) && /usr/bin/python3 -c "$LISTER" "$p"`;
  return JSON.parse(peer.run(['unshare', 'sh', '-c', inner], { env: { LISTER }, timeout: opts.timeout ?? 120_000, maxBuffer: 256 << 20 })) as TreeEntry[];
}
