import fs from 'node:fs';
import os from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { native } from '../native/addon.js';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import { launcherPath } from '../util/paths.js';
import type { ContainerSpec } from './spec.js';

export interface MonitorParams {
  spec: ContainerSpec;
  logPath: string;
  exitFile: string;
  detach: boolean;
  interactive: boolean;
  tty: boolean;
  cleanup: string[] | null;
  notifySocket?: string;
  /** where the monitor listens for `tspod attach` */
  attachSocket?: string;
  /** in the foreground: the byte sequence that detaches (empty: none), and whether our signals reach the container */
  detachKeys?: number[];
  sigProxy?: boolean;
}

/** What `exited` resolves to when the user typed the detach keys: the container goes on without us. */
export const DETACHED = -1;

export type MonitorEvent =
  | { event: 'started'; pid: number; monitorPid: number }
  | { event: 'error'; exitCode: number; message: string }
  | { event: 'exited'; exitCode: number; signaled?: boolean }
  | { event: 'detached' };

export interface MonitorHandle {
  /** Resolves when the container has started, rejects with Podman's exit code when it could not. */
  started: Promise<{ pid: number; monitorPid: number }>;
  /** Resolves with the container's exit status (foreground only). */
  exited: Promise<number>;
}

/**
 * Start the native monitor (native/src/monitor.c) for a container. Detached,
 * the monitor outlives us; in the foreground it shares our stdio and we pass
 * our signals on to it, and it passes them on to the container.
 */
export function startMonitor(params: MonitorParams): MonitorHandle {
  return startLauncher('--monitor', params, { detach: params.detach, interactive: true, sigProxy: params.sigProxy ?? true });
}

/** SIGUSR1 that nobody proxies: the end of the CLI, with the shell's 128+N status. */
export const endOnUsr1 = (): never => process.exit(128 + 10);

/** Run a process in a running container (native/src/exec.c) with our stdio. */
export function startExec(params: { pid: number; process: ExecProcess; cgroupPath?: string; terminal?: boolean; interactive?: boolean }, opts: { detach: boolean; interactive: boolean }): MonitorHandle {
  return startLauncher('--exec', params, opts);
}

export interface ExecProcess {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  capabilities: number[];
  noNewPrivileges: boolean;
}

function startLauncher(mode: '--monitor' | '--exec', params: object, opts: { detach: boolean; interactive: boolean; sigProxy?: boolean }): MonitorHandle {
  const child = spawnLauncher(mode, params, opts);
  let onStarted!: (v: { pid: number; monitorPid: number }) => void;
  let onStartFailed!: (e: Error) => void;
  let onExited!: (code: number) => void;
  let onExitFailed!: (e: Error) => void;
  const started = new Promise<{ pid: number; monitorPid: number }>((res, rej) => ((onStarted = res), (onStartFailed = rej)));
  const exited = new Promise<number>((res, rej) => ((onExited = res), (onExitFailed = rej)));
  // Nobody may wait for `exited` (detached): don't let its rejection go unhandled.
  exited.catch(() => undefined);

  let sawStart = false;
  let exitCode: number | undefined;
  let failure: TspodError | undefined;
  let buffered = '';
  child.onText((chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let ev: MonitorEvent;
      try {
        ev = JSON.parse(line) as MonitorEvent;
      } catch {
        log.debug(`monitor said something unexpected: ${line}`);
        continue;
      }
      if (ev.event === 'started') {
        sawStart = true;
        onStarted({ pid: ev.pid, monitorPid: ev.monitorPid });
      } else if (ev.event === 'error') {
        failure = new TspodError(ev.message, { exitCode: ev.exitCode });
        onStartFailed(failure);
      } else if (ev.event === 'exited') {
        exitCode = ev.exitCode;
      } else if (ev.event === 'detached') {
        // The monitor carries on by itself; nothing of it must keep us alive.
        cleanup();
        child.detach();
        onExited(DETACHED);
      }
    }
  });

  const forwarded: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  // Ctrl-C reaches the whole foreground process group: the monitor passes it on.
  const ignoreInt = () => undefined;
  if (mode === '--exec' && opts.detach) {
    // A detached exec goes on without us: stop listening once it has started.
    started.then(() => child.detach(), () => undefined);
  }
  // --sig-proxy=false: our signals are ours (a SIGINT ends the CLI, the container goes on).
  if (!opts.detach && opts.sigProxy !== false) {
    for (const s of forwarded) process.on(s, forward);
    process.on('SIGINT', ignoreInt);
  }
  // Unproxied, SIGUSR1 ends us as it ends Podman (Node's own default would open its inspector).
  if (!opts.detach && opts.sigProxy === false) process.on('SIGUSR1', endOnUsr1);
  const cleanup = () => {
    for (const s of forwarded) process.off(s, forward);
    process.off('SIGINT', ignoreInt);
    process.off('SIGUSR1', endOnUsr1);
  };

  child.onClose((code, signal) => {
    cleanup();
    if (!sawStart && !failure) onStartFailed(new TspodError(`the container monitor ended before the container started (${signal ?? code})`));
    if (failure) onExitFailed(failure);
    else if (exitCode !== undefined) onExited(exitCode);
    else if (opts.detach) onExited(0);
    else onExitFailed(new TspodError(`the container monitor ended unexpectedly (${signal ?? `exit ${code}`})`));
  });
  return { started, exited };
}

interface LauncherChild {
  /** The launcher's events as they come, decoded as UTF-8. */
  onText(fn: (text: string) => void): void;
  kill(sig: NodeJS.Signals): void;
  /** Stop listening: the launcher goes on without us, and nothing of it keeps Node alive. */
  detach(): void;
  /** Called once, when the launcher has exited and its event pipe is closed. */
  onClose(fn: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

/**
 * The launcher as our child: fd 3 carries the parameters in, fd 4 its events out.
 * Spawned by the addon (posix_spawn), not child_process: fork() of Node costs
 * 10-16 ms of every `run`. Nothing here keeps Node alive once the events are
 * destroyed: a detached monitor goes on without us.
 */
function spawnLauncher(mode: string, params: object, opts: { detach: boolean; interactive: boolean }): LauncherChild {
  const addon = native();
  const [paramsIn, paramsOut] = addon.pipe();
  const [eventsIn, eventsOut] = addon.pipe();
  const io = opts.detach ? -1 : undefined;
  const stdin = opts.detach || !opts.interactive ? -1 : 0;
  let pid: number;
  try {
    pid = addon.spawnProcess(launcherPath(), [launcherPath(), mode], [stdin, io ?? 1, io ?? 2, paramsIn, eventsOut], mode === '--exec' && opts.detach);
  } catch (err) {
    for (const fd of [paramsIn, paramsOut, eventsIn, eventsOut]) fs.closeSync(fd);
    throw new TspodError(`cannot run tspod's launcher (${launcherPath()}): ${(err as Error).message}; reinstall tspod`);
  }
  // Only the child keeps these ends.
  fs.closeSync(paramsIn);
  fs.closeSync(eventsOut);
  try {
    // The launcher reads all of it before anything else: a blocking write cannot deadlock.
    fs.writeFileSync(paramsOut, JSON.stringify(params));
  } catch {
    // It died first: its exit status says why, below.
  }
  fs.closeSync(paramsOut);
  let status: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let detached = false;
  let onText: (text: string) => void = () => undefined;
  let onEnd: () => void = () => undefined;
  const decoder = new StringDecoder('utf8');
  let events: ReturnType<typeof addon.watchReadable>;
  try {
    events = addon.watchReadable(eventsIn, (chunk) => (chunk ? onText(decoder.write(chunk)) : onEnd()));
  } catch (err) {
    // The fd stays ours when watching fails (uv_poll refused it): close it, so the launcher finds no reader.
    fs.closeSync(eventsIn);
    throw err;
  }
  const reap = (): boolean => {
    const st = addon.reapChild(pid);
    if (!st) return false;
    status = { code: st.signal ? null : st.code, signal: st.signal ? signalName(st.signal) : null };
    return true;
  };
  return {
    onText: (fn) => (onText = fn),
    kill: (sig) => {
      if (!status) process.kill(pid, sig);
    },
    detach: () => {
      detached = true;
      events.close();
    },
    onClose: (fn) => {
      onEnd = () => {
        if (detached) return;
        // The pipe closes as the launcher exits (or hands the container to its daemon): wait for that exit.
        const poll = () => (reap() ? fn(status!.code, status!.signal) : setTimeout(poll, 2));
        poll();
      };
    },
  };
}

function signalName(n: number): NodeJS.Signals | null {
  const entry = Object.entries(os.constants.signals).find(([, v]) => v === n);
  return (entry?.[0] as NodeJS.Signals | undefined) ?? null;
}
