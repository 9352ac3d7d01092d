import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class SaveCommand extends TspodCommand {
  static override paths = [['save'], ['image', 'save']];
  static override usage = Command.Usage({ category: 'Images', description: 'Save images to an archive (docker-archive, oci-archive) or a directory (oci-dir, docker-dir)' });

  output = Option.String('-o,--output', { description: 'Write to a specified file (default: stdout, which must be redirected)' });
  format = Option.String('--format', 'docker-archive', { description: 'Save image to oci-archive, oci-dir (directory with oci manifest type), docker-archive, docker-dir (directory with v2s2 manifest type)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress the output' });
  multi = Option.Boolean('-m,--multi-image-archive', false, { description: 'Interpret additional arguments as images not tags and create a multi-image-archive (only for docker-archive)' });
  compress = Option.Boolean('--compress', false, { description: 'Compress tarball image layers (not supported; layers are saved as stored or uncompressed)' });
  images = Option.Rest({ name: 'image', required: 1 });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    const formats = ['docker-archive', 'oci-archive', 'oci-dir', 'docker-dir'];
    if (!formats.includes(this.format)) {
      throw new TspodError(`unsupported save format "${this.format}": use docker-archive, oci-archive, oci-dir or docker-dir`);
    }
    // As Podman: with -m every name is an image (docker-archive only); without it, the
    // first name is the image and the others are more tags for it in a docker-archive.
    const multi = this.multi && this.images.length > 1;
    if (multi && this.format !== 'docker-archive') {
      throw new TspodError(`unsupported format "${this.format}" for saving multiple images (only docker-archive)`);
    }
    const images = multi ? this.images : this.images.slice(0, 1);
    const additionalTags = multi ? [] : this.images.slice(1);
    if (this.format === 'oci-dir' || this.format === 'docker-dir') {
      if (!this.output) throw new TspodError(`--format ${this.format} writes a directory: give it with -o DIR`);
      const { saveToDir } = await import('../../image/save.js');
      await saveToDir(this.globals.storageRoot, images, this.format, this.output);
      return 0;
    }
    if (!this.output && process.stdout.isTTY) {
      throw new TspodError('refusing to save to a terminal; use -o FILE or redirect stdout');
    }
    const format = this.format as 'docker-archive' | 'oci-archive';
    const { saveImages } = await import('../../image/save.js');
    if (!this.output) {
      await saveImages(this.globals.storageRoot, images, format, process.stdout, { additionalTags });
      return 0;
    }
    // Write beside the target and rename: a failed save leaves no half archive.
    const tmp = path.join(path.dirname(path.resolve(this.output)), `.${path.basename(this.output)}.${process.pid}.tmp`);
    const out = fs.createWriteStream(tmp, { mode: 0o644 });
    try {
      await saveImages(this.globals.storageRoot, images, format, out, { additionalTags });
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      fs.renameSync(tmp, this.output);
    } catch (err) {
      out.destroy();
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    return 0;
  }
}
