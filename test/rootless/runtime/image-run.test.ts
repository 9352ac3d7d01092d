import '../../helpers/require-unprivileged.js';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

// The embedded default image that `npm run build` makes from the host's busybox.
const ARCHIVE = path.join(REPO_ROOT, 'dist', 'busybox-image.tar');
const sandbox = new TspodSandbox('image-run');
const t = (args: string[], input?: string) => sandbox.run(args, { input });

beforeAll(() => {
  const r = t(['load', '-i', ARCHIVE]);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('Loaded image: localhost/busybox:latest\n');
});
afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('run IMAGE', () => {
  it('runs the embedded default image offline, by full and short name', () => {
    expect(t(['run', '--rm', 'localhost/busybox', 'echo', 'hello'])).toMatchObject({ status: 0, stdout: 'hello\n', stderr: '' });
    expect(t(['run', '--rm', 'busybox:latest', 'sh', '-c', 'echo $PATH']).stdout).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
  });

  it("uses the image's CMD, replaced by arguments; --entrypoint drops CMD", () => {
    expect(t(['run', '--rm', '-i', 'busybox'], 'echo from-default-cmd\n').stdout).toBe('from-default-cmd\n');
    expect(t(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'a', 'b']).stdout).toBe('a b\n');
    expect(t(['run', '--rm', '--entrypoint', '["sh","-c","echo json-entry"]', 'busybox']).stdout).toBe('json-entry\n');
  });

  it('keeps each container in its own writable layer over the shared image', () => {
    expect(t(['run', '--name', 'writer', 'busybox', 'sh', '-c', 'echo mine > /etc/marker']).status).toBe(0);
    expect(t(['run', '--rm', 'busybox', 'sh', '-c', 'test -e /etc/marker && echo leaked || echo clean']).stdout).toBe('clean\n');
    expect(t(['start', '-a', 'writer']).status).toBe(0);
    expect(t(['rm', 'writer']).status).toBe(0);
  });

  it('shows the image name in ps and refuses rmi while a container uses it', () => {
    t(['run', '-d', '--name', 'holder', 'busybox', 'sleep', '60']);
    expect(t(['ps', '--format', '{{.Image}} {{.Names}}']).stdout).toBe('localhost/busybox:latest holder\n');
    const rmi = t(['rmi', 'busybox']);
    expect(rmi.status).toBe(2);
    expect(rmi.stderr).toMatch(/image is in use by a container/);
    expect(t(['rm', '-f', 'holder']).status).toBe(0);
  });

  it('says clearly when an image is unknown and pulling is off', () => {
    const r = t(['run', '--rm', '--pull', 'never', 'localhost/nothing-here', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/image not known/);
  });
});

describe('create flags for units and scripts', () => {
  it('writes --cidfile, refuses an existing one, and --replace swaps a named container', async () => {
    const fs = await import('node:fs');
    const cid = path.join(sandbox.home, 'cid');
    const first = t(['run', '-d', '--name', 'svc', '--cidfile', cid, 'busybox', 'sleep', '60']);
    expect(first.status).toBe(0);
    expect(fs.readFileSync(cid, 'utf8')).toBe(first.stdout.trim());
    const again = t(['run', '-d', '--name', 'svc2', '--cidfile', cid, 'busybox', 'true']);
    expect(again.status).toBe(125);
    expect(again.stderr).toMatch(/container id file .* exists/);
    const taken = t(['run', '-d', '--name', 'svc', 'busybox', 'sleep', '60']);
    expect(taken.status).toBe(125);
    const replaced = t(['run', '-d', '--replace', '--name', 'svc', 'busybox', 'sleep', '60']);
    expect(replaced.status).toBe(0);
    expect(replaced.stdout.trim()).not.toBe(first.stdout.trim());
    expect(t(['ps', '-a', '--format', '{{.Names}}']).stdout).toBe('svc\n');
    t(['rm', '-f', 'svc']);
  });

  it('reads --env-file, with -e taking precedence', async () => {
    const fs = await import('node:fs');
    const envFile = path.join(sandbox.home, 'env');
    fs.writeFileSync(envFile, '# comment\nA=from-file\nB=file\n\n');
    expect(t(['run', '--rm', '--env-file', envFile, '-e', 'B=flag', 'busybox', 'sh', '-c', 'echo $A $B']).stdout).toBe('from-file flag\n');
    const missing = t(['run', '--rm', '--env-file', '/no/such/file', 'busybox', 'true']);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toBe('Error: cannot read the environment file /no/such/file: ENOENT\n');
  });
});

describe('--init', () => {
  it('runs tspod-init as PID 1, which reaps orphans and passes signals on', () => {
    const r = t(['run', '--rm', '--init', 'busybox', 'sh', '-c', '(sleep 0.2 &); sleep 0.8; cat /proc/1/cmdline | tr "\\0" " "; echo; ps -o stat | grep -c Z; exit 4']);
    expect(r.stdout).toBe('/run/tspod-init -- sh -c (sleep 0.2 &); sleep 0.8; cat /proc/1/cmdline | tr "\\0" " "; echo; ps -o stat | grep -c Z; exit 4 \n0\n');
    expect(r.status).toBe(4);
    t(['run', '-d', '--name', 'sleeper', '--init', 'busybox', 'sleep', '60']);
    const started = Date.now();
    expect(t(['stop', '-t', '10', 'sleeper']).status).toBe(0);
    // sleep as PID 1 would ignore SIGTERM and wait out the timeout; under the init it dies at once.
    expect(Date.now() - started).toBeLessThan(5000);
    t(['rm', 'sleeper']);
  });
});

describe('diff', () => {
  it("lists what a container added, changed and deleted against its image", () => {
    t(['run', '--name', 'changer', 'busybox', 'sh', '-c', 'echo x > /etc/marker; rm /bin/vi; mkdir -p /new/dir']);
    expect(t(['diff', 'changer']).stdout).toBe('C /bin\nD /bin/vi\nC /etc\nA /etc/marker\nA /new\nA /new/dir\n');
    expect(JSON.parse(t(['diff', '--format', 'json', 'changer']).stdout)).toEqual({ changed: ['/bin', '/etc'], added: ['/etc/marker', '/new', '/new/dir'], deleted: ['/bin/vi'] });
    t(['rm', 'changer']);
  });
});

describe('export', () => {
  it("writes the container's filesystem as tar, owners as the container sees them", async () => {
    const { execFileSync } = await import('node:child_process');
    t(['run', '--name', 'exp', 'busybox', 'sh', '-c', 'echo hi > /root/f; chown 1000:1000 /root/f']);
    const out = path.join(sandbox.home, 'exp.tar');
    expect(t(['export', '-o', out, 'exp']).status).toBe(0);
    const listing = execFileSync('tar', ['-tvf', out, './root/f', './bin/busybox'], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rw-r--r-- 1000\/1000\s+3 .* \.\/root\/f$/m);
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* \.\/bin\/busybox$/m);
    t(['rm', 'exp']);
  });
});
