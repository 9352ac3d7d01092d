import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class HealthcheckRunCommand extends TspodCommand {
  static override paths = [['healthcheck', 'run']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Run the health check of a container',
    details: "Runs the container's --health-cmd inside it: exit 0 and `healthy` when it succeeds, 1 and `unhealthy` when it fails.",
  });

  container = Option.String();

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { openStore } = await import('../../runtime/lifecycle.js');
    const { execInContainer } = await import('../../runtime/exec.js');
    const { TspodError } = await import('../../util/errors.js');
    const rec = openStore(this.globals).get(this.container);
    const cmd = rec.config.healthCmd;
    if (!cmd || cmd.length === 0) throw new TspodError(`container ${rec.name} has no defined healthcheck`);
    // As Docker: a single string is a shell command (CMD-SHELL).
    const argv = cmd.length === 1 ? ['/bin/sh', '-c', cmd[0]] : cmd[0] === 'CMD' ? cmd.slice(1) : cmd;
    const status = await execInContainer(this.globals, rec.id, { command: argv, env: [], detach: false, interactive: false, privileged: false });
    // Recorded for `wait --condition healthy|unhealthy` and inspect.
    await openStore(this.globals).update(rec.id, (r) => (r.state.health = { status: status === 0 ? 'healthy' : 'unhealthy' }));
    this.out(status === 0 ? 'healthy\n' : 'unhealthy\n');
    return status === 0 ? 0 : 1;
  }
}
