import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class ExecCommand extends TspodCommand {
  static override paths = [['exec'], ['container', 'exec']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Run a process in a running container',
    details: "Joins the container's namespaces and runs COMMAND as the container's user (or -u), in its working directory (or -w), with its environment plus -e.",
    examples: [['Run a shell command in a container', 'tspod exec web sh -c "ps"']],
  });

  detach = Option.Boolean('-d,--detach', false, { description: 'Run the exec session in the background' });
  env = Option.Array('-e,--env', [], { description: 'Set environment variables' });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'Keep STDIN open' });
  tty = Option.Boolean('-t,--tty', false, { description: 'Allocate a pseudo-TTY' });
  user = Option.String('-u,--user', { description: 'Sets the username or UID used and optionally the groupname or GID' });
  workdir = Option.String('-w,--workdir', { description: 'Working directory inside the container' });
  privileged = Option.Boolean('--privileged', false, { description: 'Give the process extended Linux capabilities' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod knows of' });
  detachKeys = Option.String('--detach-keys', { description: 'Key sequence that detaches from an -it session, leaving it running (default ctrl-p,ctrl-q; "" disables)' });
  container = Option.String({ name: 'CONTAINER' });
  command = Option.Proxy({ name: 'COMMAND' });

  async execute(): Promise<number> {
    // Checked before anything runs.
    if (this.detachKeys !== undefined) (await import('../../runtime/detach-keys.js')).parseDetachKeys(this.detachKeys);
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { execInContainer } = await import('../../runtime/exec.js');
    let target = this.container;
    let command = this.command;
    if (this.latest) {
      // As Podman's: with --latest the first argument is already the command.
      const { openStore } = await import('../../runtime/lifecycle.js');
      const latest = openStore(this.globals).list()[0];
      if (!latest) {
        const { TspodError } = await import('../../util/errors.js');
        throw new TspodError('no containers to act on with --latest');
      }
      target = latest.id;
      command = [this.container, ...this.command];
    }
    return execInContainer(this.globals, target, {
      command,
      env: this.env,
      user: this.user,
      workdir: this.workdir,
      detach: this.detach,
      interactive: this.interactive,
      tty: this.tty,
      privileged: this.privileged,
      ...(this.detachKeys !== undefined ? { detachKeys: this.detachKeys } : {}),
    });
  }
}
