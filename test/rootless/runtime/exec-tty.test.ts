import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';

// exec -t / -it: a terminal of the container's devpts for the exec'd process.
const sandbox = new TspodSandbox('exec-tty');
beforeAll(() => {
  expect(sandbox.run(['load', '-i', path.join(REPO_ROOT, 'dist', 'busybox-image.tar')]).status).toBe(0);
  expect(sandbox.run(['run', '-d', '--name', 'box', 'busybox', 'sleep', '300']).status).toBe(0);
});
afterAll(() => {
  sandbox.run(['rm', '-a', '-f']);
  sandbox.dispose();
});

/** Run a shell line under a real pseudo-terminal (util-linux script), as a user at a terminal would. */
function underTerminal(line: string, input = '') {
  const r = spawnSync('script', ['-qec', line, '/dev/null'], { env: { ...sandbox.env, T: TSPOD_BIN }, input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout.replace(/\r/g, '') };
}

describe('exec -t', () => {
  it('gives the process a terminal of the container, sized like ours, with TERM=xterm', () => {
    const r = underTerminal(`stty cols 97 rows 31; "$T" exec -t box sh -c 'tty; stty size; echo $TERM'`);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^\/dev\/pts\/\d+\n31 97\nxterm\n$/);
  });

  it('takes keystrokes with -it and passes the exit code through', () => {
    const r = underTerminal(`"$T" exec -it box sh`, 'echo typed-$((6*7))\nexit 3\n');
    expect(r.out).toContain('typed-42');
    expect(r.status).toBe(3);
  });

  it('makes a terminal without one of ours too (output in CRLF, as through any terminal); without -t there is none', () => {
    const r = sandbox.run(['exec', '-t', 'box', 'sh', '-c', 'tty; exit 5']);
    expect(r.stdout).toMatch(/^\/dev\/pts\/\d+\r\n$/);
    expect(r.status).toBe(5);
    const plain = sandbox.run(['exec', 'box', 'tty']);
    expect(plain.stdout).toBe('not a tty\n');
    expect(plain.status).toBe(1);
  });

  it("gives the terminal to the process's user, and keeps Podman's 127/126", () => {
    expect(sandbox.run(['exec', '-t', '-u', 'nobody', 'box', 'sh', '-c', 'stat -c %U $(tty)']).stdout).toBe('nobody\r\n');
    expect(sandbox.run(['exec', '-t', 'box', 'nosuchcmd']).status).toBe(127);
    expect(sandbox.run(['exec', '-t', 'box', '/etc/passwd']).status).toBe(126);
  });
});
