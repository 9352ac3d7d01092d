import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class ContainerPruneCommand extends TspodCommand {
  static override paths = [['container', 'prune']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Remove all non running containers',
    details: 'Removes every created or exited container and prints their IDs. Filters: label=KEY[=VALUE], label!=KEY[=VALUE], until=TIMESTAMP|DURATION.',
    examples: [['Remove stopped containers older than an hour, without asking', 'tspod container prune -f --filter until=1h']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation.  The default is false' });
  filters = Option.Array('--filter', [], { description: "Provide filter values (e.g. 'label=<key>=<value>')" });

  async execute(): Promise<number> {
    const { pruneFilter } = await import('../../runtime/prune.js');
    pruneFilter(this.filters); // bad filters fail before the question
    if (!this.force) {
      const { confirm } = await import('../prompt.js');
      if (!(await confirm('WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] '))) return 0;
    }
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { pruneContainers } = await import('../../runtime/prune.js');
    const { reportError } = await import('../errors.js');
    const { removed, errors } = await pruneContainers(this.globals, this.filters);
    this.out(removed.map((id) => `${id}\n`).join(''));
    let status = 0;
    for (const e of errors) status = Math.max(status, reportError(e));
    return status;
  }
}
