import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TarWriteEntry } from '../../../src/core/index.js';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { pushCraftedImage, readImagesDb, readLayersDb, storageRoot, tmpDir } from './helpers.js';

let reg: RegistryServer;
let client: RegistryClient;
let tmp: string;
let sb: TspodSandbox;
let outside: string;

const file = (name: string, body = 'pwned\n', extra: Partial<TarWriteEntry['header']> = {}): TarWriteEntry => ({
  header: { name, type: 'file', mode: 0o644, size: Buffer.byteLength(body), mtime: 1700000000, ...extra },
  body: [Buffer.from(body)],
});
const dir = (name: string): TarWriteEntry => ({ header: { name, type: 'directory', mode: 0o755, mtime: 1700000000 } });

beforeAll(async () => {
  tmp = tmpDir('image-hostile');
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  reg = await startRegistry({ mode: 'plain' });
  client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  sb = new TspodSandbox('image-hostile');
}, 60_000);

afterAll(async () => {
  client?.close();
  sb?.dispose();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Everything under the store and the outside directory, to prove nothing was written. */
function snapshotOutside(): string[] {
  return fs.readdirSync(outside, { recursive: true }) as string[];
}

async function expectRefused(repo: string, layers: TarWriteEntry[][], message: RegExp) {
  await pushCraftedImage(client, `hostile/${repo}`, 'v1', layers);
  const r = sb.run(['pull', '--tls-verify=false', `${reg.host}/hostile/${repo}:v1`]);
  expect(r.status).toBe(125);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(Object.keys(readImagesDb(sb).images)).toEqual([]);
  expect(snapshotOutside()).toEqual([]);
  // The staging directory is gone; no layer was recorded.
  expect(fs.readdirSync(path.join(storageRoot(sb), 'tmp'))).toEqual([]);
  return r;
}

describe('hostile layers', { timeout: 60_000 }, () => {
  it('refuses ../ names', async () => {
    const rel = path.relative('/', outside);
    await expectRefused('dotdot', [[file(`../../../../../../../../../../${rel}/escape`)]], /not a safe layer: .*contains "\.\."/);
  });

  it('refuses absolute names', async () => {
    await expectRefused('absolute', [[file(`${outside}/abs`)]], /not a safe layer: .* is an absolute path/);
  });

  it('refuses a write through a symlink planted in the same layer', async () => {
    await expectRefused(
      'symlink',
      [[{ header: { name: 'link', type: 'symlink', linkname: outside, mode: 0o777, mtime: 1700000000 } }, file('link/pwned')]],
      /written through the symlink "link"/,
    );
  });

  it('refuses a write through a relative symlink to ..', async () => {
    await expectRefused(
      'symlink-rel',
      [[dir('a'), { header: { name: 'a/up', type: 'symlink', linkname: '../../../../../../../../..' + outside, mode: 0o777 } }, file('a/up/pwned')]],
      /written through the symlink "a\/up"/,
    );
  });

  it('refuses hardlinks to files outside the layer', async () => {
    await expectRefused('hardlink-abs', [[{ header: { name: 'passwd', type: 'hardlink', linkname: '/etc/passwd' } }]], /hardlink target .*absolute path/);
    await expectRefused('hardlink-rel', [[{ header: { name: 'passwd', type: 'hardlink', linkname: '../../../../../../etc/passwd' } }]], /contains "\.\."/);
    await expectRefused('hardlink-missing', [[{ header: { name: 'passwd', type: 'hardlink', linkname: 'etc/passwd' } }]], /not in the layer/);
  });

  it('refuses a hardlink through a symlink directory', async () => {
    await expectRefused(
      'hardlink-symlink',
      [[{ header: { name: 'etc', type: 'symlink', linkname: '/etc', mode: 0o777 } }, { header: { name: 'passwd', type: 'hardlink', linkname: 'etc/passwd' } }]],
      /goes through "etc", which is not a directory/,
    );
  });

  it('replaces a planted symlink with a file instead of writing through it', async () => {
    const target = path.join(outside, 'victim');
    const { id } = await pushCraftedImage(client, 'hostile/replace', 'v1', [[{ header: { name: 'f', type: 'symlink', linkname: target, mode: 0o777 } }, file('f', 'safe\n')]]);
    const r = sb.run(['pull', '-q', '--tls-verify=false', `${reg.host}/hostile/replace:v1`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(id);
    expect(snapshotOutside()).toEqual([]);
    const layer = Object.values(readLayersDb(sb).layers)[0]!;
    const f = path.join(storageRoot(sb), 'layers', layer.id.slice(7), 'diff', 'f');
    expect(fs.lstatSync(f).isFile()).toBe(true);
    expect(fs.readFileSync(f, 'utf8')).toBe('safe\n');
    sb.run(['rmi', '-a']);
  });

  it('skips device nodes (rootless) and keeps fifos', async () => {
    const { id } = await pushCraftedImage(client, 'hostile/devices', 'v1', [[
      dir('dev'),
      { header: { name: 'dev/null', type: 'chardev', mode: 0o666, devmajor: 1, devminor: 3 } },
      { header: { name: 'dev/sda', type: 'blockdev', mode: 0o660, devmajor: 8, devminor: 0 } },
      { header: { name: 'fifo', type: 'fifo', mode: 0o640 } },
    ]]);
    const r = sb.run(['pull', '-q', '--tls-verify=false', `${reg.host}/hostile/devices:v1`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(id);
    const layer = Object.values(readLayersDb(sb).layers)[0]!;
    const diff = path.join(storageRoot(sb), 'layers', layer.id.slice(7), 'diff');
    expect(fs.readdirSync(path.join(diff, 'dev'))).toEqual([]);
    const st = fs.lstatSync(path.join(diff, 'fifo'));
    expect(st.isFIFO()).toBe(true);
    expect(st.mode & 0o777).toBe(0o640);
  });
});
