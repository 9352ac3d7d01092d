import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

// Flags of issue #5 that tspod had but no test ran: run --stop-signal/--stop-timeout,
// ps -n, logs --since/--until, volume prune.
const ARCHIVE = path.join(REPO_ROOT, 'dist', 'busybox-image.tar');
const sandbox = new TspodSandbox('flag-audit');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Each call lets the event loop turn first, so vitest's worker RPC is never starved on a busy machine.
const t = async (args: string[]) => {
  await sleep(0);
  return sandbox.run(args);
};
const inspect = async (name: string) => JSON.parse((await t(['inspect', name])).stdout)[0];

beforeAll(async () => {
  expect((await t(['load', '-i', ARCHIVE])).status).toBe(0);
});
afterAll(async () => {
  await t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('run --stop-signal and --stop-timeout', () => {
  it('stop sends the chosen signal, which the container handles', async () => {
    // sh runs its trap once the backgrounded sleep's wait is interrupted
    const r = await t(['run', '-d', '--name', 'usr1', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', "trap 'exit 7' USR1; sleep 300 & wait"]);
    expect(r.status).toBe(0);
    expect((await inspect('usr1')).Config.StopSignal).toMatch(/^(SIGUSR1|USR1|10)$/);
    await sleep(300);
    const stop = await t(['stop', 'usr1']);
    expect(stop.status).toBe(0);
    expect((await inspect('usr1')).State).toMatchObject({ Status: 'exited', ExitCode: 7 });
  });

  it('--stop-timeout is how long stop waits before SIGKILL', async () => {
    expect((await t(['run', '-d', '--name', 'deaf', '--stop-timeout', '1', 'busybox', 'sh', '-c', "trap '' TERM; sleep 300 & wait; sleep 300"])).status).toBe(0);
    expect((await inspect('deaf')).Config.StopTimeout).toBe(1);
    await sleep(300);
    const started = Date.now();
    const stop = await t(['stop', 'deaf']);
    const took = Date.now() - started;
    expect(stop.status).toBe(0);
    expect(stop.stderr).toMatch(/failed to stop container deaf in 1 seconds, resorting to SIGKILL/);
    expect(took).toBeLessThan(8000);
    expect((await inspect('deaf')).State.ExitCode).toBe(137);
  });
});

describe('ps -n', () => {
  it('shows the n last created containers in every state', async () => {
    for (const n of ['n1', 'n2', 'n3']) expect((await t(['create', '--name', n, 'busybox', 'true'])).status).toBe(0);
    expect((await t(['ps', '-n', '2', '--format', '{{.Names}}'])).stdout).toBe('n3\nn2\n');
    expect((await t(['ps', '--last', '1', '--format', '{{.Names}}'])).stdout).toBe('n3\n');
  });
});

describe('logs --since and --until', () => {
  it('cut the log at a timestamp', async () => {
    expect((await t(['run', '--name', 'talk', 'busybox', 'sh', '-c', 'echo early; sleep 2; echo late'])).status).toBe(0);
    const lines = (await t(['logs', '-t', 'talk'])).stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' ').slice(1).join(' '))).toEqual(['early', 'late']);
    const lateAt = Date.parse(lines[1].split(' ')[0]);
    const cut = new Date(lateAt - 1000).toISOString();
    expect((await t(['logs', '--until', cut, 'talk'])).stdout).toBe('early\n');
    expect((await t(['logs', '--since', cut, 'talk'])).stdout).toBe('late\n');
    // Unix seconds and durations too
    expect((await t(['logs', '--since', String(Math.floor((lateAt - 1000) / 1000)), 'talk'])).stdout).toBe('late\n');
    expect((await t(['logs', '--until', '1h', 'talk'])).stdout).toBe('');
    expect((await t(['logs', '--since', '1h', 'talk'])).stdout).toBe('early\nlate\n');
  });
});

describe('volume prune', () => {
  it('removes the volumes no container uses, and keeps the others', async () => {
    for (const v of ['keep', 'drop']) expect((await t(['volume', 'create', v])).status).toBe(0);
    expect((await t(['create', '--name', 'user', '-v', 'keep:/data', 'busybox', 'true'])).status).toBe(0);
    const r = await t(['volume', 'prune', '-f']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('drop\n');
    expect((await t(['volume', 'ls', '-q'])).stdout).toBe('keep\n');
  });
});

describe("an image's VOLUME", () => {
  it('becomes an anonymous volume holding the image content; rm -v removes it', async () => {
    expect((await t(['run', '--name', 'seeder', 'busybox', 'sh', '-c', 'mkdir /data; echo seeded > /data/seed'])).status).toBe(0);
    expect((await t(['commit', '-q', '-c', 'VOLUME /data', 'seeder', 'localhost/withvol'])).status).toBe(0);
    const before = (await t(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
    const r = await t(['run', '--name', 'vol1', 'localhost/withvol', 'sh', '-c', 'cat /data/seed; echo more > /data/more']);
    expect(r.stdout).toBe('seeded\n');
    const after = (await t(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
    const added = after.filter((v) => !before.includes(v));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^[0-9a-f]{64}$/);
    // The data is in the volume, not the container's layer: a restart sees it.
    expect((await t(['start', '-a', 'vol1'])).stdout).toBe('seeded\n');
    expect((await t(['rm', '-v', 'vol1'])).status).toBe(0);
    expect((await t(['volume', 'exists', added[0]])).status).toBe(1);
  });
});

describe('--restart unless-stopped', () => {
  it('restarts after any exit until stop, then stays stopped', async () => {
    expect((await t(['run', '-d', '--name', 'us', '--restart', 'unless-stopped', 'busybox', 'sh', '-c', 'sleep 0.3; exit 0'])).status).toBe(0);
    let count = 0;
    for (let i = 0; i < 100 && count < 1; i++) {
      await sleep(200);
      count = (await inspect('us')).RestartCount;
    }
    expect(count).toBeGreaterThanOrEqual(1);
    expect((await inspect('us')).HostConfig.RestartPolicy).toEqual({ Name: 'unless-stopped', MaximumRetryCount: 0 });
    expect((await t(['stop', '-t', '1', 'us'])).status).toBe(0);
    await sleep(1500);
    const stopped = await inspect('us');
    expect(stopped.State.Status).toBe('exited');
    await sleep(1000);
    expect((await inspect('us')).RestartCount).toBe(stopped.RestartCount);
  });
});

describe('a container that does not exist', () => {
  it('is exit 125 for stop, kill, start, inspect, logs, exec, rename, as in Podman; rm says 1, rm -f and rm -i 0', async () => {
    const missing = 'Error: no container with name or ID "nosuch" found: no such container\n';
    for (const args of [['stop', 'nosuch'], ['kill', 'nosuch'], ['start', 'nosuch'], ['inspect', 'nosuch'], ['logs', 'nosuch'], ['exec', 'nosuch', 'true'], ['rename', 'nosuch', 'other']]) {
      const r = await t(args);
      expect([args[0], r.status]).toEqual([args[0], 125]);
      expect(r.stderr).toContain('no container with name or ID "nosuch" found: no such container');
    }
    expect(await t(['rm', 'nosuch'])).toMatchObject({ status: 1, stderr: missing });
    expect(await t(['rm', '-f', 'nosuch'])).toMatchObject({ status: 0, stderr: '', stdout: '' });
    expect(await t(['rm', '-i', 'nosuch'])).toMatchObject({ status: 0, stderr: '' });
  });
});

describe('rm -f -t', () => {
  it('gives the stop signal N seconds before the kill; plain rm -f kills at once; -t needs -f', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-rm-t-'));
    const polite = ['busybox', 'sh', '-c', "trap 'echo term > /out/$N; exit 0' TERM; sleep 300 & wait"];
    expect((await t(['run', '-d', '--name', 'graceful', '-e', 'N=graceful', '-v', `${out}:/out`, ...polite])).status).toBe(0);
    expect((await t(['run', '-d', '--name', 'abrupt', '-e', 'N=abrupt', '-v', `${out}:/out`, ...polite])).status).toBe(0);
    await sleep(300);
    expect(await t(['rm', '-t', '5', 'graceful'])).toMatchObject({ status: 125, stderr: 'Error: --force option must be specified to use the --time option\n' });
    expect(await t(['rm', '-f', '-t', '5', 'graceful'])).toMatchObject({ status: 0, stdout: 'graceful\n' });
    expect(await t(['rm', '-f', 'abrupt'])).toMatchObject({ status: 0, stdout: 'abrupt\n' });
    expect(fs.readdirSync(out)).toEqual(['graceful']);
    fs.rmSync(out, { recursive: true, force: true });
  });
});
