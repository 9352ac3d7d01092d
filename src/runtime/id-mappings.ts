/**
 * A container's own user namespace (--userns=keep-id, nomap, auto, --uidmap/--gidmap),
 * nested in the rootless one. "host" ids here are ids of the rootless namespace
 * (0 = the user, 1..N = the subordinate ids), as they are for rootless Podman.
 * Without any of these flags the container runs directly in the rootless namespace.
 */
import fs from 'node:fs';
import { TspodError } from '../util/errors.js';

export interface IdRange {
  container: number;
  host: number;
  size: number;
}

export interface UsernsConfig {
  /** what was asked: keep-id, auto, or explicit --uidmap/--gidmap ("private") */
  mode: 'keep-id' | 'auto' | 'private';
  uidMap: IdRange[];
  gidMap: IdRange[];
  /** keep-id: the user's id inside, its name, for the /etc/passwd and /etc/group entries */
  keepId?: { uid: number; gid: number; name: string };
}

/** `CONTAINER:HOST:SIZE` */
export function parseIdMapFlag(text: string, flag: string): IdRange {
  const m = /^(\d+):(\d+):(\d+)$/.exec(text.trim());
  if (!m || Number(m[3]) === 0) {
    throw new TspodError(`invalid ${flag} "${text}": use CONTAINER_ID:HOST_ID:SIZE with whole numbers and a size above 0 (HOST_ID is an id of the rootless user namespace)`);
  }
  return { container: Number(m[1]), host: Number(m[2]), size: Number(m[3]) };
}

/** How many ids the rootless namespace has (inside: 0..N-1), from a /proc/PID/{uid,gid}_map text. */
export function namespaceIdCount(mapText: string): number {
  let top = 0;
  for (const line of mapText.split('\n')) {
    const [inside, , size] = line.trim().split(/\s+/).map(Number);
    if (Number.isFinite(inside) && Number.isFinite(size)) top = Math.max(top, inside + size);
  }
  return top;
}

/** The id the user has outside the rootless namespace (what rootless id 0 stands for). */
export function outsideIdOfRoot(mapText: string): number | undefined {
  for (const line of mapText.split('\n')) {
    const [inside, outside] = line.trim().split(/\s+/).map(Number);
    if (inside === 0 && Number.isFinite(outside)) return outside;
  }
  return undefined;
}

/**
 * keep-id as Podman lays it out: the user's rootless id 0 appears as `id` inside,
 * container ids below it are the subordinate ids 1..id, those above map to themselves.
 */
export function keepIdRanges(id: number, count: number): IdRange[] {
  if (id >= count) throw new TspodError(`--userns=keep-id: id ${id} is beyond the ${count} ids of the rootless user namespace; check /etc/subuid and /etc/subgid`);
  const out: IdRange[] = [];
  if (id > 0) out.push({ container: 0, host: 1, size: id });
  out.push({ container: id, host: 0, size: 1 });
  if (count - id - 1 > 0) out.push({ container: id + 1, host: id + 1, size: count - id - 1 });
  return out;
}

/** The rootless id a container id is stored as on disk; undefined when the container does not map it. */
export function hostIdOf(id: number, ranges: IdRange[]): number | undefined {
  for (const r of ranges) if (id >= r.container && id < r.container + r.size) return r.host + (id - r.container);
  return undefined;
}

/** The id a container sees for a file stored under rootless id `id`; undefined when it does not map it. */
export function containerIdOf(id: number, ranges: IdRange[]): number | undefined {
  for (const r of ranges) if (id >= r.host && id < r.host + r.size) return r.container + (id - r.host);
  return undefined;
}

function checkRanges(ranges: IdRange[], count: number, flag: string): void {
  const overlap = (a: IdRange, b: IdRange, key: 'container' | 'host') => a[key] < b[key] + b.size && b[key] < a[key] + a.size;
  ranges.forEach((r, i) => {
    if (r.host + r.size > count) {
      throw new TspodError(`${flag} ${r.container}:${r.host}:${r.size} reaches beyond the rootless user namespace, which has ids 0 to ${count - 1}; see /etc/subuid and /etc/subgid`);
    }
    for (const o of ranges.slice(i + 1)) {
      if (overlap(r, o, 'container') || overlap(r, o, 'host')) throw new TspodError(`${flag} ranges ${r.container}:${r.host}:${r.size} and ${o.container}:${o.host}:${o.size} overlap`);
    }
  });
}

export interface UsernsRequest {
  userns?: string;
  uidmap?: string[];
  gidmap?: string[];
}

export interface NamespaceFacts {
  uidCount: number;
  gidCount: number;
  /** the user's own uid and gid outside, and name */
  uid: number;
  gid: number;
  userName: string;
  /** --userns=auto ranges other containers already hold */
  autoInUse: IdRange[];
}

/** Facts read inside the rootless namespace (after requireUserNamespace()). */
export function readNamespaceFacts(autoInUse: IdRange[]): NamespaceFacts {
  const uidText = fs.readFileSync('/proc/self/uid_map', 'utf8');
  const gidText = fs.readFileSync('/proc/self/gid_map', 'utf8');
  const uid = outsideIdOfRoot(uidText) ?? 0;
  const gid = outsideIdOfRoot(gidText) ?? 0;
  return { uidCount: namespaceIdCount(uidText), gidCount: namespaceIdCount(gidText), uid, gid, userName: userNameOf(uid), autoInUse };
}

function userNameOf(uid: number): string {
  try {
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    if (line) return line.split(':')[0];
  } catch {
    // fall back to the environment
  }
  return process.env.USER || process.env.LOGNAME || `user${uid}`;
}

/** Decide the container's mapping from --userns/--uidmap/--gidmap; undefined: the rootless namespace itself. */
export function resolveUserns(req: UsernsRequest, facts: () => NamespaceFacts): UsernsConfig | undefined {
  const mode = req.userns ?? '';
  const uidmap = (req.uidmap ?? []).map((t) => parseIdMapFlag(t, '--uidmap'));
  const gidmap = (req.gidmap ?? []).map((t) => parseIdMapFlag(t, '--gidmap'));
  if (uidmap.length || gidmap.length) {
    if (mode !== '' && mode !== 'private') throw new TspodError(`--userns=${mode} cannot be combined with --uidmap or --gidmap: give one or the other`);
    const f = facts();
    // As Podman: one of the two alone serves for both.
    const uidMap = uidmap.length ? uidmap : gidmap;
    const gidMap = gidmap.length ? gidmap : uidmap;
    checkRanges(uidMap, f.uidCount, '--uidmap');
    checkRanges(gidMap, f.gidCount, '--gidmap');
    return { mode: 'private', uidMap, gidMap };
  }
  if (mode === '' || mode === 'host') return undefined;
  if (mode === 'keep-id' || mode.startsWith('keep-id:')) {
    const f = facts();
    let uid = f.uid;
    let gid = f.gid;
    for (const opt of mode.slice('keep-id'.length + 1).split(',').filter(Boolean)) {
      const m = /^(uid|gid)=(\d+)$/.exec(opt);
      if (!m) throw new TspodError(`invalid --userns=${mode}: keep-id takes uid=N and gid=N, as in keep-id:uid=1000,gid=1000`);
      if (m[1] === 'uid') uid = Number(m[2]);
      else gid = Number(m[2]);
    }
    // Another uid than yours is named by its number, as Podman names it.
    const name = uid === f.uid ? f.userName : String(uid);
    return { mode: 'keep-id', uidMap: keepIdRanges(uid, f.uidCount), gidMap: keepIdRanges(gid, f.gidCount), keepId: { uid, gid, name } };
  }
  if (mode === 'nomap') {
    // Your own id stays out: the container gets the subordinate ids only.
    const f = facts();
    if (f.uidCount < 2 || f.gidCount < 2) throw new TspodError('--userns=nomap needs subordinate ids: add your user to /etc/subuid and /etc/subgid');
    return { mode: 'private', uidMap: [{ container: 0, host: 1, size: f.uidCount - 1 }], gidMap: [{ container: 0, host: 1, size: f.gidCount - 1 }] };
  }
  if (mode === 'auto' || mode.startsWith('auto:')) {
    let size = 1024;
    for (const opt of mode.slice('auto'.length + 1).split(',').filter(Boolean)) {
      const m = /^size=(\d+)$/.exec(opt);
      if (!m || Number(m[1]) === 0) throw new TspodError(`invalid --userns=${mode}: auto takes size=N (N above 0), as in auto:size=2048`);
      size = Number(m[1]);
    }
    const f = facts();
    const host = pickFreeRange(size, Math.min(f.uidCount, f.gidCount), f.autoInUse);
    if (host === undefined) throw new TspodError(`--userns=auto: no free range of ${size} ids is left in the rootless user namespace; remove containers that use --userns=auto or ask for a smaller size`);
    const range = [{ container: 0, host, size }];
    return { mode: 'auto', uidMap: range, gidMap: range.map((r) => ({ ...r })) };
  }
  throw new TspodError(`--userns=${mode} is not supported: use keep-id[:uid=N,gid=N], nomap, auto[:size=N] or host, or give --uidmap/--gidmap`);
}

/** The lowest range of `size` subordinate ids (never the user's own id 0) that no other auto container holds. */
export function pickFreeRange(size: number, count: number, inUse: IdRange[]): number | undefined {
  const taken = [...inUse].sort((a, b) => a.host - b.host);
  let start = 1;
  for (const r of taken) {
    if (start + size <= r.host) break;
    start = Math.max(start, r.host + r.size);
  }
  return start + size <= count ? start : undefined;
}

/** Podman's inspect form, "CONTAINER:HOST:SIZE". */
export function formatRanges(ranges: IdRange[]): string[] {
  return ranges.map((r) => `${r.container}:${r.host}:${r.size}`);
}
