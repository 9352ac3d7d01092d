import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTar } from '../../../src/core/index.js';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type Fixtures, buildFixtures, pushImage, pushIndex } from '../../helpers/image-fixtures.js';
import { MULTI_LAYER_EXPECTED } from '../../helpers/image-fixtures.js';
import { type RegistryServer, freePort, startRegistry } from '../../helpers/registry-server.js';
import { TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';
import { layerDiff, listTree, readImagesDb, readLayersDb, storageRoot, tmpDir, type TreeEntry } from './helpers.js';

let reg: RegistryServer;
let fx: Fixtures;
let client: RegistryClient;
let tmp: string;
let sb: TspodSandbox;
let multiDigest: string;

beforeAll(async () => {
  tmp = tmpDir('image-pull');
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  await pushImage(client, 'fixtures/busybox', 'v1', fx.busybox);
  multiDigest = await pushImage(client, 'fixtures/multi', 'v1', fx.multiLayer);
  await pushImage(client, 'fixtures/busybox-zstd', 'v1', fx.busyboxZstd);
  await pushImage(client, 'fixtures/busybox-tar', 'v1', fx.busyboxTar);
  await pushImage(client, 'fixtures/busybox-docker', 'v1', fx.busyboxDocker);
  await pushIndex(client, 'fixtures/multiarch', 'v1', fx.multiArch);
  sb = new TspodSandbox('image-pull');
}, 60_000);

afterAll(async () => {
  client?.close();
  sb?.dispose();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function pull(ref: string, extra: string[] = []) {
  return sb.run(['pull', '--tls-verify=false', ...extra, ref], { timeout: 120_000 });
}

async function tarEntries(file: string) {
  const out = [];
  const data = fs.readFileSync(file);
  for await (const e of readTar([data])) {
    const body = [];
    for await (const c of e.body()) body.push(c);
    out.push({ header: e.header, sha256: crypto.createHash('sha256').update(Buffer.concat(body)).digest('hex') });
  }
  return out;
}

/** The unpacked layer must hold exactly what the tar says (whiteouts in userxattr form). */
async function expectLayerMatchesTar(tree: TreeEntry[], tarFile: string) {
  const byPath = new Map(tree.map((e) => [e.path, e]));
  const seen = new Set<string>();
  for (const { header: h, sha256 } of await tarEntries(tarFile)) {
    const name = h.name.replace(/^\.\//, '').replace(/\/$/, '');
    const base = path.basename(name);
    const dir = path.dirname(name) === '.' ? '' : path.dirname(name);
    if (base === '.wh..wh..opq') {
      expect(byPath.get(dir)?.opaque, `${dir} opaque`).toBe('y');
      continue;
    }
    if (base.startsWith('.wh.')) {
      const target = path.join(dir, base.slice(4));
      expect(byPath.get(target), `whiteout ${target}`).toMatchObject({ type: 'c', rdev: [0, 0] });
      expect(byPath.has(name)).toBe(false);
      seen.add(target);
      continue;
    }
    const e = byPath.get(name);
    expect(e, name).toBeDefined();
    seen.add(name);
    if (h.type === 'hardlink') {
      const target = byPath.get(h.linkname.replace(/^\.\//, ''))!;
      expect(e!.ino, `${name} hardlinked to ${h.linkname}`).toBe(target.ino);
      continue;
    }
    const type = { file: 'f', directory: 'd', symlink: 'l', fifo: 'p', chardev: 'c', blockdev: 'b' }[h.type as string];
    expect({ path: name, type: e!.type, uid: e!.uid, gid: e!.gid, mtime: e!.mtime }).toEqual({ path: name, type, uid: h.uid, gid: h.gid, mtime: Math.floor(h.mtime) });
    if (h.type !== 'symlink') expect(e!.mode, `${name} mode`).toBe(h.mode & 0o7777);
    if (h.type === 'symlink') expect(e!.link).toBe(h.linkname);
    if (h.type === 'file') expect(e!.sha256, `${name} content`).toBe(sha256);
  }
  // Nothing but what the tar holds (and the parent directories it implies).
  for (const e of tree) if (!seen.has(e.path)) expect(e.type, `${e.path} is extra`).toBe('d');
}

describe('tspod pull', { timeout: 120_000 }, () => {
  it('pulls by tag: prints only the image ID when stderr is not a terminal', () => {
    const r = pull(`${reg.host}/fixtures/busybox:v1`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${fx.busybox.config.digest.slice(7)}\n`);
    const db = readImagesDb(sb);
    const rec = db.images[fx.busybox.config.digest.slice(7)]!;
    expect(rec.names).toEqual([`${reg.host}/fixtures/busybox:v1`]);
    expect(rec.digest).toBe(fx.busybox.manifestDigest);
    // Blobs kept byte for byte for push/save.
    const blobs = path.join(storageRoot(sb), 'blobs', 'sha256');
    expect(fs.readFileSync(path.join(blobs, fx.busybox.manifestDigest.slice(7))).equals(fx.busybox.manifest)).toBe(true);
    expect(fs.readFileSync(path.join(blobs, fx.busybox.layers[0]!.digest.slice(7))).equals(fs.readFileSync(fx.busybox.layers[0]!.path))).toBe(true);
    // Nothing left in staging.
    expect(fs.readdirSync(path.join(storageRoot(sb), 'tmp'))).toEqual([]);
  });

  it('unpacks the busybox layer exactly as its tar lists it', async () => {
    const tree = listTree(sb, layerDiff(sb, fx.busybox.layers[0]!.diffId));
    await expectLayerMatchesTar(tree, fx.busybox.layers[0]!.path.replace(/\.gz$/, ''));
    expect(tree.find((e) => e.path === 'bin/sh')).toMatchObject({ type: 'l', link: 'busybox' });
  });

  it('pulls the multi-layer image by digest: owners, setuid, hardlinks, whiteouts and opaque dirs in userxattr form', async () => {
    const r = pull(`${reg.host}/fixtures/multi@${multiDigest}`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const id = fx.multiLayer.config.digest.slice(7);
    expect(r.stdout).toBe(`${id}\n`);
    const rec = readImagesDb(sb).images[id]!;
    expect(rec.names).toEqual([`${reg.host}/fixtures/multi@${multiDigest}`]);
    expect(rec.layers).toHaveLength(2);
    const layers = readLayersDb(sb).layers;
    expect(layers[rec.layers[1]!]!.parent).toBe(rec.layers[0]);
    expect(layers[rec.layers[0]!]!.diffID).toBe(fx.multiLayer.layers[0]!.diffId);
    const base = listTree(sb, layerDiff(sb, rec.layers[0]!));
    const upper = listTree(sb, layerDiff(sb, rec.layers[1]!));
    await expectLayerMatchesTar(base, fx.multiLayer.layers[0]!.path.replace(/\.gz$/, ''));
    await expectLayerMatchesTar(upper, fx.multiLayer.layers[1]!.path.replace(/\.gz$/, ''));
    const b = new Map(base.map((e) => [e.path, e]));
    expect(b.get('usr/bin/suid-tool')).toMatchObject({ mode: 0o4755, uid: 0, gid: 0 });
    expect(b.get('home/bob/notes')).toMatchObject({ uid: 2000, gid: 3000 });
    const [h1, h2] = MULTI_LAYER_EXPECTED.baseHardlink;
    expect(b.get(h1)!.ino).toBe(b.get(h2)!.ino);
    const u = new Map(upper.map((e) => [e.path, e]));
    expect(u.get('old.txt')).toMatchObject({ type: 'c', rdev: [0, 0] });
    expect(u.get('data')!.opaque).toBe('y');
    expect(u.has('.wh.old.txt')).toBe(false);
    expect(u.has('data/.wh..wh..opq')).toBe(false);
  });

  it('is seen by host tools as subordinate ids (ownership really mapped)', () => {
    const rec = readImagesDb(sb).images[fx.multiLayer.config.digest.slice(7)]!;
    const st = fs.statSync(path.join(layerDiff(sb, rec.layers[0]!), 'home', 'bob', 'notes'));
    expect(st.uid).not.toBe(process.getuid!());
    expect(st.uid).toBeGreaterThan(2000);
  });

  it('skips layers already present', () => {
    const r = pull(`${reg.host}/fixtures/busybox-docker:v1`);
    expect(r.status).toBe(0);
    const layers = readLayersDb(sb).layers;
    // Same diffID as busybox's layer: one record serves both images.
    expect(Object.values(layers).filter((l) => l.diffID === fx.busybox.layers[0]!.diffId)).toHaveLength(1);
  });

  it('pulls zstd and uncompressed layers', () => {
    const r = pull(`${reg.host}/fixtures/busybox-zstd:v1`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(fx.busyboxZstd.config.digest.slice(7));
    const plain = pull(`${reg.host}/fixtures/busybox-tar:v1`);
    expect(plain.stderr).toBe('');
    expect(plain.stdout.trim()).toBe(fx.busyboxTar.config.digest.slice(7));
    // Both are the same tar: one layer (same diffID) serves both images.
    expect(readImagesDb(sb).images[fx.busyboxTar.config.digest.slice(7)]!.layers).toEqual(readImagesDb(sb).images[fx.busyboxZstd.config.digest.slice(7)]!.layers);
  });

  it('selects the platform from an index: host by default, --arch/--os/--variant and --platform otherwise', () => {
    const r = pull(`${reg.host}/fixtures/multiarch:v1`);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(fx.multiArch.images[0]!.config.digest.slice(7));
    const other = fx.multiArch.images[1]!;
    const p = other.platform;
    const r2 = pull(`${reg.host}/fixtures/multiarch:v1`, ['--platform', `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`]);
    expect(r2.stderr).toBe('');
    expect(r2.stdout.trim()).toBe(other.config.digest.slice(7));
    const r3 = pull(`${reg.host}/fixtures/multiarch:v1`, ['--arch', p.architecture, '-q']);
    expect(r3.stdout.trim()).toBe(other.config.digest.slice(7));
    // The index digest is recorded too.
    expect(readImagesDb(sb).images[other.config.digest.slice(7)]).toBeDefined();
  });

  it('fails with one clear line for a missing image and stores nothing', () => {
    const before = JSON.stringify(readImagesDb(sb));
    const r = pull(`${reg.host}/fixtures/nothing:v1`);
    expect(r.status).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: .*fixtures\/nothing/);
    expect(JSON.stringify(readImagesDb(sb))).toBe(before);
  });

  it('refuses plain http unless --tls-verify=false', () => {
    const r = sb.run(['pull', `${reg.host}/fixtures/busybox:v1`]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/tls-verify=false/);
  });

  it('resolves short names through registries.conf (search registries, insecure registry)', () => {
    const conf = path.join(sb.home, '.config', 'containers');
    fs.mkdirSync(conf, { recursive: true });
    fs.writeFileSync(
      path.join(conf, 'registries.conf'),
      `unqualified-search-registries = ["${reg.host}"]\n\n[[registry]]\nlocation = "${reg.host}"\ninsecure = true\n`,
    );
    try {
      const r = sb.run(['pull', 'fixtures/busybox:v1']);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(fx.busybox.config.digest.slice(7));
      expect(sb.run(['image', 'exists', 'fixtures/busybox:v1']).status).toBe(0);
    } finally {
      fs.rmSync(path.join(conf, 'registries.conf'));
    }
  });

  it('registries.conf: pulls through a mirror when the registry is down, rewrites locations, refuses blocked registries', async () => {
    const conf = path.join(sb.home, '.config', 'containers');
    fs.mkdirSync(conf, { recursive: true });
    const down = `127.0.0.1:${await freePort()}`; // nothing listens there
    fs.writeFileSync(
      path.join(conf, 'registries.conf'),
      [
        '[[registry]]', `prefix = "${down}/fixtures"`, `location = "${down}/fixtures"`, 'insecure = true',
        '[[registry.mirror]]', `location = "${reg.host}/fixtures"`, 'insecure = true', '',
        '[[registry]]', 'prefix = "tspod.invalid/rewritten"', `location = "${reg.host}/fixtures"`, 'insecure = true', '',
        '[[registry]]', `prefix = "${reg.host}/fixtures/multi"`, `location = "${reg.host}/fixtures/multi"`, 'blocked = true', '',
      ].join('\n'),
    );
    try {
      sb.run(['rmi', '-a', '-f']);
      // The mirror serves the image; it is stored under the name asked for.
      const viaMirror = sb.run(['pull', '-q', `${down}/fixtures/busybox:v1`]);
      expect(viaMirror.stderr).toBe('');
      expect(viaMirror.stdout.trim()).toBe(fx.busybox.config.digest.slice(7));
      expect(sb.run(['image', 'exists', `${down}/fixtures/busybox:v1`]).status).toBe(0);
      // A prefix whose location is another registry and repository.
      const rewritten = sb.run(['pull', '-q', 'tspod.invalid/rewritten/busybox-zstd:v1']);
      expect(rewritten.stderr).toBe('');
      expect(rewritten.stdout.trim()).toBe(fx.busyboxZstd.config.digest.slice(7));
      // Blocked: one line, exit 125, nothing fetched.
      const blocked = sb.run(['pull', '-q', `${reg.host}/fixtures/multi:v1`]);
      expect(blocked.status).toBe(125);
      expect(blocked.stderr.trim().split('\n')).toHaveLength(1);
      expect(blocked.stderr).toMatch(/is blocked in .*registries\.conf/);
      expect(sb.run(['image', 'exists', `${reg.host}/fixtures/multi:v1`]).status).toBe(1);
      // Without the mirror the same name cannot be pulled: the mirror really served it.
      fs.writeFileSync(path.join(conf, 'registries.conf'), `[[registry]]\nprefix = "${down}/fixtures"\nlocation = "${down}/fixtures"\ninsecure = true\n`);
      const noMirror = sb.run(['pull', '-q', `${down}/fixtures/busybox-docker:v1`]);
      expect(noMirror.status).toBe(125);
    } finally {
      fs.rmSync(path.join(conf, 'registries.conf'));
    }
  });

  it('shows per-layer progress on a terminal (stderr), and the ID on stdout', () => {
    sb.run(['rmi', '-a']);
    const out = path.join(sb.home, 'typescript');
    const cmd = `${TSPOD_BIN} pull --tls-verify=false ${reg.host}/fixtures/multi:v1 2>&1 >${out}.stdout`;
    const r = spawnSync('script', ['-q', '-e', '-c', cmd, out], { env: sb.env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const tty = fs.readFileSync(out, 'utf8');
    expect(tty).toContain(`Trying to pull ${reg.host}/fixtures/multi:v1...`);
    for (const l of fx.multiLayer.layers) expect(tty).toContain(`Copying blob ${l.digest.slice(0, 19)} done`);
    expect(tty).toContain(`Copying config ${fx.multiLayer.config.digest.slice(0, 19)} done`);
    expect(tty).toContain('Writing manifest to image destination');
    expect(fs.readFileSync(`${out}.stdout`, 'utf8')).toBe(`${fx.multiLayer.config.digest.slice(7)}\n`);
    // Pulled again: layers are skipped.
    const again = spawnSync('script', ['-q', '-e', '-c', cmd, out], { env: sb.env, encoding: 'utf8', timeout: 60_000 });
    expect(again.status).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toContain(`Copying blob ${fx.multiLayer.layers[0]!.digest.slice(0, 19)} skipped: already exists`);
  });
});
