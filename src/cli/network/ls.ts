import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class NetworkLsCommand extends TspodCommand {
  static override paths = [['network', 'ls'], ['network', 'list']];
  static override usage = Command.Usage({ category: 'Networks', description: 'List networks' });

  filters = Option.Array('-f,--filter', [], { description: 'Filter networks (name=, id=, label=, driver=)' });
  format = Option.String('--format', { description: 'Format network output using JSON or a Go template' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print network names only' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Do not truncate the network ID' });

  async execute(): Promise<number> {
    const { NetworkStore, networkMatches } = await import('../../network/networks-store.js');
    const nets = new NetworkStore(this.globals.storageRoot).list().filter((n) => networkMatches(n, this.filters));
    if (this.quiet) {
      this.out(nets.map((n) => `${n.name}\n`).join(''));
      return 0;
    }
    const { renderFormat } = await import('../../format/index.js');
    // Podman's template fields (Name, ID, Driver, Labels, ...) over the JSON shape (name, id, ...).
    const rows = nets.map((n) => ({
      ...n,
      Name: n.name,
      ID: this.noTrunc ? n.id : n.id.slice(0, 12),
      Driver: n.driver,
      NetworkInterface: n.network_interface,
      Created: n.created,
      Subnets: n.subnets,
      Internal: n.internal,
      DNSEnabled: n.dns_enabled,
      IPv6Enabled: n.ipv6_enabled,
      Labels: n.labels ?? {},
    }));
    if (this.format === 'json') {
      this.out(JSON.stringify(nets, null, 2) + '\n');
      return 0;
    }
    const format = this.format ?? 'table {{.ID}}\t{{.Name}}\t{{.Driver}}';
    this.out(renderFormat(format, rows, { headers: { ID: 'NETWORK ID' } }));
    return 0;
  }
}
