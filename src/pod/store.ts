import path from 'node:path';
import { JsonDatabase } from '../storage/json-db.js';
import type { UserMount } from '../runtime/mount-options.js';
import { TspodError } from '../util/errors.js';
import { CONTAINER_NAME_RE, generateName } from '../runtime/names.js';
import { randomHex } from '../util/random.js';

/** The namespaces a pod's containers can share with its infra container. */
export const SHAREABLE = ['net', 'ipc', 'uts'] as const;
export type SharedNamespace = (typeof SHAREABLE)[number];

/** What `pod create` decided. The pod's state comes from its containers'. */
export interface PodRecord {
  id: string;
  name: string;
  created: string;
  /** the container that holds the shared namespaces (absent with --infra=false) */
  infraId?: string;
  share: SharedNamespace[];
  hostname: string;
  labels: Record<string, string>;
  /** stop: the pod stops once its last ordinary container has exited */
  exitPolicy: 'continue' | 'stop';
  createCommand: string[];
  /** --infra-conmon-pidfile: where the infra's monitor pid is written at each start */
  infraMonitorPidFile?: string;
  /** pod create -v: mounted into every container that joins (anonymous volumes already named) */
  volumes?: UserMount[];
}

interface PodDb {
  version: 1;
  pods: Record<string, PodRecord>;
}

/** Exit status Podman uses when the pod named does not exist (pod inspect/rm say 125; pod exists 1). */
export const NO_SUCH_POD = 125;

/** Pods: one JSON database, changed under a file lock and replaced atomically (like the container store). */
export class PodStore {
  readonly dir: string;
  private readonly db: JsonDatabase<PodDb>;

  constructor(readonly storageRoot: string) {
    this.dir = path.join(storageRoot, 'pods');
    this.db = new JsonDatabase<PodDb>(this.dir, 'pods', 'pods', 'move it aside to start afresh');
  }

  private read(): PodDb {
    return this.db.read();
  }

  mutate<T>(fn: (db: PodDb) => T): Promise<T> {
    return this.db.mutate(fn);
  }

  list(): PodRecord[] {
    return Object.values(this.read().pods).sort((a, b) => b.created.localeCompare(a.created));
  }

  find(nameOrId: string): PodRecord | undefined {
    const db = this.read();
    const all = Object.values(db.pods);
    const exact = db.pods[nameOrId] ?? all.find((p) => p.name === nameOrId);
    if (exact) return exact;
    if (!/^[0-9a-f]+$/.test(nameOrId)) return undefined;
    const byPrefix = all.filter((p) => p.id.startsWith(nameOrId));
    if (byPrefix.length > 1) throw new TspodError(`more than one result for pod "${nameOrId}": use more characters of the ID`);
    return byPrefix[0];
  }

  get(nameOrId: string): PodRecord {
    const pod = this.find(nameOrId);
    if (!pod) throw new TspodError(`no pod with name or ID ${nameOrId} found: no such pod`, { exitCode: NO_SUCH_POD });
    return pod;
  }

  async create(name: string | undefined, fields: Omit<PodRecord, 'id' | 'name' | 'created'>): Promise<PodRecord> {
    if (name !== undefined && !CONTAINER_NAME_RE.test(name)) {
      throw new TspodError(`invalid pod name "${name}": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
    }
    const id = randomHex(32);
    return this.mutate((db) => {
      const taken = (n: string) => Object.values(db.pods).some((p) => p.name === n);
      if (name !== undefined && taken(name)) {
        const holder = Object.values(db.pods).find((p) => p.name === name)!;
        throw new TspodError(`the pod name "${name}" is already in use by ${holder.id}: remove that pod or use --replace: that name is already in use`);
      }
      const pod: PodRecord = { id, name: name ?? generateName(taken), created: new Date().toISOString(), ...fields };
      db.pods[id] = pod;
      return pod;
    });
  }

  async update(id: string, fn: (pod: PodRecord) => void): Promise<PodRecord> {
    return this.mutate((db) => {
      const pod = db.pods[id];
      if (!pod) throw new TspodError(`pod ${id} was removed meanwhile`, { exitCode: NO_SUCH_POD });
      fn(pod);
      return pod;
    });
  }

  async remove(id: string): Promise<void> {
    await this.mutate((db) => {
      delete db.pods[id];
    });
  }
}
