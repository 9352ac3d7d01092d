import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../util/errors.js';

/**
 * Stream a root filesystem as a tar archive (GNU tar, numeric owners as the
 * container sees them: we run inside the user namespace). To a file, the
 * archive is written beside it and renamed, so a failure leaves no half file.
 */
export function exportRootfs(rootfs: string, output?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const target = output ? path.resolve(output) : undefined;
    const tmp = target ? `${target}.tspod-export-${process.pid}` : undefined;
    const out = tmp ? fs.openSync(tmp, 'w', 0o644) : 1;
    const tar = spawn('tar', ['--create', '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--directory', rootfs, '.'], {
      stdio: ['ignore', out, 'pipe'],
    });
    let stderr = '';
    tar.stderr!.on('data', (d: Buffer) => (stderr += d));
    tar.on('error', (err) => reject(new TspodError(`cannot run tar to export: ${err.message}`)));
    tar.on('close', (code) => {
      if (tmp) fs.closeSync(out);
      if (code === 0) {
        if (tmp && target) fs.renameSync(tmp, target);
        resolve();
      } else {
        if (tmp) fs.rmSync(tmp, { force: true });
        reject(new TspodError(`exporting the root filesystem failed: ${stderr.trim().split('\n').pop() || `tar exited with ${code}`}`));
      }
    });
  });
}
