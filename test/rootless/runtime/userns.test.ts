import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

// --userns=keep-id / auto, --uidmap/--gidmap (a user namespace nested in the rootless one) and --volumes-from.
const ARCHIVE = path.join(REPO_ROOT, 'dist', 'busybox-image.tar');
const sandbox = new TspodSandbox('userns');
const t = (args: string[]) => sandbox.run(args);
const run = (args: string[], cmd: string[]) => t(['run', '--rm', '--network', 'none', ...args, 'busybox', ...cmd]);
const me = os.userInfo();

beforeAll(() => {
  expect(t(['load', '-i', ARCHIVE]).status).toBe(0);
});
// The runs block this worker; yield between tests so vitest's own messages get through.
afterEach(() => new Promise((resolve) => setTimeout(resolve, 20)));
afterAll(() => {
  t(['rm', '-a', '-f', '-v']);
  sandbox.dispose();
});

describe('--userns=keep-id', () => {
  it('runs as your own uid and gid, named in /etc/passwd and /etc/group, with Podman\'s mapping', () => {
    const r = run(['--userns=keep-id'], ['sh', '-c', 'id -u; id -g; id -un; grep "^$(id -un):" /etc/passwd; cat /proc/self/uid_map']);
    expect(r.stderr).toBe('');
    const [uid, gid, name, passwd, ...map] = r.stdout.trim().split('\n');
    expect([uid, gid, name]).toEqual([String(me.uid), String(me.gid), me.username]);
    expect(passwd).toBe(`${me.username}:*:${me.uid}:${me.gid}::/:/bin/sh`);
    expect(map.map((l) => l.trim().split(/\s+/).join(':'))).toEqual([`0:1:${me.uid}`, `${me.uid}:0:1`, `${me.uid + 1}:${me.uid + 1}:${65536 - me.uid}`]);
    // --user still wins over keep-id's default.
    expect(run(['--userns=keep-id', '-u', '0'], ['id', '-u']).stdout).toBe('0\n');
  });

  it('shows your host files as yours, creates files you own on the host, and the image\'s files stay root\'s', () => {
    const dir = fs.mkdtempSync(path.join(sandbox.home, 'data-'));
    fs.writeFileSync(path.join(dir, 'mine'), 'x');
    const r = run(['--userns=keep-id', '-v', `${dir}:/data`], ['sh', '-c', 'echo new > /data/made; stat -c "%u:%g %n" /data/mine / /bin/busybox /etc/passwd /etc']);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toBe(`${me.uid}:${me.gid} /data/mine\n0:0 /\n0:0 /bin/busybox\n0:0 /etc/passwd\n0:0 /etc\n`);
    const st = fs.statSync(path.join(dir, 'made'));
    expect([st.uid, st.gid]).toEqual([me.uid, me.gid]);
  });

  it('takes keep-id:uid=N,gid=N', () => {
    const r = run(['--userns=keep-id:uid=1000,gid=1000'], ['sh', '-c', 'id -u; id -g; id -un; head -2 /proc/self/uid_map']);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['1000', '1000', '1000']);
    expect(r.stdout).toMatch(/^\s+0\s+1\s+1000$/m);
    expect(r.stdout).toMatch(/^\s+1000\s+0\s+1$/m);
  });

  it('exec joins the container\'s user namespace and runs as its user', () => {
    expect(t(['run', '-d', '--name', 'kept', '--network', 'none', '--userns=keep-id', 'busybox', 'sleep', '60']).status).toBe(0);
    const inside = t(['exec', 'kept', 'sh', '-c', 'id -u; readlink /proc/self/ns/user; readlink /proc/1/ns/user']);
    expect(inside.stderr).toBe('');
    const [uid, mine, init] = inside.stdout.trim().split('\n');
    expect(uid).toBe(String(me.uid));
    expect(mine).toBe(init);
    expect(t(['exec', '-u', '0', 'kept', 'cat', '/proc/self/uid_map']).stdout).toMatch(new RegExp(`^\\s+${me.uid}\\s+0\\s+1$`, 'm'));
    const inspect = JSON.parse(t(['inspect', 'kept']).stdout)[0];
    expect(inspect.HostConfig.UsernsMode).toBe('private');
    expect(inspect.HostConfig.IDMappings.UidMap).toEqual([`0:1:${me.uid}`, `${me.uid}:0:1`, `${me.uid + 1}:${me.uid + 1}:${65536 - me.uid}`]);
    expect(inspect.Config.User).toBe(`${me.uid}:${me.gid}`);
    // cp hands what it copies in to the container's user, as the container sees it.
    const src = path.join(sandbox.home, 'cp-in');
    fs.writeFileSync(src, 'x');
    expect(t(['cp', src, 'kept:/tmp/cp-in']).status).toBe(0);
    expect(t(['exec', 'kept', 'stat', '-c', '%u:%g', '/tmp/cp-in']).stdout).toBe(`${me.uid}:${me.gid}\n`);
    expect(t(['rm', '-f', 'kept']).status).toBe(0);
  });

  it('gives the terminal of -t to the user, as Podman does', () => {
    const r = t(['run', '--rm', '--network', 'none', '-t', '--userns=keep-id', 'busybox', 'sh', '-c', 'stat -c %u:%G $(tty)']);
    expect(r.stdout.replace(/\r/g, '')).toBe(`${me.uid}:tty\n`);
  });

  it('works with the default network (pasta) too', () => {
    const r = t(['run', '--rm', '--userns=keep-id', 'busybox', 'sh', '-c', 'id -u; ip -o -4 addr show | grep -v " lo " | grep -c inet']);
    expect(r).toMatchObject({ status: 0, stdout: `${me.uid}\n1\n`, stderr: '' });
  });
});

describe('the owner-shifted layer copy', () => {
  it('keeps setuid bits, hard links and other owners, and is dropped once its image is gone', () => {
    // An image with a setuid file, and a hard-linked pair owned by 1000.
    const root = makeBusyboxRootfs(fs.mkdtempSync(path.join(sandbox.home, 'img-')));
    fs.writeFileSync(path.join(root, 'bin', 'suid'), 'x');
    fs.chmodSync(path.join(root, 'bin', 'suid'), 0o4755);
    fs.mkdirSync(path.join(root, 'owned'));
    fs.writeFileSync(path.join(root, 'owned', 'a'), 'x');
    fs.linkSync(path.join(root, 'owned', 'a'), path.join(root, 'owned', 'b'));
    const tarball = path.join(sandbox.home, 'shift.tar');
    execFileSync('tar', ['--create', '--file', tarball, '--numeric-owner', '--owner=0', '--group=0', '-C', root, 'bin']);
    execFileSync('tar', ['--append', '--file', tarball, '--numeric-owner', '--owner=1000', '--group=1000', '-C', root, 'owned']);
    expect(t(['import', tarball, 'localhost/shift']).status).toBe(0);
    const shifted = t(['run', '--rm', '--network', 'none', '--userns=keep-id', 'localhost/shift', 'stat', '-c', '%a %u:%g %h %i %n', '/bin/suid', '/owned/a', '/owned/b']);
    expect(shifted.stderr).toBe('');
    const [suid, a, b] = shifted.stdout.trim().split('\n').map((l) => l.split(' '));
    expect(suid.slice(0, 2)).toEqual(['4755', '0:0']);
    expect(a.slice(0, 3)).toEqual(['644', '1000:1000', '2']);
    expect(b[3]).toBe(a[3]); // still one inode
    const copies = () => t(['unshare', 'sh', '-c', `find ${sandbox.home}/.local/share/tspod/mapped-layers -mindepth 2 -maxdepth 2 -type d | wc -l`]).stdout.trim();
    const before = Number(copies());
    expect(t(['rmi', 'localhost/shift']).status).toBe(0);
    // The next copy made (another mapping of busybox) sweeps the one whose layer is gone.
    expect(run(['--uidmap', '0:100:2000'], ['true']).status).toBe(0);
    expect(Number(copies())).toBe(before); // one copy gone, one made
  });
});

describe('export and commit', () => {
  it('shows the owners as the container sees them, not as they are stored', () => {
    expect(t(['run', '--name', 'exp', '--network', 'none', '--userns=keep-id', '-u', '0', 'busybox', 'sh', '-c', 'touch /rootmade; mkdir /m; chown 1000:2000 /m']).status).toBe(0);
    const tarball = path.join(sandbox.home, 'exp.tar');
    expect(t(['export', '-o', tarball, 'exp']).status).toBe(0);
    const owners = new Map(
      execFileSync('tar', ['-tvf', tarball, '--numeric-owner', './rootmade', './m/', './bin/busybox'], { encoding: 'utf8' })
        .split('\n').filter(Boolean).map((l) => { const f = l.split(/\s+/); return [f.at(-1), f[1]] as [string, string]; }),
    );
    expect(Object.fromEntries(owners)).toEqual({ './rootmade': '0/0', './m/': '1000/2000', './bin/busybox': '0/0' });
    // commit records them the same way: the new image, run without a namespace of its own, has them.
    expect(t(['commit', '-q', 'exp', 'localhost/committed']).status).toBe(0);
    expect(t(['run', '--rm', '--network', 'none', 'localhost/committed', 'stat', '-c', '%u:%g', '/rootmade', '/m', '/bin/busybox']).stdout).toBe('0:0\n1000:2000\n0:0\n');
  });
});

describe('--uidmap / --gidmap', () => {
  it('puts exactly the given mapping in /proc/self/uid_map and gid_map (gidmap defaults to uidmap)', () => {
    const r = run(['--uidmap', '0:1:1000'], ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0 1 1000', '0 1 1000', '0', '0']);
    const two = run(['--uidmap', '0:1:500', '--uidmap', '500:2000:500', '--gidmap', '0:3000:100'], ['cat', '/proc/self/uid_map', '/proc/self/gid_map']);
    expect(two.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0 1 500', '500 2000 500', '0 3000 100']);
  });

  it('files a mapped root writes to a bind mount land on the subordinate id it maps to', () => {
    const dir = fs.mkdtempSync(path.join(sandbox.home, 'map-'));
    fs.chmodSync(dir, 0o777); // root inside is a subordinate id here, not you
    expect(run(['--uidmap', '0:1:1000', '-v', `${dir}:/d`], ['touch', '/d/f']).status).toBe(0);
    // rootless id 1 (the first subordinate id), as --uidmap 0:1:1000 says
    expect(t(['unshare', 'stat', '-c', '%u', path.join(dir, 'f')]).stdout).toBe('1\n');
  });

  it('refuses bad maps and mixing with --userns, in one line, exit 125', () => {
    for (const [args, re] of [
      [['--uidmap', '0:1:70000'], /reaches beyond the rootless user namespace/],
      [['--userns=keep-id', '--uidmap', '0:1:10'], /cannot be combined/],
      [['--userns=bogus'], /--userns=bogus is not supported/],
      [['--userns=keep-id', '--network', 'ns:/proc/self/ns/net'], /cannot be combined with --network ns:/],
    ] as [string[], RegExp][]) {
      const r = run(args, ['true']);
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('--userns=auto', () => {
  it('gives each container its own range of subordinate ids', () => {
    expect(t(['create', '--name', 'auto1', '--network', 'none', '--userns=auto', 'busybox', 'true']).status).toBe(0);
    const a = JSON.parse(t(['inspect', 'auto1']).stdout)[0].HostConfig.IDMappings.UidMap;
    expect(a).toEqual(['0:1:1024']);
    expect(JSON.parse(t(['inspect', 'auto1']).stdout)[0].HostConfig.UsernsMode).toBe(''); // as Podman 4.3 shows auto
    const r = run(['--userns=auto:size=2048'], ['sh', '-c', 'cat /proc/self/uid_map; stat -c %u /bin/busybox']);
    expect(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0 1025 2048', '0']);
  });
});

describe('--volumes-from', () => {
  it('mounts the named, anonymous and bind volumes of another container at the same places', () => {
    const host = fs.mkdtempSync(path.join(sandbox.home, 'bind-'));
    expect(t(['create', '--name', 'src', '--network', 'none', '-v', 'named1:/named', '-v', '/anon', '-v', `${host}:/bound`, '--tmpfs', '/scratch', 'busybox', 'true']).status).toBe(0);
    const w = t(['run', '--rm', '--network', 'none', '--volumes-from', 'src', 'busybox', 'sh', '-c', 'echo n > /named/f; echo a > /anon/f; echo b > /bound/f; mount | grep -c " /scratch " || true']);
    expect(w).toMatchObject({ status: 0, stdout: '0\n' }); // tmpfs is not a volume: not shared
    expect(fs.readFileSync(path.join(host, 'f'), 'utf8')).toBe('b\n');
    const r = t(['run', '--rm', '--network', 'none', '--volumes-from', 'src:ro', 'busybox', 'sh', '-c', 'cat /named/f /anon/f /bound/f; touch /named/x']);
    expect(r.stdout).toBe('n\na\nb\n');
    expect(r.stderr).toContain('Read-only file system');
    const missing = t(['run', '--rm', '--network', 'none', '--volumes-from', 'nosuch', 'busybox', 'true']);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toMatch(/no container with name or ID "nosuch" found/);
    // The anonymous volume still belongs to src alone (--rm of the others left it): rm -v of src removes it.
    expect(t(['volume', 'ls', '-q']).stdout.trim().split('\n')).toHaveLength(2);
    expect(t(['rm', '-v', 'src']).status).toBe(0);
    expect(t(['volume', 'ls', '-q']).stdout).toBe('named1\n');
  });

  it('works together with keep-id: what the user writes to a shared volume is yours on the host', () => {
    expect(t(['create', '--name', 'src2', '--network', 'none', '-v', 'shared2:/shared', 'busybox', 'true']).status).toBe(0);
    const r = t(['run', '--rm', '--network', 'none', '--userns=keep-id', '--volumes-from', 'src2', 'busybox', 'sh', '-c', 'touch /shared/f; stat -c %u /shared/f']);
    expect(r).toMatchObject({ status: 0, stdout: `${me.uid}\n` });
    // In a container without its own namespace, you are root.
    expect(run(['-v', 'shared2:/shared'], ['stat', '-c', '%u', '/shared/f']).stdout).toBe('0\n');
  });
});
