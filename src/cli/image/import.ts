import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class ImportCommand extends TspodCommand {
  static override paths = [['import'], ['image', 'import']];
  static override usage = Command.Usage({
    category: 'Images',
    description: 'Import a tarball to create a filesystem image',
    details: 'SOURCE is a tarball of a root filesystem (plain, gzip or zstd), - for standard input, or an http(s) URL. --change applies Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL).',
    examples: [['Import a root filesystem with a default command', 'tspod import -c "CMD [\\"sh\\"]" rootfs.tar myimage']],
  });

  changes = Option.Array('-c,--change', [], { description: 'Apply a Dockerfile instruction to the image' });
  message = Option.String('-m,--message', { description: 'Set a commit message for the imported image' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress output' });
  source = Option.String({ name: 'SOURCE' });
  reference = Option.String({ name: 'REFERENCE', required: false });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { storeDriver } = await import('../../image/driver.js');
    const { importTarball } = await import('../../image/import.js');
    const { driver } = storeDriver(this.globals);
    const img = await importTarball(this.globals.storageRoot, driver, this.source, {
      changes: this.changes,
      ...(this.reference ? { reference: this.reference } : {}),
      ...(this.message ? { message: this.message } : {}),
    });
    this.out(`sha256:${img.id}\n`);
    return 0;
  }
}
