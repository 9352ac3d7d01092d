import { spawnSync } from 'node:child_process';

/** Shared by the bench scripts: wall-clock timing of whole commands, medians and tables. */
export function timeCommand(cmd: string[], env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr?.toString().trim()}`);
  return ms;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function min(xs: number[]): number {
  return Math.min(...xs);
}

export function printTable(rows: (string | number)[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const r of rows) console.log(r.map((cell, c) => String(cell).padEnd(widths[c])).join('  ').trimEnd());
}

export function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Run each case once per round, interleaved, so drift hits them all alike. */
export function interleave(cases: Record<string, () => number>, runs: number, warmup = 1): Record<string, number[]> {
  const out: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const [k, f] of Object.entries(cases)) {
      const ms = f();
      if (i >= warmup) out[k].push(ms);
    }
  }
  return out;
}

export function requireUnprivileged(bench: string): void {
  if (process.getuid?.() === 0) {
    console.error(`the ${bench} bench measures rootless operation: run it as an unprivileged user (runuser -u USER -- npm run bench -- ${bench})`);
    process.exit(2);
  }
}
