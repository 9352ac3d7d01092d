import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('run');
const rootfs = makeBusyboxRootfs(sandbox.home);
afterAll(() => sandbox.dispose());

function run(args: string[], cmd: string[]) {
  return sandbox.run(['run', '--rm', ...args, '--rootfs', rootfs, ...cmd]);
}
function sh(script: string, args: string[] = []) {
  return run(args, ['sh', '-c', script]);
}

const DEFAULT_CAPS = '00000000800405fb';

describe('run --rootfs: a container from a root filesystem directory', () => {
  it('runs a command and passes its output and exit code through', () => {
    const r = run([], ['echo', 'hello']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello\n');
    expect(r.status).toBe(0);
    expect(sh('exit 42').status).toBe(42);
  });

  it('says 127 for a command not found and 126 for one that cannot run', () => {
    const missing = run([], ['no-such-program']);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/^Error: no-such-program: executable file `no-such-program` not found in \$PATH/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const noexec = run([], ['/bin/not-executable']);
    expect(noexec.status).toBe(126);
    expect(noexec.stderr).toMatch(/^Error: \/bin\/not-executable: cannot execute: Permission denied\n$/);
  });

  it('gives the container its own PID, UTS and network namespaces', () => {
    expect(sh('echo $$').stdout).toBe('1\n');
    const host = fs.readlinkSync('/proc/self/ns/pid');
    expect(sh('readlink /proc/self/ns/pid').stdout.trim()).not.toBe(host);
    const name = sh('hostname').stdout.trim();
    expect(name).toMatch(/^[0-9a-f]{12}$/);
    expect(sh('hostname', ['--hostname', 'box.example']).stdout).toBe('box.example\n');
    expect(sh('cat /etc/hostname; grep box.example /etc/hosts', ['--hostname', 'box.example']).stdout).toMatch(/^box\.example\n127\.0\.1\.1\tbox\.example\n$/);
    // --network none: only loopback, and it is up.
    const ifaces = sh("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '", ['--network', 'none']).stdout.trim().split('\n');
    expect(ifaces).toEqual(['lo']);
    expect(sh('cat /sys/class/net/lo/operstate; cat /sys/class/net/lo/flags', ['--network', 'none']).stdout).toMatch(/0x9|0x49/);
  });

  it('shares the host network with --network host', () => {
    const hostIfaces = fs.readdirSync('/sys/class/net').sort();
    const r = sh('ls /sys/class/net', ['--network', 'host']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split(/\s+/).sort()).toEqual(hostIfaces);
  });

  it('is root with Podman default capabilities, changed by --cap-add/--cap-drop/--privileged', () => {
    expect(sh('id -u; grep CapEff /proc/self/status').stdout).toBe(`0\nCapEff:\t${DEFAULT_CAPS}\n`);
    expect(sh('grep CapBnd /proc/self/status', ['--cap-drop', 'all']).stdout).toBe('CapBnd:\t0000000000000000\n');
    expect(sh('grep CapEff /proc/self/status', ['--cap-add', 'net_admin']).stdout).toBe(`CapEff:\t${(0x800405fbn | (1n << 12n)).toString(16).padStart(16, '0')}\n`);
    expect(sh('grep CapEff /proc/self/status', ['--cap-drop', 'CAP_CHOWN']).stdout).toBe(`CapEff:\t${(0x800405fbn & ~1n).toString(16).padStart(16, '0')}\n`);
    expect(sh('grep NoNewPrivs /proc/self/status').stdout).toBe('NoNewPrivs:\t1\n');
    expect(sh('grep NoNewPrivs /proc/self/status', ['--privileged']).stdout).toBe('NoNewPrivs:\t0\n');
  });

  it('runs as another user with -u, names resolved from the image, files owned through the mapping', () => {
    expect(sh('id', ['-u', 'app']).stdout).toBe('uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\n');
    expect(sh('id -u; id -g', ['-u', '65534:5']).stdout).toBe('65534\n5\n');
    expect(sh('grep CapEff /proc/self/status', ['-u', 'app']).stdout).toBe('CapEff:\t0000000000000000\n');
    const unknown = sh('true', ['-u', 'ghost']);
    expect(unknown.status).toBe(125);
    expect(unknown.stderr).toBe('Error: unable to find user ghost: no matching entries in passwd file\n');
    expect(sh('chown app:app /home/app').status).toBe(0);
    expect(sh('touch /home/app/made-by-app', ['-u', 'app']).status).toBe(0);
    const uidMap = fs.readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith(`${os.userInfo().username}:`))!;
    const subStart = Number(uidMap.split(':')[1]);
    expect(fs.statSync(path.join(rootfs, 'home/app/made-by-app')).uid).toBe(subStart + 999);
  });

  it('sets the environment and working directory', () => {
    expect(sh('echo $FOO:$HOME:$HOSTNAME:$(pwd)', ['-e', 'FOO=bar', '-w', '/tmp/work', '--hostname', 'h1']).stdout).toBe('bar:/root:h1:/tmp/work\n');
    expect(sh('echo "[$FROMHOST]"', ['-e', 'FROMHOST'])).toMatchObject({ stdout: '[]\n' });
    expect(sandbox.run(['run', '--rootfs', '-e', 'FROMHOST', rootfs, 'sh', '-c', 'echo $FROMHOST'], { env: { FROMHOST: 'passed' } }).stdout).toBe('passed\n');
  });

  it('provides /dev with the standard nodes and masks what Podman masks', () => {
    expect(sh('ls /dev').stdout.split('\n').filter(Boolean).sort()).toEqual(
      ['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'],
    );
    expect(sh('echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 8 /dev/urandom | wc -c').stdout).toBe('4\n8\n');
    expect(sh('ls /sys/firmware | wc -l; cat /proc/keys | wc -c').stdout).toBe('0\n0\n');
    expect(sh('echo 1 > /proc/sys/kernel/domainname').status).not.toBe(0);
    expect(sh('echo hi > /dev/shm/x && cat /dev/shm/x').stdout).toBe('hi\n');
  });

  it('makes the root filesystem read-only with --read-only', () => {
    const ro = sh('touch /ro-test', ['--read-only']);
    expect(ro.status).not.toBe(0);
    expect(ro.stderr).toContain('Read-only file system');
    expect(fs.existsSync(path.join(rootfs, 'ro-test'))).toBe(false);
    expect(sh('touch /rw-test').status).toBe(0);
    expect(fs.existsSync(path.join(rootfs, 'rw-test'))).toBe(true);
  });

  it('keeps a symlink in the image from redirecting a mount onto the host', () => {
    const evil = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-host-target-'));
    const hostFile = path.join(evil, 'hostname');
    fs.writeFileSync(hostFile, 'host content\n');
    const hostile = makeBusyboxRootfs(sandbox.home);
    fs.symlinkSync(hostFile, path.join(hostile, 'etc', 'hostname'));
    fs.symlinkSync(`../../../../../../..${evil}/hosts`, path.join(hostile, 'etc', 'hosts'));
    const r = sandbox.run(['run', '--rootfs', '--hostname', 'inside', hostile, 'sh', '-c', 'cat /etc/hostname; grep -c inside /etc/hosts']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('inside\n1\n');
    // The links were followed inside the container's root, where the mount points were made.
    expect(fs.existsSync(path.join(hostile, evil, 'hostname'))).toBe(true);
    expect(fs.readFileSync(hostFile, 'utf8')).toBe('host content\n');
    expect(fs.readdirSync(evil)).toEqual(['hostname']);
    fs.rmSync(evil, { recursive: true, force: true });
  });

  it('refuses a root filesystem that is not a directory, in one line', () => {
    const r = sandbox.run(['run', '--rootfs', path.join(sandbox.home, 'nope'), 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^Error: the root filesystem .*nope is not a directory\n$/);
  });
});
