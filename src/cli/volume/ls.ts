import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class VolumeLsCommand extends TspodCommand {
  static override paths = [['volume', 'ls'], ['volume', 'list']];
  static override usage = Command.Usage({ category: 'Volumes', description: 'List volumes' });

  filters = Option.Array('-f,--filter', [], { description: 'Filter volume output (name=, label=, driver=, dangling=)' });
  format = Option.String('--format', { description: 'Format volume output using JSON or a Go template' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print volume names only' });
  noheading = Option.Boolean('-n,--noheading', false, { description: 'Do not print headers' });

  async execute(): Promise<number> {
    const { VolumeStore, volumeMatches } = await import('../../runtime/volumes.js');
    const vols = new VolumeStore(this.globals.storageRoot).list().filter((v) => volumeMatches(v, this.filters));
    if (this.quiet) {
      this.out(vols.map((v) => `${v.Name}\n`).join(''));
      return 0;
    }
    const { renderFormat } = await import('../../format/index.js');
    const format = this.format ?? 'table {{.Driver}}\t{{.Name}}';
    this.out(renderFormat(format, vols, { headers: { Name: 'VOLUME NAME' }, jsonIndent: 4, noHeading: this.noheading }));
    return 0;
  }
}
