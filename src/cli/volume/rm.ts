import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class VolumeRmCommand extends TspodCommand {
  static override paths = [['volume', 'rm'], ['volume', 'remove']];
  static override usage = Command.Usage({ category: 'Volumes', description: 'Remove one or more volumes' });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all volumes' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not fail when a volume does not exist' });
  names = Option.Rest();

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    // Files a container wrote belong to subordinate ids: only the namespace can delete them.
    await requireUserNamespace();
    const { VolumeStore, NO_SUCH_OBJECT } = await import('../../runtime/volumes.js');
    const { TspodError } = await import('../../util/errors.js');
    const store = new VolumeStore(this.globals.storageRoot);
    if (!this.all && this.names.length === 0) throw new TspodError('provide one or more volume names or use --all');
    const names = this.all ? store.list().map((v) => v.Name) : this.names;
    const { openStore, containersUsingVolume, removeContainer } = await import('../../runtime/lifecycle.js');
    const containers = openStore(this.globals);
    for (const name of names) {
      const users = containersUsingVolume(containers, name);
      if (users.length === 0) continue;
      if (!this.force) {
        throw new TspodError(
          `volume ${name} is being used by the following container(s): ${users.map((c) => c.id).join(', ')}; remove them first or use --force: volume is being used`,
          { exitCode: 2 },
        );
      }
      for (const c of users) await removeContainer(containers, c.id, { force: true });
    }
    const { removed, missing } = await store.remove(names, { force: this.force });
    this.out(removed.map((n) => `${n}\n`).join(''));
    for (const name of missing) process.stderr.write(`Error: no volume with name "${name}" found: no such volume\n`);
    return missing.length > 0 ? NO_SUCH_OBJECT : 0;
  }
}
