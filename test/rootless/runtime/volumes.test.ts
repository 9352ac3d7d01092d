import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('volumes');
const rootfs = makeBusyboxRootfs(sandbox.home);
fs.mkdirSync(path.join(rootfs, 'data'));
fs.writeFileSync(path.join(rootfs, 'data', 'seed'), 'from-image\n');
const t = (args: string[]) => sandbox.run(args);
const run = (args: string[], cmd: string[]) => t(['run', '--rm', '--network', 'none', ...args, '--rootfs', rootfs, ...cmd]);
afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('volumes and mounts', () => {
  it('bind mounts a host directory read-write or read-only, and a single file', () => {
    const host = fs.mkdtempSync(path.join(sandbox.home, 'host-'));
    fs.writeFileSync(path.join(host, 'f'), 'hostfile\n');
    expect(run(['-v', `${host}:/mnt`], ['sh', '-c', 'cat /mnt/f; echo written > /mnt/out']).stdout).toBe('hostfile\n');
    expect(fs.readFileSync(path.join(host, 'out'), 'utf8')).toBe('written\n');
    expect(fs.statSync(path.join(host, 'out')).uid).toBe(os.userInfo().uid); // container root is you
    const ro = run(['-v', `${host}:/mnt:ro`], ['touch', '/mnt/x']);
    expect(ro.status).not.toBe(0);
    expect(ro.stderr).toContain('Read-only file system');
    expect(run(['-v', `${path.join(host, 'f')}:/etc/motd:ro`], ['cat', '/etc/motd']).stdout).toBe('hostfile\n');
    expect(run(['--mount', `type=bind,source=${host},target=/m,readonly`], ['cat', '/m/f']).stdout).toBe('hostfile\n');
  });

  it('refuses a missing host path and a relative container path, in one line', () => {
    const missing = run(['-v', '/no/such/dir:/x'], ['true']);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toBe('Error: statfs /no/such/dir: no such file or directory; create it first or mount a named volume\n');
    const rel = run(['-v', `${sandbox.home}:relative`], ['true']);
    expect(rel.status).toBe(125);
    expect(rel.stderr).toMatch(/must be absolute/);
  });

  it('creates a named volume on first use, copies the image content in, and keeps data', () => {
    expect(run(['-v', 'data1:/data'], ['sh', '-c', 'cat /data/seed; echo kept > /data/new']).stdout).toBe('from-image\n');
    expect(run(['-v', 'data1:/data'], ['ls', '/data']).stdout).toBe('new\nseed\n');
    const inspect = JSON.parse(t(['volume', 'inspect', 'data1']).stdout)[0];
    expect(fs.readFileSync(path.join(inspect.Mountpoint, 'new'), 'utf8')).toBe('kept\n');
  });

  it('refuses to remove a volume in use unless forced', () => {
    t(['run', '-d', '--name', 'user', '--network', 'none', '-v', 'busy:/data', '--rootfs', rootfs, 'sleep', '60']);
    const r = t(['volume', 'rm', 'busy']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^Error: volume busy is being used by the following container\(s\): [0-9a-f]{64}/);
    expect(t(['volume', 'rm', '-f', 'busy']).stdout).toBe('busy\n');
    expect(t(['container', 'exists', 'user']).status).toBe(1);
  });

  it('gives an anonymous volume that rm -v removes', () => {
    t(['create', '--name', 'anon', '--network', 'none', '-v', '/cache', '--rootfs', rootfs, 'true']);
    const vols = t(['volume', 'ls', '-q']).stdout.trim().split('\n');
    const anon = vols.find((v) => /^[0-9a-f]{64}$/.test(v));
    expect(anon).toBeDefined();
    expect(t(['rm', '-v', 'anon']).status).toBe(0);
    expect(t(['volume', 'exists', anon!]).status).toBe(1);
  });

  it('mounts a tmpfs with options, and chowns with :U', () => {
    expect(run(['--tmpfs', '/scratch:size=1m'], ['sh', '-c', 'mount | grep " /scratch "']).stdout).toMatch(/^tmpfs on \/scratch type tmpfs \(rw,nosuid,nodev.*size=1024k/);
    const host = fs.mkdtempSync(path.join(sandbox.home, 'own-'));
    expect(run(['-u', '1000', '-v', `${host}:/work:U`], ['sh', '-c', 'touch /work/mine && stat -c %u /work/mine']).stdout).toBe('1000\n');
  });

  it('keeps a symlinked mount target inside the container', () => {
    const hostile = makeBusyboxRootfs(sandbox.home);
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-outside-'));
    fs.symlinkSync(outside, path.join(hostile, 'escape'));
    const host = fs.mkdtempSync(path.join(sandbox.home, 'src-'));
    fs.writeFileSync(path.join(host, 'f'), 'x');
    const r = t(['run', '--rm', '--network', 'none', '-v', `${host}:/escape`, '--rootfs', hostile, 'ls', '/escape']);
    expect(r.stdout).toBe('f\n');
    expect(fs.readdirSync(outside)).toEqual([]);
    fs.rmSync(outside, { recursive: true, force: true });
  });
});
