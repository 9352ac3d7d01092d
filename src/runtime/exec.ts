import type { GlobalContext } from '../cli/context.js';
import { TspodError } from '../util/errors.js';
import { CAPABILITIES, resolveCapabilities } from './capabilities.js';
import { parseEnv } from './create.js';
import { openStore, reconcile } from './lifecycle.js';
import { startExec } from './monitor-client.js';
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
}

/** `exec`: join a running container's namespaces and run a command there. */
export async function execInContainer(ctx: GlobalContext, nameOrId: string, o: ExecOptions): Promise<number> {
  const store = openStore(ctx);
  const rec = await reconcile(store, store.get(nameOrId));
  if (rec.state.status !== 'running') {
    throw new TspodError(`can only create exec sessions on running containers: container state improper`);
  }
  if (o.command.length === 0) throw new TspodError('you must provide a command to exec');
  const c = rec.config;
  const user = resolveUser(o.user ?? c.user, c.rootfs);
  const baseEnv = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${c.hostname}`, `HOME=${user.home}`, 'container=tspod', ...c.env];
  const env = new Map(baseEnv.concat(parseEnv(o.env)).map((e) => [e.slice(0, e.indexOf('=')), e]));
  // Podman gives a terminal session TERM=xterm unless the container or -e set one.
  if (o.tty && !env.has('TERM')) env.set('TERM', 'TERM=xterm');
  const caps = resolveCapabilities({ add: c.capAdd, drop: c.capDrop, privileged: c.privileged || o.privileged });
  const handle = startExec(
    {
      pid: rec.state.pid,
      ...(o.tty ? { terminal: true, interactive: o.interactive } : {}),
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
    },
    { detach: o.detach, interactive: o.interactive },
  );
  await handle.started;
  if (o.detach) return 0;
  return handle.exited;
}
