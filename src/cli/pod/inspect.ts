import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class PodInspectCommand extends TspodCommand {
  static override paths = [['pod', 'inspect']];
  static override usage = Command.Usage({ category: 'Pods', description: 'Display information about pods (JSON, or --format TEMPLATE)' });
  format = Option.String('-f,--format', { description: 'Format the output with a Go template or json' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Inspect the latest pod tspod knows of' });
  pods = Option.Rest({ name: 'POD' });

  async execute(): Promise<number> {
    const { openPodStore, podState } = await import('../../pod/pods.js');
    const { podInspectJson } = await import('../../pod/present.js');
    const { TspodError } = await import('../../util/errors.js');
    const store = openPodStore(this.globals);
    const names = this.latest ? store.list().slice(0, 1).map((p) => p.id) : this.pods;
    if (names.length === 0) throw new TspodError('you must provide at least one pod name or ID');
    const out = [];
    for (const name of names) {
      const pod = store.find(name);
      if (!pod) throw new TspodError(`inspecting object: no such pod ${name}`);
      const { status, members } = await podState(this.globals, pod);
      out.push(podInspectJson(pod, status, members, this.globals.storageRoot));
    }
    if (this.format && this.format.trim() !== 'json') {
      const { renderFormat } = await import('../../format/index.js');
      this.out(renderFormat(this.format, out, { each: true }));
      return 0;
    }
    // Podman prints a single pod as an object, several as a list.
    this.out(JSON.stringify(out.length === 1 ? out[0] : out, null, 5) + '\n');
    return 0;
  }
}

export class PodExistsCommand extends TspodCommand {
  static override paths = [['pod', 'exists']];
  static override usage = Command.Usage({
    category: 'Pods',
    description: 'Check if a pod exists',
    details: 'Exits 0 when the pod exists, 1 when it does not, 125 on any other error.',
  });
  pod = Option.String({ name: 'POD' });

  async execute(): Promise<number> {
    const { openPodStore } = await import('../../pod/pods.js');
    return openPodStore(this.globals).find(this.pod) ? 0 : 1;
  }
}

export class PodPruneCommand extends TspodCommand {
  static override paths = [['pod', 'prune']];
  static override usage = Command.Usage({ category: 'Pods', description: 'Remove all stopped pods and their containers' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not ask for confirmation' });

  async execute(): Promise<number> {
    const { openPodStore, podState, removePod } = await import('../../pod/pods.js');
    if (!this.force) {
      const { confirm } = await import('../prompt.js');
      if (!(await confirm('WARNING! This will remove all stopped/exited pods..\nAre you sure you want to continue? [y/N] '))) return 0;
    }
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    for (const pod of openPodStore(this.globals).list()) {
      const { status } = await podState(this.globals, pod);
      if (status === 'Running' || status === 'Degraded') continue;
      await removePod(this.globals, pod, { force: false });
      this.out(`${pod.id}\n`);
    }
    return 0;
  }
}
