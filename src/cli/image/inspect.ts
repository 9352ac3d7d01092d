import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class ImageInspectCommand extends TspodCommand {
  static override paths = [['image', 'inspect']];
  static override usage = Command.Usage({ category: 'Images', description: 'Display the configuration of an image' });

  format = Option.String('-f,--format', { description: 'Format the output to a Go template or json' });
  images = Option.Rest({ name: 'image', required: 1 });

  async execute(): Promise<number> {
    const { ImageStore } = await import('../../storage/image-store.js');
    const { inspectImage } = await import('../../image/present.js');
    const { reportError } = await import('../errors.js');
    const store = new ImageStore(this.globals.storageRoot);
    const driver = store.driver() ?? this.globals.storageDriver ?? 'overlay';
    const found = [];
    let status = 0;
    for (const name of this.images) {
      try {
        found.push(inspectImage(store, store.get(name), driver));
      } catch (err) {
        status = reportError(err);
      }
    }
    if (this.format && this.format.trim() !== 'json') {
      const { renderFormat } = await import('../../format/index.js');
      this.out(renderFormat(this.format, found, { each: true }));
    } else {
      this.out(JSON.stringify(found, null, 4) + '\n');
    }
    return status;
  }
}
