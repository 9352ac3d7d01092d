import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';
import { parseBoolFlag } from './pull.js';

export class LoginCommand extends TspodCommand {
  static override paths = [['login']];
  static override usage = Command.Usage({ category: 'Images', description: 'Log in to a container registry' });

  username = Option.String('-u,--username', { description: 'Username for registry' });
  password = Option.String('-p,--password', { description: 'Password for registry' });
  passwordStdin = Option.Boolean('--password-stdin', false, { description: 'Take the password from stdin' });
  authfile = Option.String('--authfile', { description: 'Path of the authentication file' });
  certDir = Option.String('--cert-dir', { description: 'Use certificates at the specified path to access the registry' });
  tlsVerify = Option.String('--tls-verify', { description: 'Require HTTPS and verify certificates (default true)', tolerateBoolean: true });
  getLogin = Option.Boolean('--get-login', false, { description: 'Return the current login user for the registry' });
  registry = Option.String({ name: 'registry' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    if (this.getLogin) {
      const { resolveCredentials, parseCredentialsKey } = await import('../../image/auth-file.js');
      const { key } = parseCredentialsKey(this.registry, true);
      const c = resolveCredentials(key, this.authfile ? { authFile: this.authfile } : {});
      if (!c || c.username === '') throw new TspodError(`not logged into ${key}`);
      this.out(`${c.username}\n`);
      return 0;
    }
    let password = this.password;
    if (this.passwordStdin) {
      if (password !== undefined) throw new TspodError('--password and --password-stdin are mutually exclusive');
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    }
    if (this.username === undefined || password === undefined) {
      throw new TspodError('give the username with -u and the password with -p or --password-stdin (interactive prompts are not supported yet)');
    }
    const { login } = await import('../../image/login.js');
    const tlsVerify = parseBoolFlag(this.tlsVerify, '--tls-verify');
    await login(this.registry, {
      username: this.username,
      password,
      ...(this.authfile ? { authFile: this.authfile } : {}),
      ...(tlsVerify !== undefined ? { tlsVerify } : {}),
      ...(this.certDir ? { certDir: this.certDir } : {}),
    });
    this.out('Login Succeeded!\n');
    return 0;
  }
}
