import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class ImageExistsCommand extends TspodCommand {
  static override paths = [['image', 'exists']];
  static override usage = Command.Usage({ category: 'Images', description: 'Check if an image exists in local storage (exit 0 if it does, 1 if not)' });

  image = Option.String({ name: 'image' });

  async execute(): Promise<number> {
    const { ImageStore } = await import('../../storage/image-store.js');
    return new ImageStore(this.globals.storageRoot).find(this.image) ? 0 : 1;
  }
}
