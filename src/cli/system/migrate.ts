import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class SystemMigrateCommand extends TspodCommand {
  static override paths = [['system', 'migrate']];
  static override usage = Command.Usage({
    category: 'System',
    description: 'Migrate tspod to a changed host configuration',
    details: 'Stops the pause process that holds the rootless user namespace, so that the next command creates it again with the current /etc/subuid and /etc/subgid.',
  });

  newRuntime = Option.String('--new-runtime', { hidden: true });

  async execute(): Promise<number> {
    const { stopPauseProcess } = await import('../../rootless/pause.js');
    const { log } = await import('../../util/log.js');
    // The pre-started pasta waiting for the next run goes too (it would also end with the pause process).
    const { drainPastaPool } = await import('../../network/pasta-pool.js');
    drainPastaPool(this.globals.runRoot);
    const stopped = await stopPauseProcess();
    log.info(stopped ? `stopped pause process ${stopped.pid}` : 'no pause process was running');
    return 0;
  }
}
