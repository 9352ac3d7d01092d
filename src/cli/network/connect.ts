import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class NetworkConnectCommand extends TspodCommand {
  static override paths = [['network', 'connect']];
  static override usage = Command.Usage({ category: 'Networks', description: 'Connect a container to a network' });

  ip = Option.String('--ip', { description: 'The IPv4 address of the container on this network' });
  ip6 = Option.String('--ip6', { description: 'The IPv6 address of the container on this network' });
  macAddress = Option.String('--mac-address', { description: 'The MAC address of the container on this network' });
  aliases = Option.Array('--alias', [], { description: 'Another name of the container on this network' });
  network = Option.String();
  container = Option.String();

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { connectContainer } = await import('../../network/admin.js');
    await connectContainer(this.globals, this.network, this.container, { ip: this.ip, ip6: this.ip6, mac: this.macAddress, aliases: this.aliases });
    return 0;
  }
}
