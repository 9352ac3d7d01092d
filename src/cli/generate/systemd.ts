import path from 'node:path';
import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class GenerateSystemdCommand extends TspodCommand {
  static override paths = [['generate', 'systemd']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Generate systemd units',
    details:
      'Prints (or with --files writes) a systemd service unit for a container, shaped like the ones Podman generates. With --new the unit creates the container on start from the command line it was created with (--cidfile in %t, --replace, --rm, --sdnotify=conmon) and removes it on stop; without, the unit starts and stops the existing container. For user units, copy them to ~/.config/systemd/user/ and run `systemctl --user daemon-reload`. Quadlet (`tspod quadlet`) is the declarative alternative.',
    examples: [
      ['A unit that recreates the container each time', 'tspod generate systemd --new --name web'],
      ['Write container-web.service into the current directory', 'tspod generate systemd --files --name web'],
    ],
  });

  useName = Option.Boolean('-n,--name', false, { description: 'Use the container name instead of its ID in the unit' });
  new = Option.Boolean('--new', false, { description: 'Create a new container on start and remove it on stop instead of starting an existing one' });
  files = Option.Boolean('-f,--files', false, { description: 'Write .service files into the current directory instead of printing them' });
  format = Option.String('--format', { description: 'Print the units in this format (json)' });
  restartPolicy = Option.String('--restart-policy', 'on-failure', { description: 'Systemd restart policy (no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always)' });
  restartSec = Option.String('--restart-sec', { description: 'Seconds systemd waits before restarting (RestartSec=)' });
  startTimeout = Option.String('--start-timeout', { description: 'Start timeout in seconds (TimeoutStartSec=)' });
  stopTimeout = Option.String('--stop-timeout', { description: 'Stop timeout in seconds (default: the container\'s own)' });
  time = Option.String('-t,--time', { description: 'Stop timeout in seconds (older name of --stop-timeout)' });
  containerPrefix = Option.String('--container-prefix', 'container', { description: 'Unit name prefix for containers' });
  separator = Option.String('--separator', '-', { description: 'Separator between the prefix and the name or ID' });
  noHeader = Option.Boolean('--no-header', false, { description: 'Leave out the header comment' });
  wants = Option.Array('--wants', [], { description: 'Add a Wants= dependency to the unit' });
  after = Option.Array('--after', [], { description: 'Add an After= dependency to the unit' });
  requires = Option.Array('--requires', [], { description: 'Add a Requires= dependency to the unit' });
  unitEnv = Option.Array('-e,--env', [], { description: 'Set an environment variable in the unit (KEY=VALUE)' });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    const seconds = (flag: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new TspodError(`invalid ${flag} "${v}": give whole seconds`);
      return n;
    };
    if (this.format !== undefined && this.format !== 'json') throw new TspodError(`unsupported --format "${this.format}": only json`);
    const { openStore } = await import('../../runtime/lifecycle.js');
    const { containerUnit } = await import('../../systemd/generate.js');
    const { createSyntax } = await import('../../systemd/syntax.js');
    const { packageRoot } = await import('../../util/paths.js');
    const { tspodVersion } = await import('../../version.js');
    const store = openStore(this.globals);
    const rec = store.get(this.container);
    const globalArgs: string[] = [];
    if (this.root !== undefined) globalArgs.push('--root', this.globals.storageRoot);
    if (this.runroot !== undefined) globalArgs.push('--runroot', this.globals.runRoot);
    if (this.storageDriver !== undefined) globalArgs.push('--storage-driver', this.storageDriver);
    const unit = containerUnit(
      { id: rec.id, name: rec.name, config: rec.config, runDir: store.runDir(rec.id), globalArgs },
      {
        useName: this.useName,
        new: this.new,
        restartPolicy: this.restartPolicy,
        restartSec: seconds('--restart-sec', this.restartSec),
        startTimeout: seconds('--start-timeout', this.startTimeout),
        stopTimeout: seconds('--stop-timeout', this.stopTimeout) ?? seconds('--time', this.time),
        containerPrefix: this.containerPrefix,
        separator: this.separator,
        noHeader: this.noHeader,
        wants: this.wants,
        after: this.after,
        requires: this.requires,
        env: this.unitEnv,
        tspod: path.join(packageRoot(), 'bin', 'tspod'),
        version: tspodVersion(),
        now: new Date(),
      },
      await createSyntax(),
    );
    if (this.files) {
      const file = path.resolve(unit.name);
      fs.writeFileSync(file, unit.text);
      this.out(this.format === 'json' ? `${JSON.stringify({ [rec.id]: file }, null, 4)}\n` : `${file}\n`);
      return 0;
    }
    this.out(this.format === 'json' ? `${JSON.stringify({ [rec.id]: unit.text }, null, 4)}\n` : unit.text);
    return 0;
  }
}
