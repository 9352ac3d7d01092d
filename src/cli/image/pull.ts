import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';
import { TspodError } from '../../util/errors.js';

export class PullCommand extends TspodCommand {
  static override paths = [['pull'], ['image', 'pull']];
  static override usage = Command.Usage({
    category: 'Images',
    description: 'Pull an image from a registry',
    examples: [['Pull busybox', '$0 pull docker.io/library/busybox'], ['Pull for another platform', '$0 pull --platform linux/arm64 busybox']],
  });

  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress output information when pulling images' });
  tlsVerify = Option.String('--tls-verify', { description: 'Require HTTPS and verify certificates (default true)', tolerateBoolean: true });
  creds = Option.String('--creds', { description: 'Credentials (USERNAME:PASSWORD) to use for authenticating to a registry' });
  authfile = Option.String('--authfile', { description: 'Path of the authentication file' });
  certDir = Option.String('--cert-dir', { description: 'Use certificates at the specified path to access the registry' });
  platform = Option.String('--platform', { description: 'Specify the platform for selecting the image (OS/ARCH[/VARIANT])' });
  arch = Option.String('--arch', { description: 'Use ARCH instead of the architecture of the machine' });
  os = Option.String('--os', { description: 'Use OS instead of the running OS' });
  variant = Option.String('--variant', { description: 'Use VARIANT instead of the running architecture variant' });
  allTags = Option.Boolean('-a,--all-tags', false, { description: 'All tagged images in the repository will be pulled' });
  images = Option.Rest({ required: 1 });

  async execute(): Promise<number> {
    const tlsVerify = parseBoolFlag(this.tlsVerify, '--tls-verify');
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { pullImage, pullAllTags } = await import('../../image/pull.js');
    const { storeDriver } = await import('../../image/driver.js');
    const { hostPlatform, parsePlatform } = await import('../../image/manifest.js');
    let platform: Record<string, string> | undefined;
    if (this.platform || this.arch || this.os || this.variant) {
      const host = hostPlatform();
      const base = this.platform ? parsePlatform(this.platform) : host;
      platform = { os: this.os ?? base.os, architecture: this.arch ?? base.architecture };
      const variant = this.variant ?? (this.platform || !this.arch ? base.variant : undefined);
      if (variant) platform.variant = variant;
    }
    const { driver } = storeDriver(this.globals);
    const progress = !this.quiet && process.stderr.isTTY ? process.stderr : undefined;
    for (const image of this.images) {
      const pull = this.allTags ? pullAllTags : async (i: string, o: Parameters<typeof pullImage>[1]) => [await pullImage(i, o)];
      const pulled = await pull(image, {
        storageRoot: this.globals.storageRoot,
        runRoot: this.globals.runRoot,
        driver,
        ...(platform ? { platform } : {}),
        ...(tlsVerify !== undefined ? { tlsVerify } : {}),
        ...(this.creds !== undefined ? { creds: this.creds } : {}),
        ...(this.authfile ? { authFile: this.authfile } : {}),
        ...(this.certDir ? { certDir: this.certDir } : {}),
        ...(progress ? { progress } : {}),
      });
      for (const r of pulled) this.out(`${r.id}\n`);
    }
    return 0;
  }
}

/** `--flag`, `--flag=true|false`. */
export function parseBoolFlag(v: string | boolean | undefined, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '') return true;
  if (v === 'false') return false;
  throw new TspodError(`invalid value "${v}" for ${name}: use true or false`);
}
