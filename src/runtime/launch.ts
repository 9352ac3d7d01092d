import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import { launcherPath } from '../util/paths.js';
import type { ContainerSpec } from './spec.js';

type LauncherEvent =
  | { event: 'started'; pid: number }
  | { event: 'error'; exitCode: number; message: string }
  | { event: 'exited'; exitCode: number; signaled?: boolean };

/**
 * Run a container in the foreground: the launcher gets the spec on fd 3 and
 * reports on fd 4; the container shares our stdio. Resolves with the exit
 * status Podman would give (the container's, or 125/126/127 from the launcher).
 */
export function runForeground(spec: ContainerSpec, opts: { onStarted?: (pid: number) => void } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(launcherPath(), ['--container'], { stdio: ['inherit', 'inherit', 'inherit', 'pipe', 'pipe'] });
    const specPipe = child.stdio[3] as Writable;
    const events = child.stdio[4] as Readable;
    specPipe.end(JSON.stringify(spec));

    let failure: { exitCode: number; message: string } | undefined;
    let exitCode: number | undefined;
    let buffered = '';
    events.setEncoding('utf8');
    events.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let ev: LauncherEvent;
        try {
          ev = JSON.parse(line) as LauncherEvent;
        } catch {
          log.debug(`launcher said something unexpected: ${line}`);
          continue;
        }
        if (ev.event === 'started') opts.onStarted?.(ev.pid);
        else if (ev.event === 'error') failure = { exitCode: ev.exitCode, message: ev.message };
        else if (ev.event === 'exited') exitCode = ev.exitCode;
      }
    });

    // Signals for tspod go to the container (the launcher passes them on to its init).
    const forwarded: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    const ignoreInt = () => {
      // Ctrl-C reaches the whole foreground process group; the container decides.
    };
    for (const s of forwarded) process.on(s, forward);
    process.on('SIGINT', ignoreInt);
    const cleanup = () => {
      for (const s of forwarded) process.off(s, forward);
      process.off('SIGINT', ignoreInt);
    };

    child.on('error', (err) => {
      cleanup();
      reject(new TspodError(`cannot run tspod's launcher (${launcherPath()}): ${err.message}; reinstall tspod`));
    });
    child.on('close', (code, signal) => {
      cleanup();
      if (failure) {
        reject(new TspodError(failure.message, { exitCode: failure.exitCode }));
        return;
      }
      if (exitCode !== undefined) resolve(exitCode);
      else if (signal) reject(new TspodError(`tspod's launcher was killed by ${signal} before the container finished`));
      else resolve(code ?? 125);
    });
  });
}
