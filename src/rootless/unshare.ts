import { spawn } from 'node:child_process';
import os from 'node:os';
import type { GlobalContext } from '../cli/context.js';
import { ExitCode, TspodError } from '../util/errors.js';
import { resolveCommand } from '../util/which.js';

/**
 * Run a command inside the rootless namespace (this process is already in it),
 * with stdio inherited. Exit status as a shell gives it: the command's own,
 * 127 not found, 126 not executable, 128+N on signal N.
 */
export function runInNamespace(argv: string[], ctx: GlobalContext): Promise<number> {
  const command = argv.length > 0 ? argv : [process.env.SHELL || '/bin/sh'];
  const found = resolveCommand(command[0]);
  if ('error' in found) {
    return Promise.reject(
      found.error === 'notFound'
        ? new TspodError(`${command[0]}: command not found`, { exitCode: ExitCode.NotFound })
        : new TspodError(`${command[0]}: permission denied`, { exitCode: ExitCode.CannotInvoke }),
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn(found.path, command.slice(1), {
      argv0: command[0],
      stdio: 'inherit',
      env: {
        ...userEnvironment(),
        // As podman unshare does: tell the command where the store is.
        CONTAINERS_GRAPHROOT: ctx.storageRoot,
        CONTAINERS_RUNROOT: ctx.runRoot,
      },
    });
    // Ctrl-C reaches the child through the terminal; we only wait for it.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    process.on('SIGQUIT', ignore);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new TspodError(`${command[0]}: command not found`, { exitCode: ExitCode.NotFound }));
      else if (err.code === 'EACCES') reject(new TspodError(`${command[0]}: permission denied`, { exitCode: ExitCode.CannotInvoke }));
      else reject(new TspodError(`cannot run ${command[0]}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGQUIT', ignore);
      resolve(signal ? 128 + (os.constants.signals[signal] ?? 0) : (code ?? ExitCode.EngineError));
    });
  });
}

/** The caller's environment as it was before the launcher set NODE_EXTRA_CA_CERTS aside. */
function userEnvironment(): NodeJS.ProcessEnv {
  const { TSPOD_EXTRA_CA_CERTS: extraCa, ...env } = process.env;
  return extraCa ? { ...env, NODE_EXTRA_CA_CERTS: extraCa } : env;
}
