import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class VolumeCreateCommand extends TspodCommand {
  static override paths = [['volume', 'create']];
  static override usage = Command.Usage({ category: 'Volumes', description: 'Create a new volume' });

  driver = Option.String('-d,--driver', { description: 'Volume driver (local)' });
  labels = Option.Array('-l,--label', [], { description: 'Set metadata for a volume (KEY=VALUE)' });
  opts = Option.Array('-o,--opt', [], { description: 'Set driver specific options (KEY=VALUE)' });
  ignore = Option.Boolean('--ignore', false, { description: "Don't fail if the volume already exists" });
  name = Option.String({ required: false });

  async execute(): Promise<number> {
    const { VolumeStore, parseKeyValues } = await import('../../runtime/volumes.js');
    const store = new VolumeStore(this.globals.storageRoot);
    const vol = await store.create({
      name: this.name,
      driver: this.driver,
      labels: parseKeyValues(this.labels, 'label'),
      options: parseKeyValues(this.opts, 'option'),
      ignoreExisting: this.ignore,
    });
    this.out(`${vol.Name}\n`);
    return 0;
  }
}
