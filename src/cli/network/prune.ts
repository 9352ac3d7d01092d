import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class NetworkPruneCommand extends TspodCommand {
  static override paths = [['network', 'prune']];
  static override usage = Command.Usage({ category: 'Networks', description: 'Remove all networks no container uses' });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });
  filters = Option.Array('--filter', [], { description: 'Provide filter values (label=, name=)' });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { unusedNetworks, removeNetworks } = await import('../../network/admin.js');
    const { networkMatches } = await import('../../network/networks-store.js');
    const unused = unusedNetworks(this.globals).filter((n) => networkMatches(n, this.filters));
    if (!this.force) {
      const { confirm } = await import('../prompt.js');
      const ok = await confirm('WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
      if (!ok) return 0;
    }
    const { removed, errors } = await removeNetworks(this.globals, unused.map((n) => n.name), false);
    this.out(removed.map((n) => `${n}\n`).join(''));
    for (const e of errors) process.stderr.write(`Error: ${e.message}\n`);
    return errors.length ? 125 : 0;
  }
}
