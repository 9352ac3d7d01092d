/**
 * One registry endpoint over node:http/node:https: scheme discovery (https, or http for
 * insecure registries), authentication (anonymous, basic, bearer tokens), redirects,
 * retries with backoff. Bodies are streamed, never buffered whole.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { log } from '../../util/log.js';
import {
  type ErrorContext,
  RegistryError,
  isTlsVerifyError,
  mapNetworkError,
  mapRegistryError,
} from './errors.js';
import { digestBytes } from './digest.js';
import { openTunnel, parseProxyUrl, proxyAuthorization, proxyFromEnvironment } from './proxy.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, backoffDelay, isRetryableNetworkError, isRetryableStatus, parseRetryAfter, sleep } from './retry.js';
import { type TlsMaterial, defaultCertDirs, loadTlsMaterial } from './tls.js';
import { TokenCache, defaultTokenCache, tokenCacheKey, tokenExpiry } from './token-cache.js';
import type { Credentials, RegistryClientOptions } from './types.js';
import { type Challenge, findChallenge, parseWwwAuthenticate } from './www-authenticate.js';

export type RequestBody = Uint8Array | (() => Readable);

export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path (and query) under the registry base, e.g. `/v2/library/alpine/manifests/latest`, or an absolute URL. */
  path: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Token scopes this request needs, e.g. `repository:library/alpine:pull`. */
  scopes: string[];
  /** Statuses returned to the caller; any other is turned into a RegistryError. */
  expect: number[];
  ctx: Omit<ErrorContext, 'registry' | 'hadCredentials'>;
  /** Whether failed attempts may be repeated (default true). */
  retry?: boolean;
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);
const ERROR_BODY_LIMIT = 64 * 1024;

/** `docker.io` references are served by `registry-1.docker.io`. */
export function endpointHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

export async function readBody(res: IncomingMessage, limit: number, registry = ''): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) {
      res.destroy();
      throw new RegistryError(`registry ${registry || '(unknown)'} sent an answer larger than the ${limit}-byte limit; refusing it`, {
        registry,
        status: res.statusCode ?? 0,
      });
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export function drain(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    // Always consume: a response whose (empty) body is never read keeps its socket from the pool.
    if (res.readableEnded || res.destroyed) return resolve();
    res.on('end', resolve);
    res.on('error', () => resolve());
    res.on('close', resolve);
    res.resume();
  });
}

export class Transport {
  readonly registry: string;
  readonly host: string;
  readonly tlsVerify: boolean;
  readonly policy: RetryPolicy;
  private readonly tokenCache: TokenCache;
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent: http.Agent;
  private readonly idleTimeoutMs: number;
  private readonly userAgent: string;
  private readonly certDirs: readonly string[];
  private readonly tlsm: TlsMaterial;
  private readonly inflightTokens = new Map<string, Promise<string>>();
  private readonly opts: RegistryClientOptions;
  private base: URL | undefined;
  private pinging: Promise<void> | undefined;
  /** Challenge from the ping; null when the registry needs no authentication. */
  private challenge: Challenge | null = null;
  private creds: Credentials | undefined;
  private credsLoaded = false;
  private readonly debug: (m: string) => void;

  constructor(opts: RegistryClientOptions) {
    this.opts = opts;
    this.registry = opts.registry;
    this.host = endpointHost(opts.registry);
    this.tlsVerify = opts.tlsVerify ?? true;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.tokenCache = opts.tokenCache ?? defaultTokenCache;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
    this.userAgent = opts.userAgent ?? 'tspod';
    this.certDirs = opts.certDirs ?? defaultCertDirs();
    // certs.d is keyed by the name users write (docker.io, not registry-1.docker.io), as in containers/image.
    const tlsm = loadTlsMaterial(this.registry, this.certDirs);
    this.tlsm = tlsm;
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      ...this.caOption(),
      ...(tlsm.cert ? { cert: tlsm.cert, key: tlsm.key } : {}),
      rejectUnauthorized: this.tlsVerify,
    });
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    this.debug = (m) => {
      opts.onDebug?.(m);
      log.debug(`registry ${this.registry}: ${m}`);
    };
  }

  /**
   * `ca` for TLS connections: only when certs.d adds CAs to the roots. Without it Node
   * uses its root store built once; passing the ~140 roots builds a new store for every
   * connection (~35 ms each). Without verification no CA is needed at all: an empty
   * list keeps Node from loading its root store (~30 ms, paid by every insecure pull).
   */
  private caOption(): { ca?: string[] } {
    if (!this.tlsVerify) return { ca: [] };
    return this.tlsm.extraCaFiles.length > 0 ? { ca: this.tlsm.ca } : {};
  }

  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }

  /** The base URL (`https://host` or `http://host`), known after ping(). */
  get baseUrl(): URL | undefined {
    return this.base;
  }

  get authScheme(): 'none' | 'basic' | 'bearer' | 'other' {
    if (!this.challenge) return 'none';
    return this.challenge.scheme === 'basic' || this.challenge.scheme === 'bearer' ? this.challenge.scheme : 'other';
  }

  private netError(err: unknown, registry = this.registry): RegistryError {
    if (err instanceof RegistryError) return err;
    return mapNetworkError(err, registry, {
      caPaths: this.certDirs.map((d) => `${d}/${this.registry}/ca.crt`).join(' or '),
      clientCertDir: this.tlsm.dir ?? (this.certDirs[0] ? `${this.certDirs[0]}/${this.registry}` : undefined),
      clientCertLoaded: !!this.tlsm.cert,
    });
  }

  private proxyFor(url: URL): URL | undefined {
    const p = this.opts.proxy;
    if (p === false) return undefined;
    if (typeof p === 'string') return parseProxyUrl(p);
    return proxyFromEnvironment(url, this.opts.env ?? process.env);
  }

  /** Send one HTTP request (no auth, redirects or retries), directly or through a proxy. */
  async raw(method: string, url: URL, headers: Record<string, string>, body: Uint8Array | Readable | undefined): Promise<IncomingMessage> {
    const h: Record<string, string> = { 'User-Agent': this.userAgent, ...headers };
    if (body instanceof Uint8Array) h['Content-Length'] = String(body.length);
    else if (body === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH') && h['Content-Length'] === undefined) {
      h['Content-Length'] = '0';
    }
    const proxy = this.proxyFor(url);
    let req: http.ClientRequest;
    if (!proxy) {
      const mod = url.protocol === 'https:' ? https : http;
      req = mod.request(url, { method, headers: h, agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent });
    } else if (url.protocol === 'http:') {
      // absolute-form request to the proxy
      const auth = proxyAuthorization(proxy);
      req = http.request({
        host: proxy.hostname.replace(/^\[|\]$/g, ''),
        port: Number(proxy.port || 80),
        path: url.href,
        method,
        headers: { ...h, Host: url.host, ...(auth ? { 'Proxy-Authorization': auth } : {}) },
        agent: this.httpAgent,
      });
    } else {
      // https through a CONNECT tunnel (one tunnel per request: not pooled)
      const port = url.port || '443';
      const host = url.hostname.replace(/^\[|\]$/g, '');
      let socket: net.Socket;
      try {
        socket = await openTunnel(proxy, host, port, this.registry, this.idleTimeoutMs);
      } catch (err) {
        if (body instanceof Readable) body.destroy();
        throw err;
      }
      const tlsOpts: tls.ConnectionOptions = {
        socket,
        ...this.caOption(),
        ...(this.tlsm.cert ? { cert: this.tlsm.cert, key: this.tlsm.key } : {}),
        rejectUnauthorized: this.tlsVerify,
        ...(net.isIP(host) ? {} : { servername: host }),
      };
      req = https.request(url, { method, headers: h, agent: undefined, createConnection: () => tls.connect(tlsOpts) });
    }
    if (!proxy) return this.send(req, url, body);
    return this.send(req, url, body).catch((err: NodeJS.ErrnoException) => {
      if (url.protocol === 'http:' && err.code === 'ECONNREFUSED') {
        throw new RegistryError(`cannot reach proxy ${proxy.host} for registry ${this.registry}: connection refused`, { registry: this.registry, status: 0, code: err.code, cause: err });
      }
      throw err;
    });
  }

  private send(req: http.ClientRequest, url: URL, body: Uint8Array | Readable | undefined): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      req.setTimeout(this.idleTimeoutMs, () => {
        const e = new Error(`no data from ${url.host} for ${this.idleTimeoutMs} ms`) as NodeJS.ErrnoException;
        e.code = 'ETIMEDOUT';
        req.destroy(e);
      });
      req.on('error', reject);
      req.on('response', (res) => {
        // Errors after the headers are reported by the response stream itself.
        req.off('error', reject);
        req.on('error', (e) => {
          if (!res.destroyed) res.destroy(e);
        });
        resolve(res);
      });
      if (body instanceof Readable) {
        body.on('error', (e) => req.destroy(e));
        // a request that failed mid-upload must not leave its source (often a file) open
        req.once('close', () => {
          if (!body.readableEnded) body.destroy();
        });
        body.pipe(req);
      } else {
        req.end(body);
      }
    });
  }

  /** Discover the scheme and the authentication challenge (GET /v2/). Idempotent. */
  ping(): Promise<void> {
    this.pinging ??= this.doPing().catch((err) => {
      this.pinging = undefined;
      throw err;
    });
    return this.pinging;
  }

  private async doPing(): Promise<void> {
    const schemes = this.tlsVerify ? ['https:'] : ['https:', 'http:'];
    let lastErr: unknown;
    for (const scheme of schemes) {
      const url = new URL(`${scheme}//${this.host}/v2/`);
      try {
        const res = await this.withRetries('GET', () => this.raw('GET', url, {}, undefined));
        const status = res.statusCode ?? 0;
        if (status === 200 || status === 401) {
          this.challenge = status === 401 ? pickChallenge(parseWwwAuthenticate(res.headers['www-authenticate'])) ?? null : null;
          await drain(res);
          this.base = new URL(`${scheme}//${this.host}`);
          this.debug(`ping ${url.href}: ${status}, auth ${this.authScheme}`);
          return;
        }
        const body = (await readBody(res, ERROR_BODY_LIMIT, this.registry)).toString('utf8');
        throw mapRegistryError(status, body, { registry: this.registry, kind: 'ping' });
      } catch (err) {
        if (err instanceof RegistryError && err.status !== 0) throw err;
        lastErr = err;
        if (scheme === 'https:' && schemes.length > 1) {
          this.debug(`https ping failed (${(err as Error).message}); trying plain http`);
          continue;
        }
      }
    }
    throw this.netError(lastErr);
  }

  /** Repeat `attempt` on retryable network errors and statuses, per the policy. */
  private async withRetries(method: string, attempt: () => Promise<IncomingMessage>, retry = true): Promise<IncomingMessage> {
    for (let n = 1; ; n++) {
      const last = !retry || n >= this.policy.maxAttempts;
      let res: IncomingMessage;
      try {
        res = await attempt();
      } catch (err) {
        if (last || !isRetryableNetworkError(err)) throw err;
        const d = backoffDelay(this.policy, n + 1);
        this.debug(`${method} failed (${(err as Error).message}); retry ${n}/${this.policy.maxAttempts - 1} in ${d} ms`);
        await sleep(d);
        continue;
      }
      const status = res.statusCode ?? 0;
      if (!last && isRetryableStatus(status)) {
        await drain(res);
        const d = backoffDelay(this.policy, n + 1, parseRetryAfter(res.headers['retry-after'] as string | undefined));
        this.debug(`${method} answered ${status}; retry ${n}/${this.policy.maxAttempts - 1} in ${d} ms`);
        await sleep(d);
        continue;
      }
      return res;
    }
  }

  private async credentials(): Promise<Credentials | undefined> {
    if (!this.credsLoaded) {
      this.creds = (await this.opts.credentials?.(this.registry)) ?? undefined;
      this.credsLoaded = true;
    }
    return this.creds;
  }

  /** The Authorization header for these scopes, fetching a token when needed. */
  private async authorization(scopes: string[], refresh: boolean): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      const c = await this.credentials();
      if (c && 'password' in c && typeof c.password === 'string') return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
      return undefined;
    }
    if (ch.scheme === 'bearer') {
      const realm = ch.params.realm;
      if (!realm) throw new RegistryError(`registry ${this.registry} asked for a bearer token without naming a realm; it is misconfigured`, { registry: this.registry, status: 401 });
      const c = await this.credentials();
      const identity = c ? digestBytes(JSON.stringify([c.username ?? '', 'password' in c ? c.password : '', c.identityToken ?? ''])).slice(7, 23) : '';
      const key = tokenCacheKey(this.registry, realm, ch.params.service, scopes, identity);
      if (!refresh) {
        const t = this.tokenCache.get(key);
        if (t) return `Bearer ${t}`;
      } else {
        this.tokenCache.delete(key);
      }
      // Concurrent requests needing the same token share one fetch.
      let p = this.inflightTokens.get(key);
      if (!p) {
        p = this.fetchToken(realm, ch.params.service, scopes)
          .then(({ token, expiresAt }) => {
            this.tokenCache.set(key, token, expiresAt);
            return token;
          })
          .finally(() => this.inflightTokens.delete(key));
        this.inflightTokens.set(key, p);
      }
      return `Bearer ${await p}`;
    }
    return undefined;
  }

  private async fetchToken(realm: string, service: string | undefined, scopes: string[]): Promise<{ token: string; expiresAt: number }> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`registry ${this.registry} sent an invalid token realm "${realm}"`, { registry: this.registry, status: 401 });
    }
    const c = await this.credentials();
    const headers: Record<string, string> = {};
    let method = 'GET';
    let body: Buffer | undefined;
    if (c?.identityToken) {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'tspod' });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = Buffer.from(form.toString());
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (c && 'password' in c) {
        url.searchParams.set('account', c.username);
        headers.Authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
      }
    }
    const registry = this.registry;
    let res: IncomingMessage;
    try {
      res = await this.withRetries(method, () => this.raw(method, url, headers, body));
    } catch (err) {
      throw this.netError(err, `${registry} (token server ${url.host})`);
    }
    const text = (await readBody(res, ERROR_BODY_LIMIT, this.registry)).toString('utf8');
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      throw mapRegistryError(status, text, { registry, kind: 'token', subject: scopes.join(' ') || registry, hadCredentials: !!c });
    }
    let doc: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      doc = JSON.parse(text);
    } catch {
      throw new RegistryError(`the token server of registry ${registry} answered something that is not JSON`, { registry, status });
    }
    const token = doc.token || doc.access_token;
    if (!token) throw new RegistryError(`the token server of registry ${registry} answered without a token`, { registry, status });
    const issued = doc.issued_at ? Date.parse(doc.issued_at) : NaN;
    // Trust our own clock when the server's issued_at is far off.
    const issuedAt = Number.isNaN(issued) || Math.abs(issued - Date.now()) > 60_000 ? Date.now() : issued;
    this.debug(`token for ${scopes.join(' ') || '(no scope)'}, expires_in ${doc.expires_in ?? 'default'}`);
    return { token, expiresAt: tokenExpiry(issuedAt, doc.expires_in) };
  }

  /**
   * Send a request with authentication, redirects (Authorization dropped off-origin)
   * and retries. Returns the response when its status is in spec.expect (body unread);
   * otherwise reads the error body and throws a RegistryError.
   */
  async request(spec: RequestSpec): Promise<IncomingMessage> {
    await this.ping();
    const base = this.base!;
    let scopes = spec.scopes;
    let authRetried = false;
    for (;;) {
      const auth = await this.authorization(scopes, authRetried);
      const retry = spec.retry !== false && (spec.body === undefined || typeof spec.body === 'function' || spec.body instanceof Uint8Array);
      let res: IncomingMessage;
      try {
        res = await this.withRetries(spec.method, () => this.followRedirects(spec, new URL(spec.path, base), auth), retry);
      } catch (err) {
        throw this.netError(err);
      }
      const status = res.statusCode ?? 0;
      if (status === 401 && !authRetried && !spec.expect.includes(401)) {
        await drain(res);
        authRetried = true;
        const ch = pickChallenge(parseWwwAuthenticate(res.headers['www-authenticate']));
        if (ch) {
          if (!this.challenge || ch.scheme !== this.challenge.scheme || ch.params.realm !== this.challenge.params.realm) this.challenge = ch;
          if (ch.scheme === 'bearer' && ch.params.scope) {
            scopes = [...new Set([...scopes, ...ch.params.scope.split(' ').filter(Boolean)])];
          }
          if (ch.scheme === 'basic' && !(await this.credentials())) {
            throw mapRegistryError(401, undefined, { registry: this.registry, ...spec.ctx, hadCredentials: false });
          }
        }
        this.debug(`${spec.method} ${spec.path}: 401, retrying with fresh credentials`);
        continue;
      }
      if (spec.expect.includes(status)) return res;
      const body = spec.method === 'HEAD' ? '' : (await readBody(res, ERROR_BODY_LIMIT, this.registry).catch(() => Buffer.alloc(0))).toString('utf8');
      if (spec.method === 'HEAD') await drain(res);
      throw mapRegistryError(status, body, { registry: this.registry, ...spec.ctx, hadCredentials: !!(await this.credentials()) });
    }
  }

  /**
   * GET an arbitrary URL (a foreign layer's `urls` entry): no credentials, redirects and
   * retries as usual; 200 (or 206 for a range) or a RegistryError.
   */
  async fetchUrl(url: URL, from = 0, ifRange?: string): Promise<IncomingMessage> {
    const headers: Record<string, string> = {};
    if (from > 0) {
      headers.Range = `bytes=${from}-`;
      if (ifRange) headers['If-Range'] = ifRange;
    }
    const spec: RequestSpec = { method: 'GET', path: url.href, headers, scopes: [], expect: [200, 206], ctx: { kind: 'blob', subject: url.href } };
    let res: IncomingMessage;
    try {
      res = await this.withRetries('GET', () => this.followRedirects(spec, url, undefined));
    } catch (err) {
      throw this.netError(err, url.host);
    }
    const status = res.statusCode ?? 0;
    if (status === 200 || (status === 206 && from > 0)) return res;
    await drain(res);
    throw new RegistryError(`${url.href} answered HTTP ${status}`, { registry: url.host, status });
  }

  private async followRedirects(spec: RequestSpec, start: URL, auth: string | undefined): Promise<IncomingMessage> {
    let url = start;
    let method: string = spec.method;
    let body = spec.body;
    const origin = this.base?.origin;
    for (let hops = 0; ; hops++) {
      const headers: Record<string, string> = { ...spec.headers };
      if (auth && url.origin === origin) headers.Authorization = auth;
      const b = typeof body === 'function' ? body() : body;
      const res = await this.raw(method, url, headers, b);
      const status = res.statusCode ?? 0;
      const loc = res.headers.location;
      if (!REDIRECT.has(status) || !loc || !(method === 'GET' || method === 'HEAD' || status === 303)) return res;
      if (hops >= 10) {
        await drain(res);
        throw new RegistryError(`registry ${this.registry} redirected more than 10 times for ${spec.path}`, { registry: this.registry, status });
      }
      await drain(res);
      const next = new URL(loc, url);
      this.debug(`${method} ${url.href}: ${status} -> ${next.origin === origin ? next.pathname : next.origin + next.pathname}`);
      if (status === 303 && method !== 'HEAD') {
        method = 'GET';
        body = undefined;
      }
      url = next;
    }
  }
}

/** Prefer bearer over basic when a registry offers both. */
function pickChallenge(chs: Challenge[]): Challenge | undefined {
  return findChallenge(chs, 'bearer') ?? findChallenge(chs, 'basic') ?? chs[0];
}

export { isTlsVerifyError };
