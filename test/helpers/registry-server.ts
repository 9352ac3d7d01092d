/**
 * Real test peers: Debian's docker-registry (distribution 2.8) on 127.0.0.1 with a free
 * port and temporary storage, in four modes:
 *   plain  - HTTP, no auth
 *   basic  - HTTP with htpasswd (bcrypt, made by `htpasswd -Bbn`)
 *   tls    - HTTPS with a CA and server certificate generated here with openssl
 *   token  - HTTP with distribution's `auth: token` backed by a tiny RS256 JWT token
 *            server (node:http on loopback) started here
 * Works unprivileged (everything under os.tmpdir()); stop() kills and awaits the processes.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export type RegistryMode = 'plain' | 'basic' | 'tls' | 'token';

export interface TokenRequestRecord {
  account: string | undefined;
  authenticated: boolean;
  scopes: string[];
  granted: Array<{ type: string; name: string; actions: string[] }>;
  status: number;
}

export interface TokenServer {
  url: string;
  realm: string;
  service: string;
  issuer: string;
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

export interface RegistryServer {
  mode: RegistryMode;
  /** `127.0.0.1:PORT`, the registry name to use in references. */
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT` or `https://...`. */
  url: string;
  dir: string;
  username: string;
  password: string;
  /** TLS mode: PEM of the CA that signed the server certificate, and its file. */
  caCert?: string;
  caCertPath?: string;
  /** TLS mode: PEM client certificate and key signed by the same CA (required when clientAuth). */
  clientCert?: string;
  clientKey?: string;
  token?: TokenServer;
  /** Last lines docker-registry wrote (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  mode: RegistryMode;
  username?: string;
  password?: string;
  /** token mode: repositories under this prefix may be pulled anonymously. */
  publicPrefix?: string;
  /** token mode: token lifetime in seconds. */
  tokenExpiresIn?: number;
  /** tls mode: require client certificates signed by the CA (http.tls.clientcas). */
  clientAuth?: boolean;
  /** token mode: an OAuth2 refresh token the token server accepts (grant_type=refresh_token). */
  refreshToken?: string;
}

export function registryAvailable(): boolean {
  return fs.existsSync(REGISTRY_BIN);
}

/** Debian packages the registry tests need, by the program they provide. */
export const TEST_TOOLS: Record<string, string> = {
  'docker-registry': 'docker-registry',
  htpasswd: 'apache2-utils',
  openssl: 'openssl',
  skopeo: 'skopeo',
  zstd: 'zstd',
  busybox: 'busybox-static',
  tar: 'tar',
  gzip: 'gzip',
};

/** Fail with the apt-get line to run when a program the tests need is missing. */
export function requireTools(...programs: string[]): void {
  const dirs = (process.env.PATH ?? '/usr/bin:/bin').split(':');
  const missing = programs.filter((p) => !dirs.some((d) => fs.existsSync(path.join(d, p))));
  if (missing.length) {
    const pkgs = [...new Set(missing.map((p) => TEST_TOOLS[p] ?? p))].join(' ');
    throw new Error(`the registry tests need ${missing.join(', ')}: install them with apt-get install ${pkgs}`);
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and a server certificate for 127.0.0.1/localhost, signed by it. */
export function makeTlsMaterial(
  dir: string,
  cn = 'localhost',
): { caCert: string; caKey: string; cert: string; key: string; clientCert: string; clientKey: string } {
  fs.mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=tspod test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${cn}`], dir);
  fs.writeFileSync(path.join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt',
    '-days', '2', '-extfile', 'server.ext'], dir);
  // a client certificate from the same CA, for registries that require one
  openssl(['req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=tspod test client'], dir);
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n');
  openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt',
    '-days', '2', '-extfile', 'client.ext'], dir);
  return {
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    cert: path.join(dir, 'server.crt'),
    key: path.join(dir, 'server.key'),
    clientCert: path.join(dir, 'client.crt'),
    clientKey: path.join(dir, 'client.key'),
  };
}

// ------------------------------------------------------------------ token server

function base64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** libtrust's key id (what distribution matches a JWT `kid` against): base32 of sha256(SPKI)[:30], in groups of 4. */
export function libtrustKeyId(publicKey: crypto.KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const h = crypto.createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of h) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

async function startTokenServer(opts: {
  dir: string;
  service: string;
  issuer: string;
  username: string;
  password: string;
  publicPrefix: string;
  expiresIn: number;
  refreshToken: string | undefined;
}): Promise<TokenServer & { certPath: string }> {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'token.key', '-out', 'token.crt', '-days', '2',
    '-subj', '/CN=tspod test token issuer'], opts.dir);
  const privateKey = crypto.createPrivateKey(fs.readFileSync(path.join(opts.dir, 'token.key')));
  const kid = libtrustKeyId(crypto.createPublicKey(privateKey));
  const requests: TokenRequestRecord[] = [];

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let params = url.searchParams;
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      params = new URLSearchParams(Buffer.concat(chunks).toString());
    }
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    let account: string | undefined;
    let authenticated = false;
    const auth = req.headers.authorization;
    if (req.method === 'POST') {
      // OAuth2 refresh-token grant (auth.json "identitytoken")
      if (params.get('grant_type') !== 'refresh_token' || !opts.refreshToken || params.get('refresh_token') !== opts.refreshToken) {
        requests.push({ account: undefined, authenticated: false, scopes, granted: [], status: 401 });
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_grant' }));
        return;
      }
      account = opts.username;
      authenticated = true;
    } else if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      account = u;
      if (u !== opts.username || p.join(':') !== opts.password) {
        requests.push({ account, authenticated: false, scopes, granted: [], status: 401 });
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      authenticated = true;
    }
    const granted: TokenRequestRecord['granted'] = [];
    for (const s of scopes) {
      const parts = s.split(':');
      if (parts.length < 3) continue;
      const type = parts[0]!;
      const actions = parts[parts.length - 1]!.split(',');
      const name = parts.slice(1, -1).join(':');
      if (type !== 'repository') continue;
      const allowed = authenticated ? actions : name.startsWith(opts.publicPrefix) ? actions.filter((a) => a === 'pull') : [];
      if (allowed.length) granted.push({ type, name, actions: allowed });
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', kid };
    const claims = {
      iss: opts.issuer,
      sub: account ?? '',
      aud: opts.service,
      exp: now + opts.expiresIn,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access: granted,
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const sig = crypto.sign('sha256', Buffer.from(signingInput), privateKey);
    const token = `${signingInput}.${base64url(sig)}`;
    requests.push({ account, authenticated, scopes, granted, status: 200 });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: opts.expiresIn, issued_at: new Date(now * 1000).toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    realm: `${url}/token`,
    service: opts.service,
    issuer: opts.issuer,
    requests,
    certPath: path.join(opts.dir, 'token.crt'),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ------------------------------------------------------------------ registry

function yamlConfig(o: {
  port: number;
  storage: string;
  tls?: { cert: string; key: string; clientCa?: string };
  htpasswd?: string;
  token?: { realm: string; service: string; issuer: string; bundle: string };
}): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${o.storage}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${o.port}`,
    '  secret: tspod-test-secret',
  ];
  if (o.tls) lines.push('  tls:', `    certificate: ${o.tls.cert}`, `    key: ${o.tls.key}`);
  if (o.tls?.clientCa) lines.push('    clientcas:', `      - ${o.tls.clientCa}`);
  if (o.htpasswd) lines.push('auth:', '  htpasswd:', '    realm: tspod-test', `    path: ${o.htpasswd}`);
  if (o.token) {
    lines.push('auth:', '  token:', `    realm: ${o.token.realm}`, `    service: ${o.token.service}`, `    issuer: ${o.token.issuer}`,
      `    rootcertbundle: ${o.token.bundle}`);
  }
  return `${lines.join('\n')}\n`;
}

async function waitReady(url: string, child: ChildProcess, logs: () => string, tcpOnly: boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  child.once('exit', (code, sig) => {
    exited = `docker-registry exited (${code ?? sig}) before it was ready:\n${logs()}`;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(exited);
    // A registry requiring client certificates refuses anonymous TLS probes: with
    // clientcas, readiness is the listening socket; otherwise an HTTP answer on /v2/.
    const ok = await new Promise<boolean>((resolve) => {
      if (tcpOnly) {
        const u = new URL(url);
        const sock = net.connect(Number(u.port), u.hostname, () => {
          sock.destroy();
          resolve(true);
        });
        sock.on('error', () => resolve(false));
        return;
      }
      const mod = url.startsWith('https:') ? https : http;
      const req = mod.get(`${url}/v2/`, { rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.setTimeout(1000, () => req.destroy());
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`docker-registry did not become ready at ${url} within ${timeoutMs} ms:\n${logs()}`);
}

export async function startRegistry(opts: StartOptions): Promise<RegistryServer> {
  requireTools('docker-registry', 'openssl', ...(opts.mode === 'basic' ? ['htpasswd'] : []));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tspod-registry-${opts.mode}-`));
  const username = opts.username ?? 'tspoduser';
  const password = opts.password ?? 'correct horse battery staple';
  const storage = path.join(dir, 'storage');
  fs.mkdirSync(storage);
  let tls: ReturnType<typeof makeTlsMaterial> | undefined;
  let htpasswd: string | undefined;
  let token: (TokenServer & { certPath: string }) | undefined;
  try {
    if (opts.mode === 'tls') tls = makeTlsMaterial(path.join(dir, 'tls'));
    if (opts.mode === 'basic') {
      htpasswd = path.join(dir, 'htpasswd');
      const line = execFileSync('htpasswd', ['-Bbn', username, password], { encoding: 'utf8' });
      fs.writeFileSync(htpasswd, line);
    }
    if (opts.mode === 'token') {
      token = await startTokenServer({
        dir,
        service: 'tspod-test-registry',
        issuer: 'tspod-test-issuer',
        username,
        password,
        publicPrefix: opts.publicPrefix ?? 'public/',
        expiresIn: opts.tokenExpiresIn ?? 300,
        refreshToken: opts.refreshToken,
      });
    }
  } catch (err) {
    await token?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'config.yml');
    fs.writeFileSync(
      config,
      yamlConfig({
        port,
        storage,
        ...(tls ? { tls: { cert: tls.cert, key: tls.key, ...(opts.clientAuth ? { clientCa: tls.caCert } : {}) } } : {}),
        ...(htpasswd ? { htpasswd } : {}),
        ...(token ? { token: { realm: token.realm, service: token.service, issuer: token.issuer, bundle: token.certPath } } : {}),
      }),
    );
    const child = spawn(REGISTRY_BIN, ['serve', config], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.on('error', (err) => {
      log += `\nspawn failed: ${err.message}`;
    });
    const onData = (b: Buffer) => {
      log = (log + b.toString()).slice(-32_768);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exitP = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    // If the test process dies without afterAll, do not leave the registry running.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const scheme = tls ? 'https' : 'http';
    const url = `${scheme}://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, () => log.slice(-4000), !!(tls && opts.clientAuth));
    } catch (err) {
      child.kill('SIGKILL');
      process.off('exit', killOnExit);
      await exitP;
      if (attempt < 3 && /address already in use/.test(log)) continue;
      await token?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    let stopped = false;
    return {
      mode: opts.mode,
      host: `127.0.0.1:${port}`,
      port,
      url,
      dir,
      username,
      password,
      ...(tls
        ? {
            caCert: fs.readFileSync(tls.caCert, 'utf8'),
            caCertPath: tls.caCert,
            clientCert: fs.readFileSync(tls.clientCert, 'utf8'),
            clientKey: fs.readFileSync(tls.clientKey, 'utf8'),
          }
        : {}),
      ...(token ? { token } : {}),
      logs: () => log,
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off('exit', killOnExit);
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitP;
        clearTimeout(timer);
        await token?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

// ------------------------------------------------------------------ fault-injecting proxy

export type ProxyAction =
  | { kind: 'pass' }
  /** Answer by itself with this status (e.g. 503), not forwarding. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Forward, but cut the connection after this many body bytes. */
  | { kind: 'cut'; afterBytes: number }
  /** Forward this many body bytes, then go silent with the connection open. */
  | { kind: 'stall'; afterBytes: number }
  /** Destroy the connection without answering. */
  | { kind: 'drop' }
  /** Forward without the Range/If-Range headers (a server that ignores ranges). */
  | { kind: 'ignoreRange' }
  /** Forward, buffering the answer and transforming its body (same headers, fixed Content-Length). */
  | { kind: 'mutate'; fn: (body: Buffer, status: number) => Buffer }
  /** Answer with a redirect. */
  | { kind: 'redirect'; status?: number; location: string };

export interface ProxiedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  action: ProxyAction['kind'];
}

export interface FaultProxy {
  host: string;
  port: number;
  requests: ProxiedRequest[];
  /** Decide what to do with each request; `n` counts earlier requests with the same method and path. */
  setHook(hook: (req: http.IncomingMessage, n: number) => ProxyAction): void;
  stop(): Promise<void>;
}

/** An HTTP proxy on loopback in front of an http `upstream` (`127.0.0.1:PORT`), injecting faults on demand. */
export async function startFaultProxy(upstream: string, bindHost = '127.0.0.1'): Promise<FaultProxy> {
  const requests: ProxiedRequest[] = [];
  const seen = new Map<string, number>();
  let hook: (req: http.IncomingMessage, n: number) => ProxyAction = () => ({ kind: 'pass' });
  const [upHost, upPort] = upstream.split(':') as [string, string];

  const server = http.createServer((req, res) => {
    const key = `${req.method} ${req.url?.split('?')[0]}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    const action = hook(req, n);
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, action: action.kind });
    if (action.kind === 'status') {
      req.resume();
      res.writeHead(action.status, { 'Content-Type': 'application/json', ...action.headers });
      res.end(action.body ?? '');
      return;
    }
    if (action.kind === 'drop') {
      req.resume();
      req.socket.destroy();
      return;
    }
    if (action.kind === 'redirect') {
      req.resume();
      res.writeHead(action.status ?? 307, { Location: action.location, 'Content-Length': '0' });
      res.end();
      return;
    }
    // Keep the client's Host: the registry builds upload Locations from it, so they point back here.
    const headers = { ...req.headers };
    if (action.kind === 'ignoreRange') {
      delete headers.range;
      delete headers['if-range'];
    }
    const up = http.request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers, agent: false }, (ur) => {
      if (action.kind === 'mutate') {
        const chunks: Buffer[] = [];
        ur.on('data', (c: Buffer) => chunks.push(c));
        ur.on('end', () => {
          const body = action.fn(Buffer.concat(chunks), ur.statusCode ?? 0);
          res.writeHead(ur.statusCode ?? 502, { ...ur.headers, 'content-length': String(body.length) });
          res.end(body);
        });
        return;
      }
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (action.kind === 'stall') {
        let sent = 0;
        ur.on('data', (c: Buffer) => {
          if (sent >= action.afterBytes) return;
          const part = c.subarray(0, action.afterBytes - sent);
          sent += part.length;
          res.write(part);
          if (sent >= action.afterBytes) ur.destroy(); // nothing more will come; the socket stays open
        });
        return;
      }
      if (action.kind === 'cut') {
        let sent = 0;
        ur.on('data', (c: Buffer) => {
          if (sent >= action.afterBytes) return;
          const part = c.subarray(0, action.afterBytes - sent);
          sent += part.length;
          res.write(part);
          if (sent >= action.afterBytes) {
            ur.destroy();
            // let the partial body reach the client, then cut
            setTimeout(() => res.socket?.destroy(), 20);
          }
        });
        ur.on('end', () => res.end());
        return;
      }
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, bindHost, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: `${bindHost}:${port}`,
    port,
    requests,
    setHook(h) {
      hook = h;
      seen.clear();
      requests.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ------------------------------------------------------------------ forward proxy (CONNECT + absolute-form)

export interface ForwardProxy {
  url: string;
  /** `CONNECT host:port` targets and absolute-form URLs seen, in order. */
  seen: Array<{ kind: 'connect' | 'http'; target: string; proxyAuthorization: string | undefined }>;
  stop(): Promise<void>;
}

/** A minimal HTTP forward proxy on loopback; with `credentials`, it demands Proxy-Authorization (407). */
export async function startForwardProxy(credentials?: { username: string; password: string }): Promise<ForwardProxy> {
  const seen: ForwardProxy['seen'] = [];
  const expected = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const auth = req.headers['proxy-authorization'];
    seen.push({ kind: 'http', target: req.url ?? '', proxyAuthorization: auth });
    if (expected && auth !== expected) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="proxy"', 'Content-Length': '0' });
      res.end();
      return;
    }
    const u = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = http.request({ host: u.hostname, port: Number(u.port || 80), method: req.method, path: u.pathname + u.search, headers, agent: false }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const auth = req.headers['proxy-authorization'];
    seen.push({ kind: 'connect', target: req.url ?? '', proxyAuthorization: auth });
    if (expected && auth !== expected) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect(Number(port), host!.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
