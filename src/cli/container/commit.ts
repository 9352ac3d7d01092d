import path from 'node:path';
import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class CommitCommand extends TspodCommand {
  static override paths = [['commit'], ['container', 'commit']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Create new image based on the changed container',
    details:
      "The container's changes (files added, changed and deleted, as whiteouts) become one new layer on top of its image's layers; the image takes the container's command, entrypoint, environment, working directory, user, labels and ports, then --change instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL). Prints the new image's ID.",
    examples: [
      ['Commit with a new command', 'tspod commit -c "CMD [\\"/srv/run\\"]" web localhost/web:v2'],
      ['Squash into one layer', 'tspod commit --squash web localhost/web:flat'],
    ],
  });

  author = Option.String('-a,--author', { description: 'Set the author for the image committed' });
  changes = Option.Array('-c,--change', [], { description: 'Apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR' });
  format = Option.String('-f,--format', 'oci', { description: '`format` of the image manifest and metadata (oci or docker)' });
  message = Option.String('-m,--message', { description: 'Set commit message for imported image' });
  pause = Option.Boolean('-p,--pause', false, { description: 'Pause container during commit' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress output' });
  iidfile = Option.String('--iidfile', { description: 'File to write the image ID to' });
  squash = Option.Boolean('-s,--squash', false, { description: 'Squash the image layers into a single layer' });
  container = Option.String({ name: 'CONTAINER' });
  image = Option.String({ name: 'IMAGE', required: false });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    if (this.format !== 'oci' && this.format !== 'docker') throw new TspodError(`unrecognized image type "${this.format}": use oci or docker`);
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { commitContainer } = await import('../../runtime/commit.js');
    const id = await commitContainer(this.globals, this.container, this.image, {
      changes: this.changes,
      ...(this.message ? { message: this.message } : {}),
      ...(this.author ? { author: this.author } : {}),
      format: this.format,
      pause: this.pause,
      squash: this.squash,
    });
    // Podman's progress lines (on stderr; scripts read the ID from stdout).
    if (!this.quiet) process.stderr.write('Getting image source signatures\nCopying blob\nWriting manifest to image destination\n');
    if (this.iidfile) {
      const { writeFileAtomic } = await import('../../storage/atomic.js');
      writeFileAtomic(path.resolve(this.iidfile), `sha256:${id}`, 0o644);
    }
    this.out(`${id}\n`);
    return 0;
  }
}
