import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class PodCreateCommand extends TspodCommand {
  static override paths = [['pod', 'create']];
  static override usage = Command.Usage({
    category: 'Pods',
    description: 'Create a new empty pod',
    details:
      "A pod's containers share the network, IPC and UTS namespaces of its infra container (tspod-init waiting, no image needed); ports are published for the whole pod. Prints the pod's ID.",
    examples: [
      ['A pod that publishes port 8080', 'tspod pod create --name web -p 8080:80'],
      ['A pod on a user network at a fixed address, with a volume for all its containers', 'tspod pod create --name db --network mynet --ip 10.89.0.10 -v data:/data'],
    ],
  });

  name = Option.String('-n,--name', { description: 'Assign a name to the pod' });
  infra = Option.String('--infra', { tolerateBoolean: true, description: 'Create an infra container that holds the shared namespaces (default true; --infra=false for none)' });
  publish = Option.Array('-p,--publish', [], { description: "Publish a port of the pod to the host ([IP:][HOSTPORT:]CONTAINERPORT[/PROTOCOL])" });
  labels = Option.Array('-l,--label', [], { description: 'Set metadata on the pod (KEY=VALUE)' });
  hostname = Option.String('--hostname', { description: "The pod's host name (default: its name)" });
  network = Option.String('--network,--net', { description: "The pod's network: pasta (default), slirp4netns, none, host or a user-defined network's name" });
  share = Option.String('--share', { description: 'Namespaces the containers share: net, ipc, uts (default ipc,net,uts; +NS adds, none shares nothing)' });
  podIdFile = Option.String('--pod-id-file', { description: "Write the pod's ID to the file" });
  infraConmonPidfile = Option.String('--infra-conmon-pidfile', { description: "Write the pid of the infra container's monitor to the file (at each start)" });
  exitPolicy = Option.String('--exit-policy', { description: 'What the pod does when its last container exits: continue (default) or stop' });
  replace = Option.Boolean('--replace', false, { description: 'If a pod with the same name exists, replace it' });
  infraName = Option.String('--infra-name', { description: 'The name of the infra container (default: the first 12 characters of the pod ID, then -infra)' });
  dns = Option.Array('--dns', [], { description: "Set custom DNS servers for the pod" });
  addHost = Option.Array('--add-host', [], { description: 'Add a custom host-to-IP mapping (host:ip)' });
  volume = Option.Array('-v,--volume', [], { description: 'Bind mount a volume into every container of the pod ([SOURCE:]DESTINATION[:OPTIONS])' });
  ip = Option.String('--ip', { description: "The infra container's IPv4 address on the pod's user-defined network" });
  macAddress = Option.String('--mac-address', { description: "The infra container's MAC address on the pod's user-defined network" });
  userns = Option.String('--userns', { description: 'User namespace of the pod (not supported by tspod yet: refused)' });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { createPod, boolFlag } = await import('../../pod/pods.js');
    const pod = await createPod(this.globals, {
      name: this.name,
      infra: boolFlag('--infra', this.infra, true),
      publish: this.publish,
      labels: this.labels,
      hostname: this.hostname,
      network: this.network,
      share: this.share,
      podIdFile: this.podIdFile,
      infraConmonPidfile: this.infraConmonPidfile,
      exitPolicy: this.exitPolicy,
      replace: this.replace,
      infraName: this.infraName,
      dns: this.dns,
      addHost: this.addHost,
      volume: this.volume,
      ...(this.ip !== undefined ? { ip: this.ip } : {}),
      ...(this.macAddress !== undefined ? { macAddress: this.macAddress } : {}),
      ...(this.userns !== undefined ? { userns: this.userns } : {}),
    });
    this.out(`${pod.id}\n`);
    return 0;
  }
}
