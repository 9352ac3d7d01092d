import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class VolumeExistsCommand extends TspodCommand {
  static override paths = [['volume', 'exists']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'Check if the given volume exists',
    details: 'Exits 0 when the volume exists, 1 when it does not, 125 on any other error.',
  });

  name = Option.String();

  async execute(): Promise<number> {
    const { VolumeStore } = await import('../../runtime/volumes.js');
    return new VolumeStore(this.globals.storageRoot).get(this.name) ? 0 : 1;
  }
}
