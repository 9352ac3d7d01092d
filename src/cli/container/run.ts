import { Command, Option } from 'clipanion';
import { ContainerCreateCommand } from './create-options.js';

export class RunCommand extends ContainerCreateCommand {
  static override paths = [['run'], ['container', 'run']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Run a command in a new container',
    details:
      'Runs COMMAND in a new container with fresh PID, mount, UTS, IPC, network and cgroup namespaces inside the rootless user namespace, watched by a monitor process that keeps its log and exit status. With --rootfs, the first argument is an exploded root filesystem directory instead of an image.',
    examples: [
      ['Run a shell command from a root filesystem directory', 'tspod run --rm --rootfs ./rootfs sh -c "echo hello"'],
      ['Run in the background', 'tspod run -d --name web --rootfs ./rootfs httpd -f'],
    ],
  });

  detach = Option.Boolean('-d,--detach', false, { description: 'Run in the background and print the container ID' });
  detachKeys = Option.String('--detach-keys', { description: 'Key sequence that detaches from the container (default ctrl-p,ctrl-q; "" disables)' });
  sigProxy = Option.String('--sig-proxy', { description: 'Proxy received signals to the container process (default true)', tolerateBoolean: true });

  async execute(): Promise<number> {
    const { parseDetachKeys } = await import('../../runtime/detach-keys.js');
    const { parseBoolFlag } = await import('../image/pull.js');
    // Checked before anything is created.
    if (this.detachKeys !== undefined) parseDetachKeys(this.detachKeys);
    const sigProxy = parseBoolFlag(this.sigProxy, '--sig-proxy') ?? true;
    const rec = await this.createRecord();
    const { openStore, startContainer, removeContainer } = await import('../../runtime/lifecycle.js');
    const store = openStore(this.globals);
    if (this.detach) {
      try {
        await startContainer(this.globals, store, rec.id, { attach: false });
      } catch (err) {
        if (rec.config.autoRemove) await removeContainer(store, rec.id, { force: true });
        throw err;
      }
      this.out(`${rec.id}\n`);
      return 0;
    }
    const { DETACHED } = await import('../../runtime/monitor-client.js');
    let detached = false;
    try {
      const code = await startContainer(this.globals, store, rec.id, {
        attach: true,
        interactive: this.interactive,
        ...(this.detachKeys !== undefined ? { detachKeys: this.detachKeys } : {}),
        sigProxy,
      });
      // Detached with the keys: the container goes on (its monitor carries out --rm later).
      detached = code === DETACHED;
      return detached ? 0 : code;
    } finally {
      if (rec.config.autoRemove && !detached) await removeContainer(store, rec.id, { force: true });
    }
  }
}
