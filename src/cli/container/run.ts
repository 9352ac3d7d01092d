import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class RunCommand extends TspodCommand {
  static override paths = [['run'], ['container', 'run']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Run a command in a new container',
    details:
      'Runs COMMAND in a new container with fresh PID, mount, UTS, IPC, network and cgroup namespaces inside the rootless user namespace. With --rootfs, the first argument is an exploded root filesystem directory instead of an image.',
    examples: [['Run a shell command from a root filesystem directory', 'tspod run --rootfs ./rootfs sh -c "echo hello"']],
  });

  rootfs = Option.Boolean('--rootfs', false, { description: 'The first argument is a root filesystem directory, not an image' });
  rm = Option.Boolean('--rm', false, { description: 'Remove the container when it exits' });
  env = Option.Array('-e,--env', [], { description: 'Set environment variables (KEY=VALUE, or KEY to take it from the host)' });
  workdir = Option.String('-w,--workdir', { description: 'Working directory inside the container' });
  hostname = Option.String('--hostname', { description: 'Set the container host name' });
  network = Option.String('--network,--net', { description: 'Network mode: none or host' });
  user = Option.String('-u,--user', { description: 'Username or UID, and optionally group (user[:group])' });
  capAdd = Option.Array('--cap-add', [], { description: 'Add capabilities' });
  capDrop = Option.Array('--cap-drop', [], { description: 'Drop capabilities' });
  privileged = Option.Boolean('--privileged', false, { description: 'Give extended privileges to the container' });
  readOnly = Option.Boolean('--read-only', false, { description: "Make the container's root filesystem read-only" });
  name = Option.String('--name', { description: 'Assign a name to the container' });
  image = Option.String({ name: 'IMAGE' });
  command = Option.Proxy({ name: 'COMMAND' });

  async execute(): Promise<number> {
    const { runRootfsContainer } = await import('../../runtime/run-rootfs.js');
    const { TspodError } = await import('../../util/errors.js');
    if (!this.rootfs) {
      throw new TspodError(`${this.image}: image not known; images cannot be pulled or stored yet, so run a root filesystem directory with --rootfs`);
    }
    return runRootfsContainer(this.globals, {
      rootfs: this.image,
      command: this.command,
      env: this.env,
      workdir: this.workdir,
      hostname: this.hostname,
      network: this.network,
      user: this.user,
      capAdd: this.capAdd,
      capDrop: this.capDrop,
      privileged: this.privileged,
      readOnly: this.readOnly,
    });
  }
}
