import type { GlobalContext } from '../cli/context.js';
import type { ContainerRecord, ContainerStore } from '../runtime/container-store.js';
import { openStore, reconcile, removeContainer } from '../runtime/lifecycle.js';
import { withLock } from '../storage/lock.js';
import { TspodError } from '../util/errors.js';
import { connectRunning, disconnectRunning, type NetworkAttachment } from './bridge.js';
import { removeBridge } from './bridge-netns.js';
import { parseUserNetworks } from './bridge-options.js';
import { parseNetworkMode } from './mode.js';
import { DEFAULT_NETWORK, type NetworkRecord, NetworkStore } from './networks-store.js';

/** The networks a container is attached to (its --network names, as changed by connect/disconnect). */
export function attachmentsOf(rec: ContainerRecord): NetworkAttachment[] {
  if (rec.config.networks) return rec.config.networks;
  const mode = parseNetworkMode(rec.config.network);
  return mode.kind === 'network' ? [{ name: mode.name === 'bridge' ? DEFAULT_NETWORK.name : mode.name, aliases: [] }] : [];
}

export function containersUsingNetwork(store: ContainerStore, name: string): ContainerRecord[] {
  return store.list().filter((c) => attachmentsOf(c).some((a) => a.name === name));
}

/** `network rm`: refused while a container uses the network, unless forced (the containers go first, as in Podman). */
export async function removeNetworks(ctx: GlobalContext, names: string[], force: boolean): Promise<{ removed: string[]; errors: TspodError[] }> {
  const networks = new NetworkStore(ctx.storageRoot);
  const store = openStore(ctx);
  const removed: string[] = [];
  const errors: TspodError[] = [];
  for (const name of names) {
    try {
      const n = networks.get(name);
      if (n.name === DEFAULT_NETWORK.name) throw new TspodError(`default network ${n.name} cannot be removed`);
      const users = containersUsingNetwork(store, n.name);
      if (users.length && !force) {
        throw new TspodError(
          `"${n.name}" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used`,
          { exitCode: 2 },
        );
      }
      for (const c of users) await removeContainer(store, c.id, { force: true });
      removeBridge(ctx.runRoot, n);
      await networks.remove(n.name);
      removed.push(n.name);
    } catch (err) {
      if (!(err instanceof TspodError)) throw err;
      errors.push(err);
    }
  }
  return { removed, errors };
}

/** Networks no container uses (never the default one). */
export function unusedNetworks(ctx: GlobalContext): NetworkRecord[] {
  const store = openStore(ctx);
  return new NetworkStore(ctx.storageRoot)
    .list()
    .filter((n) => n.name !== DEFAULT_NETWORK.name && containersUsingNetwork(store, n.name).length === 0);
}

function requireBridged(rec: ContainerRecord): void {
  const mode = parseNetworkMode(rec.config.network);
  if (mode.kind !== 'network') {
    throw new TspodError(`network connect is not enabled for containers that are not using bridge networking: container ${rec.name} uses ${rec.config.network}`);
  }
}

/** `network connect`: a stopped container gets the network at its next start, a running one now. */
export async function connectContainer(
  ctx: GlobalContext,
  network: string,
  container: string,
  flags: { ip?: string; ip6?: string; mac?: string; aliases: string[] },
): Promise<void> {
  const store = openStore(ctx);
  const n = new NetworkStore(ctx.storageRoot).get(network);
  const found = store.get(container);
  await withLock(store.lockPath(found.id), async () => {
    const rec = await reconcile(store, store.get(found.id));
    requireBridged(rec);
    const current = attachmentsOf(rec);
    if (current.some((a) => a.name === n.name)) throw new TspodError(`container ${rec.id} is already connected to network "${n.name}"`);
    const parsed = parseUserNetworks(ctx.storageRoot, n.name, flags);
    if (!Array.isArray(parsed)) throw new TspodError(`cannot connect to network ${n.name}`);
    const attachment = parsed[0];
    if (rec.state.status === 'running') connectRunning(ctx.storageRoot, store, rec, attachment);
    await store.update(rec.id, (r) => {
      r.config.networks = [...current, attachment];
    });
  });
}

/** `network disconnect`: the container leaves the network (now, if it runs). */
export async function disconnectContainer(ctx: GlobalContext, network: string, container: string): Promise<void> {
  const store = openStore(ctx);
  const n = new NetworkStore(ctx.storageRoot).get(network);
  const found = store.get(container);
  await withLock(store.lockPath(found.id), async () => {
    const rec = await reconcile(store, store.get(found.id));
    const current = attachmentsOf(rec);
    if (!current.some((a) => a.name === n.name)) throw new TspodError(`container ${rec.id} is not connected to network ${n.name}`);
    if (rec.state.status === 'running') disconnectRunning(store, rec, n.name);
    await store.update(rec.id, (r) => {
      r.config.networks = current.filter((a) => a.name !== n.name);
      // The mode names the first remaining network; with none left, the container keeps an unconnected namespace.
      if (r.config.networks.length) r.config.network = r.config.networks[0].name;
    });
  });
}
