import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('tty');
beforeAll(() => {
  expect(sandbox.run(['load', '-i', path.join(REPO_ROOT, 'dist', 'busybox-image.tar')]).status).toBe(0);
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

describe('run -t and -it', () => {
  it('gives the container a terminal of its own devpts, sized like ours', () => {
    const r = underTerminal(`stty cols 97 rows 31; "$T" run --rm -t busybox sh -c 'tty; stty size; echo $TERM'`);
    expect(r.status).toBe(0);
    expect(r.out).toBe('/dev/pts/0\n31 97\nxterm\n');
  });

  it('takes keystrokes with -it and passes the exit code through', () => {
    const r = underTerminal(`"$T" run --rm -it busybox sh`, 'echo typed-$((6*7))\nexit 3\n');
    expect(r.out).toContain('typed-42');
    expect(r.status).toBe(3);
  });

  it('logs a detached terminal container', async () => {
    expect(sandbox.run(['run', '-d', '-t', '--name', 'tlog', 'busybox', 'sh', '-c', 'tty; echo done']).status).toBe(0);
    expect(sandbox.run(['wait', 'tlog']).stdout).toBe('0\n');
    expect(sandbox.run(['logs', 'tlog']).stdout.replace(/\r/g, '')).toBe('/dev/pts/0\ndone\n');
  });
});
