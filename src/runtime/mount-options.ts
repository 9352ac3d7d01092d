import path from 'node:path';
import { TspodError } from '../util/errors.js';

/** A mount the user asked for with -v, --mount or --tmpfs, before volumes are resolved. */
export interface UserMount {
  kind: 'bind' | 'volume' | 'tmpfs';
  /** host path (bind) or volume name (volume); empty for an anonymous volume */
  source: string;
  destination: string;
  readonly: boolean;
  /** chown the source to the container's user (:U) */
  chown: boolean;
  /** tmpfs mount data (size=, mode=) */
  tmpfsOptions?: string;
}

const VOLUME_OPTIONS = new Set(['ro', 'rw', 'z', 'Z', 'U', 'O', 'rbind', 'bind', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'copy', 'nocopy']);

function checkDestination(dest: string, flag: string): string {
  if (!dest.startsWith('/')) throw new TspodError(`invalid container path "${dest}" in ${flag}: it must be absolute`);
  return path.posix.normalize(dest);
}

/** `-v [SOURCE:]DEST[:OPTIONS]`: a path source is a bind mount, a name a named volume. */
export function parseVolumeFlag(spec: string): UserMount {
  const parts = spec.split(':');
  if (parts.length > 3 || spec === '') throw new TspodError(`invalid volume "${spec}": use -v [SOURCE:]DESTINATION[:OPTIONS]`);
  let source = '';
  let dest: string;
  let opts: string[] = [];
  if (parts.length === 1) dest = parts[0];
  else if (parts.length === 2 && !parts[1].split(',').every((o) => VOLUME_OPTIONS.has(o))) [source, dest] = parts;
  else if (parts.length === 2) {
    [dest] = parts;
    opts = parts[1].split(',');
  } else {
    [source, dest] = parts;
    opts = parts[2].split(',');
  }
  for (const o of opts) {
    if (!VOLUME_OPTIONS.has(o)) throw new TspodError(`invalid option "${o}" in -v ${spec}: use ro, rw, z, Z or U`);
  }
  if (opts.includes('O')) throw new TspodError(`overlay volumes (:O) are not supported yet in -v ${spec}`);
  const isPath = source.startsWith('/') || source.startsWith('.');
  return {
    kind: source === '' ? 'volume' : isPath ? 'bind' : 'volume',
    source: isPath ? path.resolve(source) : source,
    destination: checkDestination(dest, `-v ${spec}`),
    readonly: opts.includes('ro'),
    chown: opts.includes('U'),
  };
}

/** `--mount type=bind|volume|tmpfs,source=,target=[,readonly][,tmpfs-size=][,tmpfs-mode=]` */
export function parseMountFlag(spec: string): UserMount {
  const kv = new Map<string, string>();
  for (const item of spec.split(',')) {
    const eq = item.indexOf('=');
    kv.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? '' : item.slice(eq + 1));
  }
  const type = kv.get('type');
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    throw new TspodError(`invalid --mount "${spec}": type must be bind, volume or tmpfs`);
  }
  const target = kv.get('target') ?? kv.get('destination') ?? kv.get('dst');
  if (!target) throw new TspodError(`invalid --mount "${spec}": it needs target=`);
  const source = kv.get('source') ?? kv.get('src') ?? '';
  if (type === 'bind' && !source) throw new TspodError(`invalid --mount "${spec}": a bind mount needs source=`);
  const ro = kv.has('readonly') || kv.has('ro') ? kv.get('readonly') !== 'false' && kv.get('ro') !== 'false' : false;
  const tmpfs: string[] = [];
  if (kv.has('tmpfs-size')) tmpfs.push(`size=${kv.get('tmpfs-size')}`);
  if (kv.has('tmpfs-mode')) tmpfs.push(`mode=${kv.get('tmpfs-mode')}`);
  return {
    kind: type,
    source: type === 'bind' ? path.resolve(source) : source,
    destination: checkDestination(target, `--mount ${spec}`),
    readonly: ro,
    chown: kv.has('U') || kv.get('chown') === 'true',
    ...(type === 'tmpfs' ? { tmpfsOptions: tmpfs.join(',') } : {}),
  };
}

/** `--tmpfs DEST[:OPTIONS]` */
export function parseTmpfsFlag(spec: string): UserMount {
  const colon = spec.indexOf(':');
  const dest = colon < 0 ? spec : spec.slice(0, colon);
  return {
    kind: 'tmpfs',
    source: '',
    destination: checkDestination(dest, `--tmpfs ${spec}`),
    readonly: false,
    chown: false,
    tmpfsOptions: colon < 0 ? '' : spec.slice(colon + 1),
  };
}

/** Two mounts on one destination is a mistake Podman refuses too. */
export function checkDuplicates(mounts: UserMount[]): void {
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.destination)) throw new TspodError(`${m.destination}: duplicate mount destination`);
    seen.add(m.destination);
  }
}
