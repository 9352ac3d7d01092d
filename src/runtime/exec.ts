import fs from 'node:fs';
import type { GlobalContext } from '../cli/context.js';
import { TspodError } from '../util/errors.js';
import { CAPABILITIES, resolveCapabilities } from './capabilities.js';
import { parseEnv } from './create.js';
import { openStore, reconcile } from './lifecycle.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './detach-keys.js';
import { DETACHED, startExec } from './monitor-client.js';
import { DEFAULT_PATH } from './spec.js';
import { resolveUser } from './user.js';

export interface ExecOptions {
  command: string[];
  env: string[];
  user?: string;
  workdir?: string;
  detach: boolean;
  interactive: boolean;
  privileged: boolean;
  /** -t: a terminal from the container's devpts, relayed by the launcher */
  tty?: boolean;
  /** --detach-keys (default ctrl-p,ctrl-q; '' disables): with -it, typing them leaves the process running */
  detachKeys?: string;
}

/** The container's /etc/passwd and /etc/group through its live root, resolved inside it (symlinks stay in the root). */
async function containerEtcFiles(pid: number): Promise<{ passwd?: string; group?: string }> {
  const { ContainerRoot } = await import('./container-fs.js');
  let root: InstanceType<typeof ContainerRoot>;
  try {
    root = new ContainerRoot(`/proc/${pid}/root`);
  } catch {
    return {};
  }
  const read = (p: string): string | undefined => {
    try {
      const loc = root.resolve(p, true);
      return loc.stat?.isFile() ? fs.readFileSync(loc.host, 'utf8') : undefined;
    } catch {
      return undefined;
    }
  };
  try {
    const passwd = read('/etc/passwd');
    const group = read('/etc/group');
    return { ...(passwd !== undefined ? { passwd } : {}), ...(group !== undefined ? { group } : {}) };
  } finally {
    root.close();
  }
}

/** `exec`: join a running container's namespaces and run a command there. */
export async function execInContainer(ctx: GlobalContext, nameOrId: string, o: ExecOptions): Promise<number> {
  const store = openStore(ctx);
  const rec = await reconcile(store, store.get(nameOrId));
  if (rec.state.status !== 'running') {
    throw new TspodError(`can only create exec sessions on running containers: container state improper`);
  }
  if (o.command.length === 0) throw new TspodError('you must provide a command to exec');
  const detachKeys = parseDetachKeys(o.detachKeys ?? DEFAULT_DETACH_KEYS);
  const c = rec.config;
  // Names from /etc/passwd and /etc/group as the container sees them now (keep-id's entry, files changed inside).
  const etc = await containerEtcFiles(rec.state.pid);
  const user = resolveUser(o.user ?? c.user, c.rootfs, { exec: true, ...etc });
  const baseEnv = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${c.hostname}`, `HOME=${user.home}`, 'container=tspod', ...c.env];
  const env = new Map(baseEnv.concat(parseEnv(o.env)).map((e) => [e.slice(0, e.indexOf('=')), e]));
  // Podman gives a terminal session TERM=xterm unless the container or -e set one.
  if (o.tty && !env.has('TERM')) env.set('TERM', 'TERM=xterm');
  const caps = resolveCapabilities({ add: c.capAdd, drop: c.capDrop, privileged: c.privileged || o.privileged });
  // detachKeys goes to the launcher (native/src/exec.c) with the rest of the parameters.
  const params: Parameters<typeof startExec>[0] & { detachKeys?: number[] } = {
    pid: rec.state.pid,
    ...(o.tty ? { terminal: true, interactive: o.interactive, ...(o.interactive ? { detachKeys } : {}) } : {}),
    // exec'd processes join the container's cgroup: pause freezes them too
    ...(rec.state.cgroupPath ? { cgroupPath: rec.state.cgroupPath } : {}),
    process: {
      args: o.command,
      env: [...env.values()],
      cwd: o.workdir ?? c.workdir,
      user,
      capabilities: caps.map((name) => CAPABILITIES[name]),
      noNewPrivileges: !(c.privileged || o.privileged),
    },
  };
  const handle = startExec(params, { detach: o.detach, interactive: o.interactive });
  await handle.started;
  if (o.detach) return 0;
  // Detached with the keys: the session goes on in the container, and we end as Podman does (0).
  const code = await handle.exited;
  return code === DETACHED ? 0 : code;
}
