import '../../helpers/require-unprivileged.js';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('attach');
const sessions: string[] = [];

beforeAll(() => {
  expect(sandbox.run(['load', '-i', path.join(REPO_ROOT, 'dist', 'busybox-image.tar')]).status).toBe(0);
});
afterAll(() => {
  for (const s of sessions) spawnSync('tmux', ['-L', s, 'kill-server']);
  sandbox.run(['rm', '-a', '-f']);
  sandbox.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A terminal a person would type into: tmux with send-keys and capture-pane. */
class Terminal {
  private readonly socket = `tspod-attach-${process.pid}-${sessions.length}`;
  constructor(line: string) {
    sessions.push(this.socket);
    const env = Object.entries({ ...sandbox.env, T: TSPOD_BIN }).map(([k, v]) => `${k}=${shq(v ?? '')}`);
    // The command's own exit status is shown when it ends, and the pane stays for reading.
    const cmd = `env -i ${env.join(' ')} sh -c ${shq(`${line}; echo CLI-EXIT=$?; sleep 60`)}`;
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', 'new-session', '-d', '-x', '100', '-y', '30', cmd]);
    expect(r.status).toBe(0);
  }
  keys(...keys: string[]): void {
    spawnSync('tmux', ['-L', this.socket, 'send-keys', ...keys]);
  }
  screen(): string {
    return spawnSync('tmux', ['-L', this.socket, 'capture-pane', '-p'], { encoding: 'utf8' }).stdout;
  }
  async waitFor(text: string | RegExp, ms = 30_000): Promise<string> {
    try {
      return await until(`${text} on the terminal`, () => {
        const s = this.screen();
        return (typeof text === 'string' ? s.includes(text) : text.test(s)) && s;
      }, ms);
    } catch (err) {
      throw new Error(`${(err as Error).message}; the screen:\n${this.screen()}`);
    }
  }
  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function status(name: string): string {
  return sandbox.run(['inspect', '--format', '{{.State.Status}}', name]).stdout.trim();
}

describe('detach keys and attach on a terminal', () => {
  it('run -it detaches on Ctrl-P Ctrl-Q, exits 0 quietly, and attach finds the same shell', async () => {
    const t = new Terminal(`"$T" run -it --name tty1 busybox sh`);
    await t.waitFor('#');
    t.keys('X=kept-$((6*7)); echo $X', 'Enter');
    await t.waitFor('kept-42\n');
    t.keys('C-p', 'C-q');
    const screen = await t.waitFor('CLI-EXIT=');
    expect(screen).toContain('CLI-EXIT=0');
    expect(screen).not.toMatch(/Error|error/);
    t.close();
    expect(status('tty1')).toBe('running');

    // Attach again: the shell's variable is still there, the window size follows ours.
    const a = new Terminal(`"$T" attach tty1`);
    // A line typed before attach has the terminal raw is still delivered; the detach keys wait for its answer.
    a.keys('echo again-$X; stty size', 'Enter');
    const seen = await a.waitFor('again-kept-42');
    expect(seen).toMatch(/30 100|29 100/);
    a.keys('C-p', 'C-q');
    expect(await a.waitFor('CLI-EXIT=')).toContain('CLI-EXIT=0');
    a.close();
    expect(status('tty1')).toBe('running');

    // Other detach keys; the default ones then go to the container; exit gives attach the exit code.
    const b = new Terminal(`"$T" attach --detach-keys ctrl-a,x tty1`);
    b.keys('echo ready-$((1+1))', 'Enter');
    await b.waitFor('ready-2');
    // Ctrl-P Ctrl-Q reach the shell (history up), Ctrl-C there drops the line.
    b.keys('C-p', 'C-q');
    await sleep(300);
    b.keys('C-c');
    await sleep(300);
    b.keys('exit 7', 'Enter');
    expect(await b.waitFor('CLI-EXIT=')).toContain('CLI-EXIT=7');
    b.close();
    expect(status('tty1')).toBe('exited');
  }, 120_000);

  it('start -a uses the same detach keys, --detach-keys "" disables them', async () => {
    expect(sandbox.run(['create', '-it', '--name', 'tty2', 'busybox', 'sh']).status).toBe(0);
    const t = new Terminal(`"$T" start -ai --detach-keys ctrl-e tty2`);
    await t.waitFor('#');
    t.keys('C-e');
    expect(await t.waitFor('CLI-EXIT=')).toContain('CLI-EXIT=0');
    t.close();
    expect(status('tty2')).toBe('running');

    const n = new Terminal(`"$T" run -it --rm --detach-keys "" busybox sh`);
    await n.waitFor('#');
    n.keys('C-p', 'C-q');
    await sleep(300);
    n.keys('echo still-$((2*21))', 'Enter');
    await n.waitFor('still-42\n');
    n.keys('exit 4', 'Enter');
    expect(await n.waitFor('CLI-EXIT=')).toContain('CLI-EXIT=4');
    n.close();

    expect(sandbox.run(['run', '--detach-keys', 'ctrl-', 'busybox', 'true']).status).toBe(125);
  }, 90_000);
});

/** A CLI with pipes, and a wait for what it prints. */
function launch(args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(TSPOD_BIN, args, { env: sandbox.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out };
}
const exitOf = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));

const TRAPPER = 'trap "echo got-USR1" USR1; trap "echo got-HUP" HUP; trap "echo got-TERM; exit 9" TERM; echo ready; while :; do sleep 0.1; echo tick >/dev/null; done';

describe('--sig-proxy', () => {
  it('run passes the signals tspod receives to the container', async () => {
    const { child, out } = launch(['run', '--rm', 'busybox', 'sh', '-c', TRAPPER]);
    const exited = exitOf(child);
    await until('ready', () => out().includes('ready'));
    child.kill('SIGUSR1');
    await until('got-USR1', () => out().includes('got-USR1'));
    child.kill('SIGHUP');
    await until('got-HUP', () => out().includes('got-HUP'));
    child.kill('SIGTERM');
    expect((await exited).code).toBe(9);
    expect(out()).toContain('got-TERM');
  }, 60_000);

  it('run --sig-proxy=false keeps them from the container', async () => {
    const { child, out } = launch(['run', '--name', 'noproxy', '--sig-proxy=false', 'busybox', 'sh', '-c', TRAPPER]);
    const exited = exitOf(child);
    await until('ready', () => out().includes('ready'));
    // The CLI records the container as running just after it starts.
    await until('running', () => status('noproxy') === 'running', 20_000);
    // Unproxied, a SIGHUP is the CLI's own: it ends, the container does not hear of it.
    child.kill('SIGHUP');
    expect((await exited).signal).toBe('SIGHUP');
    await sleep(500);
    expect(sandbox.run(['logs', 'noproxy']).stdout).not.toContain('got-HUP');
    expect(status('noproxy')).toBe('running');
    expect(sandbox.run(['rm', '-f', 'noproxy']).status).toBe(0);
  }, 60_000);

  it('attach proxies signals by default and not with --sig-proxy=false; output comes through', async () => {
    expect(sandbox.run(['run', '-d', '--name', 'sigs', 'busybox', 'sh', '-c', TRAPPER.replace('>/dev/null', '')]).status).toBe(0);
    const a = launch(['attach', '--no-stdin', 'sigs']);
    await until('output through attach', () => a.out().includes('tick'));
    a.child.kill('SIGUSR1');
    await until('got-USR1 through attach', () => a.out().includes('got-USR1'));

    const b = launch(['attach', '--no-stdin', '--sig-proxy=false', 'sigs']);
    await until('output through the second attach', () => b.out().includes('tick'));
    const bExit = exitOf(b.child);
    b.child.kill('SIGHUP');
    expect((await bExit).signal).toBe('SIGHUP');
    await sleep(500);
    expect(sandbox.run(['logs', 'sigs']).stdout).not.toContain('got-HUP');

    // The first attach learns the exit code when the container ends.
    const aExit = exitOf(a.child);
    a.child.kill('SIGTERM');
    expect((await aExit).code).toBe(9);
    expect(status('sigs')).toBe('exited');
  }, 60_000);

  it('attach feeds stdin of a -i container and refuses stopped ones', async () => {
    expect(sandbox.run(['run', '-d', '-i', '--name', 'cat1', 'busybox', 'sh', '-c', 'while read l; do echo "got:$l"; done; echo eof']).status).toBe(0);
    const r = sandbox.run(['attach', 'cat1'], { input: 'one\ntwo\n' });
    expect(r.stdout).toBe('got:one\ngot:two\neof\n');
    expect(r.status).toBe(0);
    const again = sandbox.run(['attach', 'cat1']);
    expect(again.status).toBe(125);
    expect(again.stderr).toMatch(/^Error: you can only attach to running containers/);
  }, 60_000);
});

describe('wait --condition', () => {
  it('prints -1 for state conditions and the exit code for stopped/exited, as Podman', async () => {
    expect(sandbox.run(['create', '--name', 'w1', 'busybox', 'sh', '-c', 'sleep 1; exit 3']).status).toBe(0);
    expect(sandbox.run(['wait', '--condition', 'created', 'w1']).stdout).toBe('-1\n');
    const running = sandbox.runAsync(['wait', '--condition', 'running', '--interval', '50ms', 'w1']);
    await sleep(300);
    expect(sandbox.run(['start', 'w1']).status).toBe(0);
    expect((await running).stdout).toBe('-1\n');
    const r = sandbox.run(['wait', '--condition', 'exited', 'w1']);
    expect(r.stdout).toBe('3\n');
    expect(r.status).toBe(0);

    const bad = sandbox.run(['wait', '--condition', 'bogus', 'w1']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toBe('Error: unknown container state: bogus: invalid argument\n');
    expect(sandbox.run(['wait', '--interval', 'abc', 'w1']).status).toBe(125);
    expect(sandbox.run(['wait', 'nosuch']).status).toBe(125);
  }, 60_000);

  it('waits for a health check result', async () => {
    expect(sandbox.run(['run', '-d', '--name', 'h1', '--health-cmd', 'test -e /tmp/ok', 'busybox', 'sleep', '60']).status).toBe(0);
    const healthy = sandbox.runAsync(['wait', '--condition', 'healthy', '-i', '50', 'h1']);
    expect(sandbox.run(['healthcheck', 'run', 'h1']).stdout).toBe('unhealthy\n');
    expect(sandbox.run(['wait', '--condition', 'unhealthy', 'h1']).stdout).toBe('-1\n');
    expect(sandbox.run(['exec', 'h1', 'touch', '/tmp/ok']).status).toBe(0);
    expect(sandbox.run(['healthcheck', 'run', 'h1']).stdout).toBe('healthy\n');
    expect((await healthy).stdout).toBe('-1\n');
    expect(sandbox.run(['rm', '-f', 'h1']).status).toBe(0);
  }, 60_000);
});

/** The cgroup v2 directory this process runs in, if it was delegated to us (what tspod looks for). */
function delegatedCgroup(): string | undefined {
  const rel = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const dir = path.join(root, rel ?? '/');
    try {
      if (rel && fs.statfsSync(root).type === 0x63677270) {
        fs.accessSync(path.join(dir, 'cgroup.procs'), fs.constants.W_OK);
        fs.accessSync(dir, fs.constants.W_OK);
        return dir;
      }
    } catch {
      // not this one
    }
  }
  return undefined;
}

describe('pause and unpause', () => {
  const cgroup = delegatedCgroup();

  it('CI runs the suite in a delegated cgroup (.ci/run sets it up)', () => {
    if (process.env.CI) expect(cgroup).toBeDefined();
  });

  it.runIf(cgroup)('freezes every process of the container; unpause lets them go on', async () => {
    const out = fs.mkdtempSync(path.join(sandbox.home, 'count-'));
    fs.chmodSync(out, 0o777);
    const counter = 'i=0; while :; do i=$((i+1)); echo $i > /out/n; sleep 0.05; done';
    expect(sandbox.run(['run', '-d', '--name', 'p1', '-v', `${out}:/out`, 'busybox', 'sh', '-c', counter]).status).toBe(0);
    const read = () => Number(fs.readFileSync(path.join(out, 'n'), 'utf8').trim() || 0);
    await until('the counter', () => fs.existsSync(path.join(out, 'n')) && read() > 2);
    const p = sandbox.run(['pause', 'p1']);
    expect(p).toMatchObject({ status: 0, stdout: 'p1\n' });
    const frozenAt = read();
    await sleep(800);
    expect(read()).toBe(frozenAt);
    expect(status('p1')).toBe('paused');
    expect(sandbox.run(['inspect', '--format', '{{.State.Paused}} {{.State.Running}}', 'p1']).stdout).toBe('true false\n');
    expect(sandbox.run(['ps', '--format', '{{.Names}} {{.Status}}']).stdout).toContain('p1 Paused');
    expect(sandbox.run(['ps', '--filter', 'status=paused', '-q']).stdout.trim().length).toBe(12);
    const twice = sandbox.run(['pause', 'p1']);
    expect(twice.status).toBe(125);
    expect(twice.stderr).toMatch(/already paused: container state improper/);
    expect(sandbox.run(['exec', 'p1', 'true']).status).toBe(125);

    expect(sandbox.run(['unpause', 'p1'])).toMatchObject({ status: 0, stdout: 'p1\n' });
    await until('the counter going on', () => read() > frozenAt + 3);
    expect(status('p1')).toBe('running');
    expect(sandbox.run(['unpause', 'p1']).status).toBe(125);

    // -a, and a paused container still stops and goes with rm -f.
    const p2 = sandbox.run(['run', '-d', '--name', 'p2', 'busybox', 'sleep', '60']).stdout.trim();
    const p1 = sandbox.run(['inspect', '--format', '{{.Id}}', 'p1']).stdout.trim();
    const all = sandbox.run(['pause', '-a']);
    expect(all.status).toBe(0);
    expect(all.stdout.split('\n')).toEqual(expect.arrayContaining([p1, p2]));
    expect(status('p2')).toBe('paused');
    expect(sandbox.run(['unpause', '--all']).status).toBe(0);
    expect(status('p2')).toBe('running');
    expect(sandbox.run(['pause', 'p2']).status).toBe(0);
    const stop = sandbox.run(['stop', '-t', '1', 'p2']);
    expect(stop.status).toBe(0);
    expect(status('p2')).toBe('exited');
    expect(sandbox.run(['pause', 'p1']).status).toBe(0);
    expect(sandbox.run(['rm', '-f', 'p1']).status).toBe(0);
    expect(fs.existsSync(path.join(cgroup!, `tspod-${p1}`))).toBe(false);
  }, 120_000);

  it.runIf(cgroup)("gives each container a cgroup of its own that is its cgroup namespace's root", () => {
    const id = sandbox.run(['run', '-d', 'busybox', 'sleep', '60']).stdout.trim();
    const pid = sandbox.run(['inspect', '--format', '{{.State.Pid}}', id]).stdout.trim();
    const seen = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    expect(seen).toMatch(new RegExp(`^0::.*/tspod-${id}$`, 'm'));
    expect(sandbox.run(['exec', id, 'cat', '/proc/self/cgroup']).stdout).toMatch(/^0::\/$/m);
    expect(sandbox.run(['rm', '-f', id]).status).toBe(0);
    expect(fs.existsSync(path.join(cgroup!, `tspod-${id}`))).toBe(false);
  }, 60_000);

  it('without a delegated cgroup, pause fails with Podman message and 125', () => {
    // A child cgroup that may have no children: a container started from it gets no cgroup of its own.
    // --network none: a default-mode run would leave the pasta pool's keeper (idle 300 s) in this cgroup.
    let line = `"$T" run -d --network none --name nodeleg busybox sleep 60 >/dev/null && "$T" pause nodeleg`;
    let child: string | undefined;
    if (cgroup) {
      child = path.join(cgroup, `no-children-${process.pid}`);
      fs.mkdirSync(child);
      fs.writeFileSync(path.join(child, 'cgroup.max.descendants'), '0');
      line = `echo $$ > ${child}/cgroup.procs && ${line}`;
    }
    const r = spawnSync('sh', ['-c', line], { env: { ...sandbox.env, T: TSPOD_BIN }, encoding: 'utf8' });
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^Error: can not pause containers on rootless containers with cgroup V1: this container does not have a cgroup/);
    expect(sandbox.run(['rm', '-f', 'nodeleg']).status).toBe(0);
    if (child) {
      // The container's monitor and its cleanup leave the cgroup a moment later.
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          fs.rmdirSync(child);
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          spawnSync('sleep', ['0.1']);
        }
      }
    }
  }, 60_000);
});
