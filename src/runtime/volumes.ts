import fs from 'node:fs';
import path from 'node:path';
import { JsonDatabase } from '../storage/json-db.js';
import { TspodError } from '../util/errors.js';
import { randomHex } from '../util/random.js';

/** A named volume as Podman's `volume inspect` shows it. */
export interface VolumeRecord {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string>;
  MountCount: number;
  NeedsCopyUp: boolean;
  NeedsChown: boolean;
}

interface VolumeDb {
  version: 1;
  volumes: Record<string, Omit<VolumeRecord, 'Mountpoint'>>;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Exit status Podman uses when the named object does not exist. */
export const NO_SUCH_OBJECT = 1;

/**
 * Volumes: one JSON database under an exclusive flock, replaced atomically, and
 * one directory per volume holding `_data`. Every change is read-modify-write
 * under the lock, so concurrent tspod processes never lose each other's work.
 */
export class VolumeStore {
  readonly dir: string;
  private readonly db: JsonDatabase<VolumeDb>;

  constructor(storageRoot: string) {
    this.dir = path.join(storageRoot, 'volumes');
    this.db = new JsonDatabase<VolumeDb>(this.dir, 'volumes', 'volumes', 'move it aside and recreate the volumes');
  }

  private read(): VolumeDb {
    return this.db.read();
  }

  private full(rec: Omit<VolumeRecord, 'Mountpoint'>): VolumeRecord {
    return { ...rec, Mountpoint: path.join(this.dir, rec.Name, '_data') };
  }

  private mutate<T>(fn: (db: VolumeDb) => T): Promise<T> {
    return this.db.mutate(fn);
  }

  async create(opts: { name?: string; driver?: string; labels?: Record<string, string>; options?: Record<string, string>; ignoreExisting?: boolean }): Promise<VolumeRecord> {
    const name = opts.name ?? randomHex(32);
    if (!NAME_RE.test(name)) {
      throw new TspodError(`invalid volume name "${name}": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
    }
    const driver = opts.driver ?? 'local';
    if (driver !== 'local') throw new TspodError(`volume driver "${driver}" is not supported: use the local driver`);
    return this.mutate((db) => {
      const existing = db.volumes[name];
      if (existing) {
        if (opts.ignoreExisting) return this.full(existing);
        throw new TspodError(`volume with name ${name} already exists: volume already exists`);
      }
      const volDir = path.join(this.dir, name);
      // A directory without a record is what a crash between mkdir and the write left: start afresh.
      fs.rmSync(volDir, { recursive: true, force: true });
      fs.mkdirSync(path.join(volDir, '_data'), { recursive: true, mode: 0o755 });
      const rec = {
        Name: name,
        Driver: driver,
        CreatedAt: new Date().toISOString(),
        Labels: opts.labels ?? {},
        Scope: 'local' as const,
        Options: opts.options ?? {},
        MountCount: 0,
        NeedsCopyUp: true,
        NeedsChown: true,
      };
      db.volumes[name] = rec;
      return this.full(rec);
    });
  }

  list(): VolumeRecord[] {
    return Object.values(this.read().volumes)
      .map((r) => this.full(r))
      .sort((a, b) => a.Name.localeCompare(b.Name));
  }

  get(name: string): VolumeRecord | undefined {
    const rec = this.read().volumes[name];
    return rec ? this.full(rec) : undefined;
  }

  /** Remove volumes by name; the record goes first, so a crash leaves only a stray directory. */
  async remove(names: string[], opts: { force?: boolean } = {}): Promise<{ removed: string[]; missing: string[] }> {
    const removed: string[] = [];
    const missing: string[] = [];
    await this.mutate((db) => {
      for (const name of names) {
        if (db.volumes[name]) {
          delete db.volumes[name];
          removed.push(name);
        } else if (!opts.force) {
          missing.push(name);
        }
      }
    });
    for (const name of removed) fs.rmSync(path.join(this.dir, name), { recursive: true, force: true });
    return { removed, missing };
  }
}

/** Parse `--label k=v` / `--opt k=v` lists. */
export function parseKeyValues(items: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new TspodError(`invalid ${what} "${item}": expected KEY=VALUE`);
    if (eq < 0) out[item] = '';
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** `--filter` for volume ls/prune: name, label, driver (Podman's keys). */
export function volumeMatches(vol: VolumeRecord, filters: string[]): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new TspodError(`invalid filter "${f}": expected KEY=VALUE`);
    const key = f.slice(0, eq);
    byKey.set(key, [...(byKey.get(key) ?? []), f.slice(eq + 1)]);
  }
  for (const [key, values] of byKey) {
    // Values of one key are alternatives (OR); different keys must all match (AND).
    const ok = values.some((v) => {
      switch (key) {
        case 'name':
          return vol.Name.includes(v);
        case 'driver':
          return vol.Driver === v;
        case 'label': {
          const eq = v.indexOf('=');
          return eq < 0 ? v in vol.Labels : vol.Labels[v.slice(0, eq)] === v.slice(eq + 1);
        }
        case 'scope':
          return vol.Scope === v;
        case 'dangling':
          return (v === 'true') === (vol.MountCount === 0);
        default:
          throw new TspodError(`invalid filter "${key}": volume filters are name, label, driver, scope and dangling`);
      }
    });
    if (!ok) return false;
  }
  return true;
}
