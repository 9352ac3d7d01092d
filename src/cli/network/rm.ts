import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class NetworkRmCommand extends TspodCommand {
  static override paths = [['network', 'rm'], ['network', 'remove']];
  static override usage = Command.Usage({ category: 'Networks', description: 'Remove one or more networks' });

  force = Option.Boolean('-f,--force', false, { description: 'Remove the containers that use the network too' });
  time = Option.String('-t,--time', { description: 'Seconds to wait before forcibly stopping the containers (ignored: they are killed)' });
  names = Option.Rest({ required: 1 });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { removeNetworks } = await import('../../network/admin.js');
    const { removed, errors } = await removeNetworks(this.globals, this.names, this.force);
    this.out(removed.map((n) => `${n}\n`).join(''));
    for (const e of errors.slice(0, -1)) process.stderr.write(`Error: ${e.message}\n`);
    if (errors.length) throw errors[errors.length - 1];
    return 0;
  }
}
