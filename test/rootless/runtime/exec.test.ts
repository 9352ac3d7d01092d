import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('exec');
const rootfs = makeBusyboxRootfs(sandbox.home);
const t = (args: string[]) => sandbox.run(args);

beforeAll(() => {
  expect(t(['run', '-d', '--name', 'box', '--hostname', 'boxhost', '-e', 'FROMRUN=yes', '-w', '/home', '--rootfs', rootfs, 'sleep', '300']).status).toBe(0);
});
afterAll(() => {
  t(['rm', '-f', '-a']);
  sandbox.dispose();
});

describe('exec into a running container', () => {
  it("joins the container's namespaces, environment and working directory", () => {
    const r = t(['exec', 'box', 'sh', '-c', 'hostname; echo $FROMRUN; pwd; tr "\\0" " " < /proc/1/cmdline; echo; readlink /proc/1/exe']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('boxhost\nyes\n/home\nsleep 300 \n/bin/busybox\n');
    const init = JSON.parse(t(['inspect', 'box']).stdout)[0].State.Pid;
    const inside = t(['exec', 'box', 'readlink', '/proc/self/ns/net']).stdout.trim();
    const { stdout } = spawnSync(TSPOD_BIN, ['unshare', 'readlink', `/proc/${init}/ns/net`], { env: sandbox.env, encoding: 'utf8' });
    expect(inside).toBe(stdout.trim());
  });

  it('takes -e, -w, -u and -i, and passes exit codes through', () => {
    expect(t(['exec', '-e', 'X=1', '-w', '/bin', 'box', 'sh', '-c', 'echo $X $(pwd)']).stdout).toBe('1 /bin\n');
    // No supplementary groups: nobody is in none, and podman exec does not add the primary one.
    expect(t(['exec', '-u', 'nobody', 'box', 'id']).stdout).toBe('uid=65534(nobody) gid=65534(nogroup)\n');
    expect(t(['exec', 'box', 'sh', '-c', 'exit 9']).status).toBe(9);
    expect(sandbox.run(['exec', '-i', 'box', 'cat'], { input: 'piped\n' }).stdout).toBe('piped\n');
    expect(sandbox.run(['exec', 'box', 'cat'], { input: 'not passed\n' }).stdout).toBe('');
  });

  it('says 127 and 126 like Podman', () => {
    const missing = t(['exec', 'box', 'nope']);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toBe('Error: nope: executable file `nope` not found in $PATH: No such file or directory\n');
    expect(t(['exec', 'box', '/etc/passwd']).status).toBe(126);
  });

  it('runs detached with -d', async () => {
    expect(t(['exec', '-d', 'box', 'sh', '-c', 'sleep 1; touch /tmp-marker']).status).toBe(0);
    const deadline = Date.now() + 10_000;
    while (t(['exec', 'box', 'test', '-e', '/tmp-marker']).status !== 0) {
      if (Date.now() > deadline) throw new Error('the detached exec never ran');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('refuses a container that is not running', () => {
    t(['create', '--name', 'idle', '--rootfs', rootfs, 'true']);
    const r = t(['exec', 'idle', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^Error: can only create exec sessions on running containers/);
  });
});
