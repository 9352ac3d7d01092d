/**
 * What a container with a user namespace of its own needs from the runtime besides
 * the mapping: keep-id's /etc/passwd and /etc/group entries for the user (as Podman
 * adds them, so `id` and `whoami` know the name), and whether an id is mapped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic.js';
import { hostIdOf, type UsernsConfig } from './id-mappings.js';
import type { MountSpec } from './spec.js';
import { parseGroup, parsePasswd } from './user.js';

/** A file of the container's root, never through a symlink (it could point out of the root). */
function readInRoot(rootfs: string, rel: string): string | undefined {
  const file = path.join(rootfs, rel);
  try {
    if (fs.lstatSync(file).isSymbolicLink()) return undefined;
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

const withNewline = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);

/**
 * keep-id: copies of the image's /etc/passwd and /etc/group with the user added
 * (when the image does not have that id already), written to the container's run
 * directory and bind-mounted over the image's, which stays untouched.
 */
export function keepIdEtcMounts(runDir: string, rootfs: string, userns: UsernsConfig | undefined, home: string): MountSpec[] {
  const keep = userns?.keepId;
  if (!keep) return [];
  const out: MountSpec[] = [];
  const passwd = readInRoot(rootfs, 'etc/passwd') ?? '';
  if (!parsePasswd(passwd).some((p) => p.uid === keep.uid)) {
    const file = path.join(runDir, 'passwd');
    writeFileAtomic(file, `${withNewline(passwd)}${keep.name}:*:${keep.uid}:${keep.gid}::${home}:/bin/sh\n`, 0o644);
    out.push({ destination: '/etc/passwd', type: 'bind', source: file, recursive: false, file: true });
  }
  const group = readInRoot(rootfs, 'etc/group') ?? '';
  if (!parseGroup(group).some((g) => g.gid === keep.gid)) {
    const file = path.join(runDir, 'group');
    writeFileAtomic(file, `${withNewline(group)}${keep.name}:x:${keep.gid}:${keep.name}\n`, 0o644);
    out.push({ destination: '/etc/group', type: 'bind', source: file, recursive: false, file: true });
  }
  // Root's inside, as the image's own files are.
  for (const m of out) fs.chownSync(m.source!, hostIdOf(0, userns!.uidMap) ?? 0, hostIdOf(0, userns!.gidMap) ?? 0);
  return out;
}

/** The /etc/passwd and /etc/group that keep-id's mounts put in place of the image's, for resolving names. */
export function etcOverrides(mounts: MountSpec[]): { passwd?: string; group?: string } {
  const out: { passwd?: string; group?: string } = {};
  for (const m of mounts) {
    if (m.destination === '/etc/passwd' && m.source) out.passwd = fs.readFileSync(m.source, 'utf8');
    if (m.destination === '/etc/group' && m.source) out.group = fs.readFileSync(m.source, 'utf8');
  }
  return out;
}

/** Whether gid `gid` exists inside the container (devpts gives new terminals gid 5 only then). */
export function containerGidMapped(userns: UsernsConfig, gid: number): boolean {
  return hostIdOf(gid, userns.gidMap) !== undefined;
}
