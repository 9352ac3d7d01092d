import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class ImagesCommand extends TspodCommand {
  static override paths = [['images'], ['image', 'ls'], ['image', 'list']];
  static override usage = Command.Usage({ category: 'Images', description: 'List images in local storage' });

  all = Option.Boolean('-a,--all', false, { description: 'Show all images (default hides intermediate images)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Display only image IDs' });
  digests = Option.Boolean('--digests', false, { description: 'Show digests' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Do not truncate output' });
  noheading = Option.Boolean('-n,--noheading', false, { description: 'Do not print column headings' });
  format = Option.String('--format', { description: 'Change the output format to JSON or a Go template' });
  filters = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions provided (reference=, dangling=, label=, id=, before=, since=)' });
  sort = Option.String('--sort', 'created', { description: 'Sort by created, id, repository, size or tag' });
  names = Option.Rest({ name: 'image' });

  async execute(): Promise<number> {
    const { ImageStore } = await import('../../storage/image-store.js');
    const { imageRows, imageSummaryJson } = await import('../../image/present.js');
    const { imageFilter, sortRows } = await import('../../image/filters.js');
    const { TspodError } = await import('../../util/errors.js');
    const store = new ImageStore(this.globals.storageRoot);
    if (this.names.length > 1) throw new TspodError('images accepts at most one image name; use --filter reference= for more');
    const filters = [...this.filters, ...this.names.map((n) => `reference=${n}`)];
    const all = store.list();
    const configs = new Map(all.map((i) => [i.id, safeConfig(store, i)]));
    const images = all.filter(imageFilter(filters, all, (r) => configs.get(r.id)));
    if (this.format !== undefined && /^\s*(json|\{\{\s*json\s*\.?\s*\}\})\s*$/.test(this.format)) {
      this.out(JSON.stringify(images.map((i) => imageSummaryJson(i, configs.get(i.id))), null, 4) + '\n');
      return 0;
    }
    if (this.quiet) {
      const ids = [...new Set(images.map((i) => (this.noTrunc ? `sha256:${i.id}` : i.id.slice(0, 12))))];
      this.out(ids.map((i) => `${i}\n`).join(''));
      return 0;
    }
    let rows = images.flatMap((i) => imageRows(i, configs.get(i.id), { noTrunc: this.noTrunc }));
    rows = sortRows(rows, this.sort);
    const { renderFormat } = await import('../../format/index.js');
    const def = this.digests
      ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
      : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
    const format = this.format ?? def;
    this.out(
      renderFormat(format, rows, {
        headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Digest: 'DIGEST', Repository: 'REPOSITORY', Tag: 'TAG', Size: 'SIZE' },
        noHeading: this.noheading,
        defaultTable: def.slice(6),
      }),
    );
    return 0;
  }
}

function safeConfig(store: import('../../storage/image-store.js').ImageStore, rec: import('../../storage/image-store.js').ImageRecord) {
  try {
    return store.config(rec);
  } catch {
    return undefined;
  }
}
