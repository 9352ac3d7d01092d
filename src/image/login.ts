/**
 * `tspod login` / `logout`: check credentials against the registry, then store them in
 * the auth file (auth-file.ts decides which one, as containers/image does).
 */
import { TspodError } from '../util/errors.js';
import { parseCredentialsKey, removeAllCredentials, removeCredentials, setCredentials } from './auth-file.js';
import { loadRegistriesConf } from './registries-conf.js';
import { RegistryClient, RegistryError } from './registry/index.js';

export interface LoginOptions {
  username: string;
  password: string;
  authFile?: string;
  tlsVerify?: boolean;
  certDir?: string;
}

/**
 * Verify by asking for a blob of a repository that cannot exist: with good credentials
 * the registry answers "unknown" (404), with bad ones 401. (GET /v2/ alone proves
 * nothing for token registries: the credentials are only used to obtain a token.)
 */
export async function login(target: string, opts: LoginOptions): Promise<string> {
  const { key, registry } = parseCredentialsKey(target, true);
  const insecure = loadRegistriesConf().isInsecure(registry);
  const client = new RegistryClient({
    registry,
    tlsVerify: opts.tlsVerify ?? !insecure,
    credentials: () => ({ username: opts.username, password: opts.password }),
    ...(opts.certDir ? { certDirs: [opts.certDir] } : {}),
  });
  try {
    const { auth } = await client.ping();
    if (auth !== 'none') {
      const repo = key.includes('/') ? key.slice(key.indexOf('/') + 1) : 'tspod-login-check/probe';
      try {
        await client.blobExists(repo, `sha256:${'0'.repeat(64)}`);
      } catch (err) {
        if (err instanceof RegistryError && (err.status === 401 || err.status === 403)) {
          throw new TspodError(`logging into "${key}": invalid username/password`, { cause: err });
        }
        if (!(err instanceof RegistryError) || err.status !== 404) throw err;
      }
    }
  } finally {
    client.close();
  }
  setCredentials(key, { username: opts.username, password: opts.password }, opts.authFile ? { authFile: opts.authFile } : {});
  return key;
}

export function logout(target: string | undefined, opts: { all: boolean; authFile?: string }): string {
  const o = opts.authFile ? { authFile: opts.authFile } : {};
  if (opts.all) {
    removeAllCredentials(o);
    return 'all';
  }
  if (!target) throw new TspodError('logout needs a registry name, or --all');
  removeCredentials(target, o);
  return parseCredentialsKey(target, true).key;
}
