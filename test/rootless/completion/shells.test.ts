import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { REPO_ROOT, TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';

// Completion as a user meets it: the checked-in scripts installed where each shell
// looks for them, real shells, Tab pressed in a tmux pane and the screen read back.
for (const tool of ['tmux', 'zsh', 'fish']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed (apt-get install tmux zsh fish bash-completion)`);
}
if (!fs.existsSync('/usr/share/bash-completion/bash_completion')) throw new Error('bash-completion is not installed (apt-get install bash-completion)');

const sandbox = new TspodSandbox('completion');
const home = sandbox.home;
const binDir = path.join(home, 'bin');
const env: NodeJS.ProcessEnv = { ...sandbox.env, PATH: `${binDir}:${sandbox.env.PATH}`, TERM: 'xterm', SHELL: '/bin/bash' };
const tmuxSock = path.join(home, 'tmux.sock');

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-S', tmuxSock, ...args], { env, encoding: 'utf8', cwd: home });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pane's text once `done` holds (or the last screen after the timeout, for the assertion to show). */
async function screenWhen(done: (screen: string) => boolean, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  let screen = '';
  while (Date.now() < deadline) {
    screen = tmux('capture-pane', '-p', '-t', 'sh');
    if (done(screen)) return screen;
    await sleep(100);
  }
  return screen;
}

/** The line the cursor is on. */
function promptLine(screen: string, prompt: string): string {
  const lines = screen.split('\n').filter((l) => l.startsWith(prompt));
  return lines[lines.length - 1] ?? '';
}

async function startShell(command: string, prompt: string): Promise<void> {
  try {
    tmux('kill-session', '-t', 'sh');
  } catch {
    // none yet
  }
  tmux('new-session', '-d', '-s', 'sh', '-x', '200', '-y', '50', command);
  await screenWhen((s) => s.includes(prompt));
}

/** Type `text`, press Tab `tabs` times, and wait until the screen settles on `expected`. */
async function typeAndTab(text: string, tabs: number, expected: (screen: string) => boolean): Promise<string> {
  tmux('send-keys', '-t', 'sh', 'C-u');
  tmux('send-keys', '-t', 'sh', 'clear', 'Enter');
  await sleep(200);
  tmux('send-keys', '-t', 'sh', '-l', text);
  for (let i = 0; i < tabs; i++) {
    tmux('send-keys', '-t', 'sh', 'Tab');
    // each Tab runs tspod: let it answer before the next
    await sleep(i < tabs - 1 ? 1500 : 0);
  }
  return screenWhen(expected);
}

beforeAll(() => {
  fs.mkdirSync(binDir);
  fs.symlinkSync(TSPOD_BIN, path.join(binDir, 'tspod'));
  const rootfs = makeBusyboxRootfs(home);
  fs.renameSync(rootfs, path.join(home, 'rootfs'));
  const t = (args: string[]) => {
    const r = sandbox.run(args);
    if (r.status !== 0) throw new Error(`tspod ${args.join(' ')}: ${r.stderr}`);
  };
  t(['create', '--name', 'fresh', '--rootfs', path.join(home, 'rootfs'), 'true']);
  t(['run', '-d', '--name', 'web', '--rootfs', path.join(home, 'rootfs'), 'sleep', '600']);
  t(['run', '--name', 'done', '--rootfs', path.join(home, 'rootfs'), 'true']);
  t(['volume', 'create', 'data']);

  // bash: bash-completion loads completions on demand from the user's directory.
  const bashDir = path.join(home, '.local', 'share', 'bash-completion', 'completions');
  fs.mkdirSync(bashDir, { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, 'completions', 'bash', 'tspod'), path.join(bashDir, 'tspod'));
  fs.writeFileSync(path.join(home, '.bashrc'), "PS1='bash$ '\nsource /usr/share/bash-completion/bash_completion\n");
  // zsh: _tspod on $fpath, compinit.
  const zfunc = path.join(home, '.zfunc');
  fs.mkdirSync(zfunc);
  fs.copyFileSync(path.join(REPO_ROOT, 'completions', 'zsh', '_tspod'), path.join(zfunc, '_tspod'));
  fs.writeFileSync(path.join(home, '.zshrc'), "PS1='zsh%% '\nfpath=(~/.zfunc $fpath)\nautoload -U compinit && compinit -u\n");
  // fish: the user's completions directory.
  const fishDir = path.join(home, '.config', 'fish', 'completions');
  fs.mkdirSync(fishDir, { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, 'completions', 'fish', 'tspod.fish'), path.join(fishDir, 'tspod.fish'));
});

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // not started
  }
  sandbox.run(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('bash with bash-completion', () => {
  beforeAll(async () => {
    await startShell('bash --rcfile ~/.bashrc -i', 'bash$ ');
  });

  it('lists commands with descriptions on a double Tab', async () => {
    const s = await typeAndTab('tspod st', 2, (x) => x.includes('(Stop one'));
    expect(s).toMatch(/start\s+\(Start one or more containers\)/);
    expect(s).toMatch(/stop\s+\(Stop one or more containers\)/);
  });

  it('start offers the stopped containers only', async () => {
    const s = await typeAndTab('tspod start ', 2, (x) => x.includes('fresh'));
    expect(s).toMatch(/done\s+\(exited/);
    expect(s).toMatch(/fresh\s+\(created/);
    expect(s).not.toMatch(/web\s+\(/);
  });

  it('stop completes the one running container in place', async () => {
    const s = await typeAndTab('tspod stop ', 1, (x) => promptLine(x, 'bash$ ').includes('stop web'));
    expect(promptLine(s, 'bash$ ')).toBe('bash$ tspod stop web');
  });

  it('completes --network=VALUE and signal names', async () => {
    let s = await typeAndTab('tspod run --network=h', 1, (x) => promptLine(x, 'bash$ ').includes('=host'));
    expect(promptLine(s, 'bash$ ')).toBe('bash$ tspod run --network=host');
    s = await typeAndTab('tspod kill -s SIGK', 1, (x) => promptLine(x, 'bash$ ').includes('SIGKILL'));
    expect(promptLine(s, 'bash$ ')).toBe('bash$ tspod kill -s SIGKILL');
  });

  it('is not thrown by grouped short options, and offers directories after --rootfs', async () => {
    let s = await typeAndTab('tspod exec -di ', 1, (x) => promptLine(x, 'bash$ ').includes(' web'));
    expect(promptLine(s, 'bash$ ')).toBe('bash$ tspod exec -di web');
    s = await typeAndTab('tspod run -di --rm --rootfs roo', 1, (x) => promptLine(x, 'bash$ ').includes('rootfs/'));
    expect(promptLine(s, 'bash$ ')).toBe('bash$ tspod run -di --rm --rootfs rootfs/');
  });

  it('completes --format fields without a space after them, names with one', async () => {
    let s = await typeAndTab('tspod ps --format {{.Na', 1, (x) => promptLine(x, 'bash$ ').includes('Names'));
    tmux('send-keys', '-t', 'sh', '-l', 'X');
    s = await screenWhen((x) => promptLine(x, 'bash$ ').endsWith('X'));
    expect(promptLine(s, 'bash$ ')).toBe('bash$ tspod ps --format {{.Names}}X');
    s = await typeAndTab('tspod rm fr', 1, (x) => promptLine(x, 'bash$ ').includes('fresh'));
    tmux('send-keys', '-t', 'sh', '-l', 'X');
    s = await screenWhen((x) => promptLine(x, 'bash$ ').endsWith('X'));
    expect(promptLine(s, 'bash$ ')).toBe('bash$ tspod rm fresh X');
  });

  it('completes volumes', async () => {
    const s = await typeAndTab('tspod volume rm ', 1, (x) => promptLine(x, 'bash$ ').includes('data'));
    expect(promptLine(s, 'bash$ ')).toBe('bash$ tspod volume rm data');
  });
});

describe('zsh with compinit', () => {
  beforeAll(async () => {
    await startShell('zsh -i', 'zsh% ');
  });

  it('lists commands with descriptions', async () => {
    const s = await typeAndTab('tspod st', 1, (x) => x.includes('-- Stop one'));
    expect(s).toMatch(/start\s+-- Start one or more containers/);
    expect(s).toMatch(/stop\s+-- Stop one or more containers/);
  });

  it('start offers the stopped containers, stop the running one', async () => {
    let s = await typeAndTab('tspod start ', 1, (x) => x.includes('fresh'));
    expect(s).toMatch(/done\s+-- exited/);
    expect(s).toMatch(/fresh\s+-- created/);
    expect(s).not.toMatch(/web\s+--/);
    s = await typeAndTab('tspod stop ', 1, (x) => promptLine(x, 'zsh% ').includes('stop web'));
    expect(promptLine(s, 'zsh% ').trimEnd()).toBe('zsh% tspod stop web');
  });

  it('completes option values and option names after grouped short options', async () => {
    let s = await typeAndTab('tspod run --network=h', 1, (x) => promptLine(x, 'zsh% ').includes('=host'));
    expect(promptLine(s, 'zsh% ').trimEnd()).toBe('zsh% tspod run --network=host');
    s = await typeAndTab('tspod run -di --privi', 1, (x) => promptLine(x, 'zsh% ').includes('--privileged'));
    expect(promptLine(s, 'zsh% ').trimEnd()).toBe('zsh% tspod run -di --privileged');
    s = await typeAndTab('tspod --log-level deb', 1, (x) => promptLine(x, 'zsh% ').includes('debug'));
    expect(promptLine(s, 'zsh% ').trimEnd()).toBe('zsh% tspod --log-level debug');
  });

  it('offers directories after --rootfs', async () => {
    const s = await typeAndTab('tspod run --rootfs roo', 1, (x) => promptLine(x, 'zsh% ').includes('rootfs/'));
    expect(promptLine(s, 'zsh% ').trimEnd()).toBe('zsh% tspod run --rootfs rootfs/');
  });
});

describe('fish', () => {
  const fishComplete = (line: string): string[] => {
    const r = spawnSync('fish', ['-c', `complete -C ${JSON.stringify(line).replace(/\$/g, '\\$')}`], { env, encoding: 'utf8', cwd: home });
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  };

  it('offers commands with descriptions', () => {
    expect(fishComplete('tspod st')).toEqual(['start\tStart one or more containers', 'stop\tStop one or more containers']);
  });

  it('offers containers by state', () => {
    expect(fishComplete('tspod start ').map((l) => l.split('\t')[0])).toEqual(['done', 'fresh']);
    expect(fishComplete('tspod stop ').map((l) => l.split('\t')[0])).toEqual(['web']);
    expect(fishComplete('tspod rm ').map((l) => l.split('\t')[0]).sort()).toEqual(['done', 'fresh', 'web']);
  });

  it('completes option names and values', () => {
    expect(fishComplete('tspod run --network=h')).toEqual(["--network=host\tUse the host's network stack"]);
    expect(fishComplete('tspod kill -s SIGK')).toEqual(['SIGKILL']);
    expect(fishComplete('tspod exec -di ').map((l) => l.split('\t')[0])).toEqual(['web']);
    expect(fishComplete('tspod rm --fo')).toEqual(['--force\tForce removal of a running container (stops it with SIGKILL)']);
  });

  it('offers directories after --rootfs and volumes for volume rm', () => {
    expect(fishComplete('tspod run --rootfs roo').map((l) => l.split('\t')[0])).toEqual(['rootfs/']);
    expect(fishComplete('tspod volume rm ').map((l) => l.split('\t')[0])).toEqual(['data']);
  });
});
