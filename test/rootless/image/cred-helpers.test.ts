import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type Fixtures, buildFixtures, pushImage } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { tmpDir } from './helpers.js';

// A real credential helper, as docker-credential-pass & co. behave: one JSON file per
// server in a directory of its own (per program name: the same script serves as two
// helpers), every call logged (helper, action and stdin) so the test sees what ran.
const HELPER = `#!/usr/bin/env node
const fs = require('fs');
const path = require('path');
const dir = process.env.TEST_HELPER_DIR;
const helper = path.basename(process.argv[1]).replace('docker-credential-', '');
const action = process.argv[2];
const input = fs.readFileSync(0, 'utf8');
fs.appendFileSync(path.join(dir, 'calls.log'), JSON.stringify({ helper, action, input }) + '\\n');
const store = path.join(dir, helper);
const file = (server) => path.join(store, encodeURIComponent(server.trim()) + '.json');
const notFound = () => { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); };
if (action === 'get') {
  if (!fs.existsSync(file(input))) notFound();
  process.stdout.write(fs.readFileSync(file(input), 'utf8'));
} else if (action === 'store') {
  const c = JSON.parse(input);
  fs.mkdirSync(store, { recursive: true });
  fs.writeFileSync(file(c.ServerURL), JSON.stringify(c));
} else if (action === 'erase') {
  if (!fs.existsSync(file(input))) notFound();
  fs.unlinkSync(file(input));
} else {
  process.stderr.write('unknown action\\n');
  process.exit(1);
}
`;

let basic: RegistryServer;
let fx: Fixtures;
let tmp: string;
let sb: TspodSandbox;
let helperDir: string;

beforeAll(async () => {
  tmp = tmpDir('image-credhelpers');
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  basic = await startRegistry({ mode: 'basic' });
  const client = new RegistryClient({ registry: basic.host, tlsVerify: false, certDirs: [], credentials: () => ({ username: basic.username, password: basic.password }) });
  await pushImage(client, 'fixtures/busybox', 'v1', fx.busybox);
  client.close();
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'docker-credential-tspodtest'), HELPER, { mode: 0o755 });
  fs.symlinkSync('docker-credential-tspodtest', path.join(bin, 'docker-credential-other'));
  helperDir = path.join(tmp, 'helper');
  sb = new TspodSandbox('image-credhelpers', { extraEnv: { PATH: `${bin}:${process.env.PATH}`, TEST_HELPER_DIR: helperDir } });
}, 60_000);

afterAll(async () => {
  sb?.dispose();
  await basic?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const calls = (): Array<{ helper: string; action: string; input: string }> => {
  const f = path.join(helperDir, 'calls.log');
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
};

describe('credential helpers (credHelpers, credsStore)', { timeout: 60_000 }, () => {
  const ref = () => `${basic.host}/fixtures/busybox:v1`;
  const runAuth = () => path.join(sb.home, 'run', 'containers', 'auth.json');
  const dockerConfig = () => path.join(sb.home, '.docker', 'config.json');
  const writeJson = (file: string, v: unknown) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(v));
  };

  beforeEach(() => {
    fs.rmSync(helperDir, { recursive: true, force: true });
    fs.mkdirSync(helperDir);
    fs.rmSync(path.join(sb.home, '.docker'), { recursive: true, force: true });
    fs.rmSync(runAuth(), { force: true });
    sb.run(['rmi', '-a']);
  });

  it('login stores through the credHelpers helper, pull gets from it, logout erases it', () => {
    writeJson(runAuth(), { credHelpers: { [basic.host]: 'tspodtest' } });
    const bad = sb.run(['login', '--tls-verify=false', '-u', basic.username, '-p', 'wrong', basic.host]);
    expect(bad.stderr).toBe(`Error: logging into "${basic.host}": invalid username/password\n`);
    const ok = sb.run(['login', '--tls-verify=false', '-u', basic.username, '--password-stdin', basic.host], { input: `${basic.password}\n` });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('Login Succeeded!\n');
    expect(calls()).toEqual([{ helper: 'tspodtest', action: 'store', input: JSON.stringify({ ServerURL: basic.host, Username: basic.username, Secret: basic.password }) }]);
    // Nothing in the file itself: the helper holds the secret.
    expect(JSON.parse(fs.readFileSync(runAuth(), 'utf8'))).toEqual({ credHelpers: { [basic.host]: 'tspodtest' } });
    expect(sb.run(['login', '--get-login', basic.host]).stdout).toBe(`${basic.username}\n`);

    const pull = sb.run(['pull', '-q', '--tls-verify=false', ref()]);
    expect(pull.stderr).toBe('');
    expect(pull.stdout.trim()).toBe(fx.busybox.config.digest.slice(7));
    expect(calls().filter((c) => c.action === 'get').map((c) => c.input)).toContain(basic.host);

    const out = sb.run(['logout', basic.host]);
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe(`Removed login credentials for ${basic.host}\n`);
    expect(calls().at(-1)).toEqual({ helper: 'tspodtest', action: 'erase', input: basic.host });
    expect(sb.run(['logout', basic.host]).stderr).toBe(`Error: not logged into ${basic.host}\n`);
    sb.run(['rmi', '-a']);
    const denied = sb.run(['pull', '-q', '--tls-verify=false', ref()]);
    expect(denied.status).toBe(125);
  });

  it("Docker's credsStore in ~/.docker/config.json serves pulls; a helper with nothing passes to the next file", () => {
    writeJson(dockerConfig(), { auths: { [basic.host]: {} }, credsStore: 'tspodtest' });
    // The first file's helper ("other") has nothing for this registry.
    writeJson(runAuth(), { credHelpers: { [basic.host]: 'other' } });
    const denied = sb.run(['pull', '-q', '--tls-verify=false', ref()]);
    expect(denied.status).toBe(125);
    expect(calls().map((c) => `${c.helper} ${c.action} ${c.input}`)).toContain(`tspodtest get ${basic.host}`);
    writeJson(path.join(helperDir, 'tspodtest', `${encodeURIComponent(basic.host)}.json`), { ServerURL: basic.host, Username: basic.username, Secret: basic.password });
    fs.rmSync(path.join(helperDir, 'calls.log'));
    const r = sb.run(['pull', '-q', '--tls-verify=false', ref()]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(fx.busybox.config.digest.slice(7));
    expect(calls().map((c) => `${c.helper} ${c.action} ${c.input}`)).toEqual([`other get ${basic.host}`, `tspodtest get ${basic.host}`]);
  });

  it('a credHelpers helper that is not installed is an error; a missing credsStore helper is skipped with a warning', () => {
    writeJson(runAuth(), { credHelpers: { [basic.host]: 'nosuchhelper' } });
    const r = sb.run(['pull', '-q', '--tls-verify=false', ref()]);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('Error: the credential helper docker-credential-nosuchhelper is not installed (not found in $PATH); install it or remove it from the auth file\n');
    fs.rmSync(runAuth());
    writeJson(dockerConfig(), { credsStore: 'nosuchhelper' });
    const auth = Buffer.from(`${basic.username}:${basic.password}`).toString('base64');
    const authFile = path.join(tmp, 'plain-auth.json');
    writeJson(authFile, { auths: { [basic.host]: { auth } } });
    const w = sb.run(['pull', '-q', '--tls-verify=false', ref()]);
    expect(w.status).toBe(125);
    expect(w.stderr).toMatch(/WARN.*docker-credential-nosuchhelper is not installed.*ignoring the credsStore of .*config\.json/);
    // --authfile alone: Docker's file is not read at all.
    const ok = sb.run(['pull', '-q', '--tls-verify=false', '--authfile', authFile, ref()]);
    expect(ok.stderr).toBe('');
  });
});
