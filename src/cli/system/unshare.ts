import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class UnshareCommand extends TspodCommand {
  static override paths = [['unshare']];
  static override usage = Command.Usage({
    category: 'System',
    description: 'Run a command in a modified user namespace',
    details: "Runs COMMAND (default: your shell) inside tspod's rootless user and mount namespace, where you are root and the subordinate ids are mapped: the place to inspect or mount the store.",
    examples: [
      ['Show the id mapping', 'tspod unshare cat /proc/self/uid_map'],
      ['Open a shell', 'tspod unshare'],
    ],
  });

  args = Option.Proxy();

  async execute(): Promise<number> {
    // Everything after `unshare` belongs to the command, except a leading --help.
    if (this.args[0] === '--help' || this.args[0] === '-h') {
      this.out(this.cli.usage(UnshareCommand, { detailed: true }));
      return 0;
    }
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { runInNamespace } = await import('../../rootless/unshare.js');
    return runInNamespace(this.args, this.globals);
  }
}
