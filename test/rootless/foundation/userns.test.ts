import '../../helpers/require-unprivileged.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildMapping, parseProcIdMap, parseSubIdFile } from '../../../src/rootless/subid.js';
import { TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';

const me = os.userInfo();
const expectedUidMap = buildMapping(me.uid, parseSubIdFile(fs.readFileSync('/etc/subuid', 'utf8'), { name: me.username, id: me.uid }));
const expectedGidMap = buildMapping(me.gid, parseSubIdFile(fs.readFileSync('/etc/subgid', 'utf8'), { name: me.username, id: me.uid }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('rootless user namespace', () => {
  const sandbox = new TspodSandbox('userns');
  afterAll(() => sandbox.dispose());

  it('this user has subordinate ids (the CI user must)', () => {
    expect(expectedUidMap.length).toBeGreaterThan(1);
    expect(expectedGidMap.length).toBeGreaterThan(1);
  });

  it('maps the full subordinate ranges and makes us root inside', () => {
    const r = sandbox.run(['unshare', 'cat', '/proc/self/uid_map', '/proc/self/gid_map']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(parseProcIdMap(lines.slice(0, expectedUidMap.length).join('\n'))).toEqual(expectedUidMap);
    expect(parseProcIdMap(lines.slice(expectedUidMap.length).join('\n'))).toEqual(expectedGidMap);
    expect(sandbox.run(['unshare', 'id', '-u']).stdout).toBe('0\n');
  });

  it('joins the same namespace on later invocations, held by one pause process', () => {
    const first = sandbox.run(['unshare', 'readlink', '/proc/self/ns/user']);
    const rec = sandbox.pauseRecord();
    const second = sandbox.run(['unshare', 'readlink', '/proc/self/ns/user']);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^user:\[\d+\]\n$/);
    expect(second.stdout).toBe(first.stdout);
    expect(sandbox.pauseRecord()).toEqual(rec);
    expect(fs.readlinkSync(`/proc/${rec!.pid}/ns/user`)).toBe(first.stdout.trim());
    // The host's namespace is a different one.
    expect(fs.readlinkSync('/proc/self/ns/user')).not.toBe(first.stdout.trim());
  });

  it('keeps the working directory and passes exit codes through', async () => {
    const dir = fs.mkdtempSync(path.join(sandbox.home, 'cwd-'));
    expect((await spawnIn(dir, ['unshare', 'pwd'])).stdout).toBe(`${dir}\n`);
    expect(sandbox.run(['unshare', 'sh', '-c', 'exit 7']).status).toBe(7);
    const missing = sandbox.run(['unshare', 'no-such-command-here']);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toBe('Error: no-such-command-here: command not found\n');
  });

  it('hands the command the NODE_EXTRA_CA_CERTS the launcher kept from Node', () => {
    const r = sandbox.run(['unshare', 'sh', '-c', 'echo "$NODE_EXTRA_CA_CERTS|$TSPOD_EXTRA_CA_CERTS"'], { env: { NODE_EXTRA_CA_CERTS: '/some/bundle.pem' } });
    expect(r.stdout).toBe('/some/bundle.pem|\n');
  });

  function spawnIn(cwd: string, args: string[]): Promise<{ stdout: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(TSPOD_BIN, args, { cwd, env: sandbox.env });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('error', reject);
      child.on('close', () => resolve({ stdout }));
    });
  }

  it('replaces a dead pause process', () => {
    const rec = sandbox.pauseRecord()!;
    process.kill(rec.pid, 'SIGKILL');
    // Wait until it is really gone.
    for (let i = 0; i < 100 && alive(rec.pid); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    const r = sandbox.run(['unshare', 'cat', '/proc/self/uid_map']);
    expect(r.status).toBe(0);
    expect(parseProcIdMap(r.stdout)).toEqual(expectedUidMap);
    const fresh = sandbox.pauseRecord()!;
    expect(fresh.pid).not.toBe(rec.pid);
    expect(alive(fresh.pid)).toBe(true);
  });

  it('does not trust a pid that was reused by another process', async () => {
    const stranger = spawn('sleep', ['60']);
    await new Promise((r) => stranger.once('spawn', r));
    try {
      const old = sandbox.pauseRecord()!;
      // A recorded start time that does not match the live process behind the pid.
      fs.writeFileSync(path.join(sandbox.runDir, 'pause.pid'), `${stranger.pid} 12345\n`);
      const r = sandbox.run(['unshare', 'readlink', '/proc/self/ns/user']);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).not.toBe(fs.readlinkSync(`/proc/${stranger.pid}/ns/user`));
      const fresh = sandbox.pauseRecord()!;
      expect(fresh.pid).not.toBe(stranger.pid);
      expect(alive(stranger.pid!)).toBe(true); // the stranger was left alone
      process.kill(old.pid, 'SIGKILL');
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('system migrate stops the pause process; the next command starts a new one', () => {
    const before = sandbox.pauseRecord()!;
    expect(alive(before.pid)).toBe(true);
    const m = sandbox.run(['system', 'migrate']);
    expect(m.status).toBe(0);
    for (let i = 0; i < 100 && alive(before.pid); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    expect(alive(before.pid)).toBe(false);
    expect(sandbox.pauseRecord()).toBeUndefined();
    expect(sandbox.run(['unshare', 'true']).status).toBe(0);
    expect(sandbox.pauseRecord()!.pid).not.toBe(before.pid);
  });
});

describe('rootless user namespace without XDG_RUNTIME_DIR (su/runuser sessions)', () => {
  const sandbox = new TspodSandbox('noxdg', { xdgRuntime: false });
  afterAll(() => sandbox.dispose());

  it('uses a private directory under TMPDIR that the launcher finds too', () => {
    const a = sandbox.run(['unshare', 'readlink', '/proc/self/ns/user']);
    expect(a.status).toBe(0);
    expect(fs.statSync(sandbox.runDir).mode & 0o777).toBe(0o700);
    const rec = sandbox.pauseRecord()!;
    expect(rec).toBeDefined();
    const b = sandbox.run(['unshare', 'readlink', '/proc/self/ns/user']);
    expect(b.stdout).toBe(a.stdout);
    expect(sandbox.pauseRecord()).toEqual(rec);
  });

  it('refuses a runtime directory that is a symlink', () => {
    const other = new TspodSandbox('symlink', { xdgRuntime: false });
    try {
      const elsewhere = fs.mkdtempSync(path.join(other.home, 'elsewhere-'));
      fs.symlinkSync(elsewhere, other.runDir);
      const r = other.run(['unshare', 'true']);
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(/^Error: the runtime directory .* is not a directory owned by you/);
    } finally {
      other.dispose();
    }
  });
});

describe('a user without subordinate ids', () => {
  const empty = path.join(os.tmpdir(), `tspod-empty-subid-${process.pid}`);
  fs.writeFileSync(empty, '');
  const sandbox = new TspodSandbox('nosubid', { extraEnv: { TSPOD_SUBUID_FILE: empty, TSPOD_SUBGID_FILE: empty } });
  afterAll(() => {
    sandbox.dispose();
    fs.rmSync(empty, { force: true });
  });

  it('gets a warning and a single-id mapping, not a crash', () => {
    const r = sandbox.run(['unshare', 'cat', '/proc/self/uid_map']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^WARN\[\d{4}\] no subordinate ids for user ".*" in \/etc\/subuid/m);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(parseProcIdMap(r.stdout)).toEqual([{ containerId: 0, hostId: me.uid, size: 1 }]);
  });
});
