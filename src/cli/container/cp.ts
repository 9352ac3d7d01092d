import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class CpCommand extends TspodCommand {
  static override paths = [['cp'], ['container', 'cp']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Copy files/folders between a container and the local filesystem',
    details:
      'SRC or DEST is CONTAINER:PATH, the other a host path or - for a tar stream (read from standard input into a container directory, or written to standard output). Paths in the container are resolved inside its root, symlinks included. Files copied into a container belong to its user unless --archive=false keeps their ids.',
    examples: [
      ['Copy a file into a container', 'tspod cp ./app.conf web:/etc/app.conf'],
      ["Copy a directory's contents out", 'tspod cp web:/var/log/. ./logs'],
      ['Stream a directory as tar', 'tspod cp web:/srv - > srv.tar'],
    ],
  });

  archive = Option.String('-a,--archive', { description: 'Chown copied files to the primary uid/gid of the destination container (default true)', tolerateBoolean: true });
  overwrite = Option.Boolean('--overwrite', false, { description: 'Allow to overwrite directories with non-directories and vice versa' });
  src = Option.String({ name: 'SRC' });
  dest = Option.String({ name: 'DEST' });

  async execute(): Promise<number> {
    const { parseBoolFlag } = await import('../image/pull.js');
    const archive = parseBoolFlag(this.archive, '--archive') ?? true;
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { copy } = await import('../../runtime/cp.js');
    await copy(this.globals, this.src, this.dest, { archive, overwrite: this.overwrite });
    return 0;
  }
}
