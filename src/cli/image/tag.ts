import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class TagCommand extends TspodCommand {
  static override paths = [['tag'], ['image', 'tag']];
  static override usage = Command.Usage({ category: 'Images', description: 'Add an additional name to a local image' });

  image = Option.String({ name: 'image' });
  targets = Option.Rest({ name: 'target', required: 1 });

  async execute(): Promise<number> {
    const { ImageStore } = await import('../../storage/image-store.js');
    await new ImageStore(this.globals.storageRoot).addNames(this.image, this.targets);
    return 0;
  }
}
