import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class RmiCommand extends TspodCommand {
  static override paths = [['rmi'], ['image', 'rm'], ['image', 'remove']];
  static override usage = Command.Usage({ category: 'Images', description: 'Remove one or more images from local storage' });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all images' });
  force = Option.Boolean('-f,--force', false, { description: 'Remove all containers using the image before removing it (and an image with several names by ID)' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors if a specified image does not exist' });
  images = Option.Rest({ name: 'image' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    if (this.all === (this.images.length > 0)) {
      throw new TspodError(this.all ? 'when using the --all switch, you may not pass any images names or IDs' : 'image name or ID must be specified');
    }
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { ImageStore, NO_SUCH_IMAGE } = await import('../../storage/image-store.js');
    const { removeImage, deleteImage } = await import('../../image/remove.js');
    const { reportError } = await import('../errors.js');
    const store = new ImageStore(this.globals.storageRoot);
    await store.cleanStale();
    let status = 0;
    const report = (r: { untagged: string[]; deleted: string[] }) => {
      for (const u of r.untagged) this.out(`Untagged: ${u}\n`);
      for (const d of r.deleted) this.out(`Deleted: ${d}\n`);
    };
    const fail = (err: unknown) => {
      if (this.ignore && err instanceof TspodError && err.exitCode === NO_SUCH_IMAGE) return;
      const code = reportError(err);
      // Podman: 1 when an image is unknown, 2 when one is in use, 125 otherwise; the worst wins.
      status = status === 0 || code === 125 ? code : Math.max(status, code);
    };
    // -f: as podman, the containers using an image are removed with it.
    const { IMAGE_IN_USE } = await import('../../storage/image-store.js');
    const forced = async <T>(id: () => string | undefined, op: () => Promise<T>): Promise<T> => {
      try {
        return await op();
      } catch (err) {
        const imageId = id();
        if (!this.force || !(err instanceof TspodError) || err.exitCode !== IMAGE_IN_USE || !imageId) throw err;
        await this.removeUsers(imageId);
        return op();
      }
    };
    if (this.all) {
      for (const rec of store.list()) {
        try {
          report(await forced(() => rec.id, () => deleteImage(store, rec)));
        } catch (err) {
          fail(err);
        }
      }
      return status;
    }
    for (const name of this.images) {
      try {
        report(await forced(() => store.find(name)?.id, () => removeImage(store, name, { force: this.force })));
      } catch (err) {
        fail(err);
      }
    }
    return status;
  }

  /** Remove (forcibly) the containers using an image, and root filesystems left by containers that are gone. */
  private async removeUsers(imageId: string): Promise<void> {
    const { imageUsers } = await import('../../storage/image-store.js');
    const { openStore, removeContainer } = await import('../../runtime/lifecycle.js');
    const { releaseContainerRootfs } = await import('../../storage/rootfs.js');
    const containers = openStore(this.globals);
    for (const cid of imageUsers(this.globals.storageRoot, imageId)) {
      if (containers.find(cid)) await removeContainer(containers, cid, { force: true });
      else releaseContainerRootfs(this.globals.storageRoot, cid, { remove: true });
    }
  }
}
