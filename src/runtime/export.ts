import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TspodError } from '../util/errors.js';
import type { IdRange } from './id-mappings.js';

/**
 * Stream a root filesystem as a tar archive (GNU tar, numeric owners as the
 * container sees them: we run inside the user namespace). To a file, the
 * archive is written beside it and renamed, so a failure leaves no half file.
 */
export function exportRootfs(rootfs: string, output?: string, userns?: { uidMap: IdRange[]; gidMap: IdRange[] }): Promise<void> {
  // A container with a user namespace of its own: its files are stored under rootless ids; map them back.
  const maps = userns ? ownerMapFiles(userns) : undefined;
  return new Promise<void>((resolve, reject) => {
    const target = output ? path.resolve(output) : undefined;
    const tmp = target ? `${target}.tspod-export-${process.pid}` : undefined;
    const out = tmp ? fs.openSync(tmp, 'w', 0o644) : 1;
    const mapArgs = maps ? [`--owner-map=${maps.owner}`, `--group-map=${maps.group}`] : [];
    const tar = spawn('tar', ['--create', '--numeric-owner', ...mapArgs, '--xattrs', '--xattrs-include=*', '--acls', '--directory', rootfs, '.'], {
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
  }).finally(() => maps && fs.rmSync(maps.dir, { recursive: true, force: true }));
}

/** GNU tar --owner-map/--group-map files: each rootless id the container maps, as the container sees it. */
function ownerMapFiles(userns: { uidMap: IdRange[]; gidMap: IdRange[] }): { dir: string; owner: string; group: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-export-'));
  const lines = (ranges: IdRange[]) => ranges.flatMap((r) => Array.from({ length: r.size }, (_, i) => `+${r.host + i} +${r.container + i}\n`)).join('');
  const owner = path.join(dir, 'owner-map');
  const group = path.join(dir, 'group-map');
  fs.writeFileSync(owner, lines(userns.uidMap));
  fs.writeFileSync(group, lines(userns.gidMap));
  return { dir, owner, group };
}
