import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class LogsCommand extends TspodCommand {
  static override paths = [['logs'], ['container', 'logs']];
  static override usage = Command.Usage({ category: 'Containers', description: 'Fetch the logs of one or more containers' });

  follow = Option.Boolean('-f,--follow', false, { description: 'Follow log output until the container exits' });
  since = Option.String('--since', { description: 'Show logs since TIMESTAMP (RFC 3339, Unix seconds, or a duration like 10m)' });
  until = Option.String('--until', { description: 'Show logs until TIMESTAMP' });
  tail = Option.String('--tail', { description: 'Output the specified number of lines at the end of the logs' });
  timestamps = Option.Boolean('-t,--timestamps', false, { description: 'Output the timestamps in the log' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  containers = Option.Rest();

  async execute(): Promise<number> {
    const { openStore, reconcile } = await import('../../runtime/lifecycle.js');
    const { readLogEntries, renderEntries, parseTimeArg } = await import('../../runtime/logs.js');
    const { TspodError } = await import('../../util/errors.js');
    const store = openStore(this.globals);
    const names = this.latest ? [store.list()[0]?.id].filter(Boolean) as string[] : this.containers;
    if (names.length === 0) throw new TspodError('you must provide a container name or ID, or --latest');
    const time = (v?: string) => {
      if (v === undefined) return undefined;
      try {
        return parseTimeArg(v);
      } catch (e) {
        throw new TspodError((e as Error).message);
      }
    };
    const tail = this.tail === undefined ? undefined : Number(this.tail);
    if (tail !== undefined && !Number.isInteger(tail)) throw new TspodError(`invalid --tail "${this.tail}": give a number of lines`);
    const opts = { tail, since: time(this.since), until: time(this.until), timestamps: this.timestamps };
    const emit = (items: { stream: 'stdout' | 'stderr'; text: string }[]) => {
      for (const l of items) (l.stream === 'stdout' ? process.stdout : process.stderr).write(l.text);
    };
    for (const name of names) {
      const rec = store.get(name);
      const file = store.logPath(rec.id);
      let { entries, offset } = readLogEntries(file);
      emit(renderEntries(entries, opts));
      if (!this.follow) continue;
      for (;;) {
        const running = (await reconcile(store, store.get(rec.id))).state.status === 'running';
        await new Promise((r) => setTimeout(r, 100));
        ({ entries, offset } = readLogEntries(file, offset));
        emit(renderEntries(entries, { ...opts, tail: undefined }));
        if (!running) break;
      }
    }
    return 0;
  }
}
