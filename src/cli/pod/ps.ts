import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class PodPsCommand extends TspodCommand {
  static override paths = [['pod', 'ps'], ['pod', 'ls'], ['pod', 'list']];
  static override usage = Command.Usage({ category: 'Pods', description: 'List pods' });

  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print the IDs of the pods only' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Do not truncate IDs' });
  format = Option.String('--format', { description: 'Pretty-print pods to JSON or using a Go template' });
  filters = Option.Array('-f,--filter', [], { description: 'Filter pods (name=, id=, status=, label=, ctr-names=, ctr-ids=)' });
  noheading = Option.Boolean('--noheading', false, { description: 'Do not print headers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Show the latest pod tspod knows of' });

  async execute(): Promise<number> {
    const { openPodStore, podState } = await import('../../pod/pods.js');
    const { podMatches, podPsJson, podPsRow } = await import('../../pod/present.js');
    let pods = [];
    for (const pod of openPodStore(this.globals).list()) pods.push({ pod, ...(await podState(this.globals, pod)) });
    pods = pods.filter((p) => podMatches(p, this.filters));
    if (this.latest) pods = pods.slice(0, 1);
    if (this.quiet) {
      this.out(pods.map((p) => `${this.noTrunc ? p.pod.id : p.pod.id.slice(0, 12)}\n`).join(''));
      return 0;
    }
    if (this.format && this.format.trim() === 'json') {
      this.out(JSON.stringify(pods.map((p) => podPsJson(p.pod, p.status, p.members)), null, 2) + '\n');
      return 0;
    }
    const { renderFormat } = await import('../../format/index.js');
    const rows = pods.map((p) => podPsRow(p.pod, p.status, p.members, { noTrunc: this.noTrunc }));
    const table = 'table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t{{.NumberOfContainers}}';
    this.out(
      renderFormat(this.format ?? table, rows, {
        headers: { ID: 'POD ID', InfraID: 'INFRA ID', NumberOfContainers: '# OF CONTAINERS' },
        defaultTable: table,
        noHeading: this.noheading,
        each: true,
      }),
    );
    return 0;
  }
}
