import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class GenerateKubeCommand extends TspodCommand {
  static override paths = [['generate', 'kube'], ['kube', 'generate']];
  static override usage = Command.Usage({
    category: 'Pods',
    description: 'Generate Kubernetes YAML from containers or pods',
    details:
      "Writes a Pod per pod (its containers, the infra's published ports, hostPath volumes for bind mounts, persistentVolumeClaims for named volumes), or one Pod named NAME-pod holding the containers given; with --service a NodePort Service before each Pod. `tspod kube play` plays the output back.",
    examples: [['YAML for a pod, with a Service', 'tspod generate kube -s mypod']],
  });

  service = Option.Boolean('-s,--service', false, { description: 'Also generate a Kubernetes Service object' });
  filename = Option.String('-f,--filename', { description: 'Write the YAML to this file instead of standard output' });
  names = Option.Rest({ name: 'CONTAINER|POD' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    const { openStore, reconcile } = await import('../../runtime/lifecycle.js');
    const { openPodStore } = await import('../../pod/pods.js');
    const { kubeDocuments, renderKube } = await import('../../kube/generate.js');
    type Rec = import('../../runtime/container-store.js').ContainerRecord;
    if (this.names.length === 0) throw new TspodError('you must provide at least one container or pod name or ID');
    const store = openStore(this.globals);
    const pods = openPodStore(this.globals);
    const containers: Rec[] = [];
    const units = [];
    for (const name of this.names) {
      const ctr = store.find(name);
      const pod = ctr ? undefined : pods.find(name);
      if (ctr) {
        if (ctr.config.isInfra) throw new TspodError(`${name} is the infra container of a pod: name the pod instead`);
        containers.push(await reconcile(store, ctr));
      } else if (pod) {
        const members = store.list().filter((c) => c.config.pod === pod.id);
        const infra = members.find((c) => c.config.isInfra);
        const others = members.filter((c) => !c.config.isInfra).sort((a, b) => a.created.localeCompare(b.created));
        if (others.length === 0) throw new TspodError(`pod ${pod.name} has no containers other than its infra: add one with 'tspod run --pod ${pod.name} ...'`);
        units.push({ pod, containers: others, ports: infra?.config.ports ?? [], hostname: pod.hostname, hostNetwork: infra?.config.network === 'host' });
      } else {
        throw new TspodError(`name or ID "${name}" not found: no such container or pod`);
      }
    }
    if (containers.length && units.length) throw new TspodError('name either containers or pods, not both');
    if (containers.length) {
      units.push({ containers, ports: containers.flatMap((c) => c.config.ports ?? []), hostNetwork: containers.every((c) => c.config.network === 'host') });
    }
    const { resolveImage } = await import('../../storage/image-store.js');
    const imageDefaults = (rec: Rec) => {
      if (!rec.config.imageId) return undefined;
      try {
        const cfg = resolveImage(this.globals.storageRoot, rec.config.imageId).config;
        return { env: cfg.Env ?? [], command: [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])], workdir: cfg.WorkingDir || '/' };
      } catch {
        return undefined;
      }
    };
    const isFile = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
    const docs = units.flatMap((u) => kubeDocuments(u, { service: this.service, imageDefaults, isFile }));
    const text = renderKube(docs);
    if (this.filename) {
      const { writeFileAtomic } = await import('../../storage/atomic.js');
      writeFileAtomic(this.filename, text, 0o644);
      return 0;
    }
    this.out(text);
    return 0;
  }
}
