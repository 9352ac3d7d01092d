import os from 'node:os';
import { TspodError } from '../util/errors.js';
import { inRootlessNamespace, isRootless, launcherPath } from '../util/paths.js';
import { ensurePauseProcess } from './pause.js';
import { spawn } from 'node:child_process';

/**
 * Called by every command that needs to act as root in the rootless namespace
 * (mount, chown layer files, probe overlay). Node cannot join a user namespace
 * itself, so when this process is not inside it yet, the namespace is created if
 * needed and the same command is run again through the launcher, which joins
 * before Node starts. Returns only when already inside (or running as real root).
 */
export async function requireUserNamespace(): Promise<void> {
  if (!isRootless() || inRootlessNamespace()) return;
  if (process.env._TSPOD_REEXEC === '1') {
    throw new TspodError(
      'could not join the rootless user namespace after creating it; run \'tspod system migrate\' and try again',
    );
  }
  await ensurePauseProcess();
  const code = await reexecThroughLauncher();
  process.exit(code);
}

/** Run this same command line again through the launcher and pass its result on. */
function reexecThroughLauncher(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(launcherPath(), process.argv.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, _TSPOD_REEXEC: '1', TSPOD_NODE: process.execPath },
    });
    // The child shares our terminal and gets Ctrl-C from it directly; other
    // signals sent to us are passed on.
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const handlers: [NodeJS.Signals, () => void][] = (['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[]).map(
      (s) => [s, forward(s)],
    );
    for (const [s, h] of handlers) process.on(s, h);
    process.on('SIGINT', () => {});
    child.on('error', (err) => {
      process.stderr.write(`Error: cannot run tspod's launcher: ${err.message}; reinstall tspod\n`);
      resolve(125);
    });
    child.on('exit', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      if (signal) resolve(128 + (os.constants.signals[signal] ?? 0));
      else resolve(code ?? 125);
    });
  });
}
