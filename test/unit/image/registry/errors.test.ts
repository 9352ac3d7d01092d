import { describe, expect, it } from 'vitest';
import { TspodError } from '../../../../src/util/errors.js';
import { RegistryError, mapNetworkError, mapRegistryError, parseErrorBody } from '../../../../src/image/registry/errors.js';

const body = (code: string, message = 'm') => JSON.stringify({ errors: [{ code, message, detail: null }] });

describe('registry error mapping', () => {
  it('parses distribution error bodies and token-server bodies', () => {
    expect(parseErrorBody(body('MANIFEST_UNKNOWN', 'manifest unknown'))).toEqual([{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: null }]);
    expect(parseErrorBody('{"details":"incorrect username or password"}')).toEqual([{ code: 'UNKNOWN', message: 'incorrect username or password' }]);
    expect(parseErrorBody('<html>')).toEqual([]);
    expect(parseErrorBody(undefined)).toEqual([]);
  });

  it('says to log in on 401 without credentials', () => {
    const e = mapRegistryError(401, body('UNAUTHORIZED'), { registry: 'r.example:5000', kind: 'manifest', subject: 'r.example:5000/a:1' });
    expect(e).toBeInstanceOf(TspodError);
    expect(e.exitCode).toBe(125);
    expect(e.message).toBe("unauthorized: authentication required for registry r.example:5000; run 'tspod login r.example:5000'");
    expect(e.status).toBe(401);
    expect(e.code).toBe('UNAUTHORIZED');
  });

  it('says the credentials are wrong on 401 with credentials', () => {
    const e = mapRegistryError(401, '', { registry: 'r', kind: 'manifest', subject: 'r/a:1', hadCredentials: true });
    expect(e.message).toMatch(/^unauthorized: invalid username\/password .* run 'tspod login r'$/);
  });

  it('names the missing manifest', () => {
    const e = mapRegistryError(404, body('MANIFEST_UNKNOWN'), { registry: 'r', kind: 'manifest', subject: 'r/library/alpine:nope' });
    expect(e.message).toBe('manifest unknown: r/library/alpine:nope not found');
    const bare = mapRegistryError(404, '', { registry: 'r', kind: 'manifest', subject: 'r/x:y' });
    expect(bare.message).toBe('manifest unknown: r/x:y not found');
  });

  it('maps the other codes and statuses', () => {
    const ctx = { registry: 'r', kind: 'blob' as const, subject: 'r/a@sha256:00' };
    expect(mapRegistryError(404, body('BLOB_UNKNOWN'), ctx).message).toMatch(/^blob unknown: r\/a@sha256:00 not found/);
    expect(mapRegistryError(404, body('NAME_UNKNOWN'), ctx).message).toMatch(/^repository name not known/);
    expect(mapRegistryError(403, body('DENIED', 'requested access denied'), ctx).message).toMatch(/^denied: .*requested access denied/);
    expect(mapRegistryError(429, '', ctx).message).toMatch(/^too many requests/);
    expect(mapRegistryError(503, '', ctx).message).toMatch(/failed with HTTP 503 .* try again later$/);
    expect(mapRegistryError(400, body('MANIFEST_BLOB_UNKNOWN'), ctx).message).toMatch(/push the layers first$/);
    expect(mapRegistryError(400, body('DIGEST_INVALID'), ctx).message).toMatch(/^digest invalid/);
    expect(mapRegistryError(404, '', { registry: 'r', kind: 'ping' }).message).toMatch(/does not look like a container registry/);
    expect(mapRegistryError(418, '', ctx).message).toBe('registry r answered HTTP 418 for r/a@sha256:00');
  });

  it('maps network and TLS failures', () => {
    const err = (code: string, message = code) => Object.assign(new Error(message), { code });
    const refused = mapNetworkError(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), '127.0.0.1:1');
    expect(refused).toBeInstanceOf(RegistryError);
    expect(refused.message).toBe('cannot reach registry 127.0.0.1:1: connection refused');
    const tls = mapNetworkError(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'), 'r:443', '/etc/containers/certs.d/r:443/ca.crt');
    expect(tls.message).toMatch(/cannot verify the TLS certificate of registry r:443/);
    expect(tls.message).toMatch(/\/etc\/containers\/certs\.d\/r:443\/ca\.crt/);
    expect(tls.message).toMatch(/--tls-verify=false/);
    const proto = mapNetworkError(err('EPROTO', 'ssl3_get_record:wrong version number'), 'r');
    expect(proto.message).toBe('TLS handshake with registry r failed (it does not answer HTTPS); if it serves plain HTTP, use --tls-verify=false or mark it insecure in registries.conf');
    expect(mapNetworkError(err('ENOTFOUND'), 'nowhere').message).toBe('cannot reach registry nowhere: host name not found');
  });
});

describe('client certificate rejections', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  it('asks for a client certificate when none was presented', () => {
    expect(mapNetworkError(err('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), 'r:1', { clientCertDir: '/c/r:1' }).message).toBe(
      'registry r:1 requires a TLS client certificate; put client.cert and client.key in /c/r:1/',
    );
    expect(mapNetworkError(err('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'), 'r:1', { clientCertDir: '/c/r:1', clientCertLoaded: true }).message).toMatch(
      /^registry r:1 rejected the TLS client certificate from \/c\/r:1\//,
    );
  });
});
