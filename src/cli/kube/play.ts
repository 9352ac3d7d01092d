import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class KubePlayCommand extends TspodCommand {
  static override paths = [['kube', 'play'], ['play', 'kube']];
  static override usage = Command.Usage({
    category: 'Pods',
    description: 'Create pods and containers from Kubernetes YAML',
    details:
      'Plays Pod and Deployment objects (a Deployment runs its template once) as pods whose containers are named POD-CONTAINER; persistentVolumeClaim volumes become named volumes, hostPath volumes bind mounts, ports with a hostPort are published for the pod.',
    examples: [['Play a pod, replacing the one from an earlier play', 'tspod kube play --replace pod.yaml']],
  });

  replace = Option.Boolean('--replace', false, { description: 'Tear down the pods the YAML names first (as kube down does)' });
  start = Option.String('--start', { tolerateBoolean: true, description: 'Start the pods after creating them (default true; --start=false to only create)' });
  serviceContainer = Option.String('--service-container', {
    tolerateBoolean: true,
    description: 'Start a service container that runs as long as the pods (for systemd units; default false)',
  });
  network = Option.String('--network,--net', { description: 'Network mode of the pods: pasta (default), slirp4netns, none or host' });
  publish = Option.Array('-p,--publish', [], { description: 'Publish a port of the first pod to the host ([IP:][HOSTPORT:]CONTAINERPORT[/PROTOCOL])' });
  file = Option.String({ name: 'FILE' });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { boolFlag } = await import('../../pod/pods.js');
    const { playKube, formatPlay } = await import('../../kube/play.js');
    const report = await playKube(this.globals, this.file, {
      replace: this.replace,
      start: boolFlag('--start', this.start, true),
      serviceContainer: boolFlag('--service-container', this.serviceContainer, false),
      ...(this.network ? { network: this.network } : {}),
      publish: this.publish,
    });
    this.out(formatPlay(report));
    return 0;
  }
}

export class KubeDownCommand extends TspodCommand {
  static override paths = [['kube', 'down']];
  static override usage = Command.Usage({
    category: 'Pods',
    description: 'Remove the pods and containers a Kubernetes YAML created',
    details: 'Stops and removes the pods the YAML names; --force also removes the volumes of its PersistentVolumeClaims.',
  });

  force = Option.Boolean('--force', false, { description: "Also remove the YAML's volumes" });
  file = Option.String({ name: 'FILE' });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { downKube, formatDown } = await import('../../kube/play.js');
    const report = await downKube(this.globals, this.file, { force: this.force });
    this.out(formatDown(report));
    const { TspodError } = await import('../../util/errors.js');
    const { reportError } = await import('../errors.js');
    const missing = report.missing ?? [];
    for (const name of missing.slice(0, -1)) reportError(new TspodError(`no pod with name or ID ${name} found: no such pod`));
    if (missing.length) throw new TspodError(`no pod with name or ID ${missing.at(-1)} found: no such pod`);
    return 0;
  }
}
