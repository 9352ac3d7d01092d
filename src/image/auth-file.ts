/**
 * Registry credentials in containers-auth.json(5) files, read and written as
 * containers/image (pkg/docker/config) does.
 *
 * Reading, first match wins:
 *   - the file given with --authfile or $REGISTRY_AUTH_FILE, and then no other file; else
 *   - ${XDG_RUNTIME_DIR}/containers/auth.json (/run/containers/UID/auth.json without it),
 *   - $XDG_CONFIG_HOME/containers/auth.json (~/.config/containers/auth.json),
 *   - $DOCKER_CONFIG/config.json or ~/.docker/config.json,
 *   - ~/.dockercfg (Docker's legacy format: registry keys only, no "auths" wrapper).
 * In each file a `credHelpers` entry for the registry comes first, then (as Docker reads it)
 * the file's `credsStore`, then the `auths` keys from the most specific (`quay.io/ns/repo`)
 * down to the registry (`quay.io`), then keys written as URLs (`https://index.docker.io/v1/`)
 * compared by host. A helper that has nothing for the registry sends the search on to the
 * next file (resolveCredentials runs it; see cred-helper.ts).
 *
 * Writing (login/logout) changes only the first file (the --authfile / $REGISTRY_AUTH_FILE
 * one, else the XDG_RUNTIME_DIR one), keeps whatever else it holds, and replaces it
 * atomically with mode 0600. When that file names a helper for the registry (credHelpers,
 * else credsStore), the credentials go to the helper instead, as Podman and Docker do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic.js';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import { hostUid } from '../util/paths.js';
import { HelperMissingError, helperErase, helperGet, helperProgram, helperStore, type HelperCredentials } from './cred-helper.js';
import { ImageReference, parseImageReference } from './reference.js';

export interface AuthOptions {
  /** --authfile; defaults to $REGISTRY_AUTH_FILE. */
  authFile?: string;
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  uid?: number;
}

export interface AuthPath {
  path: string;
  /** ~/.dockercfg: registry keys at the top level, matched by host only. */
  legacyFormat: boolean;
}

export type Credentials =
  | {
      kind: 'password';
      username: string;
      password: string;
      /** An OAuth2 refresh token (`identitytoken`), sent instead of the password when set. */
      identityToken?: string;
      /** The file and key the credentials came from. */
      file: string;
      key: string;
    }
  | {
      /** A `credHelpers` entry (or the file's `credsStore`): run `docker-credential-<helper> get` for the registry. */
      kind: 'helper';
      helper: string;
      registry: string;
      file: string;
      /** credsStore: the file's default helper rather than one named for this registry. */
      store?: true;
    };

interface AuthEntry {
  auth?: string;
  identitytoken?: string;
  [k: string]: unknown;
}

interface AuthFileContent {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [k: string]: unknown;
}

function env(o: AuthOptions): NodeJS.ProcessEnv {
  return o.env ?? process.env;
}

function home(o: AuthOptions): string {
  return o.homeDir ?? (env(o).HOME || os.homedir());
}

/** The file login writes to and the first one read. */
export function authFileWritePath(o: AuthOptions = {}): { path: string; userSpecified: boolean } {
  const given = o.authFile ?? (env(o).REGISTRY_AUTH_FILE || undefined);
  if (given) return { path: given, userSpecified: true };
  const runtime = env(o).XDG_RUNTIME_DIR;
  if (runtime) return { path: path.join(runtime, 'containers', 'auth.json'), userSpecified: false };
  return { path: path.join('/run/containers', String(o.uid ?? hostUid()), 'auth.json'), userSpecified: false };
}

/** The files credentials are read from, in order. */
export function authFileReadPaths(o: AuthOptions = {}): AuthPath[] {
  const first = authFileWritePath(o);
  const paths: AuthPath[] = [{ path: first.path, legacyFormat: false }];
  if (first.userSpecified) return paths;
  const e = env(o);
  const configHome = e.XDG_CONFIG_HOME || path.join(home(o), '.config');
  paths.push({ path: path.join(configHome, 'containers', 'auth.json'), legacyFormat: false });
  paths.push({ path: e.DOCKER_CONFIG ? path.join(e.DOCKER_CONFIG, 'config.json') : path.join(home(o), '.docker', 'config.json'), legacyFormat: false });
  paths.push({ path: path.join(home(o), '.dockercfg'), legacyFormat: true });
  return paths;
}

function readAuthFile(p: AuthPath): AuthFileContent {
  let text: string;
  try {
    text = fs.readFileSync(p.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    throw new TspodError(`cannot read the auth file ${p.path}: ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TspodError(`cannot parse the auth file ${p.path}: ${(err as Error).message}; fix it or remove it and log in again`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TspodError(`the auth file ${p.path} does not hold a JSON object; fix it or remove it and log in again`);
  }
  if (p.legacyFormat) return { auths: parsed as Record<string, AuthEntry> };
  const content = parsed as AuthFileContent;
  if (content.auths !== undefined && (typeof content.auths !== 'object' || content.auths === null || Array.isArray(content.auths))) {
    throw new TspodError(`the "auths" field of the auth file ${p.path} is not an object; fix it or remove it and log in again`);
  }
  return content;
}

/** docker.io's other names map to docker.io. */
function normalizeRegistry(registry: string): string {
  return registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? 'docker.io' : registry;
}

/** A key written as a URL (`https://index.docker.io/v1/`) compared by its host. */
function normalizeAuthFileKey(key: string, legacyFormat: boolean): string {
  let stripped = key.replace(/^https?:\/\//, '');
  if (legacyFormat || stripped !== key) stripped = stripped.split('/')[0]!;
  return normalizeRegistry(stripped);
}

/** `quay.io/ns/repo` -> [`quay.io/ns/repo`, `quay.io/ns`, `quay.io`]. */
export function authKeysForKey(key: string): string[] {
  const keys: string[] = [];
  let k = key;
  for (;;) {
    keys.push(k);
    const slash = k.lastIndexOf('/');
    if (slash < 0) break;
    k = k.slice(0, slash);
  }
  return keys;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeEntry(file: string, key: string, entry: AuthEntry): Credentials | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const auth = entry.auth ?? '';
  if (typeof auth !== 'string' || !BASE64_RE.test(auth)) {
    throw new TspodError(`the "auth" field for ${key} in ${file} is not valid base64; log in again to replace it`);
  }
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined; // empty (a credential-helper marker) or malformed: skipped, as Docker does
  const identityToken = typeof entry.identitytoken === 'string' && entry.identitytoken !== '' ? entry.identitytoken : undefined;
  return {
    kind: 'password',
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1).replace(/^\0+|\0+$/g, ''),
    identityToken,
    file,
    key,
  };
}

function findInFile(p: AuthPath, key: string, registry: string): Credentials | undefined {
  const content = readAuthFile(p);
  const helper = content.credHelpers?.[registry];
  if (typeof helper === 'string' && helper !== '') return { kind: 'helper', helper, registry, file: p.path };
  const store = content.credsStore;
  if (typeof store === 'string' && store !== '') return { kind: 'helper', helper: store, registry, file: p.path, store: true };
  const auths = content.auths ?? {};
  const keys = p.legacyFormat ? [registry] : authKeysForKey(key);
  for (const k of keys) {
    if (Object.prototype.hasOwnProperty.call(auths, k)) return decodeEntry(p.path, k, auths[k]!);
  }
  const want = normalizeRegistry(registry);
  for (const [k, entry] of Object.entries(auths)) {
    if (normalizeAuthFileKey(k, p.legacyFormat) === want) return decodeEntry(p.path, k, entry);
  }
  return undefined;
}

function lookupKey(target: string | ImageReference): { key: string; registry: string } {
  if (target instanceof ImageReference) return { key: target.name, registry: target.registry };
  const { key, registry } = parseCredentialsKey(target, true);
  return { key, registry };
}

/**
 * Credentials for an image (its `registry/repository` is matched most specific first) or
 * for a registry or `registry/namespace` key. Undefined when none are stored.
 */
export function getCredentials(target: string | ImageReference, o: AuthOptions = {}): Credentials | undefined {
  const { key, registry } = lookupKey(target);
  for (const p of authFileReadPaths(o)) {
    const found = findInFile(p, key, registry);
    if (found) return found;
  }
  return undefined;
}

/**
 * The credentials to send for an image or registry: the first file that has them, running
 * credential helpers on the way (one with nothing for the registry passes to the next file).
 * A credHelpers helper that is not installed is an error; a missing credsStore helper (a
 * Docker Desktop config copied over, say) is skipped with a warning.
 */
export function resolveCredentials(target: string | ImageReference, o: AuthOptions = {}): HelperCredentials | undefined {
  const { key, registry } = lookupKey(target);
  for (const p of authFileReadPaths(o)) {
    const found = findInFile(p, key, registry);
    if (!found) continue;
    if (found.kind === 'password') {
      return { username: found.username, password: found.password, ...(found.identityToken ? { identityToken: found.identityToken } : {}) };
    }
    try {
      const c = helperGet(found.helper, registry);
      if (c) return c;
      log.debug(`${helperProgram(found.helper)} (from ${found.file}) has no credentials for ${registry}`);
    } catch (err) {
      if (!(err instanceof HelperMissingError && found.store)) throw err;
      log.warn(`${err.message.replace(/; install it.*/, '')}; ignoring the credsStore of ${found.file}`);
    }
  }
  return undefined;
}

/** The helper the write file names for a registry key (only whole registries go to helpers, as in containers/image). */
function writeHelper(content: AuthFileContent, key: string, registry: string): { helper: string; store: boolean } | undefined {
  if (key !== registry) return undefined;
  const h = content.credHelpers?.[registry];
  if (typeof h === 'string' && h !== '') return { helper: h, store: false };
  if (typeof content.credsStore === 'string' && content.credsStore !== '') return { helper: content.credsStore, store: true };
  return undefined;
}

/**
 * Podman's parseCredentialsKey for login/logout arguments: a URL becomes its host[:port];
 * `registry/ns/repo` keys are accepted when `acceptRepositories`, without tag or digest.
 */
export function parseCredentialsKey(arg: string, acceptRepositories = true): { key: string; registry: string } {
  let key = arg.trim();
  if (/^https?:\/\//.test(key)) {
    try {
      key = new URL(key).host;
    } catch {
      throw new TspodError(`invalid registry ${JSON.stringify(arg)}: not a valid URL; give a registry such as quay.io`);
    }
  }
  key = key.replace(/\/+$/, '');
  if (key === '') throw new TspodError('no registry given; name one, such as quay.io');
  const registry = key.split('/')[0]!;
  if (!acceptRepositories || registry === key) return { key: acceptRepositories ? key : registry, registry };
  const ref = parseImageReference(key);
  if (ref.tag || ref.digest) throw new TspodError(`credentials key ${JSON.stringify(key)} contains a tag or digest; give a registry, namespace or repository`);
  if (ref.isShortName) throw new TspodError(`credentials key ${JSON.stringify(key)} does not start with a registry host; give one such as quay.io/${key}`);
  return { key, registry };
}

function loadForWrite(o: AuthOptions): { file: string; content: AuthFileContent } {
  const { path: file, userSpecified } = authFileWritePath(o);
  const runtime = env(o).XDG_RUNTIME_DIR;
  if (!userSpecified && runtime && !fs.existsSync(runtime)) {
    throw new TspodError(`the directory ${runtime} set by $XDG_RUNTIME_DIR does not exist; create it, unset $XDG_RUNTIME_DIR, or pass --authfile`);
  }
  return { file, content: readAuthFile({ path: file, legacyFormat: false }) };
}

function save(file: string, content: AuthFileContent): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileAtomic(file, JSON.stringify(content, null, '\t') + '\n', 0o600);
  } catch (err) {
    throw new TspodError(`cannot write the auth file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Stores credentials (`podman login`); returns the file written. */
export function setCredentials(
  keyArg: string,
  creds: { username: string; password: string; identityToken?: string },
  o: AuthOptions = {},
): string {
  const { key, registry } = parseCredentialsKey(keyArg, true);
  if (creds.username.includes(':')) throw new TspodError('the user name must not contain ":"; check the --username value');
  const { file, content } = loadForWrite(o);
  const helper = writeHelper(content, key, registry);
  if (helper) {
    helperStore(helper.helper, registry, creds);
    // Docker keeps an empty entry naming the registry beside its credsStore.
    if (helper.store && !content.auths?.[key]) save(file, { ...content, auths: { ...(content.auths ?? {}), [key]: {} } });
    return `${helperProgram(helper.helper)}`;
  }
  const auths = { ...(content.auths ?? {}) };
  const entry: AuthEntry = { auth: Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64') };
  if (creds.identityToken) entry.identitytoken = creds.identityToken;
  auths[key] = entry;
  save(file, { ...content, auths });
  return file;
}

/** Removes the credentials stored for a key (`podman logout`); returns the file changed. */
export function removeCredentials(keyArg: string, o: AuthOptions = {}): string {
  const { key, registry } = parseCredentialsKey(keyArg, true);
  const { file, content } = loadForWrite(o);
  const auths = { ...(content.auths ?? {}) };
  const helper = writeHelper(content, key, registry);
  if (helper) {
    const erased = helperErase(helper.helper, registry);
    const marker = Object.prototype.hasOwnProperty.call(auths, key);
    if (marker) {
      delete auths[key];
      save(file, { ...content, auths });
    }
    if (!erased && !marker) throw new TspodError(`not logged into ${key}`);
    return helperProgram(helper.helper);
  }
  if (!Object.prototype.hasOwnProperty.call(auths, key)) {
    // Podman points at Docker's files when the credentials live there.
    const elsewhere = authFileReadPaths(o).slice(1).map((p) => ({ p, c: findInFile(p, key, key.split('/')[0]!) })).find((x) => x.c);
    if (elsewhere) {
      throw new TspodError(`not logged into ${key} with ${file}; the existing credentials are in ${elsewhere.p.path} (written by docker login?), so use docker logout or edit that file`);
    }
    throw new TspodError(`not logged into ${key}`);
  }
  delete auths[key];
  save(file, { ...content, auths });
  return file;
}

/** Removes every stored credential from the write file (`podman logout --all`). */
export function removeAllCredentials(o: AuthOptions = {}): string {
  const { file, content } = loadForWrite(o);
  // Helpers cannot list what they hold: erase what this file routes to them, quietly.
  const routed: Array<[string, string]> = Object.entries(content.credHelpers ?? {});
  if (typeof content.credsStore === 'string' && content.credsStore !== '') {
    for (const k of Object.keys(content.auths ?? {})) if (!k.includes('/')) routed.push([k, content.credsStore]);
  }
  for (const [registry, helper] of routed) {
    try {
      helperErase(helper, registry);
    } catch (err) {
      log.debug(`logout --all: ${(err as Error).message}`);
    }
  }
  save(file, { ...content, auths: {}, credHelpers: content.credHelpers === undefined ? undefined : {} });
  return file;
}
