import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class MountCommand extends TspodCommand {
  static override paths = [['mount'], ['container', 'mount']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: "Mount a working container's root filesystem",
    details:
      "Mounts each container's root filesystem and prints where. The mount lives in tspod's rootless mount namespace, so run it inside `tspod unshare` (as Podman requires). Without a container, lists the mounted ones. Each mount is counted: `tspod unmount` takes one back.",
    examples: [['Look at a container\'s files', 'tspod unshare sh -c \'ls $(tspod mount web)\'']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Mount all containers' });
  format = Option.String('--format', { description: 'Print the mounted containers in specified format (json)' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod knows of' });
  noTrunc = Option.Boolean('--no-trunc,--notruncate', false, { description: 'Do not truncate output' });
  containers = Option.Rest({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    if (this.format !== undefined && this.format !== 'json') throw new TspodError(`unknown --format "${this.format}": use json`);
    const { requireInsideUnshare, mountContainer, mountedPath } = await import('../../runtime/mount.js');
    await requireInsideUnshare(this.globals, 'mount');
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { openStore } = await import('../../runtime/lifecycle.js');
    const store = openStore(this.globals);
    let targets = this.containers;
    if (this.all) targets = store.list().map((c) => c.id);
    else if (this.latest) {
      const latest = store.list()[0];
      if (!latest) throw new TspodError('no containers to act on with --latest');
      targets = [latest.id];
    }
    if (targets.length === 0) {
      // List what is mounted.
      const rows: { id: string; Names: string[]; mountpoint: string }[] = [];
      for (const rec of store.list()) {
        const p = await mountedPath(this.globals, rec);
        if (p) rows.push({ id: rec.id, Names: [rec.name], mountpoint: p });
      }
      if (this.format === 'json') this.out(`${JSON.stringify(rows, null, 1)}\n`);
      else this.out(rows.map((r) => `${this.noTrunc ? r.id : r.id.slice(0, 12)}  ${r.mountpoint}\n`).join(''));
      return 0;
    }
    const { reportError } = await import('../errors.js');
    let status = 0;
    for (const t of targets) {
      try {
        this.out(`${await mountContainer(this.globals, store, t)}\n`);
      } catch (err) {
        status = Math.max(status, reportError(err));
      }
    }
    return status;
  }
}
