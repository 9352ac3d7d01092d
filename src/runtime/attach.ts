import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TspodError } from '../util/errors.js';
import type { ContainerStore } from './container-store.js';
import { DetachKeyFilter } from './detach-keys.js';
import { reconcile } from './lifecycle.js';
import { DETACHED, endOnUsr1 } from './monitor-client.js';

/* Frames on the monitor's attach socket (native/src/monitor.c): [type:1][length:4 BE][payload]. */
const FRAME_STDIN = 0;
const FRAME_STDOUT = 1;
const FRAME_STDERR = 2;
const FRAME_EXIT = 3;
const FRAME_STDIN_EOF = 4;
const FRAME_RESIZE = 5;

function frame(type: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

export interface AttachOptions {
  /** the detach sequence as bytes; empty disables */
  detachKeys: number[];
  /** send our stdin (only for a container created with -i) */
  stdin: boolean;
  /** pass the signals we receive to the container's process */
  sigProxy: boolean;
}

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGCONT'];

/**
 * Attach our terminal (or pipes) to a running container through its monitor's
 * socket: its output comes to us, our input goes to it, a terminal's window size
 * follows ours. Resolves with the container's exit code, or DETACHED when the
 * user typed the detach keys (the container goes on).
 */
export async function attachContainer(store: ContainerStore, nameOrId: string, opts: AttachOptions): Promise<number> {
  const rec = await reconcile(store, store.get(nameOrId));
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
    throw new TspodError(`you can only attach to running containers: ${rec.name} is ${rec.state.status}; start it with 'tspod start -a ${rec.name}'`);
  }
  const socketFile = store.attachSocket(rec.id);
  // The full path may be longer than a unix socket address allows: reach it through an open directory.
  let dirFd: number;
  try {
    dirFd = fs.openSync(path.dirname(socketFile), 'r');
  } catch (err) {
    throw new TspodError(`cannot attach to ${rec.name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const sock = net.connect(`/proc/self/fd/${dirFd}/${path.basename(socketFile)}`);
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
  } catch (err) {
    sock.destroy();
    throw new TspodError(
      `cannot attach to ${rec.name}: its monitor does not accept attach connections (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); it was started by an older tspod`,
    );
  } finally {
    fs.closeSync(dirFd);
  }

  const tty = rec.config.tty === true;
  const stdin = process.stdin;
  const useStdin = opts.stdin && rec.config.interactive;
  const raw = tty && useStdin && stdin.isTTY === true;
  const filter = new DetachKeyFilter(opts.detachKeys);

  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      if (raw) stdin.setRawMode(false);
      stdin.off('data', onInput);
      stdin.off('end', onInputEnd);
      stdin.pause();
      process.stdout.off('resize', sendSize);
      for (const s of PROXIED) process.off(s, proxy);
      sock.destroy();
      resolve(code);
    };

    // Output: frames of stdout, stderr, and at last the exit code.
    let pending: Buffer = Buffer.alloc(0);
    let exitCode: number | undefined;
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 5) {
        const len = pending.readUInt32BE(1);
        if (pending.length < 5 + len) break;
        const type = pending[0];
        const payload = pending.subarray(5, 5 + len);
        pending = pending.subarray(5 + len);
        if (type === FRAME_STDOUT) process.stdout.write(payload);
        else if (type === FRAME_STDERR) process.stderr.write(payload);
        else if (type === FRAME_EXIT && len === 4) exitCode = payload.readInt32BE(0);
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (exitCode !== undefined) return finish(exitCode);
      // The monitor went without a word (killed?): what reconcile finds is the answer.
      void reconcile(store, store.get(rec.id)).then(
        (now) => finish(now.state.status === 'exited' ? now.state.exitCode : 125),
        () => finish(125),
      );
    });

    // Input, with the detach keys watched for.
    const onInput = (chunk: Buffer) => {
      const { pass, detach } = filter.feed(chunk);
      if (pass.length) sock.write(frame(FRAME_STDIN, pass));
      if (detach) finish(DETACHED);
    };
    const onInputEnd = () => {
      const held = filter.flush();
      if (held.length) sock.write(frame(FRAME_STDIN, held));
      sock.write(frame(FRAME_STDIN_EOF));
    };
    if (useStdin) {
      if (raw) stdin.setRawMode(true);
      stdin.on('data', onInput);
      stdin.on('end', onInputEnd);
      stdin.resume();
    }

    // The window size of a terminal container follows ours.
    const sendSize = () => {
      const { rows, columns } = process.stdout;
      if (!rows || !columns) return;
      const p = Buffer.alloc(4);
      p.writeUInt16BE(rows, 0);
      p.writeUInt16BE(columns, 2);
      sock.write(frame(FRAME_RESIZE, p));
    };
    if (tty && process.stdout.isTTY) {
      sendSize();
      process.stdout.on('resize', sendSize);
    }

    // --sig-proxy: what we are sent goes to the container's process.
    const proxy = (sig: NodeJS.Signals) => {
      try {
        process.kill(rec.state.pid, sig);
      } catch {
        // gone already: its exit frame is on its way
      }
    };
    if (opts.sigProxy) for (const s of PROXIED) process.on(s, proxy);
    else process.on('SIGUSR1', endOnUsr1);
  });
}
