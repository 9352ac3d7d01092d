import path from 'node:path';
import { Command, Option } from 'clipanion';
import { TspodCommand } from './base.js';

export class QuadletCommand extends TspodCommand {
  static override paths = [['quadlet']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Generate systemd services from Quadlet files (.container, .volume, .network, .kube, .image, .pod)',
    details:
      "Reads Quadlet files (keys as podman-systemd.unit(5) documents them) from the directories Podman's Quadlet reads: for --user $XDG_RUNTIME_DIR/containers/systemd, $XDG_CONFIG_HOME/containers/systemd (~/.config/containers/systemd), /etc/containers/systemd/users/UID and /etc/containers/systemd/users; otherwise /run, /etc and /usr/share containers/systemd. QUADLET_UNIT_DIRS overrides them. " +
      'Writes services that run tspod into OUTPUT_DIR (systemd passes three directories to a generator; the first is used), or prints them with --dryrun. Unknown keys are reported with their file and line. As a systemd user generator: see README, "Quadlet".',
    examples: [
      ['Show the services your Quadlet files make', 'tspod quadlet --dryrun --user'],
      ['Run as systemd does', 'tspod quadlet --user /tmp/out'],
    ],
  });

  dryrun = Option.Boolean('--dryrun', false, { description: 'Print the services instead of writing them' });
  user = Option.Boolean('--user', false, { description: "Read the user's Quadlet directories (as a user generator)" });
  verbose = Option.Boolean('-v,--verbose', false, { description: 'Say which files are read and written' });
  noKmsgLog = Option.Boolean('--no-kmsg-log', false, { description: 'Accepted for compatibility: messages go to stderr' });
  outputDirs = Option.Rest({ name: 'OUTPUT_DIR' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../util/errors.js');
    const { generate, unitDirs, writeUnits } = await import('../systemd/quadlet/generator.js');
    const { packageRoot } = await import('../util/paths.js');
    // systemd runs generators with their -dryrun style too: accept Podman's single-dash spellings.
    if (!this.dryrun && this.outputDirs.length === 0) throw new TspodError('give an output directory, or --dryrun to print the services');
    const dirs = unitDirs({ user: this.user });
    const result = generate({ dirs, tspod: path.join(packageRoot(), 'bin', 'tspod') });
    for (const w of result.warnings) this.context.stderr.write(`tspod quadlet: ${w.file}:${w.line}: ${w.message}\n`);
    for (const e of result.errors) this.context.stderr.write(`tspod quadlet: ${e}\n`);
    if (this.verbose) this.context.stderr.write(`tspod quadlet: read ${dirs.join(', ')}\n`);
    if (this.dryrun) {
      for (const u of result.units) this.out(`---${u.unit.name}---\n${u.text}\n`);
    } else {
      const written = writeUnits(this.outputDirs[0], result);
      if (this.verbose) for (const f of written) this.context.stderr.write(`tspod quadlet: wrote ${f}\n`);
    }
    return result.errors.length ? 1 : 0;
  }
}
