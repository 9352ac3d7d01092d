import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type Fixtures, buildFixtures, pushImage } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { tmpDir } from './helpers.js';

let basic: RegistryServer;
let fx: Fixtures;
let tmp: string;
let sb: TspodSandbox;

beforeAll(async () => {
  tmp = tmpDir('image-login');
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  basic = await startRegistry({ mode: 'basic' });
  const client = new RegistryClient({ registry: basic.host, tlsVerify: false, certDirs: [], credentials: () => ({ username: basic.username, password: basic.password }) });
  await pushImage(client, 'fixtures/busybox', 'v1', fx.busybox);
  client.close();
  sb = new TspodSandbox('image-login');
}, 60_000);

afterAll(async () => {
  sb?.dispose();
  await basic?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('login, logout and credentials for pull and push', { timeout: 60_000 }, () => {
  const ref = () => `${basic.host}/fixtures/busybox:v1`;

  it('pull without credentials is refused; --creds works', () => {
    const denied = sb.run(['pull', '-q', '--tls-verify=false', ref()]);
    expect(denied.status).toBe(125);
    expect(denied.stderr).toMatch(/^Error: .*(auth|credentials|unauthorized)/i);
    const r = sb.run(['pull', '-q', '--tls-verify=false', '--creds', `${basic.username}:${basic.password}`, ref()]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(fx.busybox.config.digest.slice(7));
  });

  it('login checks the password and writes the auth file; pull and push use it; logout removes it', () => {
    const bad = sb.run(['login', '--tls-verify=false', '-u', basic.username, '-p', 'wrong', basic.host]);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toBe(`Error: logging into "${basic.host}": invalid username/password\n`);
    const authFile = path.join(sb.home, 'run', 'containers', 'auth.json');
    expect(fs.existsSync(authFile)).toBe(false);
    const ok = sb.run(['login', '--tls-verify=false', '-u', basic.username, '--password-stdin', basic.host], { input: `${basic.password}\n` });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('Login Succeeded!\n');
    expect(JSON.parse(fs.readFileSync(authFile, 'utf8')).auths[basic.host].auth).toBe(Buffer.from(`${basic.username}:${basic.password}`).toString('base64'));
    expect(sb.run(['login', '--get-login', basic.host]).stdout).toBe(`${basic.username}\n`);
    const push = sb.run(['push', '--tls-verify=false', ref(), `${basic.host}/copies/busybox:v2`]);
    expect(push.stderr).toBe('');
    expect(push.status).toBe(0);
    sb.run(['rmi', '-a']);
    const pull = sb.run(['pull', '-q', '--tls-verify=false', `${basic.host}/copies/busybox:v2`]);
    expect(pull.stderr).toBe('');
    expect(sb.run(['logout', basic.host]).stdout).toBe(`Removed login credentials for ${basic.host}\n`);
    expect(sb.run(['logout', basic.host]).stderr).toBe(`Error: not logged into ${basic.host}\n`);
  });

  it("uses Docker's ~/.docker/config.json when tspod's auth.json has no entry, and an --authfile given instead", () => {
    sb.run(['rmi', '-a']);
    const auth = Buffer.from(`${basic.username}:${basic.password}`).toString('base64');
    const dockerDir = path.join(sb.home, '.docker');
    fs.mkdirSync(dockerDir, { recursive: true });
    fs.writeFileSync(path.join(dockerDir, 'config.json'), JSON.stringify({ auths: { [basic.host]: { auth } } }));
    try {
      const r = sb.run(['pull', '-q', '--tls-verify=false', ref()]);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(fx.busybox.config.digest.slice(7));
    } finally {
      fs.rmSync(dockerDir, { recursive: true });
    }
    sb.run(['rmi', '-a']);
    expect(sb.run(['pull', '-q', '--tls-verify=false', ref()]).status).toBe(125);
    const authFile = path.join(tmp, 'other-auth.json');
    fs.writeFileSync(authFile, JSON.stringify({ auths: { [basic.host]: { auth } } }));
    const r = sb.run(['pull', '-q', '--tls-verify=false', '--authfile', authFile, ref()]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(fx.busybox.config.digest.slice(7));
  });
});
