import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';

const ARCHIVE = path.join(REPO_ROOT, 'dist', 'busybox-image.tar');
const sandbox = new TspodSandbox('top-mount');
// Each call lets the event loop turn first, so vitest's worker RPC is never starved on a busy machine.
const breathe = () => new Promise((r) => setTimeout(r, 0));
const t = async (args: string[], input?: string) => {
  await breathe();
  return sandbox.run(args, { input });
};
/** A shell script run inside `tspod unshare`, with $T the tspod command. */
const inUnshare = (script: string) => t(['unshare', 'sh', '-c', script], undefined);
const T = TSPOD_BIN;

beforeAll(async () => {
  expect((await t(['load', '-i', ARCHIVE])).status).toBe(0);
  expect((await t(['run', '-d', '--name', 'procs', 'busybox', 'sh', '-c', 'sleep 301 & exec sleep 302'])).status).toBe(0);
});
afterAll(async () => {
  await t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('top', () => {
  it("lists the container's processes with PIDs as the container sees them, in Podman's default columns", async () => {
    let r = await t(['top', 'procs']);
    for (let i = 0; i < 30 && r.stdout.split('\n').length < 4; i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await t(['top', 'procs']);
    }
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^USER {8}PID {9}PPID {8}%CPU {8}ELAPSED +TTY +TIME +COMMAND$/);
    const rows = lines.slice(1).map((l) => l.trim().split(/\s+/));
    expect(rows.map((c) => [c[0], c[1], c[2], c[5], c.slice(7).join(' ')]).sort()).toEqual([
      ['root', '1', '0', '?', 'sleep 302'],
      ['root', '2', '1', '?', 'sleep 301'],
    ]);
    expect(rows[0][3]).toMatch(/^\d+\.\d{3}$/);
    expect(rows[0][4]).toMatch(/^[\d.]+(ms|s)$|^\d+m[\d.]+s$/);
  });

  it('takes descriptors (and AIX codes); host PIDs belong to the container', async () => {
    const r = await t(['top', 'procs', 'pid,hpid', 'huser', '%c']);
    expect(r.stdout.split('\n')[0]).toMatch(/^PID +HPID +HUSER +COMMAND$/);
    const row = r.stdout.split('\n').find((l) => /^1\s/.test(l))!.trim().split(/\s+/);
    const hpid = Number(row[1]);
    expect(fs.readFileSync(`/proc/${hpid}/cmdline`, 'utf8')).toBe('sleep\u0000302\u0000');
    expect(row[2]).toBe(String(process.getuid!()));
    expect(row[3]).toBe('sleep');
  });

  it('hands ps(1) options to ps inside the container, and refuses a stopped container', async () => {
    const r = await t(['top', 'procs', '-o', 'pid,args']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/PID\s+COMMAND/);
    expect(r.stdout).toMatch(/\n\s*1 sleep 302\n/);
    await t(['create', '--name', 'idle', 'busybox', 'true']);
    const idle = await t(['top', 'idle']);
    expect(idle.status).toBe(125);
    expect(idle.stderr).toMatch(/^Error: top can only be used on running containers/);
    // -l: the latest container (idle, just created).
    expect((await t(['top', '-l'])).stderr).toMatch(/can only be used on running containers/);
    expect(await t(['top', 'nosuch'])).toMatchObject({
      status: 125,
      stderr: 'Error: unable to look up requested container: no container with name or ID "nosuch" found: no such container\n',
    });
  });
});

describe('mount and unmount', () => {
  it("refuses outside tspod unshare with Podman's message", async () => {
    const r = await t(['mount', 'procs']);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('Error: cannot run command "tspod mount" in rootless mode, must execute `tspod unshare` first\n');
    expect(await t(['umount', 'nosuch'])).toMatchObject({ status: 125, stderr: 'Error: no container with name or ID "nosuch" found: no such container\n' });
  });

  it('prints the merged root inside unshare, lists mounts, and counts them', async () => {
    const r = await inUnshare(`
      p=$(${T} mount idle) || exit 1
      echo "path=$p"
      cat "$p/etc/passwd" | head -1
      ${T} mount idle >/dev/null
      ${T} unmount idle
      ${T} mount --no-trunc | grep -c "$p"
      ${T} umount idle
      ${T} mount | grep -c "$p"
      exit 0`);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^path=\/.*\/container-rootfs\/[0-9a-f]{64}\/merged$/);
    expect(lines[1]).toMatch(/^root:/);
    // Mounted twice, unmounted once: still listed; once more: gone.
    expect(lines.slice(2, 6)).toEqual(['idle', '1', 'idle', '0']);
  });

  it("never unmounts a running container's root", async () => {
    const r = await inUnshare(`
      ${T} mount procs >/dev/null && ${T} unmount -f procs >/dev/null
      ${T} mount --format json`);
    const rows = JSON.parse(r.stdout) as { id: string; Names: string[]; mountpoint: string }[];
    expect(rows.find((x) => x.Names[0] === 'procs')?.mountpoint).toMatch(/merged$/);
    expect((await t(['exec', 'procs', 'cat', '/etc/hostname'])).status).toBe(0);
  });
});

describe('container prune', () => {
  it('removes the stopped containers (filters, prompt), prints their IDs, keeps running ones', async () => {
    const keep = (await t(['create', '--name', 'keep', '-l', 'keep=yes', 'busybox', 'true'])).stdout.trim();
    expect(await t(['container', 'prune', '--filter', 'bogus=1', '-f'])).toMatchObject({ status: 125, stderr: 'Error: bogus is an invalid filter\n' });
    const no = await t(['container', 'prune'], 'n\n');
    expect(no.stdout).toBe('');
    expect(no.stderr).toMatch(/^WARNING! This will remove all non running containers\.\nAre you sure you want to continue\? \[y\/N\] $/);
    expect((await t(['container', 'exists', 'idle'])).status).toBe(0);
    const idleId = JSON.parse((await t(['inspect', 'idle'])).stdout)[0].Id;
    const r = await t(['container', 'prune', '-f', '--filter', 'label!=keep']);
    expect(r).toMatchObject({ status: 0, stdout: `${idleId}\n` });
    expect((await t(['container', 'prune', '-f', '--filter', 'until=1h'])).stdout).toBe('');
    expect((await t(['container', 'prune'], 'y\n')).stdout).toBe(`${keep}\n`);
    expect((await t(['ps', '-a', '--format', '{{.Names}}'])).stdout).toBe('procs\n');
    expect(spawnSync(T, ['container', 'exists', 'procs'], { env: sandbox.env }).status).toBe(0);
  });
});
