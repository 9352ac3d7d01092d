/**
 * Docker credential helpers (`docker-credential-NAME`, found on PATH), as Docker and
 * containers/image run them: the action is the only argument, the input goes on stdin
 * and the answer is JSON on stdout.
 *   get    stdin: the registry host    stdout: {"ServerURL","Username","Secret"}
 *   store  stdin: {"ServerURL","Username","Secret"}
 *   erase  stdin: the registry host
 * A helper that has nothing for the registry exits non-zero and says
 * "credentials not found in native keychain". Username "<token>" means Secret is an
 * identity (refresh) token.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../util/errors.js';

export interface HelperCredentials {
  username: string;
  password: string;
  identityToken?: string;
}

const NOT_FOUND = 'credentials not found in native keychain';

export function helperProgram(helper: string): string {
  return `docker-credential-${helper}`;
}

/** Thrown when the helper program is not on PATH (callers may choose to go on without it). */
export class HelperMissingError extends TspodError {}

/** The helper's executable on PATH (looked up here: execvp reports EACCES for any unreadable PATH entry). */
function findProgram(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(helper: string, action: 'get' | 'store' | 'erase', input: string): { ok: boolean; out: string; notFound: boolean } {
  const program = helperProgram(helper);
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    throw new TspodError(`the credential helper name ${JSON.stringify(helper)} is not valid; fix credHelpers/credsStore in the auth file`);
  }
  const file = findProgram(program);
  if (!file) throw new HelperMissingError(`the credential helper ${program} is not installed (not found in $PATH); install it or remove it from the auth file`);
  const r = spawnSync(file, [action], { input, encoding: 'utf8', timeout: 60_000, stdio: ['pipe', 'pipe', 'pipe'] });
  if (r.error) {
    throw new TspodError(`cannot run the credential helper ${program}: ${r.error.message}`);
  }
  const out = (r.stdout ?? '').trim();
  const ok = r.status === 0;
  return { ok, out, notFound: !ok && out.includes(NOT_FOUND) };
}

function failure(helper: string, action: string, registry: string, out: string, status: string): TspodError {
  return new TspodError(`the credential helper ${helperProgram(helper)} failed to ${action} the credentials for ${registry}: ${out || status}`);
}

/** The helper's credentials for a registry host, or undefined when it has none. */
export function helperGet(helper: string, registry: string): HelperCredentials | undefined {
  const r = run(helper, 'get', registry);
  if (r.notFound) return undefined;
  if (!r.ok) throw failure(helper, 'get', registry, r.out, 'it exited with an error');
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(r.out) as typeof parsed;
  } catch {
    throw new TspodError(`the credential helper ${helperProgram(helper)} answered something that is not JSON for ${registry}`);
  }
  const username = typeof parsed.Username === 'string' ? parsed.Username : '';
  const secret = typeof parsed.Secret === 'string' ? parsed.Secret : '';
  if (username === '' && secret === '') return undefined;
  if (username === '<token>') return { username: '', password: '', identityToken: secret };
  return { username, password: secret };
}

export function helperStore(helper: string, registry: string, creds: { username: string; password: string }): void {
  const r = run(helper, 'store', JSON.stringify({ ServerURL: registry, Username: creds.username, Secret: creds.password }));
  if (!r.ok) throw failure(helper, 'store', registry, r.out, 'it exited with an error');
}

/** Erase the helper's credentials for a registry; false when it had none. */
export function helperErase(helper: string, registry: string): boolean {
  const r = run(helper, 'erase', registry);
  if (r.notFound) return false;
  if (!r.ok) throw failure(helper, 'erase', registry, r.out, 'it exited with an error');
  return true;
}
