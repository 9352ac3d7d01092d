import '../../helpers/require-unprivileged.js';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

// ps --size/--sort, and --latest on exec and diff (flags #5 names that tspod lacked).
const ARCHIVE = path.join(REPO_ROOT, 'dist', 'busybox-image.tar');
const sandbox = new TspodSandbox('ps-size-latest');
// Each call lets the event loop turn first, so vitest's worker RPC is never starved on a busy machine.
const t = async (args: string[]) => {
  await new Promise((r) => setTimeout(r, 0));
  return sandbox.run(args);
};

beforeAll(async () => {
  expect((await t(['load', '-i', ARCHIVE])).status).toBe(0);
  // "big" writes 200000 bytes into its layer; "zeta" writes nothing; "alpha" is newest.
  expect((await t(['run', '--name', 'big', 'busybox', 'sh', '-c', 'head -c 200000 /dev/zero > /blob'])).status).toBe(0);
  expect((await t(['create', '--name', 'zeta', 'busybox', 'true'])).status).toBe(0);
  expect((await t(['run', '-d', '--name', 'alpha', 'busybox', 'sh', '-c', 'echo x > /marker; exec sleep 300'])).status).toBe(0);
});
afterAll(async () => {
  await t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('ps --size', () => {
  it('adds a SIZE column "RW (virtual ROOTFS)" and the JSON Size object', async () => {
    const table = await t(['ps', '-a', '--size']);
    expect(table.stderr).toBe('');
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/NAMES +SIZE$/);
    const big = lines.find((l) => /\bbig\b/.test(l))!;
    expect(big).toMatch(/ 200 kB \(virtual [\d.]+ [kM]B\)$/);
    const json = JSON.parse((await t(['ps', '-a', '--size', '--format', 'json'])).stdout) as { Names: string[]; Size: { rwSize: number; rootFsSize: number } }[];
    const byName = new Map(json.map((c) => [c.Names[0], c.Size]));
    expect(byName.get('big')!.rwSize).toBeGreaterThanOrEqual(200000);
    expect(byName.get('big')!.rwSize).toBeLessThan(210000);
    expect(byName.get('zeta')!.rwSize).toBeLessThan(byName.get('big')!.rwSize);
    // The root filesystem is the image plus the layer: the same image under each.
    expect(byName.get('big')!.rootFsSize - byName.get('big')!.rwSize).toBe(byName.get('zeta')!.rootFsSize - byName.get('zeta')!.rwSize);
    // Without --size, Podman's JSON has Size null and the table no SIZE column.
    expect((JSON.parse((await t(['ps', '-a', '--format', 'json'])).stdout) as { Size: unknown }[])[0].Size).toBeNull();
    expect((await t(['ps', '-a'])).stdout.split('\n')[0]).toMatch(/NAMES$/);
  });

  it('inspect -s adds SizeRw and SizeRootFs, the same figures', async () => {
    const ps = (JSON.parse((await t(['ps', '-a', '--size', '--format', 'json'])).stdout) as { Names: string[]; Size: { rwSize: number; rootFsSize: number } }[]).find((c) => c.Names[0] === 'big')!;
    const [data] = JSON.parse((await t(['inspect', '-s', 'big'])).stdout) as { SizeRw: number; SizeRootFs: number }[];
    expect(data).toMatchObject({ SizeRw: ps.Size.rwSize, SizeRootFs: ps.Size.rootFsSize });
    expect('SizeRw' in JSON.parse((await t(['inspect', 'big'])).stdout)[0]).toBe(false);
  });
});

describe('ps --sort', () => {
  const names = async (...extra: string[]) => (await t(['ps', '-a', '--format', '{{.Names}}', ...extra])).stdout.trim().split('\n');
  it('orders by names, created (newest first, the default), size and status', async () => {
    expect(await names('--sort', 'names')).toEqual(['alpha', 'big', 'zeta']);
    expect(await names()).toEqual(['alpha', 'zeta', 'big']);
    expect(await names('--sort', 'created')).toEqual(['alpha', 'zeta', 'big']);
    expect((await names('--sort', 'size')).at(-1)).toBe('big');
    // created < exited < running, as the state strings sort
    expect(await names('--sort', 'status')).toEqual(['zeta', 'big', 'alpha']);
  });
  it('refuses an unknown key with exit 125 and names the choices', async () => {
    const r = await t(['ps', '--sort', 'bogus']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/"bogus".*--sort.*command, created, id, image, names, runningfor, size, status/);
  });
});

describe('ps --filter before/since/volume', () => {
  it('before= and since= name a container; volume= a volume name or a mount point', async () => {
    const names = async (...f: string[]) => (await t(['ps', '-a', '--format', '{{.Names}}', ...f.flatMap((x) => ['--filter', x])])).stdout.trim().split('\n').filter(Boolean);
    expect(await names('before=zeta')).toEqual(['big']);
    expect(await names('since=zeta')).toEqual(['alpha']);
    expect(await names('since=big', 'before=alpha')).toEqual(['zeta']);
    expect((await t(['ps', '-a', '--filter', 'before=nosuch'])).status).toBe(125);
    expect((await t(['create', '--name', 'withvol', '-v', 'filtervol:/data', 'busybox', 'true'])).status).toBe(0);
    expect(await names('volume=filtervol')).toEqual(['withvol']);
    expect(await names('volume=/data')).toEqual(['withvol']);
    expect(await names('volume=othervol')).toEqual([]);
    expect((await t(['rm', 'withvol'])).status).toBe(0);
  });
});

describe('--latest', () => {
  it('exec -l runs in the newest container, its first argument being the command', async () => {
    const r = await t(['exec', '-l', 'cat', '/marker']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('x\n');
    expect(r.status).toBe(0);
  });
  it('diff -l shows the newest container\'s changes; with a name too it is refused', async () => {
    const r = await t(['diff', '-l']);
    expect(r.stdout).toContain('A /marker\n');
    expect(r.stdout).not.toContain('/blob');
    const both = await t(['diff', '-l', 'big']);
    expect(both.status).toBe(125);
    expect(both.stderr).toMatch(/--latest and a container name cannot be used together/);
    expect((await t(['diff', 'big'])).stdout).toContain('A /blob\n');
  });
});
