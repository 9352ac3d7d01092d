// Builds the embedded default image: a one-layer docker-archive of the host's
// static busybox, so `tspod load` + `tspod run` work offline right after install.
// Deterministic: fixed owners and times, sorted entries. Skipped (with a note)
// when busybox is not installed.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GO_ARCH = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function buildDefaultImage(outFile) {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  if (!busybox) {
    process.stderr.write('note: busybox is not installed (apt-get install busybox-static): no embedded default image\n');
    return undefined;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-default-image-'));
  try {
    const root = path.join(work, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp', 'root', 'home', 'var']) fs.mkdirSync(path.join(root, d), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(root, 'tmp'), 0o1777);
    fs.chmodSync(path.join(root, 'root'), 0o700);
    fs.copyFileSync(busybox, path.join(root, 'bin', 'busybox'));
    fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
    const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
    for (const a of applets) fs.symlinkSync('busybox', path.join(root, 'bin', a));
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');

    const layer = path.join(work, 'layer.tar');
    execFileSync('tar', ['--create', '--file', layer, '--directory', root, '--sort=name', '--mtime=@0', '--owner=0', '--group=0',
      '--numeric-owner', '--format=gnu', '.']);
    const layerBytes = fs.readFileSync(layer);
    const diffId = crypto.createHash('sha256').update(layerBytes).digest('hex');
    const config = {
      architecture: GO_ARCH[process.arch] ?? process.arch,
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: `tspod: the host's static busybox (${applets.length} applets)` }],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configId = crypto.createHash('sha256').update(configBytes).digest('hex');
    const archive = path.join(work, 'archive');
    fs.mkdirSync(path.join(archive, diffId), { recursive: true });
    fs.renameSync(layer, path.join(archive, diffId, 'layer.tar'));
    fs.writeFileSync(path.join(archive, `${configId}.json`), configBytes);
    fs.writeFileSync(
      path.join(archive, 'manifest.json'),
      JSON.stringify([{ Config: `${configId}.json`, RepoTags: ['localhost/busybox:latest'], Layers: [`${diffId}/layer.tar`] }]),
    );
    execFileSync('tar', ['--create', '--file', outFile, '--directory', archive, '--sort=name', '--mtime=@0', '--owner=0', '--group=0',
      '--numeric-owner', '--format=gnu', '.']);
    return configId;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
