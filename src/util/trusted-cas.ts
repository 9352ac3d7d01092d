import fs from 'node:fs';
import tls from 'node:tls';

/**
 * The certificate authorities every TLS client of tspod trusts: Node's roots and
 * the user's NODE_EXTRA_CA_CERTS. The launcher (native/src/launch_main.c) keeps
 * that variable from Node, whose eager start-up load of it costs ~60 ms of every
 * command, and passes it on as TSPOD_EXTRA_CA_CERTS for clients to add here.
 */
export function trustedCaCertificates(): { ca: string[]; userCaFile?: string } {
  const ca = [...tls.rootCertificates];
  const userCaFile = process.env.TSPOD_EXTRA_CA_CERTS;
  if (!userCaFile) return { ca };
  try {
    ca.push(fs.readFileSync(userCaFile, 'utf8'));
    return { ca, userCaFile };
  } catch {
    // As Node does with an unreadable NODE_EXTRA_CA_CERTS: go on with the others.
    return { ca };
  }
}
