import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class LogoutCommand extends TspodCommand {
  static override paths = [['logout']];
  static override usage = Command.Usage({ category: 'Images', description: 'Log out of a container registry' });

  all = Option.Boolean('-a,--all', false, { description: 'Remove the cached credentials for all registries in the auth file' });
  authfile = Option.String('--authfile', { description: 'Path of the authentication file' });
  registry = Option.String({ name: 'registry', required: false });

  async execute(): Promise<number> {
    const { logout } = await import('../../image/login.js');
    const key = logout(this.registry, { all: this.all, ...(this.authfile ? { authFile: this.authfile } : {}) });
    this.out(key === 'all' ? 'Removed login credentials for all registries\n' : `Removed login credentials for ${key}\n`);
    return 0;
  }
}
