import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class HistoryCommand extends TspodCommand {
  static override paths = [['history'], ['image', 'history']];
  static override usage = Command.Usage({ category: 'Images', description: 'Show the history of an image' });

  human = Option.String('-H,--human', { description: 'Display sizes and dates in human readable format (default true)', tolerateBoolean: true });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Do not truncate the output' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Display the numeric IDs only' });
  format = Option.String('--format', { description: 'Change the output to JSON or a Go template' });
  image = Option.String({ name: 'image' });

  async execute(): Promise<number> {
    const { ImageStore } = await import('../../storage/image-store.js');
    const { historyRows } = await import('../../image/present.js');
    const store = new ImageStore(this.globals.storageRoot);
    const rec = store.get(this.image);
    const human = this.human === undefined || this.human === true || this.human === 'true' || this.human === '';
    const rows = historyRows(rec, store.config(rec), store.readLayers().layers, { noTrunc: this.noTrunc || this.quiet, human });
    if (this.quiet) {
      this.out(rows.map((r) => `${r.ID}\n`).join(''));
      return 0;
    }
    if (this.format !== undefined && /^\s*(json|\{\{\s*json\s*\.?\s*\}\})\s*$/.test(this.format)) {
      const json = rows.map((r) => ({
        id: r.ID === '<missing>' ? '<missing>' : rec.id,
        created: r.rawCreated,
        createdBy: r.rawCreatedBy,
        size: r.rawSize,
        comment: r.Comment,
        ...(r.Tags ? { tags: r.Tags } : {}),
      }));
      this.out(JSON.stringify(json, null, 4) + '\n');
      return 0;
    }
    const { renderFormat } = await import('../../format/index.js');
    const def = 'table {{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    this.out(renderFormat(this.format ?? def, rows, { headers: { CreatedBy: 'CREATED BY', CreatedSince: 'CREATED' }, defaultTable: def.slice(6) }));
    return 0;
  }
}
