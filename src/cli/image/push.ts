import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';
import { parseBoolFlag } from './pull.js';

export class PushCommand extends TspodCommand {
  static override paths = [['push'], ['image', 'push']];
  static override usage = Command.Usage({
    category: 'Images',
    description: 'Push an image to a registry, with the digests it has in local storage',
    examples: [['Push under another name', '$0 push myapp quay.io/me/myapp:1']],
  });

  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress output information when pushing images' });
  tlsVerify = Option.String('--tls-verify', { description: 'Require HTTPS and verify certificates (default true)', tolerateBoolean: true });
  creds = Option.String('--creds', { description: 'Credentials (USERNAME:PASSWORD) to use for authenticating to a registry' });
  authfile = Option.String('--authfile', { description: 'Path of the authentication file' });
  certDir = Option.String('--cert-dir', { description: 'Use certificates at the specified path to access the registry' });
  digestfile = Option.String('--digestfile', { description: 'Write the digest of the pushed image to the specified file' });
  image = Option.String({ name: 'image' });
  destination = Option.String({ name: 'destination', required: false });

  async execute(): Promise<number> {
    const tlsVerify = parseBoolFlag(this.tlsVerify, '--tls-verify');
    const { pushImage } = await import('../../image/push.js');
    const { Progress } = await import('../../image/pull.js');
    const progress = new Progress(!this.quiet && process.stderr.isTTY ? process.stderr : undefined);
    const r = await pushImage(this.image, this.destination, {
      storageRoot: this.globals.storageRoot,
      progress,
      ...(tlsVerify !== undefined ? { tlsVerify } : {}),
      ...(this.creds !== undefined ? { creds: this.creds } : {}),
      ...(this.authfile ? { authFile: this.authfile } : {}),
      ...(this.certDir ? { certDir: this.certDir } : {}),
    });
    progress.done();
    if (this.digestfile) {
      fs.writeFileSync(this.digestfile, r.digest);
    }
    return 0;
  }
}
