import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class VolumeInspectCommand extends TspodCommand {
  static override paths = [['volume', 'inspect']];
  static override usage = Command.Usage({ category: 'Volumes', description: 'Display detailed information on one or more volumes' });

  all = Option.Boolean('-a,--all', false, { description: 'Inspect all volumes' });
  format = Option.String('-f,--format', { description: 'Format volume output using JSON or a Go template' });
  names = Option.Rest();

  async execute(): Promise<number> {
    const { VolumeStore, NO_SUCH_OBJECT } = await import('../../runtime/volumes.js');
    const { TspodError } = await import('../../util/errors.js');
    const store = new VolumeStore(this.globals.storageRoot);
    if (!this.all && this.names.length === 0) throw new TspodError('provide one or more volume names or use --all');
    const found = [];
    let status = 0;
    for (const name of this.all ? store.list().map((v) => v.Name) : this.names) {
      const vol = store.get(name);
      if (vol) found.push(vol);
      else {
        process.stderr.write(`Error: no such volume ${name}\n`);
        status = NO_SUCH_OBJECT;
      }
    }
    const { renderFormat } = await import('../../format/index.js');
    if (this.format && this.format !== 'json') this.out(renderFormat(this.format, found, {}));
    else this.out(JSON.stringify(found, null, 4) + '\n');
    return status;
  }
}
