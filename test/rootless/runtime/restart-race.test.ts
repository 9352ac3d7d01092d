import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

// A `stop` that lands between two runs of a restart policy must leave the container
// stopped, every time: the container exits at once and its monitor's cleanup restarts
// it over and over, and stops come at random moments of that cycle.
const sandbox = new TspodSandbox('restart-race');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t = (args: string[]) => sandbox.run(args);

beforeAll(async () => {
  expect((await t(['load', '-i', path.join(REPO_ROOT, 'dist', 'busybox-image.tar')])).status).toBe(0);
});
afterAll(async () => {
  await t(['rm', '-a', '-f']);
  sandbox.dispose();
});

/** Processes of this sandbox's `container cleanup ID` (the monitor runs one when the container exits). */
function cleanupsRunning(id: string): number {
  let n = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.includes('cleanup') && argv.includes(id)) n++;
    } catch {
      // gone
    }
  }
  return n;
}

/** Once no cleanup of the container is left, nothing can start it again: wait for that (false: it kept cycling). */
async function settled(id: string): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  let quiet = 0;
  while (quiet < 3) {
    if (Date.now() > deadline) return false;
    quiet = cleanupsRunning(id) === 0 ? quiet + 1 : 0;
    await sleep(100);
  }
  return true;
}

/** Status, restart count and start time as the store holds them (read straight from it: no process per look). */
function state(id: string): string {
  const file = path.join(sandbox.home, '.local', 'share', 'tspod', 'containers', 'containers.json');
  const s = (JSON.parse(fs.readFileSync(file, 'utf8')) as { containers: Record<string, { state: { status: string; restartCount?: number; startedAt?: string } }> }).containers[id].state;
  return `${s.status} ${s.restartCount ?? 0} ${s.startedAt}`;
}

describe('stop against --restart=always', () => {
  it('a stop at any moment of the restart cycle leaves the container stopped (20 stops, over 4 containers at once)', async () => {
    const failures: string[] = [];
    let restartsSeen = 0;
    // Four containers cycle side by side (more contention for the locks, and the 20 stops take a quarter of the time).
    const flap = async (name: string) => {
      const run = await sandbox.runAsync(['run', '-d', '--name', name, '--network', 'none', '--restart=always', 'busybox', 'sh', '-c', 'exit 0']);
      expect(run.status).toBe(0);
      const id = run.stdout.trim();
      for (let i = 0; i < 5; i++) {
        // Anywhere in the cycle: while it runs, while its cleanup decides, while the next start is under way.
        await sleep(Math.floor(Math.random() * 300));
        const stop = await sandbox.runAsync(['stop', '-t', '0', name]);
        expect(stop.status).toBe(0);
        const after = state(id);
        const quiet = await settled(id);
        const later = state(id);
        if (!quiet || !after.startsWith('exited ') || later !== after) {
          failures.push(`${name}, stop ${i + 1}: right after it "${after}", ${quiet ? 'once settled' : 'still restarting 10 s later'} "${later}"`);
          if (!quiet) await sandbox.runAsync(['stop', '-t', '0', name]); // (old code: a second stop usually lands)
        }
        restartsSeen += Number(later.split(' ')[1]) > 0 ? 1 : 0;
        // Started again by hand, it cycles again (a user's start clears the stop).
        if (i < 4) expect((await sandbox.runAsync(['start', name])).status).toBe(0);
      }
    };
    await Promise.all(['flap1', 'flap2', 'flap3', 'flap4'].map(flap));
    expect(failures).toEqual([]);
    // The policy really was at work between the stops.
    expect(restartsSeen).toBeGreaterThan(0);
  }, 120_000);
});
