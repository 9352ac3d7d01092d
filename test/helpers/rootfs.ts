import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));

/**
 * A small root filesystem made of the host's static busybox: enough of a
 * userland to exercise a container (sh, ls, id, mount, ...), with passwd and
 * group files that name a few users.
 */
export function makeBusyboxRootfs(parent = os.tmpdir()): string {
  if (!BUSYBOX) throw new Error('busybox-static is not installed (apt-get install busybox-static)');
  const root = fs.mkdtempSync(path.join(parent, 'rootfs-'));
  fs.chmodSync(root, 0o755);
  for (const d of ['bin', 'etc', 'tmp', 'root', 'home/app']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  const applets = ['sh', 'echo', 'cat', 'ls', 'id', 'hostname', 'ps', 'true', 'false', 'sleep', 'mount', 'readlink', 'env',
    'pwd', 'touch', 'mkdir', 'grep', 'stat', 'head', 'wc', 'test', 'kill', 'ip', 'ifconfig', 'rm', 'chown', 'seq', 'trap', 'yes', 'tail', 'httpd', 'nc', 'wget', 'nslookup', 'netstat'];
  for (const a of applets) fs.symlinkSync('busybox', path.join(root, 'bin', a));
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), [
    'root:x:0:0:root:/root:/bin/sh',
    'app:x:1000:1000:app:/home/app:/bin/sh',
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(root, 'etc', 'group'), ['root:x:0:', 'tty:x:5:', 'app:x:1000:', 'extra:x:2000:app', 'nogroup:x:65534:', ''].join('\n'));
  fs.writeFileSync(path.join(root, 'bin', 'not-executable'), '#!/bin/sh\necho no\n', { mode: 0o644 });
  return root;
}
