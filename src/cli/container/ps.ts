import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class PsCommand extends TspodCommand {
  static override paths = [['ps'], ['container', 'ps'], ['container', 'ls'], ['container', 'list']];
  static override usage = Command.Usage({ category: 'Containers', description: 'List containers' });

  all = Option.Boolean('-a,--all', false, { description: 'Show all the containers, default is only running containers' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print the numeric IDs of the containers only' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  last = Option.String('-n,--last', { description: 'Print the n last created containers (all states)' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Display the extended information' });
  format = Option.String('--format', { description: 'Pretty-print containers to JSON or using a Go template' });
  filters = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions given (name=, id=, status=, label=, exited=, ancestor=, volume=, before=, since=, pod=, network=)' });
  noheading = Option.Boolean('--noheading', false, { description: 'Do not print headers' });
  pod = Option.Boolean('-p,--pod', false, { description: 'Show the pod ID and name of each container' });
  size = Option.Boolean('-s,--size', false, { description: 'Display the total file sizes' });
  sort = Option.String('--sort', 'created', { description: 'Sort output by: command, created, id, image, names, runningfor, size, status' });

  async execute(): Promise<number> {
    const { openStore, reconcileAll } = await import('../../runtime/lifecycle.js');
    const { containerMatches } = await import('../../runtime/filters.js');
    const { psRow, psJson } = await import('../../runtime/present.js');
    const { renderFormat } = await import('../../format/index.js');
    let recs = await reconcileAll(openStore(this.globals));
    const lastN = this.last === undefined ? undefined : Number(this.last);
    const showAll = this.all || this.latest || (lastN !== undefined && lastN >= 0) || this.filters.length > 0;
    if (!showAll) recs = recs.filter((r) => r.state.status === 'running' || r.state.status === 'paused');
    // pod=NAME filters by the pod's id, as the record keeps it.
    const { openPodStore } = await import('../../pod/pods.js');
    const pods = openPodStore(this.globals);
    const store = openStore(this.globals);
    const filters = this.filters.map((f) => {
      if (f.startsWith('pod=')) return `pod=${pods.find(f.slice(4))?.id ?? f.slice(4)}`;
      // before=/since= name a container: compare creation times (a missing one is an error, as in Podman)
      const m = /^(before|since)=(.*)$/.exec(f);
      return m ? `${m[1]}=${store.get(m[2]).created}` : f;
    });
    recs = recs.filter((r) => containerMatches(r, filters));
    if (this.latest) recs = recs.slice(0, 1);
    if (lastN !== undefined && lastN >= 0) recs = recs.slice(0, lastN);
    const { PS_SORT_KEYS, sortContainers } = await import('../../runtime/ps-sort.js');
    if (!PS_SORT_KEYS.includes(this.sort)) {
      const { TspodError } = await import('../../util/errors.js');
      throw new TspodError(`invalid argument "${this.sort}" for "--sort" flag: choose from ${PS_SORT_KEYS.join(', ')}`);
    }
    const sizes = new Map<string, { rootFsSize: number; rwSize: number }>();
    if (this.size || this.sort === 'size') {
      // The upper dirs hold files of the container's users: read them inside the user namespace.
      const { requireUserNamespace } = await import('../../rootless/userns.js');
      await requireUserNamespace();
      const { containerSize } = await import('../../runtime/container-size.js');
      for (const r of recs) sizes.set(r.id, await containerSize(this.globals.storageRoot, r));
    }
    recs = sortContainers(recs, this.sort, sizes);
    if (this.quiet) {
      this.out(recs.map((r) => `${this.noTrunc ? r.id : r.id.slice(0, 12)}\n`).join(''));
      return 0;
    }
    if (this.format && this.format.trim() === 'json') {
      this.out(JSON.stringify(recs.map((r) => ({ ...psJson(r), Size: sizes.get(r.id) ?? null })), null, 4) + '\n');
      return 0;
    }
    const podNames = new Map(pods.list().map((p) => [p.id, p.name]));
    const { humanSize } = await import('../../image/present.js');
    const sizeText = (s?: { rootFsSize: number; rwSize: number }) => (s ? `${humanSize(s.rwSize)} (virtual ${humanSize(s.rootFsSize)})` : '');
    const rows = recs.map((r) => ({
      ...psRow(r, { noTrunc: this.noTrunc, podName: r.config.pod ? podNames.get(r.config.pod) : undefined }),
      Size: sizeText(sizes.get(r.id)),
    }));
    const table = `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${this.pod ? '\t{{.Pod}}\t{{.PodName}}' : ''}${this.size ? '\t{{.Size}}' : ''}`;
    this.out(
      renderFormat(this.format ?? table, rows, {
        headers: { ID: 'CONTAINER ID', CreatedHuman: 'CREATED', Pod: 'POD ID', PodName: 'PODNAME' },
        defaultTable: table,
        noHeading: this.noheading,
        each: true,
      }),
    );
    return 0;
  }
}
