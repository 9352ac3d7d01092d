import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class NetworkExistsCommand extends TspodCommand {
  static override paths = [['network', 'exists']];
  static override usage = Command.Usage({
    category: 'Networks',
    description: 'Check if the given network exists',
    details: 'Exits 0 when the network exists, 1 when it does not, 125 on any other error.',
  });

  name = Option.String();

  async execute(): Promise<number> {
    const { NetworkStore } = await import('../../network/networks-store.js');
    return new NetworkStore(this.globals.storageRoot).find(this.name) ? 0 : 1;
  }
}
