import '../../helpers/require-unprivileged.js';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Terminal } from '../../helpers/terminal.js';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

// exec -u names and supplementary groups as Podman 4.3.1 (runc) gives them, and
// exec --detach-keys; the expected values below are what podman printed for the
// same container contents.
const sandbox = new TspodSandbox('exec-user');
const terminals: Terminal[] = [];
const me = os.userInfo();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t = (args: string[]) => sandbox.run(args);
/** The Groups: line of /proc/self/status as a list. */
const groupsOf = (args: string[]) => {
  const r = t([...args, 'grep', 'Groups', '/proc/self/status']);
  expect(r.stderr).toBe('');
  return r.stdout.replace(/^Groups:/, '').trim();
};

beforeAll(() => {
  expect(t(['load', '-i', path.join(REPO_ROOT, 'dist', 'busybox-image.tar')]).status).toBe(0);
  expect(t(['run', '-d', '--name', 'box', 'busybox', 'sleep', '300']).status).toBe(0);
  // Users and groups added inside the running container: exec must see them (they are not in the image).
  const add = t(['exec', 'box', 'sh', '-c', [
    'echo alice:x:1234:1234::/home/alice:/bin/sh >> /etc/passwd',
    'echo grp1:x:2000:alice >> /etc/group',
    'echo grp2:x:2001: >> /etc/group',
    'echo alicegrp:x:1234: >> /etc/group',
  ].join('; ')]);
  expect(add.status).toBe(0);
});
afterAll(() => {
  for (const term of terminals) term.close();
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('exec -u', () => {
  it("resolves names from the container's current /etc/passwd and /etc/group", () => {
    expect(t(['exec', '-u', 'alice', 'box', 'id']).stdout).toBe('uid=1234(alice) gid=1234(alicegrp) groups=2000(grp1)\n');
    expect(t(['exec', '-u', 'alice:grp2', 'box', 'id']).stdout).toBe('uid=1234(alice) gid=2001(grp2)\n');
    expect(t(['exec', '-u', '1234', 'box', 'id', '-un']).stdout).toBe('alice\n');
  });

  it('gives only the groups that list the user, none with :GROUP, as podman exec does', () => {
    expect(groupsOf(['exec', '-u', 'alice', 'box'])).toBe('2000');
    expect(groupsOf(['exec', '-u', '1234', 'box'])).toBe('2000');
    expect(groupsOf(['exec', '-u', 'alice:grp2', 'box'])).toBe('');
    expect(groupsOf(['exec', '-u', '1234:2001', 'box'])).toBe('');
    expect(groupsOf(['exec', '-u', 'root', 'box'])).toBe('');
    expect(groupsOf(['exec', '-u', 'nobody', 'box'])).toBe('');
    expect(groupsOf(['exec', 'box'])).toBe('');
  });

  it('and a container process: the primary group plus the listing ones, none without a user', () => {
    expect(groupsOf(['run', '--rm', '-u', 'nobody', 'busybox'])).toBe('65534');
    expect(groupsOf(['run', '--rm', '-u', '4444', 'busybox'])).toBe('0');
    expect(groupsOf(['run', '--rm', 'busybox'])).toBe('');
  });

  it("refuses unknown names with Podman's message and 125", () => {
    const u = t(['exec', '-u', 'bogus', 'box', 'id']);
    expect(u.status).toBe(125);
    expect(u.stderr).toBe('Error: unable to find user bogus: no matching entries in passwd file\n');
    const g = t(['exec', '-u', 'alice:bogus', 'box', 'id']);
    expect(g.status).toBe(125);
    expect(g.stderr).toBe('Error: unable to find group bogus: no matching entries in group file\n');
  });

  it("--userns=keep-id: the user's own name works for run -u and exec -u", () => {
    const run = t(['run', '--rm', '--userns=keep-id', '-u', me.username, 'busybox', 'id']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`uid=${me.uid}(${me.username}) gid=${me.gid}(${me.username}) groups=${me.gid}(${me.username})\n`);
    expect(t(['run', '-d', '--name', 'kid', '--userns=keep-id', 'busybox', 'sleep', '300']).status).toBe(0);
    const ex = t(['exec', '-u', me.username, 'kid', 'id']);
    expect(ex.stderr).toBe('');
    expect(ex.stdout).toBe(`uid=${me.uid}(${me.username}) gid=${me.gid}(${me.username}) groups=${me.gid}(${me.username})\n`);
    // The container's own user (uid:gid): no supplementary groups, as podman exec gives.
    expect(t(['exec', 'kid', 'id']).stdout).toBe(`uid=${me.uid}(${me.username}) gid=${me.gid}(${me.username})\n`);
  });
});

describe('exec --detach-keys', () => {
  const open = (line: string) => {
    const term = new Terminal(sandbox, line);
    terminals.push(term);
    return term;
  };
  const running = (pattern: RegExp) => pattern.test(t(['exec', 'box', 'ps', '-o', 'args']).stdout);

  it('Ctrl-P Ctrl-Q leaves the exec session running and ends the CLI with 0, quietly', async () => {
    const term = open(`"$T" exec -it box sh`);
    await term.waitFor('#');
    term.keys('sleep 4243', 'Enter');
    await sleep(300);
    term.keys('C-p', 'C-q');
    const screen = await term.waitFor('CLI-EXIT=');
    expect(screen).toContain('CLI-EXIT=0');
    expect(screen).not.toMatch(/error/i);
    // Its terminal was not hung up: the foreground command goes on.
    await sleep(500);
    expect(running(/^sleep 4243$/m)).toBe(true);
    t(['exec', 'box', 'pkill', '-f', 'sleep 4243']);
  }, 60_000);

  it('takes other keys; "" disables them (Ctrl-P Ctrl-Q then reach the shell)', async () => {
    const other = open(`"$T" exec -it --detach-keys ctrl-a box sh -c 'echo ready; sleep 4244'`);
    await other.waitFor('ready');
    other.keys('C-a');
    expect(await other.waitFor('CLI-EXIT=')).toContain('CLI-EXIT=0');
    expect(running(/^sleep 4244$/m)).toBe(true);

    const none = open(`"$T" exec -it --detach-keys "" box sh`);
    await none.waitFor('#');
    none.keys('C-p', 'C-q');
    await sleep(300);
    none.keys('C-c');
    none.keys('exit 4', 'Enter');
    expect(await none.waitFor('CLI-EXIT=')).toContain('CLI-EXIT=4');
  }, 60_000);

  it('refuses an invalid sequence with one line and 125', () => {
    const r = t(['exec', '-it', '--detach-keys', 'ctrl-1', 'box', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: invalid detach keys "ctrl-1"/);
  });
});
