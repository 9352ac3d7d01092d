import fs from 'node:fs';
import os from 'node:os';

/** One line of an id mapping, as uid_map and Podman's info show it. */
export interface IdMapping {
  containerId: number;
  hostId: number;
  size: number;
}

export interface SubIdRange {
  start: number;
  count: number;
}

/**
 * The ranges /etc/subuid (or /etc/subgid) grants a user, who may be named by
 * login name or numeric id. Malformed lines are skipped, as shadow-utils does.
 */
export function parseSubIdFile(text: string, user: { name?: string; id: number }): SubIdRange[] {
  const ranges: SubIdRange[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(':');
    if (parts.length !== 3) continue;
    const [owner, startText, countText] = parts;
    if (owner !== user.name && owner !== String(user.id)) continue;
    const start = Number(startText);
    const count = Number(countText);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count <= 0) continue;
    ranges.push({ start, count });
  }
  return ranges;
}

/**
 * The mapping of the rootless namespace: the user's own id becomes 0, the
 * subordinate ranges follow from 1 on, in file order (as Podman does).
 */
export function buildMapping(ownId: number, ranges: SubIdRange[]): IdMapping[] {
  const mapping: IdMapping[] = [{ containerId: 0, hostId: ownId, size: 1 }];
  let next = 1;
  for (const r of ranges) {
    mapping.push({ containerId: next, hostId: r.start, size: r.count });
    next += r.count;
  }
  return mapping;
}

/** Parse /proc/PID/uid_map or gid_map text. */
export function parseProcIdMap(text: string): IdMapping[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f.every(Number.isFinite))
    .map(([containerId, hostId, size]) => ({ containerId, hostId, size }));
}

export interface UserIdentity {
  name?: string;
  uid: number;
  gid: number;
}

export function currentUser(uid: number, gid: number): UserIdentity {
  let name: string | undefined;
  try {
    name = os.userInfo().username;
  } catch {
    name = process.env.USER || process.env.LOGNAME;
  }
  return { name, uid, gid };
}

/** Subordinate ranges from the files tspod reads (overridable for tests). */
export function subIdRanges(user: UserIdentity): { uid: SubIdRange[]; gid: SubIdRange[] } {
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const uidFile = process.env.TSPOD_SUBUID_FILE || '/etc/subuid';
  const gidFile = process.env.TSPOD_SUBGID_FILE || '/etc/subgid';
  return {
    uid: parseSubIdFile(read(uidFile), { name: user.name, id: user.uid }),
    gid: parseSubIdFile(read(gidFile), { name: user.name, id: user.uid }),
  };
}
