import fs from 'node:fs';
import path from 'node:path';
import { JsonDatabase } from '../storage/json-db.js';
import { TspodError } from '../util/errors.js';
import type { UsernsConfig } from './id-mappings.js';
import { CONTAINER_NAME_RE, generateName } from './names.js';
import type { PortMapping } from '../network/ports.js';
import type { NetworkAttachment } from '../network/bridge.js';
import { randomHex } from '../util/random.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'exited';

/** What `create` decided; fixed for the container's life. */
export interface ContainerConfig {
  /** the --rootfs directory; for an image container, set at start to the mounted rootfs */
  rootfs: string;
  /** the image the container runs (absent for --rootfs containers) */
  imageId?: string;
  /** What `ps` shows as IMAGE: the image name, or the rootfs path for --rootfs. */
  imageName: string;
  rootfsImage: boolean;
  command: string[];
  env: string[];
  workdir: string;
  hostname: string;
  /** the --network value (src/network/mode.ts parses it); container:ID once created */
  network: string;
  /** user-defined networks the container is attached to (network connect/disconnect change it); network names the first */
  networks?: NetworkAttachment[];
  ports: PortMapping[];
  mounts: ContainerMount[];
  dns?: { servers?: string[]; search?: string[]; options?: string[] };
  addHosts?: { ip: string; names: string[] }[];
  user?: string;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  readOnly: boolean;
  labels: Record<string, string>;
  autoRemove: boolean;
  interactive: boolean;
  tty?: boolean;
  /** --init: tspod-init runs as PID 1 and starts the command */
  init?: boolean;
  /** --userns=keep-id|auto, --uidmap/--gidmap: a user namespace of its own (id-mappings.ts) */
  userns?: UsernsConfig;
  /** --pod: the pod's id; its members join the infra container's shared namespaces */
  pod?: string;
  /** the pod's infra container (holds the namespaces, publishes the pod's ports) */
  isInfra?: boolean;
  /** --restart: carried out when a detached container's monitor runs `container cleanup` */
  restartPolicy?: { name: 'no' | 'on-failure' | 'always' | 'unless-stopped'; maxRetries: number };
  /** --health-cmd, run by `tspod healthcheck run` */
  healthCmd?: string[];
  /** --sdnotify=conmon: the systemd socket the monitor tells READY */
  notifySocket?: string;
  stopSignal: string;
  stopTimeout: number;
  /** tspod's arguments that created the container (Podman's CreateCommand), for `generate systemd --new`. */
  createCommand?: string[];
}

/** A mount of the container, resolved at create: volume names are real volumes by then. */
export interface ContainerMount {
  kind: 'bind' | 'volume' | 'tmpfs';
  source: string;
  destination: string;
  readonly: boolean;
  chown: boolean;
  tmpfsOptions?: string;
  /** an anonymous volume made for this container: `rm -v` removes it */
  anonymous?: boolean;
}

/** What changes as the container runs. */
export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  pidStartTime?: number;
  monitorPid: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode: number;
  error?: string;
  /** set while a `start` is being carried out, so a crash half way is visible */
  starting?: boolean;
  /** `stop` ended it: restart policies other than always leave it stopped */
  stoppedByUser?: boolean;
  restartCount?: number;
  /** the container's own cgroup v2 directory (under a delegated one), frozen by `pause` */
  cgroupPath?: string;
  /** the last `healthcheck run` result */
  health?: { status: 'healthy' | 'unhealthy' };
}

export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  config: ContainerConfig;
  state: ContainerState;
}

interface ContainerDb {
  version: 1;
  containers: Record<string, ContainerRecord>;
}

/** Exit status Podman's commands (stop, kill, start, inspect, logs, exec, ...) use when the container named does not exist; rm says 1 itself. */
export const NO_SUCH_CONTAINER = 125;

/**
 * Containers: one JSON database changed only under an exclusive flock and
 * replaced atomically; per container, a directory in the store (logs) and one
 * in the runtime directory (exit file, /etc files), which is gone at reboot.
 */
export class ContainerStore {
  readonly dir: string;
  private readonly db: JsonDatabase<ContainerDb>;

  constructor(
    readonly storageRoot: string,
    readonly runRoot: string,
  ) {
    this.dir = path.join(storageRoot, 'containers');
    this.db = new JsonDatabase<ContainerDb>(this.dir, 'containers', 'containers', 'move it aside to start afresh');
  }

  private read(): ContainerDb {
    return this.db.read();
  }

  /** Read-modify-write under the lock; fn's changes to the db are saved. */
  mutate<T>(fn: (db: ContainerDb) => T): Promise<T> {
    return this.db.mutate(fn);
  }

  list(): ContainerRecord[] {
    return Object.values(this.read().containers).sort((a, b) => b.created.localeCompare(a.created));
  }

  /** By full id, unique id prefix, or name, as Podman looks containers up. */
  find(nameOrId: string): ContainerRecord | undefined {
    return lookup(this.read(), nameOrId);
  }

  get(nameOrId: string): ContainerRecord {
    const rec = this.find(nameOrId);
    if (!rec) throw new TspodError(`no container with name or ID "${nameOrId}" found: no such container`, { exitCode: NO_SUCH_CONTAINER });
    return rec;
  }

  storageDir(id: string): string {
    return path.join(this.dir, id, 'userdata');
  }

  runDir(id: string): string {
    return path.join(this.runRoot, 'containers', id);
  }

  logPath(id: string): string {
    return path.join(this.storageDir(id), 'ctr.log');
  }

  exitFile(id: string): string {
    return path.join(this.runDir(id), 'exit');
  }

  /** The monitor's unix socket that `attach` connects to. */
  attachSocket(id: string): string {
    return path.join(this.runDir(id), 'attach');
  }

  lockPath(id: string): string {
    return path.join(this.runDir(id), 'lock');
  }

  async create(name: string | undefined, config: ContainerConfig): Promise<ContainerRecord> {
    if (name !== undefined && !CONTAINER_NAME_RE.test(name)) {
      throw new TspodError(`invalid container name "${name}": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
    }
    const id = randomHex(32);
    return this.mutate((db) => {
      const taken = (n: string) => Object.values(db.containers).some((c) => c.name === n);
      if (name !== undefined && taken(name)) {
        throw new TspodError(
          `the container name "${name}" is already in use by ${Object.values(db.containers).find((c) => c.name === name)!.id}. You have to remove that container to be able to reuse that name: that name is already in use`,
        );
      }
      const rec: ContainerRecord = {
        id,
        name: name ?? generateName(taken),
        created: new Date().toISOString(),
        // The host name defaults to the short id, known only here (one write, not two).
        config: config.hostname ? config : { ...config, hostname: id.slice(0, 12) },
        state: { status: 'created', pid: 0, monitorPid: 0, exitCode: 0 },
      };
      fs.mkdirSync(this.storageDir(id), { recursive: true, mode: 0o700 });
      fs.mkdirSync(this.runDir(id), { recursive: true, mode: 0o700 });
      db.containers[id] = rec;
      return rec;
    });
  }

  /** Give a container a new, unused name. */
  async rename(nameOrId: string, newName: string): Promise<ContainerRecord> {
    if (!CONTAINER_NAME_RE.test(newName)) {
      throw new TspodError(`invalid container name "${newName}": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
    }
    return this.mutate((db) => {
      const rec = lookup(db, nameOrId);
      if (!rec) throw new TspodError(`no container with name or ID "${nameOrId}" found: no such container`, { exitCode: NO_SUCH_CONTAINER });
      const holder = Object.values(db.containers).find((c) => c.name === newName);
      if (holder && holder.id !== rec.id) {
        throw new TspodError(`the container name "${newName}" is already in use by ${holder.id}: that name is already in use`);
      }
      rec.name = newName;
      return rec;
    });
  }

  async update(id: string, fn: (rec: ContainerRecord) => void): Promise<ContainerRecord> {
    return this.mutate((db) => {
      const rec = db.containers[id];
      if (!rec) throw new TspodError(`container ${id} was removed meanwhile`, { exitCode: NO_SUCH_CONTAINER });
      fn(rec);
      return rec;
    });
  }

  /** Drop the record first: a crash afterwards leaves only stray directories. */
  async remove(id: string): Promise<void> {
    await this.mutate((db) => {
      delete db.containers[id];
    });
    fs.rmSync(path.join(this.dir, id), { recursive: true, force: true });
    fs.rmSync(this.runDir(id), { recursive: true, force: true });
  }
}

function lookup(db: ContainerDb, nameOrId: string): ContainerRecord | undefined {
  const all = Object.values(db.containers);
  const exact = db.containers[nameOrId] ?? all.find((c) => c.name === nameOrId);
  if (exact) return exact;
  if (!/^[0-9a-f]+$/.test(nameOrId)) return undefined;
  const byPrefix = all.filter((c) => c.id.startsWith(nameOrId));
  if (byPrefix.length > 1) {
    throw new TspodError(`more than one result for container "${nameOrId}": use more characters of the ID`);
  }
  return byPrefix[0];
}
