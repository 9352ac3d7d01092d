import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class ImagePruneCommand extends TspodCommand {
  static override paths = [['image', 'prune']];
  static override usage = Command.Usage({ category: 'Images', description: 'Remove unused images (dangling ones; all unused with -a)' });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all images not in use by containers, not just dangling ones' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });
  filters = Option.Array('--filter', [], { description: 'Provide filter values (e.g. label=<key>=<value>)' });

  async execute(): Promise<number> {
    if (!this.force) {
      const { confirm } = await import('../prompt.js');
      const what = this.all ? 'all images not used by containers' : 'all dangling images';
      const ok = await confirm(`WARNING! This command removes ${what}.\nAre you sure you want to continue? [y/N] `);
      if (!ok) return 0;
    }
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { ImageStore } = await import('../../storage/image-store.js');
    const { pruneImages } = await import('../../image/remove.js');
    const { imageFilter } = await import('../../image/filters.js');
    const store = new ImageStore(this.globals.storageRoot);
    await store.cleanStale();
    const all = store.list();
    const filter = imageFilter(this.filters, all, (r) => {
      try {
        return store.config(r);
      } catch {
        return undefined;
      }
    });
    const removed = await pruneImages(store, { all: this.all, filter });
    this.out(removed.map((id) => `${id}\n`).join(''));
    return 0;
  }
}
