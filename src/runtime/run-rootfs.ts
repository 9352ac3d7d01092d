import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { GlobalContext } from '../cli/context.js';
import { requireUserNamespace } from '../rootless/userns.js';
import { TspodError } from '../util/errors.js';
import { resolveCapabilities } from './capabilities.js';
import { writeEtcFiles } from './etc-files.js';
import { runForeground } from './launch.js';
import { buildSpec } from './spec.js';
import { resolveUser } from './user.js';

export interface RootfsRunOptions {
  rootfs: string;
  command: string[];
  env: string[];
  workdir?: string;
  hostname?: string;
  network?: string;
  user?: string;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  readOnly: boolean;
}

/** `-e KEY=VALUE`, or `-e KEY` to pass the host's value on (dropped when unset), as Podman does. */
export function parseEnv(items: string[], host: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new TspodError(`invalid environment variable "${item}": expected KEY=VALUE`);
    if (eq > 0) out.set(item.slice(0, eq), item.slice(eq + 1));
    else if (host[item] !== undefined) out.set(item, host[item]!);
  }
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/** Foreground run of an exploded root filesystem (`run --rootfs DIR CMD...`). */
export async function runRootfsContainer(ctx: GlobalContext, opts: RootfsRunOptions): Promise<number> {
  const rootfs = path.resolve(opts.rootfs);
  if (!fs.statSync(rootfs, { throwIfNoEntry: false })?.isDirectory()) {
    throw new TspodError(`the root filesystem ${opts.rootfs} is not a directory`);
  }
  const network = opts.network ?? 'none';
  if (network !== 'none' && network !== 'host') {
    throw new TspodError(`network mode "${network}" is not available yet: use --network none or --network host`);
  }
  if (opts.command.length === 0) throw new TspodError('no command given: with --rootfs, name the command to run after the directory');
  await requireUserNamespace();

  const id = crypto.randomBytes(32).toString('hex');
  const hostname = opts.hostname ?? id.slice(0, 12);
  const user = resolveUser(opts.user, rootfs);
  const userdata = path.join(ctx.runRoot, 'containers', id, 'userdata');
  try {
    const etcFiles = writeEtcFiles(userdata, hostname, network !== 'host');
    const spec = buildSpec({
      rootfs,
      args: opts.command,
      env: [`HOSTNAME=${hostname}`, `HOME=${user.home}`, 'container=tspod', ...parseEnv(opts.env)],
      cwd: opts.workdir ?? '/',
      hostname,
      user,
      capabilities: resolveCapabilities({ add: opts.capAdd, drop: opts.capDrop, privileged: opts.privileged }),
      hostNetwork: network === 'host',
      readonlyRootfs: opts.readOnly,
      privileged: opts.privileged,
      etcFiles,
      extraMounts: [],
      ttyGroupMapped: gidMapped(5),
    });
    return await runForeground(spec);
  } finally {
    fs.rmSync(path.dirname(userdata), { recursive: true, force: true });
  }
}

function gidMapped(gid: number): boolean {
  try {
    return fs
      .readFileSync('/proc/self/gid_map', 'utf8')
      .split('\n')
      .some((l) => {
        const [inside, , size] = l.trim().split(/\s+/).map(Number);
        return gid >= inside && gid < inside + size;
      });
  } catch {
    return false;
  }
}
