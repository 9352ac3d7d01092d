import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class LoadCommand extends TspodCommand {
  static override paths = [['load'], ['image', 'load']];
  static override usage = Command.Usage({ category: 'Images', description: 'Load images from a docker-archive or oci-archive (file or stdin)' });

  input = Option.String('-i,--input', { description: 'Read from specified archive file (default: stdin)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress the output' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    if (!this.input && process.stdin.isTTY) throw new TspodError('no archive to load: give one with -i FILE or on stdin');
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { loadArchive } = await import('../../image/load.js');
    const { storeDriver } = await import('../../image/driver.js');
    const { driver } = storeDriver(this.globals);
    let input;
    try {
      input = this.input ? fs.createReadStream(this.input) : process.stdin;
      if (this.input) fs.accessSync(this.input, fs.constants.R_OK);
    } catch (err) {
      throw new TspodError(`cannot read ${this.input}: ${(err as Error).message}`);
    }
    const loaded = await loadArchive(this.globals.storageRoot, input, driver);
    for (const img of loaded) {
      if (img.names.length === 0) this.out(`Loaded image: sha256:${img.id}\n`);
      for (const n of img.names) this.out(`Loaded image: ${n}\n`);
    }
    return 0;
  }
}
