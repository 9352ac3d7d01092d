import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

const ARCHIVE = path.join(REPO_ROOT, 'dist', 'busybox-image.tar');
const sandbox = new TspodSandbox('commit');
// Each call lets the event loop turn first, so vitest's worker RPC is never starved on a busy machine.
const breathe = () => new Promise((r) => setTimeout(r, 0));
const t = async (args: string[], input?: string) => {
  await breathe();
  return sandbox.run(args, { input });
};
// podman as the peer, with its own store inside the sandbox.
const podmanEnv = { ...sandbox.env, XDG_DATA_HOME: path.join(sandbox.home, 'podman-data'), XDG_CONFIG_HOME: path.join(sandbox.home, 'podman-config') };
const podman = (args: string[]) => spawnSync('podman', ['--runtime', 'runc', '--storage-driver', 'vfs', ...args], { env: podmanEnv, encoding: 'utf8', timeout: 60_000 });
const hasPodman = spawnSync('podman', ['--version']).status === 0;

beforeAll(async () => {
  expect((await t(['load', '-i', ARCHIVE])).status).toBe(0);
  // A container that adds, changes and deletes files, and a directory made opaque.
  const r = await t([
    'run', '--name', 'work', '-e', 'FROMRUN=1', '-w', '/srv', '-l', 'stage=built', 'busybox', 'sh', '-c',
    'echo new > /added && echo changed > /etc/motd && rm /bin/vi && mkdir -p /srv/data && echo d > /srv/data/f && rm -rf /home && mkdir /home && echo fresh > /home/only',
  ]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});
afterAll(async () => {
  await t(['rm', '-a', '-f']);
  if (hasPodman) spawnSync('podman', ['unshare', 'rm', '-rf', path.join(sandbox.home, 'podman-data')], { env: podmanEnv });
  sandbox.dispose();
});

describe('commit', () => {
  let id = '';

  it('makes an image of the container: one layer more, the changes, the whiteouts', async () => {
    const r = await t(['commit', '-q', '-m', 'my message', '-a', 'Tess Tester', 'work', 'localhost/committed:v1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    id = r.stdout.trim();
    const base = JSON.parse((await t(['image', 'inspect', 'busybox'])).stdout)[0];
    const img = JSON.parse((await t(['image', 'inspect', 'localhost/committed:v1'])).stdout)[0];
    expect(img.Id).toBe(id);
    expect(img.RootFS.Layers.length).toBe(base.RootFS.Layers.length + 1);
    expect(img.RootFS.Layers.slice(0, -1)).toEqual(base.RootFS.Layers);
    expect(img.Author).toBe('Tess Tester');
    const run = await t(['run', '--rm', 'localhost/committed:v1', 'sh', '-c', 'cat /added /etc/motd /srv/data/f; test -e /bin/vi || echo vi-gone; ls /home']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('new\nchanged\nd\nvi-gone\nonly\n');
    // The new layer holds the changes and whiteouts, and none of the runtime's mount points (/etc/hosts, /proc, ...).
    const archive = path.join(sandbox.home, 'layers.tar');
    expect((await t(['save', '-o', archive, 'localhost/committed:v1'])).status).toBe(0);
    const manifest = JSON.parse(spawnSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }).stdout);
    const layer = spawnSync('tar', ['-xOf', archive, manifest[0].Layers.at(-1)], { maxBuffer: 1 << 28 }).stdout;
    const gzip = layer[0] === 0x1f && layer[1] === 0x8b;
    const names = spawnSync('tar', [gzip ? '-tzf' : '-tf', '-'], { input: layer, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(names).toEqual(expect.arrayContaining(['added', 'etc/motd', 'bin/.wh.vi', 'home/.wh..wh..opq', 'home/only', 'srv/data/f']));
    expect(names.filter((n) => /^(etc\/(hosts|hostname|resolv\.conf)|proc\/|sys\/|dev\/)/.test(n))).toEqual([]);
    const history = (await t(['history', '--format', '{{.Comment}}', 'localhost/committed:v1'])).stdout;
    expect(history.split('\n')[0]).toBe('my message');
  });

  it("carries the container's configuration, with --change on top", async () => {
    const r = await t(['commit', '-q', '-c', 'ENV EXTRA=yes', '-c', 'LABEL via=change', '-c', 'EXPOSE 8080', 'work', 'localhost/committed:v2']);
    expect(r.status).toBe(0);
    const cfg = JSON.parse((await t(['image', 'inspect', 'localhost/committed:v2'])).stdout)[0].Config;
    expect(cfg.Env).toContain('FROMRUN=1');
    expect(cfg.Env).toContain('EXTRA=yes');
    expect(cfg.WorkingDir).toBe('/srv');
    expect(cfg.Labels).toMatchObject({ stage: 'built', via: 'change' });
    expect(Object.keys(cfg.ExposedPorts)).toContain('8080/tcp');
    expect(cfg.Cmd).toEqual(['sh', '-c', expect.stringContaining('echo new > /added')]);
    // The image runs with those settings.
    expect((await t(['run', '--rm', 'localhost/committed:v2', 'sh', '-c', 'echo $FROMRUN $EXTRA $(pwd)'])).stdout).toBe('1 yes /srv\n');
  });

  it('commits a running container with --pause, and --format docker', async () => {
    expect((await t(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo running > /state; sleep 300'])).status).toBe(0);
    for (let i = 0; i < 50 && (await t(['exec', 'live', 'cat', '/state'])).stdout !== 'running\n'; i++) spawnSync('sleep', ['0.1']);
    const r = await t(['commit', '-q', '-p', '--format', 'docker', 'live', 'localhost/fromlive']);
    expect(r.status).toBe(0);
    expect((await t(['inspect', '--format', '{{.State.Status}}', 'live'])).stdout).toBe('running\n');
    expect((await t(['exec', 'live', 'sh', '-c', 'grep State /proc/1/status'])).stdout).toMatch(/S \(sleeping\)/);
    expect((await t(['run', '--rm', 'localhost/fromlive', 'cat', '/state'])).stdout).toBe('running\n');
    const inspect = JSON.parse((await t(['image', 'inspect', 'localhost/fromlive'])).stdout)[0];
    expect(inspect.ManifestType).toBe('application/vnd.docker.distribution.manifest.v2+json');
  });

  it('squashes into one layer with --squash', async () => {
    expect((await t(['commit', '-q', '--squash', 'work', 'localhost/flat'])).status).toBe(0);
    const img = JSON.parse((await t(['image', 'inspect', 'localhost/flat'])).stdout)[0];
    expect(img.RootFS.Layers.length).toBe(1);
    expect((await t(['run', '--rm', 'localhost/flat', 'sh', '-c', 'cat /added; test -e /bin/vi || echo vi-gone'])).stdout).toBe('new\nvi-gone\n');
  });

  it('refuses bad input with one line and 125', async () => {
    expect((await t(['commit', '--format', 'tar', 'work'])).stderr).toBe('Error: unrecognized image type "tar": use oci or docker\n');
    expect((await t(['commit', '-c', 'BOGUS x', 'work'])).status).toBe(125);
    expect(await t(['commit', 'nosuch'])).toMatchObject({ status: 125, stderr: 'Error: no container with name or ID "nosuch" found: no such container\n' });
  });

  it('commits with the vfs driver too (the container tree compared with the image tree)', async () => {
    const vfs = new TspodSandbox('commit-vfs');
    try {
      const v = (args: string[]) => vfs.run(['--storage-driver', 'vfs', ...args]);
      expect(v(['load', '-i', ARCHIVE]).status).toBe(0);
      expect(v(['run', '--name', 'w', 'busybox', 'sh', '-c', 'echo vfs > /added && rm /bin/vi']).status).toBe(0);
      const r = v(['commit', '-q', 'w', 'localhost/vfs-committed']);
      expect(r.stderr).toBe('');
      expect(v(['run', '--rm', 'localhost/vfs-committed', 'sh', '-c', 'cat /added; test -e /bin/vi || echo vi-gone']).stdout).toBe('vfs\nvi-gone\n');
      const layers = JSON.parse(v(['image', 'inspect', 'localhost/vfs-committed']).stdout)[0].RootFS.Layers;
      expect(layers.length).toBe(2);
    } finally {
      vfs.run(['--storage-driver', 'vfs', 'rm', '-a', '-f']);
      vfs.dispose();
    }
  });

  it.skipIf(!hasPodman)('saves as a docker-archive that podman loads and runs with the changes', async () => {
    const archive = path.join(sandbox.home, 'committed.tar');
    expect((await t(['save', '-o', archive, 'localhost/committed:v1'])).status).toBe(0);
    const load = podman(['load', '-i', archive]);
    expect(load.stderr + load.stdout).toMatch(/Loaded image.*committed:v1/);
    const run = podman(['run', '--rm', '--network', 'none', 'localhost/committed:v1', 'sh', '-c', 'cat /added /etc/motd; test -e /bin/vi || echo vi-gone; ls /home']);
    expect(run.stdout).toBe('new\nchanged\nvi-gone\nonly\n');
    expect(fs.existsSync(archive)).toBe(true);
  });
});
