import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class UnmountCommand extends TspodCommand {
  static override paths = [['unmount'], ['umount'], ['container', 'unmount'], ['container', 'umount']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: "Unmount working container's root filesystem",
    details:
      "Takes back one `tspod mount` of each container (all of them with -f); the root filesystem is unmounted when no mount is left, unless the container is running.",
  });

  all = Option.Boolean('-a,--all', false, { description: 'Unmount all of the currently mounted containers' });
  force = Option.Boolean('-f,--force', false, { description: 'Force the complete unmount of the specified mounted containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod knows of' });
  containers = Option.Rest({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { openStore } = await import('../../runtime/lifecycle.js');
    const { unmountContainer, mountedPath } = await import('../../runtime/mount.js');
    const store = openStore(this.globals);
    let targets = this.containers;
    if (this.all) {
      targets = [];
      for (const rec of store.list()) if (await mountedPath(this.globals, rec)) targets.push(rec.id);
    } else if (this.latest) {
      const latest = store.list()[0];
      if (!latest) throw new TspodError('no containers to act on with --latest');
      targets = [latest.id];
    } else if (targets.length === 0) {
      throw new TspodError('container ID must be specified: give a container, or use --all or --latest');
    }
    const { reportError } = await import('../errors.js');
    let status = 0;
    for (const t of targets) {
      try {
        await unmountContainer(this.globals, store, t, this.force || this.all);
        this.out(`${t}\n`);
      } catch (err) {
        status = Math.max(status, reportError(err));
      }
    }
    return status;
  }
}
