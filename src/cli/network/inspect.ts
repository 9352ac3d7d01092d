import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class NetworkInspectCommand extends TspodCommand {
  static override paths = [['network', 'inspect']];
  static override usage = Command.Usage({ category: 'Networks', description: 'Display the configuration of one or more networks' });

  format = Option.String('-f,--format', { description: 'Format the output using JSON or a Go template' });
  names = Option.Rest({ required: 1 });

  async execute(): Promise<number> {
    const { NetworkStore, NO_SUCH_NETWORK } = await import('../../network/networks-store.js');
    const { networkContainers } = await import('../../network/bridge.js');
    const { ContainerStore } = await import('../../runtime/container-store.js');
    const store = new NetworkStore(this.globals.storageRoot);
    const containerStore = new ContainerStore(this.globals.storageRoot, this.globals.runRoot);
    const found = [];
    let status = 0;
    for (const name of this.names) {
      const n = store.find(name);
      // Podman 5's `containers` map (the running containers attached), after the network's own fields.
      if (n) found.push({ ...n, containers: networkContainers(containerStore, n) });
      else {
        process.stderr.write(`Error: unable to find network with name or ID ${name}: network not found\n`);
        status = NO_SUCH_NETWORK;
      }
    }
    if (this.format && this.format !== 'json') {
      const { renderFormat } = await import('../../format/index.js');
      // Templates name Podman's Go fields (.Name, .Subnets, ...) as well as the JSON keys.
      const rows = found.map((n) => ({
        ...n,
        Name: n.name,
        ID: n.id,
        Driver: n.driver,
        NetworkInterface: n.network_interface,
        Created: n.created,
        Subnets: n.subnets.map((s) => ({ ...s, Subnet: s.subnet, Gateway: s.gateway })),
        Internal: n.internal,
        DNSEnabled: n.dns_enabled,
        IPv6Enabled: n.ipv6_enabled,
        Labels: n.labels ?? {},
        Options: n.options ?? {},
        Containers: Object.fromEntries(
          Object.entries(n.containers).map(([id, c]) => [
            id,
            {
              ...c,
              Name: c.name,
              Interfaces: Object.fromEntries(
                Object.entries(c.interfaces).map(([k, i]) => [k, { ...i, MacAddress: i.mac_address, Subnets: i.subnets.map((x) => ({ ...x, IPNet: x.ipnet, Gateway: x.gateway ?? '' })) }]),
              ),
            },
          ]),
        ),
      }));
      this.out(renderFormat(this.format, rows, {}));
    } else this.out(JSON.stringify(found, null, 5) + '\n');
    return status;
  }
}
