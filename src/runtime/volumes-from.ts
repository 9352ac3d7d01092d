import { TspodError } from '../util/errors.js';
import type { ContainerStore } from './container-store.js';
import type { UserMount } from './mount-options.js';

/**
 * `--volumes-from CONTAINER[:ro|rw]`: every volume and bind mount of the other container,
 * at the same destination, read-only as it was there unless ro/rw says otherwise.
 * Destinations the container's own -v/--mount flags cover are left to those flags.
 * Its volumes are used by name, so they are not this container's to remove with `rm -v`.
 */
export function volumesFromMounts(store: ContainerStore, specs: string[], own: UserMount[]): UserMount[] {
  const out: UserMount[] = [];
  for (const spec of specs) {
    const [name, opts, ...rest] = spec.split(':');
    if (!name || rest.length > 0) throw new TspodError(`invalid --volumes-from "${spec}": use CONTAINER[:ro|rw]`);
    let readonly: boolean | undefined;
    for (const opt of (opts ?? '').split(',').filter(Boolean)) {
      if (opt === 'ro' || opt === 'rw') readonly = opt === 'ro';
      else if (opt !== 'z' && opt !== 'Z') throw new TspodError(`invalid option "${opt}" in --volumes-from ${spec}: use ro or rw`);
    }
    const other = store.find(name);
    if (!other) throw new TspodError(`looking up container "${name}" for --volumes-from: no container with name or ID "${name}" found: no such container`);
    for (const m of other.config.mounts ?? []) {
      if (m.kind === 'tmpfs') continue;
      if ([...own, ...out].some((x) => x.destination === m.destination)) continue;
      out.push({ kind: m.kind, source: m.source, destination: m.destination, readonly: readonly ?? m.readonly, chown: false });
    }
  }
  return out;
}
