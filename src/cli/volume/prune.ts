import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class VolumePruneCommand extends TspodCommand {
  static override paths = [['volume', 'prune']];
  static override usage = Command.Usage({ category: 'Volumes', description: 'Remove all unused volumes' });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });
  filters = Option.Array('--filter', [], { description: 'Provide filter values (label=, name=)' });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { VolumeStore, volumeMatches } = await import('../../runtime/volumes.js');
    const store = new VolumeStore(this.globals.storageRoot);
    const { openStore, containersUsingVolume } = await import('../../runtime/lifecycle.js');
    const containers = openStore(this.globals);
    const unused = store.list().filter((v) => containersUsingVolume(containers, v.Name).length === 0 && volumeMatches(v, this.filters));
    if (!this.force) {
      const { confirm } = await import('../prompt.js');
      const listing = unused.map((v) => `${v.Name}\n`).join('');
      const ok = await confirm(
        `WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:\n${listing}Are you sure you want to continue? [y/N] `,
      );
      if (!ok) return 0;
    }
    const { removed } = await store.remove(unused.map((v) => v.Name), { force: true });
    this.out(removed.map((n) => `${n}\n`).join(''));
    return 0;
  }
}
