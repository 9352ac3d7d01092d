import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { RegistryError } from '../../../src/image/registry/errors.js';
import { TokenCache } from '../../../src/image/registry/token-cache.js';
import type { CredentialsProvider } from '../../../src/image/registry/types.js';
import { type Fixtures, buildFixtures, collect, pushImage, sha256 } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';

let basic: RegistryServer;
let token: RegistryServer;
let fx: Fixtures;
let tmp: string;
const clients: RegistryClient[] = [];

function client(reg: RegistryServer, credentials?: CredentialsProvider, tokenCache = new TokenCache()): RegistryClient {
  const c = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [], tokenCache, ...(credentials ? { credentials } : {}) });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-reg-auth-'));
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  [basic, token] = await Promise.all([startRegistry({ mode: 'basic' }), startRegistry({ mode: 'token', refreshToken: 'refresh-token-123' })]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all([basic?.stop(), token?.stop()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('basic auth (htpasswd)', { timeout: 30_000 }, () => {
  it('pushes and pulls with the right password', async () => {
    let asked = 0;
    const c = client(basic, (registry) => {
      asked++;
      expect(registry).toBe(basic.host);
      return { username: basic.username, password: basic.password };
    });
    expect(await c.ping()).toEqual({ scheme: 'http', auth: 'basic' });
    expect(await pushImage(c, 'private/busybox', 'v1', fx.busybox)).toBe(fx.busybox.manifestDigest);
    const m = await c.getManifest({ repository: 'private/busybox', tag: 'v1' });
    expect(m.bytes.equals(fx.busybox.manifest)).toBe(true);
    const layer = fx.busybox.layers[0]!;
    expect(sha256(await collect(await c.getBlob('private/busybox', layer.digest)))).toBe(layer.digest);
    expect(asked).toBe(1); // looked up once per client
  });

  it('takes credentials in the shape auth-file.ts returns (identityToken unset)', async () => {
    const stored = { kind: 'password' as const, username: basic.username, password: basic.password, identityToken: undefined as string | undefined, file: 'auth.json', key: basic.host };
    const c = client(basic, () => stored);
    expect((await c.getManifest({ repository: 'private/busybox', tag: 'v1' })).digest).toBe(fx.busybox.manifestDigest);
  });

  it('tells the user to log in when no credentials are known', async () => {
    const c = client(basic);
    await expect(c.getManifest({ repository: 'private/busybox', tag: 'v1' })).rejects.toThrow(
      `unauthorized: authentication required for registry ${basic.host}; run 'tspod login ${basic.host}'`,
    );
  });

  it('says the password is wrong', async () => {
    const c = client(basic, () => ({ username: basic.username, password: 'wrong' }));
    const err = await c.getManifest({ repository: 'private/busybox', tag: 'v1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBe(401);
    expect((err as RegistryError).message).toMatch(new RegExp(`^unauthorized: invalid username/password .* run 'tspod login ${basic.host.replace(/\./g, '\\.')}'$`));
  });
});

describe('bearer tokens (distribution token auth + RS256 token server)', { timeout: 30_000 }, () => {
  const creds = () => ({ username: token.username, password: token.password });

  it('pushes with credentials, pulls back, and caches tokens per scope', async () => {
    const cache = new TokenCache();
    const c = client(token, creds, cache);
    expect(await c.ping()).toEqual({ scheme: 'http', auth: 'bearer' });
    const before = token.token!.requests.length;
    expect(await pushImage(c, 'private/busybox', 'v1', fx.busybox)).toBe(fx.busybox.manifestDigest);
    expect(await pushImage(c, 'public/busybox', 'v1', fx.busybox)).toBe(fx.busybox.manifestDigest);
    const pushTokens = token.token!.requests.slice(before);
    // one token per distinct scope set: push on each repository (plus pull for the HEAD checks)
    expect(pushTokens.every((r) => r.status === 200 && r.authenticated && r.account === token.username)).toBe(true);
    const scopeSets = new Set(pushTokens.map((r) => JSON.stringify([...r.scopes].sort())));
    expect(scopeSets.size).toBe(pushTokens.length);
    const n = token.token!.requests.length;
    for (let i = 0; i < 3; i++) {
      const m = await c.getManifest({ repository: 'private/busybox', tag: 'v1' });
      expect(m.digest).toBe(fx.busybox.manifestDigest);
    }
    // the pull token from the push phase (same scope) is reused: no new token request
    expect(token.token!.requests.length).toBe(n);
    expect(cache.size).toBeGreaterThan(0);
  });

  it('pulls a public repository anonymously, refuses a private one', async () => {
    const anon = client(token);
    const m = await anon.getManifest({ repository: 'public/busybox', tag: 'v1' });
    expect(m.digest).toBe(fx.busybox.manifestDigest);
    const last = token.token!.requests.at(-1)!;
    expect(last.authenticated).toBe(false);
    expect(last.granted).toEqual([{ type: 'repository', name: 'public/busybox', actions: ['pull'] }]);
    await expect(anon.getManifest({ repository: 'private/busybox', tag: 'v1' })).rejects.toThrow(
      `unauthorized: authentication required for registry ${token.host}; run 'tspod login ${token.host}'`,
    );
    // anonymous push to the public repository is refused too
    await expect(anon.putBlob('public/busybox', Buffer.from('x'))).rejects.toThrow(/^unauthorized: authentication required/);
  });

  it('says the password is wrong when the token server refuses it', async () => {
    const c = client(token, () => ({ username: token.username, password: 'nope' }));
    await expect(c.getManifest({ repository: 'private/busybox', tag: 'v1' })).rejects.toThrow(/^unauthorized: invalid username\/password/);
    expect(token.token!.requests.at(-1)!.status).toBe(401);
  });

  it('mounts across repositories with a token covering both', async () => {
    const c = client(token, creds);
    const layer = fx.busybox.layers[0]!;
    const r = await c.putBlob('private/copy', Buffer.alloc(0), { digest: layer.digest, mountFrom: ['private/busybox'], skipExistsCheck: true });
    expect(r.via).toBe('mounted');
    const mountReq = token.token!.requests.at(-1)!;
    expect(mountReq.scopes.sort()).toEqual(['repository:private/busybox:pull', 'repository:private/copy:pull,push']);
    expect(await c.blobExists('private/copy', layer.digest)).toEqual({ size: layer.size });
  });

  it('gets a fresh token when a cached one is rejected', async () => {
    const cache = new TokenCache();
    const c = client(token, creds, cache);
    await c.getManifest({ repository: 'private/busybox', tag: 'v1' });
    // poison every cached token: the registry answers 401 and the client fetches a new one
    const key = [...(cache as unknown as { entries: Map<string, unknown> }).entries.keys()][0]!;
    cache.set(key, 'garbage.token.value', Date.now() + 60_000);
    const n = token.token!.requests.length;
    const m = await c.getManifest({ repository: 'private/busybox', tag: 'v1' });
    expect(m.digest).toBe(fx.busybox.manifestDigest);
    expect(token.token!.requests.length).toBe(n + 1);
  });

  it('exchanges an identity token (OAuth2 refresh token) for access tokens', async () => {
    const c = client(token, () => ({ identityToken: 'refresh-token-123' }));
    const m = await c.getManifest({ repository: 'private/busybox', tag: 'v1' });
    expect(m.digest).toBe(fx.busybox.manifestDigest);
    const last = token.token!.requests.at(-1)!;
    expect(last.authenticated).toBe(true);
    expect(last.scopes).toEqual(['repository:private/busybox:pull']);
    const bad = client(token, () => ({ identityToken: 'stale' }));
    await expect(bad.getManifest({ repository: 'private/busybox', tag: 'v1' })).rejects.toThrow(/^unauthorized: invalid username\/password/);
  });

  it('fetches a new token once the cached one has expired', async () => {
    let now = Date.now();
    const cache = new TokenCache(() => now);
    const c = client(token, creds, cache);
    await c.getManifest({ repository: 'private/busybox', tag: 'v1' });
    const n = token.token!.requests.length;
    await c.getManifest({ repository: 'private/busybox', tag: 'v1' });
    expect(token.token!.requests.length).toBe(n);
    now += 300_000; // the token server issues 300 s tokens
    await c.getManifest({ repository: 'private/busybox', tag: 'v1' });
    expect(token.token!.requests.length).toBe(n + 1);
  });

  it('shares one token fetch between concurrent requests', async () => {
    const c = client(token, creds);
    await c.ping();
    const n = token.token!.requests.length;
    const results = await Promise.all(Array.from({ length: 6 }, () => c.headManifest({ repository: 'private/busybox', tag: 'v1' })));
    expect(results.every((r) => r?.digest === fx.busybox.manifestDigest)).toBe(true);
    expect(token.token!.requests.length).toBe(n + 1);
  });

  it('never reuses a token obtained with other credentials from a shared cache', async () => {
    const shared = new TokenCache();
    const good = client(token, creds, shared);
    expect((await good.getManifest({ repository: 'private/busybox', tag: 'v1' })).digest).toBe(fx.busybox.manifestDigest);
    const wrong = client(token, () => ({ username: token.username, password: 'wrong' }), shared);
    await expect(wrong.getManifest({ repository: 'private/busybox', tag: 'v1' })).rejects.toThrow(/^unauthorized: invalid username\/password/);
    const anon = client(token, undefined, shared);
    await expect(anon.getManifest({ repository: 'private/busybox', tag: 'v1' })).rejects.toThrow(/^unauthorized: authentication required/);
  });
});
