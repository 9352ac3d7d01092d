import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../util/errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/** Read a file of the container's root without following a symlink out of it. */
function readInRoot(rootfs: string, rel: string): string | undefined {
  const file = path.join(rootfs, rel);
  try {
    if (fs.lstatSync(file).isSymbolicLink()) return undefined;
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) return [];
    return [{ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] }];
  });
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) return [];
    return [{ name: f[0], gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] }];
  });
}

/** Where the user's names come from, and for which kind of process. */
export interface ResolveUserOptions {
  /** `exec`: supplementary groups as Podman gives an exec session (only the groups listing the user) */
  exec?: boolean;
  /** /etc/passwd and /etc/group as the container sees them, when not the root filesystem's own (keep-id adds an entry) */
  passwd?: string;
  group?: string;
}

/**
 * `--user` as Docker defines it: `user`, `uid`, `user:group`, `uid:gid`; names
 * come from the image's /etc/passwd and /etc/group, supplementary groups from
 * /etc/group membership. A numeric uid absent from /etc/passwd is allowed.
 * Supplementary groups as Podman 4.3 sets them: for a container's process, none
 * without a user, else the primary group plus (without `:group`) every group that
 * lists the user; for `exec`, only the groups that list the user (none with `:group`).
 */
export function resolveUser(spec: string | undefined, rootfs: string, opts: ResolveUserOptions = {}): ResolvedUser {
  const passwd = parsePasswd(opts.passwd ?? readInRoot(rootfs, 'etc/passwd') ?? '');
  const groups = parseGroup(opts.group ?? readInRoot(rootfs, 'etc/group') ?? '');
  const [userPart, groupPart] = (spec ?? '').split(':', 2);
  let uid = 0;
  let gid: number | undefined;
  let name: string | undefined;
  let home = '/';
  if (userPart === undefined || userPart === '' || userPart === 'root') {
    const root = passwd.find((p) => p.uid === 0);
    uid = 0;
    gid = root?.gid ?? 0;
    name = root?.name ?? 'root';
    home = root?.home ?? '/root';
  } else if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((p) => p.uid === uid);
    gid = entry?.gid ?? 0;
    name = entry?.name;
    home = entry?.home ?? '/';
  } else {
    const entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new TspodError(`unable to find user ${userPart}: no matching entries in passwd file`);
    ({ uid, gid, name, home } = entry);
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new TspodError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const primary = gid ?? 0;
  const listing = groupPart === undefined && name ? groups.filter((g) => g.members.includes(name!)).map((g) => g.gid) : [];
  if (opts.exec) return { uid, gid: primary, additionalGids: [...new Set(listing)], home };
  if (!spec) return { uid, gid: primary, additionalGids: [], home };
  return { uid, gid: primary, additionalGids: [...new Set([primary, ...listing])], home };
}
