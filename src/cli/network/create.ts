import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class NetworkCreateCommand extends TspodCommand {
  static override paths = [['network', 'create']];
  static override usage = Command.Usage({ category: 'Networks', description: 'Create a network (a bridge in the rootless network namespace)' });

  driver = Option.String('-d,--driver', { description: 'Network driver (bridge)' });
  subnets = Option.Array('--subnet', [], { description: 'Subnet in CIDR format, IPv4 or IPv6, repeatable (default: the first free 10.89.N.0/24)' });
  gateways = Option.Array('--gateway', [], { description: 'Gateway of the Nth --subnet (default: its first address)' });
  ipv6 = Option.Boolean('--ipv6', false, { description: 'Enable IPv6 (dual stack): a missing IPv4 or IPv6 subnet is allocated (IPv6: a random fdXX:XXXX:XXXX:XXXX::/64)' });
  internal = Option.Boolean('--internal', false, { description: 'Restrict external access from this network' });
  labels = Option.Array('--label', [], { description: 'Set metadata on the network (KEY=VALUE)' });
  disableDns = Option.Boolean('--disable-dns', false, { description: 'Do not let containers on this network find each other by name' });
  ignore = Option.Boolean('--ignore', false, { description: "Don't fail if the network already exists" });
  name = Option.String({ required: false });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    if (this.driver !== undefined && this.driver !== 'bridge') {
      throw new TspodError(`unsupported driver ${this.driver}: tspod's rootless networks use the bridge driver`);
    }
    const { parseKeyValues } = await import('../../runtime/volumes.js');
    const { NetworkStore } = await import('../../network/networks-store.js');
    const rec = await new NetworkStore(this.globals.storageRoot).create({
      name: this.name,
      subnets: this.subnets,
      gateways: this.gateways,
      ipv6: this.ipv6,
      internal: this.internal,
      disableDns: this.disableDns,
      labels: parseKeyValues(this.labels, 'label'),
      ignoreExisting: this.ignore,
    });
    this.out(`${rec.name}\n`);
    return 0;
  }
}
