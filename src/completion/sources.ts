/**
 * Where completion candidates come from. Everything here reads the store's
 * JSON files directly with plain fs calls: no locks taken, nothing pulled, no
 * heavy module loaded, so `__complete` stays fast whatever the store holds.
 * A missing or unreadable file means "nothing to offer", never an error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Candidate } from './protocol.js';

export interface StorePaths {
  storageRoot: string;
  runRoot: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------- containers

export interface ContainerEntry {
  id: string;
  name: string;
  status: string;
  image: string;
  created: string;
}

export function listContainers(paths: StorePaths): ContainerEntry[] {
  const db = readJson(path.join(paths.storageRoot, 'containers', 'containers.json'));
  if (!isObject(db) || !isObject(db.containers)) return [];
  const out: ContainerEntry[] = [];
  for (const raw of Object.values(db.containers)) {
    if (!isObject(raw) || typeof raw.id !== 'string' || typeof raw.name !== 'string') continue;
    const state = isObject(raw.state) ? raw.state : {};
    const config = isObject(raw.config) ? raw.config : {};
    out.push({
      id: raw.id,
      name: raw.name,
      status: typeof state.status === 'string' ? state.status : 'unknown',
      image: typeof config.imageName === 'string' ? config.imageName : '',
      created: typeof raw.created === 'string' ? raw.created : '',
    });
  }
  return out.sort((a, b) => b.created.localeCompare(a.created));
}

/**
 * Podman's rule: names always; 12-character IDs once at least two characters
 * are typed (an empty word would otherwise drown the names in hex).
 */
export function containerCandidates(paths: StorePaths, toComplete: string, statuses?: readonly string[]): Candidate[] {
  const out: Candidate[] = [];
  for (const c of listContainers(paths)) {
    if (statuses && !statuses.includes(c.status)) continue;
    const desc = `${c.status}${c.image ? `, ${c.image}` : ''}`;
    if (c.name.startsWith(toComplete)) out.push({ value: c.name, description: desc });
    if (toComplete.length >= 2 && c.id.startsWith(toComplete)) out.push({ value: c.id.slice(0, 12), description: `${c.name}, ${desc}` });
  }
  return out;
}

// ---------------------------------------------------------------- images

export interface ImageEntry {
  id: string;
  names: string[];
}

/**
 * Images from the image store's database, `images/images.json` as
 * src/storage/image-store.ts writes it ({ version, images: { ID: { id, names } } }),
 * read directly (not through ImageStore, which pulls in the registry modules)
 * and tolerantly; [] while there is no store.
 */
export function listImages(paths: StorePaths): ImageEntry[] {
  const dir = path.join(paths.storageRoot, 'images');
  for (const file of ['images.json']) {
    const db = readJson(path.join(dir, file));
    if (db === undefined) continue;
    const rawList: unknown[] = Array.isArray(db)
      ? db
      : isObject(db) && Array.isArray(db.images)
        ? db.images
        : isObject(db) && isObject(db.images)
          ? Object.entries(db.images).map(([id, v]) => (isObject(v) ? { id, ...v } : { id }))
          : [];
    const out: ImageEntry[] = [];
    for (const raw of rawList) {
      if (!isObject(raw)) continue;
      const id = [raw.id, raw.Id, raw.ID].find((x): x is string => typeof x === 'string');
      if (!id) continue;
      const namesRaw = [raw.names, raw.Names, raw.RepoTags, raw.repoTags].find(Array.isArray) as unknown[] | undefined;
      out.push({ id: id.replace(/^sha256:/, ''), names: (namesRaw ?? []).filter((n): n is string => typeof n === 'string') });
    }
    return out;
  }
  return [];
}

export function imageCandidates(paths: StorePaths, toComplete: string): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (value: string, description: string) => {
    if (!seen.has(value) && value.startsWith(toComplete)) {
      seen.add(value);
      out.push({ value, description });
    }
  };
  for (const img of listImages(paths)) {
    const short = img.id.slice(0, 12);
    for (const name of img.names) {
      // name@sha256:... references only once the user types a digest
      if (name.includes('@') && !toComplete.includes('@')) continue;
      add(name, short);
      // localhost/ and docker.io/library/ names are also typed without the prefix.
      const bare = name.replace(/^localhost\//, '').replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
      if (bare !== name && toComplete.length > 0) add(bare, short);
    }
    if (toComplete.length >= 2) add(short, img.names[0] ?? '<none>');
  }
  return out;
}

// ---------------------------------------------------------------- volumes

export function volumeCandidates(paths: StorePaths, toComplete: string): Candidate[] {
  const db = readJson(path.join(paths.storageRoot, 'volumes', 'volumes.json'));
  if (!isObject(db) || !isObject(db.volumes)) return [];
  const out: Candidate[] = [];
  for (const [name, raw] of Object.entries(db.volumes)) {
    if (!name.startsWith(toComplete)) continue;
    const driver = isObject(raw) && typeof raw.Driver === 'string' ? raw.Driver : 'local';
    out.push({ value: name, description: `${driver} volume` });
  }
  return out.sort((a, b) => a.value.localeCompare(b.value));
}

// ---------------------------------------------------------------- pods

/** Pods from `pods/pods.json` (src/pod/store.ts): names always, 12-character IDs once two characters are typed. */
export function podCandidates(paths: StorePaths, toComplete: string): Candidate[] {
  const db = readJson(path.join(paths.storageRoot, 'pods', 'pods.json'));
  if (!isObject(db) || !isObject(db.pods)) return [];
  const out: Candidate[] = [];
  for (const raw of Object.values(db.pods)) {
    if (!isObject(raw) || typeof raw.id !== 'string' || typeof raw.name !== 'string') continue;
    if (raw.name.startsWith(toComplete)) out.push({ value: raw.name, description: 'pod' });
    if (toComplete.length >= 2 && raw.id.startsWith(toComplete)) out.push({ value: raw.id.slice(0, 12), description: `pod ${raw.name}` });
  }
  return out.sort((a, b) => a.value.localeCompare(b.value));
}

// ---------------------------------------------------------------- networks

/** Network modes `--network` takes besides network names (Podman's list). */
export const NETWORK_MODES: Candidate[] = [
  { value: 'bridge', description: 'Create a network stack on the default bridge' },
  { value: 'none', description: 'No networking' },
  { value: 'host', description: "Use the host's network stack" },
  { value: 'pasta', description: 'User-mode networking with pasta' },
  { value: 'slirp4netns', description: 'User-mode networking with slirp4netns' },
  { value: 'private', description: 'A new network namespace' },
  { value: 'container:', description: "Reuse another container's network stack" },
  { value: 'ns:', description: 'Path to a network namespace to join' },
];

/**
 * User-defined networks: tspod's own store if it has one, and the
 * netavark/CNI configs Podman keeps in ~/.config/containers/networks.
 */
export function networkCandidates(paths: StorePaths, toComplete: string): Candidate[] {
  const names = new Map<string, string>();
  // tspod's networks: one NAME.json each (src/network/networks-store.ts).
  try {
    for (const f of fs.readdirSync(path.join(paths.storageRoot, 'networks'))) {
      if (f.endsWith('.json') && !f.startsWith('.') && f !== 'networks.json') names.set(f.slice(0, -5), 'network');
    }
  } catch {
    // no networks yet
  }
  const configHome = process.env.XDG_CONFIG_HOME || path.join(process.env.HOME || os.homedir(), '.config');
  try {
    for (const f of fs.readdirSync(path.join(configHome, 'containers', 'networks'))) {
      if (f.endsWith('.json')) names.set(f.slice(0, -5), 'network');
    }
  } catch {
    // no user networks
  }
  if (!names.has('podman')) names.set('podman', 'the default network');
  return [...names]
    .filter(([n]) => n.startsWith(toComplete))
    .map(([value, description]) => ({ value, description }))
    .sort((a, b) => a.value.localeCompare(b.value));
}

// ---------------------------------------------------------------- signals, capabilities

export function signalCandidates(toComplete: string): Candidate[] {
  const names = Object.keys(os.constants.signals).filter((s) => s !== 'SIGIOT' && s !== 'SIGPOLL' && s !== 'SIGUNUSED');
  const upper = toComplete.toUpperCase();
  // SIGKILL, or KILL once the user has typed a bare name.
  const bare = toComplete.length > 0 && !'SIG'.startsWith(upper.slice(0, 3)) && !upper.startsWith('SIG');
  return names
    .map((s) => (bare ? s.slice(3) : s))
    .filter((s) => s.startsWith(toComplete))
    .map((value) => ({ value }));
}

/** Capability names from linux/capability.h, as --cap-add/--cap-drop take them. */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];
