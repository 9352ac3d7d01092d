import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';
import type { PodRecord } from '../../pod/store.js';

/**
 * Commands that act on pods by name or ID (or --all, --latest, --pod-id-file).
 * Like Podman's, each prints the pod's full ID on success and an `Error:` line
 * for each pod that failed, exiting with the worst status.
 */
abstract class EachPodCommand extends TspodCommand {
  all = Option.Boolean('-a,--all', false, { description: 'Act on all pods' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest pod tspod knows of' });
  podIdFiles = Option.Array('--pod-id-file', [], { description: 'Read the pod ID from the file' });
  pods = Option.Rest({ name: 'POD' });

  /** --ignore, where the command has it: a missing pod or pod ID file is no error. */
  protected get ignoring(): boolean {
    return (this as { ignore?: boolean }).ignore === true;
  }

  protected async forEachPod(fn: (pod: PodRecord) => Promise<void>): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    const { reportError } = await import('../errors.js');
    const { openPodStore } = await import('../../pod/pods.js');
    const store = openPodStore(this.globals);
    const names: string[] = [...this.pods];
    for (const file of this.podIdFiles) {
      try {
        names.push(fs.readFileSync(file, 'utf8').trim());
      } catch (err) {
        // A unit's ExecStopPost runs even when the pod never got created.
        if (this.ignoring && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new TspodError(`cannot read the pod ID file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    if (this.all) names.push(...store.list().map((p) => p.id));
    if (this.latest) {
      const latest = store.list()[0];
      if (!latest) throw new TspodError('no pods to act on with --latest');
      names.push(latest.id);
    }
    if (names.length === 0 && !this.all && this.podIdFiles.length === 0) throw new TspodError('you must provide at least one pod name or ID');
    let status = 0;
    for (const name of names) {
      try {
        const pod = store.find(name);
        if (!pod && this.ignoring) continue;
        const p = pod ?? store.get(name);
        await fn(p);
        this.out(`${p.id}\n`);
      } catch (err) {
        status = Math.max(status, reportError(err));
      }
    }
    return status;
  }

  protected async userns(): Promise<void> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
  }
}

function seconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) return NaN;
  return n;
}

export class PodStartCommand extends EachPodCommand {
  static override paths = [['pod', 'start']];
  static override usage = Command.Usage({ category: 'Pods', description: 'Start one or more pods (the infra container first)' });

  async execute(): Promise<number> {
    await this.userns();
    const { startPod } = await import('../../pod/pods.js');
    return this.forEachPod((pod) => startPod(this.globals, pod));
  }
}

export class PodStopCommand extends EachPodCommand {
  static override paths = [['pod', 'stop']];
  static override usage = Command.Usage({ category: 'Pods', description: "Stop one or more pods (the infra container last)" });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors when a pod does not exist' });
  time = Option.String('-t,--time', { description: 'Seconds to wait for each container to stop before killing it' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    const timeout = seconds(this.time);
    if (Number.isNaN(timeout)) throw new TspodError(`invalid --time "${this.time}": give whole seconds`);
    await this.userns();
    const { stopPod } = await import('../../pod/pods.js');
    return this.forEachPod((pod) => stopPod(this.globals, pod, timeout));
  }
}

export class PodRestartCommand extends EachPodCommand {
  static override paths = [['pod', 'restart']];
  static override usage = Command.Usage({ category: 'Pods', description: 'Restart one or more pods' });

  async execute(): Promise<number> {
    await this.userns();
    const { startPod, stopPod } = await import('../../pod/pods.js');
    return this.forEachPod(async (pod) => {
      await stopPod(this.globals, pod);
      await startPod(this.globals, pod);
    });
  }
}

export class PodKillCommand extends EachPodCommand {
  static override paths = [['pod', 'kill']];
  static override usage = Command.Usage({ category: 'Pods', description: 'Send a signal to the containers of one or more pods' });
  signal = Option.String('-s,--signal', 'KILL', { description: 'Signal to send to the containers' });

  async execute(): Promise<number> {
    const { signalName } = await import('../../runtime/lifecycle.js');
    signalName(this.signal);
    await this.userns();
    const { killPod } = await import('../../pod/pods.js');
    return this.forEachPod((pod) => killPod(this.globals, pod, this.signal));
  }
}

export class PodRmCommand extends EachPodCommand {
  static override paths = [['pod', 'rm']];
  static override usage = Command.Usage({ category: 'Pods', description: 'Remove one or more stopped pods and their containers' });
  force = Option.Boolean('-f,--force', false, { description: 'Stop running containers first and remove them' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors when a pod does not exist' });
  time = Option.String('-t,--time', { description: 'Seconds to wait for the pod to stop before killing its containers' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    const timeout = seconds(this.time);
    if (Number.isNaN(timeout)) throw new TspodError(`invalid --time "${this.time}": give whole seconds`);
    await this.userns();
    const { removePod } = await import('../../pod/pods.js');
    return this.forEachPod((pod) => removePod(this.globals, pod, { force: this.force, timeout }));
  }
}
