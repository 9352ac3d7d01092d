import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class UntagCommand extends TspodCommand {
  static override paths = [['untag'], ['image', 'untag']];
  static override usage = Command.Usage({ category: 'Images', description: 'Remove a name from a local image (all names when none is given)' });

  image = Option.String({ name: 'image' });
  names = Option.Rest({ name: 'name' });

  async execute(): Promise<number> {
    const { ImageStore } = await import('../../storage/image-store.js');
    await new ImageStore(this.globals.storageRoot).removeNames(this.image, this.names);
    return 0;
  }
}
