import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class ExportCommand extends TspodCommand {
  static override paths = [['export'], ['container', 'export']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: "Export a container's filesystem contents as a tar archive",
    details: 'Writes the container root filesystem (image plus changes) as a tar archive to -o FILE or to standard output, with ownership as the container sees it.',
  });

  output = Option.String('-o,--output', { description: 'Write to a file, default is STDOUT' });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    if (!this.output && process.stdout.isTTY) {
      throw new TspodError('refusing to export to terminal: use -o FILE or redirect the output');
    }
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { openStore, containerRootfsPath } = await import('../../runtime/lifecycle.js');
    const { exportRootfs } = await import('../../runtime/export.js');
    const store = openStore(this.globals);
    const rec = store.get(this.container);
    await exportRootfs(await containerRootfsPath(store, rec), this.output, rec.config.userns);
    return 0;
  }
}
