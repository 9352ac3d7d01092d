import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class ContainerInspectCommand extends TspodCommand {
  static override paths = [['container', 'inspect'], ['inspect']];
  static override usage = Command.Usage({ category: 'Containers', description: 'Display the configuration of a container' });

  format = Option.String('-f,--format', { description: 'Format the output to a Go template or json' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  size = Option.Boolean('-s,--size', false, { description: 'Display the total file size (SizeRw, SizeRootFs)' });
  names = Option.Rest();

  async execute(): Promise<number> {
    const { openStore, reconcile } = await import('../../runtime/lifecycle.js');
    const { inspectJson } = await import('../../runtime/present.js');
    const { reportError } = await import('../errors.js');
    const { TspodError } = await import('../../util/errors.js');
    const store = openStore(this.globals);
    const names = this.latest ? [store.list()[0]?.id].filter(Boolean) as string[] : this.names;
    if (names.length === 0) throw new TspodError('you must provide at least one container name or ID, or --latest');
    const found = [];
    let status = 0;
    for (const name of names) {
      try {
        const rec = await reconcile(store, store.get(name));
        const data: Record<string, unknown> = inspectJson(rec, store.logPath(rec.id));
        // Containers on user-defined networks: their addresses there (src/network/bridge.ts).
        const { attachmentsOf } = await import('../../network/admin.js');
        const attached = attachmentsOf(rec);
        if (attached.length) {
          const { bridgeNetworkSettings } = await import('../../network/bridge.js');
          const settings = bridgeNetworkSettings(this.globals.storageRoot, store, rec, attached);
          data.NetworkSettings = { ...((data.NetworkSettings as object) ?? {}), ...settings };
        }
        if (this.size) {
          // The layer holds files of the container's users: read it inside the user namespace.
          await (await import('../../rootless/userns.js')).requireUserNamespace();
          const size = await (await import('../../runtime/container-size.js')).containerSize(this.globals.storageRoot, rec);
          Object.assign(data, { SizeRw: size.rwSize, SizeRootFs: size.rootFsSize });
        }
        found.push(data);
      } catch (err) {
        // Podman's inspect: a name that is no container may name an image.
        const { inspectImageIfKnown } = await import('../../image/present.js');
        const image = this.latest ? undefined : inspectImageIfKnown(this.globals.storageRoot, this.globals.storageDriver ?? 'overlay', name);
        if (image) found.push(image);
        else status = reportError(err);
      }
    }
    if (this.format && this.format.trim() !== 'json') {
      const { renderFormat } = await import('../../format/index.js');
      this.out(renderFormat(this.format, found, { each: true }));
    } else {
      this.out(JSON.stringify(found, null, 4) + '\n');
    }
    return status;
  }
}
