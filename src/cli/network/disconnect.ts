import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class NetworkDisconnectCommand extends TspodCommand {
  static override paths = [['network', 'disconnect']];
  static override usage = Command.Usage({ category: 'Networks', description: 'Disconnect a container from a network' });

  force = Option.Boolean('-f,--force', false, { description: 'Accepted for compatibility (a disconnect is never refused for a running container)' });
  network = Option.String();
  container = Option.String();

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { disconnectContainer } = await import('../../network/admin.js');
    await disconnectContainer(this.globals, this.network, this.container);
    return 0;
  }
}
