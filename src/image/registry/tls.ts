/**
 * TLS material for a registry: the system CAs plus `certs.d/<host[:port]>/` (`*.crt`
 * as extra CAs, `*.cert` + matching `*.key` as client certificates), as containers/image does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TspodError } from '../../util/errors.js';
import { trustedCaCertificates } from '../../util/trusted-cas.js';

/** The directories searched, in order (the first holding `<host[:port]>/` wins). */
export function defaultCertDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || os.homedir();
  return [path.join(home, '.config', 'containers', 'certs.d'), '/etc/containers/certs.d', '/etc/docker/certs.d'];
}

export interface TlsMaterial {
  /** PEM CA certificates: system roots followed by certs.d ones. */
  ca: string[];
  /** Extra CAs from certs.d only (for diagnostics). */
  extraCaFiles: string[];
  cert?: string;
  key?: string;
  /** The certs.d directory used, if any. */
  dir?: string;
}

/**
 * Load TLS material for `hostPort` (e.g. `registry.example:5000`) from the first cert
 * directory that has a subdirectory for it. Unreadable directories are skipped.
 */
export function loadTlsMaterial(hostPort: string, certDirs: readonly string[] = defaultCertDirs()): TlsMaterial {
  const trusted = trustedCaCertificates();
  const out: TlsMaterial = { ca: trusted.ca, extraCaFiles: trusted.userCaFile ? [trusted.userCaFile] : [] };
  for (const base of certDirs) {
    const dir = path.join(base, hostPort);
    let entries: string[];
    try {
      entries = fs.readdirSync(dir).sort();
    } catch {
      continue;
    }
    out.dir = dir;
    for (const name of entries) {
      const full = path.join(dir, name);
      if (name.endsWith('.crt')) {
        out.ca.push(fs.readFileSync(full, 'utf8'));
        out.extraCaFiles.push(full);
      } else if (name.endsWith('.cert')) {
        const keyName = `${name.slice(0, -'.cert'.length)}.key`;
        if (!entries.includes(keyName)) {
          throw new TspodError(`client certificate ${full} has no matching key ${path.join(dir, keyName)}; add the key or remove the certificate`);
        }
        out.cert = fs.readFileSync(full, 'utf8');
        out.key = fs.readFileSync(path.join(dir, keyName), 'utf8');
      } else if (name.endsWith('.key')) {
        const certName = `${name.slice(0, -'.key'.length)}.cert`;
        if (!entries.includes(certName)) {
          throw new TspodError(`client key ${full} has no matching certificate ${path.join(dir, certName)}; add the certificate or remove the key`);
        }
      }
    }
    break;
  }
  return out;
}
