import { Command } from 'clipanion';
import { ContainerCreateCommand } from './create-options.js';

export class CreateCommand extends ContainerCreateCommand {
  static override paths = [['create'], ['container', 'create']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Create but do not start a container',
    details: 'Records a container as `run` would and prints its ID; `tspod start` runs it.',
  });

  async execute(): Promise<number> {
    const rec = await this.createRecord();
    this.out(`${rec.id}\n`);
    return 0;
  }
}
