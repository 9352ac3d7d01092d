import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  authFileReadPaths,
  authFileWritePath,
  authKeysForKey,
  getCredentials,
  parseCredentialsKey,
  removeAllCredentials,
  removeCredentials,
  setCredentials,
  type AuthOptions,
} from '../../../src/image/auth-file.js';
import { parseImageReference } from '../../../src/image/reference.js';
import { TspodError } from '../../../src/util/errors.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

let dir: string;
let opts: AuthOptions;

function write(rel: string, value: unknown): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-auth-'));
  opts = { env: { XDG_RUNTIME_DIR: path.join(dir, 'run'), XDG_CONFIG_HOME: path.join(dir, 'config') }, homeDir: path.join(dir, 'home'), uid: 1000 };
  fs.mkdirSync(path.join(dir, 'run'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('auth file locations', () => {
  it('reads the runtime, config, Docker and legacy Docker files in order', () => {
    expect(authFileReadPaths(opts).map((p) => [path.relative(dir, p.path), p.legacyFormat])).toEqual([
      ['run/containers/auth.json', false],
      ['config/containers/auth.json', false],
      ['home/.docker/config.json', false],
      ['home/.dockercfg', true],
    ]);
    const docker = authFileReadPaths({ ...opts, env: { ...opts.env, DOCKER_CONFIG: '/d' } });
    expect(docker[2]!.path).toBe('/d/config.json');
  });

  it('reads only the file given by --authfile or REGISTRY_AUTH_FILE', () => {
    expect(authFileReadPaths({ ...opts, authFile: '/x/auth.json' }).map((p) => p.path)).toEqual(['/x/auth.json']);
    const fromEnv = { ...opts, env: { ...opts.env, REGISTRY_AUTH_FILE: '/y/auth.json' } };
    expect(authFileReadPaths(fromEnv).map((p) => p.path)).toEqual(['/y/auth.json']);
    expect(authFileWritePath(fromEnv)).toEqual({ path: '/y/auth.json', userSpecified: true });
  });

  it('falls back to /run/containers/UID without XDG_RUNTIME_DIR', () => {
    expect(authFileWritePath({ env: {}, homeDir: '/h', uid: 1234 }).path).toBe('/run/containers/1234/auth.json');
  });
});

describe('getCredentials', () => {
  it('prefers the most specific key', () => {
    write('run/containers/auth.json', {
      auths: {
        'quay.io': { auth: b64('reg:1') },
        'quay.io/ns': { auth: b64('ns:2') },
        'quay.io/ns/repo': { auth: b64('repo:3') },
      },
    });
    const user = (ref: string) => {
      const c = getCredentials(parseImageReference(ref), opts);
      return c?.kind === 'password' ? `${c.username}:${c.password}` : c;
    };
    expect(user('quay.io/ns/repo:1')).toBe('repo:3');
    expect(user('quay.io/ns/other')).toBe('ns:2');
    expect(user('quay.io/x/y')).toBe('reg:1');
    expect(user('docker.io/library/busybox')).toBeUndefined();
    expect(authKeysForKey('quay.io/ns/repo')).toEqual(['quay.io/ns/repo', 'quay.io/ns', 'quay.io']);
  });

  it('looks through the files in order and skips empty entries', () => {
    write('run/containers/auth.json', { auths: { 'quay.io': {} } });
    write('config/containers/auth.json', { auths: { 'quay.io': { auth: b64('second:pw') } } });
    const c = getCredentials('quay.io', opts);
    expect(c).toMatchObject({ kind: 'password', username: 'second', password: 'pw', key: 'quay.io' });
    expect(c && c.file).toBe(path.join(dir, 'config/containers/auth.json'));
  });

  it("finds Docker's URL keys for docker.io", () => {
    write('home/.docker/config.json', { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:secret') } } });
    expect(getCredentials(parseImageReference('busybox'), opts)).toMatchObject({ username: 'hub', password: 'secret' });
  });

  it('reads the legacy ~/.dockercfg format', () => {
    write('home/.dockercfg', { 'https://registry.example.com/v1/': { auth: b64('old:pw'), email: 'x@y' } });
    expect(getCredentials('registry.example.com/a/b', opts)).toMatchObject({ username: 'old', password: 'pw' });
  });

  it('returns identity tokens and keeps colons in passwords', () => {
    write('run/containers/auth.json', { auths: { 'a.io': { auth: b64('<token>:p:a:ss\0'), identitytoken: 'refresh' } } });
    expect(getCredentials('a.io', opts)).toMatchObject({ username: '<token>', password: 'p:a:ss', identityToken: 'refresh' });
  });

  it('reports credential helpers', () => {
    write('home/.docker/config.json', { credHelpers: { 'gcr.io': 'gcloud' }, auths: { 'gcr.io': { auth: b64('u:p') } } });
    expect(getCredentials('gcr.io/p/i', opts)).toEqual({ kind: 'helper', helper: 'gcloud', registry: 'gcr.io', file: path.join(dir, 'home/.docker/config.json') });
  });

  it('explains broken files', () => {
    write('run/containers/auth.json', '{not json');
    expect(() => getCredentials('a.io', opts)).toThrow(/cannot parse the auth file .*auth\.json/);
    write('run/containers/auth.json', { auths: { 'a.io': { auth: '!!!' } } });
    expect(() => getCredentials('a.io', opts)).toThrow(/not valid base64/);
    write('run/containers/auth.json', { auths: [] });
    expect(() => getCredentials('a.io', opts)).toThrow(/"auths" field .* is not an object/);
  });
});

describe('login and logout', () => {
  const authFile = () => path.join(dir, 'run/containers/auth.json');

  it('writes atomically with mode 0600, keeping other content', () => {
    write('run/containers/auth.json', { auths: { 'b.io': { auth: b64('b:b') } }, other: { keep: true } });
    const file = setCredentials('a.io', { username: 'me', password: 'pw' }, opts);
    expect(file).toBe(authFile());
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(saved).toEqual({ auths: { 'b.io': { auth: b64('b:b') }, 'a.io': { auth: b64('me:pw') } }, other: { keep: true } });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['auth.json']); // no temporary file left
    expect(getCredentials('a.io/x/y', opts)).toMatchObject({ username: 'me', password: 'pw' });
  });

  it('creates the file and its directory', () => {
    const file = setCredentials('https://quay.io/', { username: 'u', password: 'p', identityToken: 't' }, opts);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ auths: { 'quay.io': { auth: b64('u:p'), identitytoken: 't' } } });
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('refuses to invent a missing XDG_RUNTIME_DIR', () => {
    const missing = { ...opts, env: { ...opts.env, XDG_RUNTIME_DIR: path.join(dir, 'nope') } };
    expect(() => setCredentials('a.io', { username: 'u', password: 'p' }, missing)).toThrow(/set by \$XDG_RUNTIME_DIR does not exist/);
    expect(getCredentials('a.io', missing)).toBeUndefined();
  });

  it('writes to --authfile when given', () => {
    const custom = path.join(dir, 'custom', 'auth.json');
    setCredentials('quay.io/ns', { username: 'u', password: 'p' }, { ...opts, authFile: custom });
    expect(Object.keys(JSON.parse(fs.readFileSync(custom, 'utf8')).auths)).toEqual(['quay.io/ns']);
    expect(fs.existsSync(authFile())).toBe(false);
  });

  it('validates keys like Podman', () => {
    expect(parseCredentialsKey('https://quay.io:8443/v2/')).toEqual({ key: 'quay.io:8443', registry: 'quay.io:8443' });
    expect(parseCredentialsKey('quay.io/ns/repo')).toEqual({ key: 'quay.io/ns/repo', registry: 'quay.io' });
    expect(parseCredentialsKey('quay.io/ns/repo', false)).toEqual({ key: 'quay.io', registry: 'quay.io' });
    expect(() => parseCredentialsKey('quay.io/ns/repo:tag')).toThrow(/contains a tag or digest/);
    expect(() => parseCredentialsKey('')).toThrow(TspodError);
    expect(() => setCredentials('a.io', { username: 'a:b', password: 'p' }, opts)).toThrow(/must not contain ":"/);
  });

  it('removes one key, and says when not logged in', () => {
    setCredentials('a.io', { username: 'u', password: 'p' }, opts);
    setCredentials('b.io', { username: 'u', password: 'p' }, opts);
    removeCredentials('a.io', opts);
    expect(Object.keys(JSON.parse(fs.readFileSync(authFile(), 'utf8')).auths)).toEqual(['b.io']);
    expect(() => removeCredentials('a.io', opts)).toThrow(/^not logged into a\.io$/);
    write('home/.docker/config.json', { auths: { 'c.io': { auth: b64('d:d') } } });
    expect(() => removeCredentials('c.io', opts)).toThrow(/credentials are in .*config\.json .*docker logout/);
  });

  it('removes everything with --all', () => {
    setCredentials('a.io', { username: 'u', password: 'p' }, opts);
    removeAllCredentials(opts);
    expect(JSON.parse(fs.readFileSync(authFile(), 'utf8'))).toEqual({ auths: {} });
    expect(getCredentials('a.io', opts)).toBeUndefined();
  });

  it('sends login to the credential helper (which must exist)', () => {
    write('run/containers/auth.json', { credHelpers: { 'gcr.io': 'tspod-no-such-helper' } });
    expect(() => setCredentials('gcr.io', { username: 'u', password: 'p' }, opts)).toThrow(/credential helper docker-credential-tspod-no-such-helper is not installed/);
  });
});
