import '../../helpers/require-unprivileged.js';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('lifecycle');
const rootfs = makeBusyboxRootfs(sandbox.home);
afterAll(() => {
  sandbox.run(['rm', '-a', '-f']);
  sandbox.dispose();
});

const t = (args: string[]) => sandbox.run(args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function inspect(name: string): any {
  const r = t(['inspect', name]);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout)[0];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('container lifecycle without a daemon', () => {
  it('runs detached, lists, logs, stops with SIGKILL after the timeout, restarts and removes', async () => {
    const run = t(['run', '-d', '--name', 'web', '--rootfs', rootfs, 'sh', '-c', 'echo started; echo oops >&2; sleep 60']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const id = run.stdout.trim();
    const ps = t(['ps']);
    expect(ps.stdout.split('\n')[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(ps.stdout).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+${rootfs}\\s+sh -c echo started.*Up .* ago\\s+web$`, 'm'));
    expect(t(['ps', '-q', '--no-trunc']).stdout).toBe(`${id}\n`);
    await until('the log', () => t(['logs', 'web']).stdout === 'started\n');
    const logs = t(['logs', 'web']);
    expect(logs.stderr).toBe('oops\n');
    expect(fs.readFileSync(inspect('web').LogPath, 'utf8')).toMatch(/^\S+Z stdout F started\n/m);

    const stop = t(['stop', '-t', '1', 'web']);
    expect(stop.status).toBe(0);
    expect(stop.stdout).toBe('web\n');
    expect(stop.stderr).toMatch(/StopSignal SIGTERM failed to stop container web in 1 seconds, resorting to SIGKILL/);
    expect(t(['ps', '-q']).stdout).toBe('');
    expect(t(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout).toMatch(/^web Exited \(137\) .* ago\n$/);
    expect(inspect('web').State).toMatchObject({ Status: 'exited', ExitCode: 137, Running: false });

    expect(t(['start', 'web']).stdout).toBe('web\n');
    expect(inspect('web').State.Status).toBe('running');
    const refused = t(['rm', 'web']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^Error: cannot remove container [0-9a-f]{64} as it is running/);
    expect(t(['rm', '-f', id.slice(0, 8)]).status).toBe(0);
    expect(t(['container', 'exists', 'web']).status).toBe(1);
    expect(fs.existsSync(`${sandbox.runDir}/containers/${id}`)).toBe(false);
  });

  it('stops a container that handles SIGTERM without waiting for the timeout', () => {
    t(['run', '-d', '--name', 'polite', '--rootfs', rootfs, 'sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.1; done"]);
    const started = Date.now();
    expect(t(['stop', 'polite']).status).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(inspect('polite').State.ExitCode).toBe(0);
    expect(t(['rm', 'polite']).status).toBe(0);
  });

  it('kills with a chosen signal and reports through wait', () => {
    t(['run', '-d', '--name', 'victim', '--rootfs', rootfs, 'sh', '-c', "trap 'exit 42' USR1; while true; do sleep 0.1; done"]);
    expect(t(['kill', '-s', 'USR1', 'victim']).stdout).toBe('victim\n');
    expect(t(['wait', 'victim']).stdout).toBe('42\n');
    const notRunning = t(['kill', 'victim']);
    expect(notRunning.status).toBe(125);
    expect(notRunning.stderr).toMatch(/can only kill running containers/);
    expect(t(['kill', '-s', 'NOPE', 'victim']).stderr).toBe('Error: invalid signal: NOPE\n');
    t(['rm', 'victim']);
  });

  it('creates, then starts attached with the exit code; --rm removes a detached container when it ends', async () => {
    const created = t(['create', '--name', 'later', '--rootfs', rootfs, 'sh', '-c', 'echo ran; exit 5']);
    expect(created.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(t(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout).toBe('later Created\n');
    const started = t(['start', '-a', 'later']);
    expect(started.stdout).toBe('ran\n');
    expect(started.status).toBe(5);
    t(['rm', 'later']);

    expect(t(['run', '-d', '--rm', '--name', 'ephemeral', '--rootfs', rootfs, 'true']).status).toBe(0);
    await until('--rm to remove the container', () => t(['container', 'exists', 'ephemeral']).status === 1);
    expect(t(['run', '--rm', '--name', 'fg', '--rootfs', rootfs, 'true']).status).toBe(0);
    expect(t(['container', 'exists', 'fg']).status).toBe(1);
  });

  it('refuses a name in use, in one line', () => {
    t(['create', '--name', 'dup', '--rootfs', rootfs, 'true']);
    const r = t(['create', '--name', 'dup', '--rootfs', rootfs, 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^Error: the container name "dup" is already in use by [0-9a-f]{64}\. .*\n$/);
    t(['rm', 'dup']);
  });

  it('survives a killed monitor: the container shows as running, then as exited, and can be removed', async () => {
    t(['run', '-d', '--name', 'orphan', '--rootfs', rootfs, 'sleep', '60']);
    const { ConmonPid, Pid } = inspect('orphan').State;
    expect(alive(ConmonPid)).toBe(true);
    process.kill(ConmonPid, 'SIGKILL');
    await until('the monitor to die', () => !alive(ConmonPid));
    expect(inspect('orphan').State.Status).toBe('running');
    process.kill(Pid, 'SIGKILL');
    await until('the container to die', () => !alive(Pid));
    const ps = t(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    expect(ps.stdout).toMatch(/^orphan Exited \(137\)/m);
    expect(inspect('orphan').State.Error).toMatch(/without its monitor recording an exit status/);
    expect(t(['rm', 'orphan']).status).toBe(0);
  });

  it('takes a flood of output into the log without losing a line', () => {
    const r = t(['run', '--name', 'flood', '--rootfs', rootfs, 'seq', '1', '200000']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').length).toBe(200001);
    const logs = t(['logs', 'flood']).stdout.split('\n');
    expect(logs.length).toBe(200001);
    expect(logs[199999]).toBe('200000');
    expect(t(['logs', '--tail', '2', 'flood']).stdout).toBe('199999\n200000\n');
    t(['rm', 'flood']);
  });

  it('leaves no process behind when init exits with 1000 children running', () => {
    const me = os.userInfo().username;
    // A duration no other test uses, so parallel suites don't disturb the count.
    const count = () => Number(execFileSync('sh', ['-c', `ps -u ${me} -o args= | grep -c '^sleep 3131$' || true`], { encoding: 'utf8' }).trim());
    const before = count();
    const r = t(['run', '--rm', '--rootfs', rootfs, 'sh', '-c', 'for i in $(seq 1000); do sleep 3131 & done; echo forked']);
    expect(r.stdout).toBe('forked\n');
    expect(r.status).toBe(0);
    expect(count()).toBe(before);
  });

  it('serialises concurrent starts of one container', async () => {
    t(['create', '--name', 'once', '--rootfs', rootfs, 'sleep', '60']);
    const results = await Promise.all(Array.from({ length: 5 }, () => sandbox.runAsync(['start', 'once'])));
    for (const r of results) expect(r.status).toBe(0);
    const { Pid } = inspect('once').State;
    expect(alive(Pid)).toBe(true);
    const me = os.userInfo().username;
    const sleeps = execFileSync('sh', ['-c', `ps -u ${me} -o args= | grep -c '^sleep 60$' || true`], { encoding: 'utf8' }).trim();
    expect(sleeps).toBe('1');
    expect(t(['rm', '-f', 'once']).status).toBe(0);
  });
});

describe('restart and rename', () => {
  it('restarts a running container with a new process and renames it', () => {
    t(['run', '-d', '--name', 'again', '--rootfs', rootfs, 'sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.1; done"]);
    const before = inspect('again').State.Pid;
    expect(t(['restart', 'again']).stdout).toBe('again\n');
    const after = inspect('again').State;
    expect(after.Status).toBe('running');
    expect(after.Pid).not.toBe(before);
    expect(t(['rename', 'again', 'renamed']).status).toBe(0);
    expect(t(['ps', '--format', '{{.Names}}']).stdout).toBe('renamed\n');
    t(['create', '--name', 'other', '--rootfs', rootfs, 'true']);
    const taken = t(['rename', 'renamed', 'other']);
    expect(taken.status).toBe(125);
    expect(taken.stderr).toMatch(/already in use/);
    t(['rm', '-f', 'renamed', 'other']);
  });
});

describe('restart policies, carried out without a daemon', () => {
  it('on-failure:N starts a failing container N more times, then leaves it exited', async () => {
    t(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', '--rootfs', rootfs, 'sh', '-c', 'echo run; exit 3']);
    await until('two restarts', () => {
      const s = inspect('flaky');
      return s.RestartCount === 2 && s.State.Status === 'exited';
    }, 30_000);
    await sleep(1000);
    expect(inspect('flaky').RestartCount).toBe(2);
    expect(t(['logs', 'flaky']).stdout).toBe('run\nrun\nrun\n');
    expect(inspect('flaky').HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 2 });
    t(['rm', 'flaky']);
  });

  it('always restarts until stopped; stop leaves it stopped', async () => {
    t(['run', '-d', '--name', 'forever', '--restart', 'always', '--rootfs', rootfs, 'sh', '-c', 'sleep 0.3; exit 0']);
    await until('a restart', () => inspect('forever').RestartCount >= 1, 30_000);
    expect(t(['stop', '-t', '1', 'forever']).status).toBe(0);
    await sleep(1500);
    const after = inspect('forever');
    expect(after.State.Status).toBe('exited');
    const count = after.RestartCount;
    await sleep(1000);
    expect(inspect('forever').RestartCount).toBe(count);
    t(['rm', '-f', 'forever']);
  });

  it('refuses --rm with a restart policy and an unknown policy', () => {
    expect(t(['run', '--rm', '--restart', 'always', '--rootfs', rootfs, 'true']).stderr).toBe('Error: the --rm option conflicts with --restart, when the restart policy is not "no"\n');
    expect(t(['create', '--restart', 'sometimes', '--rootfs', rootfs, 'true']).status).toBe(125);
  });
});
