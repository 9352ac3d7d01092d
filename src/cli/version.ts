import { Command, Option } from 'clipanion';
import { TspodCommand } from './base.js';

export class VersionCommand extends TspodCommand {
  static override paths = [['version']];
  static override usage = Command.Usage({
    category: 'System',
    description: 'Display the tspod version information',
  });

  format = Option.String('-f,--format', { description: 'Change the output format to JSON or a Go template' });

  async execute(): Promise<number> {
    const { tspodVersion } = await import('../version.js');
    const { goArch } = await import('../system/info.js');
    const client = {
      APIVersion: tspodVersion(),
      Version: tspodVersion(),
      NodeVersion: process.version,
      GitCommit: '',
      BuiltTime: '',
      Built: 0,
      OsArch: `linux/${goArch()}`,
      Os: 'linux',
    };
    if (this.format) {
      const { renderFormat } = await import('../format/index.js');
      this.out(renderFormat(this.format, { Client: client }, { jsonIndent: 4 }));
      return 0;
    }
    this.out(
      [
        `Version:      ${client.Version}`,
        `API Version:  ${client.APIVersion}`,
        `Node Version: ${client.NodeVersion}`,
        `OS/Arch:      ${client.OsArch}`,
        '',
      ].join('\n'),
    );
    return 0;
  }
}
