import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';

// cp of fifos, extended attributes and devices, in both directions and through tar
// streams, as rootless Podman's copier treats them: fifos are made, user.* xattrs (and
// security.capability, which root of the user namespace may set) travel, devices do
// not (named as the source or met in a host tree or a stream they fail; in a
// container's tree they are left out).
const sandbox = new TspodSandbox('cp-special');
const t = (args: string[], input?: Buffer) => sandbox.run(args, input ? { input } : {});
let work: string;

/** A python3 snippet; `argv` after it. */
function py(code: string, ...argv: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('python3', ['-c', code, ...argv], { encoding: 'utf8' });
}
/** Inside tspod's user namespace (root there): security.capability may be set and read in its v2 form. */
function pyInNs(code: string, ...argv: string[]) {
  return spawnSync(TSPOD_BIN, ['unshare', 'python3', '-c', code, ...argv], { env: sandbox.env, encoding: 'utf8' });
}
const listXattrs = (p: string) => JSON.parse(py('import os,sys,json; print(json.dumps({n: os.getxattr(sys.argv[1], n, follow_symlinks=False).decode("latin1") for n in os.listxattr(sys.argv[1], follow_symlinks=False)}))', p).stdout);
/** Members of a tar stream: name, type flag, mode, pax records. */
function tarMembers(tar: Buffer): { name: string; type: string; mode: number; pax: Record<string, string> }[] {
  const r = spawnSync('python3', ['-c', 'import tarfile,sys,json; t=tarfile.open(fileobj=sys.stdin.buffer, mode="r|"); print(json.dumps([dict(name=m.name, type=m.type.decode(), mode=m.mode, pax=m.pax_headers) for m in t]))'], { input: tar, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}
const binary = (args: string[]) => spawnSync(TSPOD_BIN, args, { env: sandbox.env, maxBuffer: 64 << 20 });

beforeAll(() => {
  expect(t(['load', '-i', path.join(REPO_ROOT, 'dist', 'busybox-image.tar')]).status).toBe(0);
  expect(t(['run', '-d', '--name', 'box', 'busybox', 'sleep', '300']).status).toBe(0);
  work = fs.mkdtempSync(path.join(sandbox.home, 'cp-'));
  // On the host: a tree with a fifo and files and a directory carrying user.* attributes.
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'f'), 'hello\n');
  expect(spawnSync('mkfifo', ['-m', '640', path.join(src, 'pipe')]).status).toBe(0);
  const set = py('import os,sys; os.setxattr(sys.argv[1], "user.color", b"blue"); os.setxattr(sys.argv[2], "user.kind", b"dir")', path.join(src, 'f'), src);
  expect(set.stderr).toBe('');
});
afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('cp: fifos and extended attributes', () => {
  it('into the container: the fifo is made with its mode, user.* attributes of files and directories kept', () => {
    const r = t(['cp', path.join(work, 'src'), 'box:/tmp/in']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(t(['exec', 'box', 'stat', '-c', '%A %U', '/tmp/in/pipe']).stdout).toBe('prw-r----- root\n');
    // Read back out of the container as a tar stream: the container's own files' attributes.
    const out = binary(['cp', 'box:/tmp/in', '-']);
    expect(out.status).toBe(0);
    const members = tarMembers(out.stdout);
    expect(members.find((m) => m.name === 'in')?.pax).toMatchObject({ 'SCHILY.xattr.user.kind': 'dir' });
    expect(members.find((m) => m.name === 'in/f')?.pax).toMatchObject({ 'SCHILY.xattr.user.color': 'blue' });
    expect(members.find((m) => m.name === 'in/pipe')).toMatchObject({ type: '6', mode: 0o640 });
  });

  it('out of the container: fifos made on the host, attributes kept', () => {
    expect(t(['exec', 'box', 'sh', '-c', 'mkfifo -m 600 /tmp/cpipe']).status).toBe(0);
    const dest = path.join(work, 'cpipe.out');
    expect(t(['cp', 'box:/tmp/cpipe', dest]).status).toBe(0);
    const st = fs.lstatSync(dest);
    expect(st.isFIFO()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    const back = path.join(work, 'back');
    expect(t(['cp', 'box:/tmp/in', back]).status).toBe(0);
    expect(fs.lstatSync(path.join(back, 'pipe')).isFIFO()).toBe(true);
    expect(listXattrs(path.join(back, 'f'))).toEqual({ 'user.color': 'blue' });
    expect(listXattrs(back)).toEqual({ 'user.kind': 'dir' });
  });

  it('from a tar stream on stdin: fifos and pax xattrs', () => {
    const tar = spawnSync('python3', ['-c', [
      'import tarfile,sys,io',
      'b=io.BytesIO(); t=tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT)',
      'i=tarfile.TarInfo("s/x"); i.size=3; i.pax_headers={"SCHILY.xattr.user.origin": "stream"}; t.addfile(i, io.BytesIO(b"abc"))',
      'i=tarfile.TarInfo("s/p"); i.type=tarfile.FIFOTYPE; i.mode=0o604; t.addfile(i)',
      't.close(); sys.stdout.buffer.write(b.getvalue())',
    ].join('\n')]);
    expect(tar.status).toBe(0);
    const r = t(['cp', '-', 'box:/tmp'], tar.stdout);
    expect(r.stderr).toBe('');
    expect(t(['exec', 'box', 'stat', '-c', '%A', '/tmp/s/p']).stdout).toBe('prw----r--\n');
    const dest = path.join(work, 'from-stream');
    expect(t(['cp', 'box:/tmp/s/x', dest]).status).toBe(0);
    expect(listXattrs(dest)).toEqual({ 'user.origin': 'stream' });
  });

  it('security.capability travels too (root of the user namespace may set it)', () => {
    const bin = path.join(work, 'capbin');
    fs.copyFileSync('/bin/true', bin);
    // v2 file capabilities: cap_net_bind_service permitted and effective.
    const v2 = '0100000200040000000000000000000000000000';
    const set = pyInNs('import os,sys; os.setxattr(sys.argv[1], "security.capability", bytes.fromhex(sys.argv[2]))', bin, v2);
    expect(set.stderr).toBe('');
    expect(t(['cp', bin, 'box:/tmp/capbin']).status).toBe(0);
    const back = path.join(work, 'capbin.back');
    expect(t(['cp', 'box:/tmp/capbin', back]).status).toBe(0);
    expect(pyInNs('import os,sys; print(os.getxattr(sys.argv[1], "security.capability").hex())', back).stdout.trim()).toBe(v2);
  });
});

describe('cp: devices, as rootless Podman', () => {
  it('a device named as the source fails in either direction, in one line with 125', () => {
    const out = t(['cp', 'box:/dev/null', path.join(work, 'null')]);
    expect(out.status).toBe(125);
    expect(out.stderr).toBe('Error: cannot copy "/dev/null" from container box: it is a device, which a rootless copy does not carry\n');
    expect(fs.existsSync(path.join(work, 'null'))).toBe(false);
    const into = t(['cp', '/dev/null', 'box:/tmp/null']);
    expect(into.status).toBe(125);
    expect(into.stderr.trim().split('\n')).toHaveLength(1);
    expect(into.stderr).toMatch(/cannot create the device "null" in container box: operation not permitted/);
  });

  it('a device in a tar stream fails the copy; in a container tree it is left out', () => {
    const tar = spawnSync('python3', ['-c', [
      'import tarfile,sys,io',
      'b=io.BytesIO(); t=tarfile.open(fileobj=b, mode="w")',
      'i=tarfile.TarInfo("d/zero"); i.type=tarfile.CHRTYPE; i.devmajor=1; i.devminor=5; t.addfile(i)',
      't.close(); sys.stdout.buffer.write(b.getvalue())',
    ].join('\n')]);
    const r = t(['cp', '-', 'box:/tmp'], tar.stdout);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/cannot create the device "d\/zero"/);
    // The container's /dev holds devices: copying the directory leaves them out and succeeds.
    const dev = path.join(work, 'dev');
    const out = t(['cp', 'box:/dev', dev]);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(fs.existsSync(dev)).toBe(true);
    expect(fs.existsSync(path.join(dev, 'null'))).toBe(false);
  });
});
