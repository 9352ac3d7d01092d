/**
 * For `run IMAGE` / `create IMAGE`: the local image, pulled first when the policy says so
 * (Podman's --pull missing|always|never|newer; newer is treated as missing). Call inside
 * the user namespace (pulling unpacks layers).
 *
 *   const img = await ensureImage(globals, 'busybox', { pull: 'missing', progress: () => process.stderr });
 *   const rootfs = await prepareContainerRootfs(globals.storageRoot, globals.runRoot, img.id, containerId);
 */
import { type LocalImage, ImageStore, resolveImage } from '../storage/image-store.js';
import { TspodError } from '../util/errors.js';
import { storeDriver } from './driver.js';

export type PullPolicy = 'missing' | 'always' | 'never' | 'newer';

export async function ensureImage(
  globals: { storageRoot: string; runRoot: string; storageDriver?: string },
  ref: string,
  // progress: asked for only when there is a pull (process.stderr alone loads tty and net, ~10 ms of every run).
  opts: { pull?: PullPolicy; progress?: () => NodeJS.WriteStream | undefined; tlsVerify?: boolean; creds?: string; authFile?: string; platform?: { os?: string; architecture?: string; variant?: string } } = {},
): Promise<LocalImage> {
  const policy = opts.pull ?? 'missing';
  if (!['missing', 'always', 'never', 'newer'].includes(policy)) {
    throw new TspodError(`invalid --pull policy "${policy}": use missing, always, never or newer`);
  }
  const store = new ImageStore(globals.storageRoot);
  const local = store.find(ref);
  if (local && policy !== 'always') return resolveImage(globals.storageRoot, local.id);
  if (!local && policy === 'never') {
    throw new TspodError(`${ref}: image not known; pull it first or use --pull missing`, { exitCode: 125 });
  }
  const { driver } = storeDriver(globals);
  // Loaded only to pull: the registry client and its TLS stack cost every `run` of a local image 10 ms.
  const { pullImage } = await import('./pull.js');
  const progress = opts.progress?.();
  const r = await pullImage(ref, {
    storageRoot: globals.storageRoot,
    runRoot: globals.runRoot,
    driver,
    ...(progress ? { progress } : {}),
    ...(opts.tlsVerify !== undefined ? { tlsVerify: opts.tlsVerify } : {}),
    ...(opts.creds !== undefined ? { creds: opts.creds } : {}),
    ...(opts.authFile ? { authFile: opts.authFile } : {}),
    ...(opts.platform ? { platform: opts.platform } : {}),
  });
  return resolveImage(globals.storageRoot, r.id);
}
