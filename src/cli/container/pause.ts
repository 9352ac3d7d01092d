import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

abstract class FreezeCommand extends TspodCommand {
  all = Option.Boolean('-a,--all', false, { description: 'Act on all running containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod knows of' });
  containers = Option.Rest();

  protected async each(frozen: boolean): Promise<number> {
    const { openStore, reconcile } = await import('../../runtime/lifecycle.js');
    const { setContainerPaused } = await import('../../runtime/pause-container.js');
    const { reportError } = await import('../errors.js');
    const { TspodError } = await import('../../util/errors.js');
    const store = openStore(this.globals);
    let targets = this.containers;
    if (this.all) {
      // -a: the containers in the state the command changes.
      const recs = await Promise.all(store.list().map((r) => reconcile(store, r)));
      targets = recs.filter((r) => r.state.status === (frozen ? 'running' : 'paused')).map((r) => r.id);
    } else if (this.latest) {
      const latest = store.list()[0];
      if (!latest) throw new TspodError('no containers to act on with --latest');
      targets = [latest.id];
    } else if (targets.length === 0) {
      throw new TspodError(`you must provide at least one container name or ID`);
    }
    let status = 0;
    for (const target of targets) {
      try {
        const rec = await setContainerPaused(store, target, frozen);
        this.out(`${this.all ? rec.id : target}\n`);
      } catch (err) {
        status = Math.max(status, reportError(err));
      }
    }
    return status;
  }
}

export class PauseCommand extends FreezeCommand {
  static override paths = [['pause'], ['container', 'pause']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Pause all the processes in one or more containers',
    details:
      "Freezes the container's cgroup (cgroup v2 cgroup.freeze). Rootless, this needs a cgroup v2 directory delegated to you: tspod puts each container in a child of the cgroup it runs in when that one is writable (see `tspod info`).",
  });

  async execute(): Promise<number> {
    return this.each(true);
  }
}

export class UnpauseCommand extends FreezeCommand {
  static override paths = [['unpause'], ['container', 'unpause']];
  static override usage = Command.Usage({ category: 'Containers', description: 'Unpause the processes in one or more containers' });

  async execute(): Promise<number> {
    return this.each(false);
  }
}
