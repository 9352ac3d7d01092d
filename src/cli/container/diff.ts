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
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { openStore } = await import('../../runtime/lifecycle.js');
    const { containerChanges } = await import('../../runtime/diff.js');
    const rec = openStore(this.globals).get(this.container);
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
