import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

/**
 * The commands that act on existing containers by name or ID. Each reports
 * per container like Podman: the name or ID as given on success, an `Error:`
 * line otherwise, and the worst status at the end.
 */
abstract class EachContainerCommand extends TspodCommand {
  all = Option.Boolean('--all', false, { description: 'Act on all containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod knows of' });
  containers = Option.Rest();

  cidfiles = Option.Array('--cidfile', [], { description: 'Read the container ID from the file' });

  protected async targets(): Promise<string[]> {
    const { TspodError } = await import('../../util/errors.js');
    if (this.cidfiles.length > 0) {
      const fs = await import('node:fs');
      const ids: string[] = [];
      for (const file of this.cidfiles) {
        try {
          ids.push(fs.readFileSync(file, 'utf8').trim());
        } catch (err) {
          // --ignore: a unit's ExecStopPost runs even when the container never got created.
          if ((this as { ignore?: boolean }).ignore && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw new TspodError(`cannot read the container ID file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      return [...ids, ...this.containers];
    }
    const { openStore } = await import('../../runtime/lifecycle.js');
    const store = openStore(this.globals);
    // Containers that share another's network namespace come first (rm -a removes them before it).
    if (this.all) return store.list().sort((a, b) => Number(b.config.network.startsWith('container:')) - Number(a.config.network.startsWith('container:'))).map((c) => c.id);
    if (this.latest) {
      const latest = store.list()[0];
      if (!latest) throw new TspodError('no containers to act on with --latest');
      return [latest.id];
    }
    if (this.containers.length === 0) throw new TspodError(`you must provide at least one container name or ID`);
    return this.containers;
  }

  protected async forEach(fn: (nameOrId: string) => Promise<string | undefined>): Promise<number> {
    const { reportError } = await import('../errors.js');
    let status = 0;
    for (const target of await this.targets()) {
      try {
        const line = await fn(target);
        if (line !== undefined) this.out(`${line}\n`);
      } catch (err) {
        status = Math.max(status, reportError(err));
      }
    }
    return status;
  }
}

export class StartCommand extends EachContainerCommand {
  static override paths = [['start'], ['container', 'start']];
  static override usage = Command.Usage({ category: 'Containers', description: 'Start one or more containers' });
  attach = Option.Boolean('-a,--attach', false, { description: "Attach to the container's output and wait for it" });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'Keep STDIN open' });
  detachKeys = Option.String('--detach-keys', { description: 'Key sequence that detaches from the container (default ctrl-p,ctrl-q; "" disables)' });
  sigProxy = Option.String('--sig-proxy', { description: 'Proxy received signals to the container process with -a (default true)', tolerateBoolean: true });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { openStore, startContainer } = await import('../../runtime/lifecycle.js');
    const store = openStore(this.globals);
    if (this.attach) {
      const [one, ...rest] = await this.targets();
      const { TspodError } = await import('../../util/errors.js');
      const { parseDetachKeys } = await import('../../runtime/detach-keys.js');
      const { parseBoolFlag } = await import('../image/pull.js');
      const { DETACHED } = await import('../../runtime/monitor-client.js');
      if (rest.length) throw new TspodError('you cannot start and attach multiple containers at once');
      if (this.detachKeys !== undefined) parseDetachKeys(this.detachKeys);
      const code = await startContainer(this.globals, store, store.get(one).id, {
        attach: true,
        interactive: this.interactive,
        ...(this.detachKeys !== undefined ? { detachKeys: this.detachKeys } : {}),
        sigProxy: parseBoolFlag(this.sigProxy, '--sig-proxy') ?? true,
      });
      return code === DETACHED ? 0 : code;
    }
    return this.forEach(async (target) => {
      await startContainer(this.globals, store, store.get(target).id, { attach: false });
      return target;
    });
  }
}

export class StopCommand extends EachContainerCommand {
  static override paths = [['stop'], ['container', 'stop']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Stop one or more containers',
    details: "Sends the container's stop signal (SIGTERM unless --stop-signal said otherwise), then SIGKILL once the timeout has passed.",
  });
  override all = Option.Boolean('-a,--all', false, { description: 'Act on all containers' });
  time = Option.String('-t,--time', { description: 'Seconds to wait before killing the container' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors when a container does not exist' });

  async execute(): Promise<number> {
    const { openStore, stopContainer } = await import('../../runtime/lifecycle.js');
    const { TspodError } = await import('../../util/errors.js');
    const timeout = this.time === undefined ? undefined : Number(this.time);
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 0)) throw new TspodError(`invalid --time "${this.time}": give whole seconds`);
    const store = openStore(this.globals);
    return this.forEach(async (target) => {
      if (this.ignore && !store.find(target)) return undefined;
      await stopContainer(store, target, timeout);
      return target;
    });
  }
}

export class KillCommand extends EachContainerCommand {
  static override paths = [['kill'], ['container', 'kill']];
  static override usage = Command.Usage({ category: 'Containers', description: 'Kill one or more running containers with a specific signal' });
  override all = Option.Boolean('-a,--all', false, { description: 'Act on all containers' });
  signal = Option.String('-s,--signal', 'KILL', { description: 'Signal to send to the container' });

  async execute(): Promise<number> {
    const { openStore, killContainer, signalName } = await import('../../runtime/lifecycle.js');
    signalName(this.signal);
    const store = openStore(this.globals);
    return this.forEach(async (target) => {
      await killContainer(store, target, this.signal);
      return target;
    });
  }
}

export class RmCommand extends EachContainerCommand {
  static override paths = [['rm'], ['container', 'rm']];
  static override usage = Command.Usage({ category: 'Containers', description: 'Remove one or more containers' });
  override all = Option.Boolean('-a,--all', false, { description: 'Act on all containers' });
  force = Option.Boolean('-f,--force', false, { description: 'Force removal of a running container (stops it with SIGKILL)' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors when a container does not exist' });
  volumes = Option.Boolean('-v,--volumes', false, { description: 'Remove anonymous volumes of the container' });
  time = Option.String('-t,--time', { description: 'Seconds to wait for stop before killing the container (with --force)' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    let timeoutSecs: number | undefined;
    if (this.time !== undefined) {
      if (!this.force) throw new TspodError('--force option must be specified to use the --time option');
      timeoutSecs = Number(this.time);
      if (!/^\d+$/.test(this.time)) throw new TspodError(`invalid --time "${this.time}": give a whole number of seconds`);
    }
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    // What a container wrote in its runtime directory may belong to subordinate ids.
    await requireUserNamespace();
    const { openStore, removeContainer } = await import('../../runtime/lifecycle.js');
    const store = openStore(this.globals);
    return this.forEach(async (target) => {
      if (this.ignore && !store.find(target)) return undefined;
      const rec = store.find(target);
      // A pod's infra container goes only with its pod: refused by name, --all takes the pod (as Podman does).
      if (rec?.config.isInfra) {
        await (await import('../../pod/pods.js')).removeInfraContainer(this.globals, rec, { all: this.all, force: this.force });
        return target;
      }
      // --all: a pod's container may have gone with its pod already.
      if (this.all && !rec) return target;
      // podman rm alone exits 1 for a container that does not exist (2 running, 125 otherwise); -f ignores it
      if (!rec && this.force) return undefined;
      if (!rec) {
        throw new TspodError(`no container with name or ID "${target}" found: no such container`, { exitCode: 1 });
      }
      await removeContainer(store, target, { force: this.force, volumes: this.volumes, timeoutSecs });
      return target;
    });
  }
}

export class WaitCommand extends EachContainerCommand {
  static override paths = [['wait'], ['container', 'wait']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Block on one or more containers, then print their exit codes',
    details:
      'Waits until each container meets one of the --condition states (default stopped), polling every --interval (default 250ms). Prints the exit code for stopped and exited, -1 for the other conditions, as Podman does.',
    examples: [['Wait until a container runs', 'tspod wait --condition running web']],
  });
  conditions = Option.Array('--condition', [], { description: 'Condition to wait on (created, running, paused, stopped, exited, healthy, unhealthy); repeatable' });
  interval = Option.String('-i,--interval', '250ms', { description: 'Time to wait between checks (Go duration, e.g. 250ms, 1s)' });

  async execute(): Promise<number> {
    const { openStore } = await import('../../runtime/lifecycle.js');
    const { parseInterval, parseWaitConditions, waitForConditions } = await import('../../runtime/wait.js');
    const conditions = parseWaitConditions(this.conditions.flatMap((c) => c.split(',')));
    const interval = parseInterval(this.interval);
    const store = openStore(this.globals);
    const { reportError } = await import('../errors.js');
    // Podman's wait exits 125 for any container it could not wait for (rm's 1 for a missing one does not apply).
    let status = 0;
    for (const target of await this.targets()) {
      try {
        this.out(`${await waitForConditions(store, target, conditions, interval)}\n`);
      } catch (err) {
        reportError(err);
        status = 125;
      }
    }
    return status;
  }
}

export class ContainerExistsCommand extends TspodCommand {
  static override paths = [['container', 'exists']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Check if a container exists',
    details: 'Exits 0 when the container exists, 1 when it does not, 125 on any other error.',
  });
  container = Option.String();

  async execute(): Promise<number> {
    const { openStore } = await import('../../runtime/lifecycle.js');
    return openStore(this.globals).find(this.container) ? 0 : 1;
  }
}

/** Run by a detached container's monitor when the container has exited. */
export class ContainerCleanupCommand extends TspodCommand {
  static override paths = [['container', 'cleanup']];
  static override usage = Command.Usage({ category: 'Containers', description: 'Clean up the state of an exited container (run by its monitor)' });
  container = Option.String();

  async execute(): Promise<number> {
    const { openStore, reconcile, removeContainer, startContainer } = await import('../../runtime/lifecycle.js');
    const { shouldRestart } = await import('../../runtime/create.js');
    const { withLock } = await import('../../storage/lock.js');
    let restart = false;
    const store = openStore(this.globals);
    const rec = store.find(this.container);
    if (!rec) return 0;
    // Wait for a `start` still recording the container as running, then settle its state.
    await withLock(store.lockPath(rec.id), async () => {
      const current = store.find(rec.id);
      if (!current) return;
      const now = await reconcile(store, current);
      if (now.state.status === 'running') return;
      if (now.config.autoRemove) {
        await removeContainer(store, now.id, { force: false });
        return;
      }
      if (shouldRestart(now.config.restartPolicy, now.state)) {
        await store.update(now.id, (r) => (r.state.restartCount = (r.state.restartCount ?? 0) + 1));
        restart = true;
      }
    });
    // Outside the lock: start takes it again, and there starts nothing if a stop was recorded meanwhile.
    if (restart) await startContainer(this.globals, store, rec.id, { attach: false, policyRestart: true });
    // A pod with --exit-policy=stop stops when its last container has exited.
    if (!restart || store.find(rec.id)?.state.stoppedByUser) await (await import('../../pod/pods.js')).afterMemberExit(this.globals, rec);
    return 0;
  }
}

export class RestartCommand extends EachContainerCommand {
  static override paths = [['restart'], ['container', 'restart']];
  static override usage = Command.Usage({ category: 'Containers', description: 'Restart one or more containers' });
  override all = Option.Boolean('-a,--all', false, { description: 'Restart all containers' });
  time = Option.String('-t,--time', { description: 'Seconds to wait for stop before killing the container' });
  running = Option.Boolean('--running', false, { description: 'Restart only running containers' });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { openStore, stopContainer, startContainer, reconcile } = await import('../../runtime/lifecycle.js');
    const { TspodError } = await import('../../util/errors.js');
    const timeout = this.time === undefined ? undefined : Number(this.time);
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 0)) throw new TspodError(`invalid --time "${this.time}": give whole seconds`);
    const store = openStore(this.globals);
    return this.forEach(async (target) => {
      const rec = await reconcile(store, store.get(target));
      if (this.running && rec.state.status !== 'running') return undefined;
      await stopContainer(store, rec.id, timeout);
      await startContainer(this.globals, store, rec.id, { attach: false });
      return target;
    });
  }
}

export class RenameCommand extends TspodCommand {
  static override paths = [['rename'], ['container', 'rename']];
  static override usage = Command.Usage({ category: 'Containers', description: 'Rename an existing container' });
  container = Option.String({ name: 'CONTAINER' });
  newName = Option.String({ name: 'NAME' });

  async execute(): Promise<number> {
    const { openStore } = await import('../../runtime/lifecycle.js');
    await openStore(this.globals).rename(this.container, this.newName);
    return 0;
  }
}
