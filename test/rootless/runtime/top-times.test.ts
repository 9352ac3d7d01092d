import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

// top's time columns as podman 4.3.1 prints them (psgo): TIME in whole CPU seconds
// ("0s", "3s"), %CPU from those whole seconds, ELAPSED as Go's time.Duration to the
// nanosecond ("5.812989372s"), not in the 10 ms steps of the kernel's clock ticks.
const sandbox = new TspodSandbox('top-times');
const t = (args: string[]) => sandbox.run(args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  expect(t(['load', '-i', path.join(REPO_ROOT, 'dist', 'busybox-image.tar')]).status).toBe(0);
});
afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

/** utime + stime of a host process, in clock ticks (USER_HZ 100). */
function cpuTicks(hostPid: number): number {
  const stat = fs.readFileSync(`/proc/${hostPid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** Go's time.Duration.String() read back, in seconds. */
function goSeconds(d: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:([\d.]+)s)?$/.exec(d);
  if (!m || d === '') throw new Error(`not a Go duration: ${d}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

describe('top TIME, %CPU and ELAPSED', () => {
  it('a process that has used more than a second of CPU', async () => {
    expect(t(['run', '-d', '--name', 'burn', 'busybox', 'sh', '-c', 'while :; do :; done']).status).toBe(0);
    const hpid = Number(t(['top', 'burn', 'hpid']).stdout.split('\n')[1].trim());
    // Until it has had 1.2 s of CPU (the machine may be busy), at most 30 s.
    for (let i = 0; i < 300 && cpuTicks(hpid) < 120; i++) await sleep(100);
    const before = cpuTicks(hpid);
    expect(before).toBeGreaterThanOrEqual(120);
    const r = t(['top', 'burn', 'pid', 'pcpu', 'etime', 'time']);
    const after = cpuTicks(hpid);
    t(['rm', '-f', '-t', '0', 'burn']);
    expect(r.stderr).toBe('');
    const [header, row] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^PID +%CPU +ELAPSED +TIME$/);
    const [, pcpu, etime, time] = row.trim().split(/\s+/);
    // TIME: whole seconds of utime+stime.
    expect(time).toMatch(/^\d+s$/);
    expect(goSeconds(time)).toBeGreaterThanOrEqual(Math.floor(before / 100));
    expect(goSeconds(time)).toBeLessThanOrEqual(Math.floor(after / 100));
    // ELAPSED: a Go duration with more than centisecond digits (the last 7 are 0 with probability 1e-7).
    expect(etime).toMatch(/^(\d+m)?\d+\.\d+s$/);
    expect(etime.replace(/^.*\./, '').replace(/s$/, '').length).toBeGreaterThan(2);
    // %CPU: those whole seconds over the elapsed time, three decimals.
    expect(pcpu).toMatch(/^\d+\.\d{3}$/);
    expect(Number(pcpu)).toBeCloseTo((100 * goSeconds(time)) / goSeconds(etime), 1);
  }, 60_000);

  it('a process under a second of CPU shows 0s and 0.000, as podman does', () => {
    expect(t(['run', '-d', '--name', 'idle', 'busybox', 'sleep', '300']).status).toBe(0);
    const row = t(['top', 'idle', 'pcpu', 'time']).stdout.trimEnd().split('\n')[1].trim().split(/\s+/);
    expect(row).toEqual(['0.000', '0s']);
  });
});
