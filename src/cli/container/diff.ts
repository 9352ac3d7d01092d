import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class DiffCommand extends TspodCommand {
  static override paths = [['diff'], ['container', 'diff']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: "Inspect changes to a container's file systems",
    details: 'Lists what the container added (A), changed (C) and deleted (D) relative to its image.',
  });

  format = Option.String('--format', { description: 'Change the output format (json)' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod knows of' });
  container = Option.String({ name: 'CONTAINER', required: false });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { openStore } = await import('../../runtime/lifecycle.js');
    const { containerChanges } = await import('../../runtime/diff.js');
    const { TspodError } = await import('../../util/errors.js');
    const store = openStore(this.globals);
    if (this.latest && this.container !== undefined) throw new TspodError('--latest and a container name cannot be used together: give one of them');
    const target = this.latest ? store.list()[0]?.id : this.container;
    if (target === undefined) throw new TspodError(this.latest ? 'no containers to act on with --latest' : 'you must provide a container name or ID, or --latest');
    const rec = store.get(target);
    const changes = await containerChanges(this.globals.storageRoot, rec);
    if (this.format === 'json') {
      const by = (k: string) => changes.filter((c) => c.kind === k).map((c) => c.path);
      this.out(JSON.stringify({ changed: by('C'), added: by('A'), deleted: by('D') }, null, 4) + '\n');
    } else {
      this.out(changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
    }
    return 0;
  }
}
