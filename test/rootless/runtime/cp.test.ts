import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';

const ARCHIVE = path.join(REPO_ROOT, 'dist', 'busybox-image.tar');
const sandbox = new TspodSandbox('cp');
// Each call lets the event loop turn first: a long run of spawnSync calls on a busy machine
// would otherwise starve vitest's worker RPC ("Timeout calling onTaskUpdate").
const breathe = () => new Promise((r) => setTimeout(r, 0));
const t = async (args: string[], input?: string | Buffer) => {
  await breathe();
  return sandbox.run(args, { input });
};
const host = (...p: string[]) => path.join(sandbox.home, 'host', ...p);
const sh = (ctr: string, script: string) => t(['exec', ctr, 'sh', '-c', script]);

beforeAll(async () => {
  expect((await t(['load', '-i', ARCHIVE])).status).toBe(0);
  fs.mkdirSync(host(), { recursive: true });
  fs.mkdirSync(host('vol'));
  expect((await t(['run', '-d', '--name', 'live', '-v', `${host('vol')}:/mnt/vol`, 'busybox', 'sleep', '300'])).status).toBe(0);
  const setup = await sh(
    'live',
    'mkdir -p /d/sub && echo hi > /d/f && echo s > /d/sub/s && ln -s / /etc/escape && ln -s /d /dl && ln -s /etc/passwd /d/abs && chown 33:33 /d/f',
  );
  expect(setup.stderr).toBe('');
  expect((await t(['create', '--name', 'idle', 'busybox', 'true'])).status).toBe(0);
});
afterAll(async () => {
  await t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('cp out of a container', () => {
  it('copies a directory to a new name, its contents with /., and into an existing directory', async () => {
    expect(await t(['cp', 'live:/d', host('out1')])).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(fs.readFileSync(host('out1', 'f'), 'utf8')).toBe('hi\n');
    expect(fs.readFileSync(host('out1', 'sub', 's'), 'utf8')).toBe('s\n');
    // Symlinks inside the copied tree stay symlinks; files belong to the user running tspod.
    expect(fs.readlinkSync(host('out1', 'abs'))).toBe('/etc/passwd');
    expect(fs.statSync(host('out1', 'f')).uid).toBe(process.getuid!());
    fs.mkdirSync(host('out2'));
    expect((await t(['cp', 'live:/d/.', host('out2')])).status).toBe(0);
    expect(fs.readdirSync(host('out2')).sort()).toEqual(['abs', 'f', 'sub']);
    expect((await t(['cp', 'live:/d', host('out2')])).status).toBe(0);
    expect(fs.readFileSync(host('out2', 'd', 'sub', 's'), 'utf8')).toBe('s\n');
    expect((await t(['cp', 'live:/d/f', `${host('out2')}/`])).status).toBe(0);
    expect(fs.readFileSync(host('out2', 'f'), 'utf8')).toBe('hi\n');
  });

  it('resolves symlinks inside the container, never on the host', async () => {
    // /etc/escape -> / inside the container: /etc/escape/etc/hostname is the container's file.
    expect((await t(['cp', 'live:/etc/escape/etc/hostname', host('hn')])).status).toBe(0);
    expect(fs.readFileSync(host('hn'), 'utf8')).toBe((await sh('live', 'cat /etc/hostname')).stdout);
    // /d/abs -> /etc/passwd is the container's passwd, not the host's.
    expect((await t(['cp', 'live:/d/abs', host('pw')])).status).toBe(0);
    expect(fs.readFileSync(host('pw'), 'utf8')).toBe((await sh('live', 'cat /etc/passwd')).stdout);
    expect(fs.readFileSync(host('pw'), 'utf8')).not.toBe(fs.readFileSync('/etc/passwd', 'utf8'));
    // A followed symlink SRC copies its target under the link's name.
    expect((await t(['cp', 'live:/dl', host('out3')])).status).toBe(0);
    expect(fs.readFileSync(host('out3', 'f'), 'utf8')).toBe('hi\n');
  });

  it('writes a tar stream to standard output with -', async () => {
    const r = spawnSync(TSPOD_BIN, ['cp', 'live:/d', '-'], { env: sandbox.env });
    expect(r.status).toBe(0);
    const list = spawnSync('tar', ['-tvf', '-', '--numeric-owner'], { input: r.stdout, encoding: 'utf8' });
    const names = list.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(5).join(' ')).sort();
    expect(names).toEqual(['d/', 'd/abs -> /etc/passwd', 'd/f', 'd/sub/', 'd/sub/s']);
    // Owners as the container sees them.
    expect(list.stdout).toMatch(/ 33\/33 .* d\/f\n/);
    // The whole root through a symlink to /: files, but nothing from inside /proc or /sys.
    const all = spawnSync(TSPOD_BIN, ['cp', 'live:/etc/escape/', '-'], { env: sandbox.env, maxBuffer: 1 << 28 });
    expect(all.status).toBe(0);
    const allNames = spawnSync('tar', ['-tf', '-'], { input: all.stdout, encoding: 'utf8', maxBuffer: 1 << 28 }).stdout.split('\n');
    expect(allNames).toEqual(expect.arrayContaining(['bin/busybox', 'proc/', 'sys/', 'd/f', 'mnt/vol/']));
    expect(allNames.filter((n) => /^(proc|sys)\/./.test(n))).toEqual([]);
  });

  it('reports missing paths and wrong combinations like Podman (exit 125)', async () => {
    expect(await t(['cp', 'live:/nonexist', host('x')])).toMatchObject({
      status: 125,
      stderr: 'Error: "/nonexist" could not be found on container live: no such file or directory\n',
    });
    expect((await t(['cp', 'live:/d/f', `${host('nodir')}/`])).stderr).toBe(`Error: "${host('nodir')}/" could not be found on the host: no such file or directory\n`);
    expect((await t(['cp', 'live:/d', host('out1', 'f')])).status).toBe(125);
    expect((await t(['cp', host('hn'), host('hn2')])).stderr).toMatch(/must name a container path/);
    expect((await t(['cp', 'live:/a', 'idle:/b'])).stderr).toMatch(/copying between containers is not supported/);
    expect(await t(['cp', 'nosuch:/x', host('x')])).toMatchObject({ status: 125, stderr: 'Error: container "nosuch" does not exist\n' });
  });
});

describe('cp into a container', () => {
  it('never writes on the host while the container swaps a directory for a symlink to a host path', async () => {
    // Inside the container the link's target does not exist; resolved by the kernel from the
    // host's root it would be a directory of the test user's. Copies land in the container or fail.
    fs.mkdirSync(host('victim'));
    expect(
      (await t(['run', '-d', '--name', 'racer', 'busybox', 'sh', '-c', `mkdir -p /race; while :; do mkdir /race/d 2>/dev/null; rmdir /race/d; ln -s ${host('victim')} /race/d; rm /race/d; done`])).status,
    ).toBe(0);
    fs.writeFileSync(host('payload'), 'payload\n');
    for (let i = 0; i < 12; i++) (await t(['cp', host('payload'), 'racer:/race/d/']));
    await t(['rm', '-f', 'racer']);
    expect(fs.readdirSync(host('victim'))).toEqual([]);
  });

  it('copies a host file into a running container, owned by the container user', async () => {
    fs.writeFileSync(host('hf'), 'from host\n');
    fs.chmodSync(host('hf'), 0o640);
    expect(await t(['cp', host('hf'), 'live:/tmp/'])).toMatchObject({ status: 0, stderr: '' });
    expect((await sh('live', 'cat /tmp/hf; stat -c "%u:%g %a" /tmp/hf')).stdout).toBe('from host\n0:0 640\n');
    // To a new name, and over an existing file.
    expect((await t(['cp', host('hf'), 'live:/tmp/renamed'])).status).toBe(0);
    expect((await t(['cp', host('hn'), 'live:/tmp/renamed'])).status).toBe(0);
    expect((await sh('live', 'cat /tmp/renamed')).stdout).toBe(fs.readFileSync(host('hn'), 'utf8'));
  });

  it('follows a hostile symlink inside the container root: /etc/escape -> / lands in the container, not on the host', async () => {
    fs.writeFileSync(host('evil'), 'contained\n');
    expect(await t(['cp', host('evil'), 'live:/etc/escape/tmp/'])).toMatchObject({ status: 0, stderr: '' });
    expect((await sh('live', 'cat /tmp/evil')).stdout).toBe('contained\n');
    expect(fs.existsSync('/tmp/evil')).toBe(false);
    // A symlink named as DEST is followed inside the container root too.
    await sh('live', 'ln -s /etc/escape/etc/link-target /tmp/trap');
    expect((await t(['cp', host('evil'), 'live:/tmp/trap'])).status).toBe(0);
    expect((await sh('live', 'cat /etc/link-target')).stdout).toBe('contained\n');
    expect(fs.existsSync('/etc/link-target')).toBe(false);
    // Inside a copied tree, a symlink in the place of a file is replaced, not written through.
    fs.mkdirSync(host('t2', 'inner'), { recursive: true });
    fs.writeFileSync(host('t2', 'inner', 'x'), 'new\n');
    await sh('live', 'mkdir -p /o2/t2/inner && ln -s /etc/escape/etc/through /o2/t2/inner/x');
    expect((await t(['cp', host('t2'), 'live:/o2/'])).status).toBe(0);
    expect((await sh('live', 'test -L /o2/t2/inner/x || cat /o2/t2/inner/x; test -e /etc/through || echo not-written')).stdout).toBe('new\nnot-written\n');
  });

  it('copies directories, with -a (default) chowning to the container user and --archive=false keeping ids', async () => {
    fs.mkdirSync(host('tree', 'inner'), { recursive: true });
    fs.writeFileSync(host('tree', 'inner', 'x'), 'x\n');
    // Into an existing directory as tree/, to a new name as that name, its contents with /.
    expect((await t(['cp', host('tree'), 'live:/tmp'])).status).toBe(0);
    expect((await t(['cp', host('tree'), 'live:/newname'])).status).toBe(0);
    expect((await t(['cp', `${host('tree')}/.`, 'live:/tmp'])).status).toBe(0);
    expect((await sh('live', 'cat /tmp/tree/inner/x /newname/inner/x /tmp/inner/x; stat -c %u /tmp/tree/inner/x')).stdout).toBe('x\nx\nx\n0\n');
    // A container running as another user gets files it owns.
    expect((await t(['run', '-d', '--name', 'nob', '-u', '65534:65534', 'busybox', 'sleep', '300'])).status).toBe(0);
    expect((await t(['cp', host('hf'), 'nob:/tmp/'])).status).toBe(0);
    expect((await t(['exec', 'nob', 'stat', '-c', '%u:%g', '/tmp/hf'])).stdout).toBe('65534:65534\n');
    expect((await t(['cp', '--archive=false', host('hf'), 'nob:/tmp/kept'])).status).toBe(0);
    expect((await t(['exec', 'nob', 'stat', '-c', '%u:%g', '/tmp/kept'])).stdout).toBe('0:0\n');
  });

  it('refuses to replace a directory with a file unless --overwrite', async () => {
    await sh('live', 'mkdir -p /o/target');
    fs.writeFileSync(host('target'), 'file\n');
    const r = await t(['cp', host('target'), 'live:/o/']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/cannot overwrite directory "target".*--overwrite/);
    expect((await t(['cp', '--overwrite', host('target'), 'live:/o/'])).status).toBe(0);
    expect((await sh('live', 'cat /o/target')).stdout).toBe('file\n');
  });

  it('extracts a tar stream from standard input with -, refusing names that climb out', async () => {
    const tar = spawnSync('tar', ['-C', host(), '-cf', '-', 'tree'], {});
    expect((await t(['cp', '-', 'live:/from-stdin'], tar.stdout)).status).toBe(125);
    await sh('live', 'mkdir /from-stdin');
    expect(await t(['cp', '-', 'live:/from-stdin'], tar.stdout)).toMatchObject({ status: 0, stderr: '' });
    expect((await sh('live', 'cat /from-stdin/tree/inner/x')).stdout).toBe('x\n');
    const evil = spawnSync('tar', ['-C', host(), '-cf', '-', '--transform', 's,^hf,../../hf-escaped,', 'hf'], {});
    const r = await t(['cp', '-', 'live:/from-stdin'], evil.stdout);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/climbs out/);
  });

  it('copies into a stopped container, into its volume too, and the container sees the files', async () => {
    expect((await t(['cp', host('hf'), 'idle:/hf-stopped'])).status).toBe(0);
    await t(['stop', '-t', '0', 'live']);
    expect((await t(['cp', host('hf'), 'live:/mnt/vol/in-volume'])).status).toBe(0);
    expect(fs.readFileSync(host('vol', 'in-volume'), 'utf8')).toBe('from host\n');
    expect((await t(['cp', 'live:/tmp/hf', host('back')])).status).toBe(0);
    expect(fs.readFileSync(host('back'), 'utf8')).toBe('from host\n');
    expect((await t(['start', '-a', 'idle'])).status).toBe(0);
    expect((await t(['run', '--rm', '--name', 'check', 'busybox', 'true'])).status).toBe(0);
    expect((await t(['cp', 'idle:/hf-stopped', host('stopped-back')])).status).toBe(0);
    expect(fs.readFileSync(host('stopped-back'), 'utf8')).toBe('from host\n');
  });
});
