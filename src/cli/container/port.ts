import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class PortCommand extends TspodCommand {
  static override paths = [['port'], ['container', 'port']];
  static override usage = Command.Usage({ category: 'Containers', description: 'List port mappings or a specific mapping for the container' });

  all = Option.Boolean('-a,--all', false, { description: 'Display port information for all containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  args = Option.Rest();

  async execute(): Promise<number> {
    const { openStore } = await import('../../runtime/lifecycle.js');
    const { formatPortLines } = await import('../../network/ports.js');
    const { TspodError } = await import('../../util/errors.js');
    const store = openStore(this.globals);
    if (this.all) {
      for (const rec of store.list()) {
        const lines = formatPortLines(rec.config.ports ?? []);
        if (lines.length) this.out(`${rec.id.slice(0, 12)}\t${lines.join(`\n${rec.id.slice(0, 12)}\t`)}\n`);
      }
      return 0;
    }
    const [name, filter] = this.latest ? [store.list()[0]?.id, this.args[0]] : this.args;
    if (!name) throw new TspodError('you must provide a container name or ID, or --latest');
    const rec = store.get(name);
    let lines = formatPortLines(rec.config.ports ?? []);
    if (filter) {
      const want = filter.includes('/') ? filter : `${filter}/tcp`;
      lines = lines.filter((l) => l.startsWith(`${want} `)).map((l) => l.slice(l.indexOf('-> ') + 3));
      if (lines.length === 0) throw new TspodError(`failed to find published port "${filter}"`);
    }
    this.out(lines.map((l) => `${l}\n`).join(''));
    return 0;
  }
}
