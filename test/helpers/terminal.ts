import { spawnSync } from 'node:child_process';
import { TSPOD_BIN, type TspodSandbox } from './tspod.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

let count = 0;

/**
 * A terminal a person would type into: a tmux session (send-keys, capture-pane)
 * running one shell line with $T the tspod command; the line's exit status is
 * shown as CLI-EXIT=N when it ends, and the pane stays for reading.
 */
export class Terminal {
  private readonly socket = `tspod-term-${process.pid}-${count++}`;
  constructor(sandbox: TspodSandbox, line: string) {
    const env = Object.entries({ ...sandbox.env, T: TSPOD_BIN }).map(([k, v]) => `${k}=${shq(v ?? '')}`);
    const cmd = `env -i ${env.join(' ')} sh -c ${shq(`${line}; echo CLI-EXIT=$?; sleep 60`)}`;
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', 'new-session', '-d', '-x', '100', '-y', '30', cmd]);
    if (r.status !== 0) throw new Error(`tmux did not start: ${r.stderr}`);
  }
  keys(...keys: string[]): void {
    spawnSync('tmux', ['-L', this.socket, 'send-keys', ...keys]);
  }
  screen(): string {
    return spawnSync('tmux', ['-L', this.socket, 'capture-pane', '-p'], { encoding: 'utf8' }).stdout;
  }
  async waitFor(text: string | RegExp, ms = 30_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = this.screen();
      if (typeof text === 'string' ? s.includes(text) : text.test(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${text} on the terminal; the screen:\n${s}`);
      await sleep(50);
    }
  }
  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
