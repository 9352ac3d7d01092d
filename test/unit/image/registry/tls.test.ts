import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultCertDirs, loadTlsMaterial } from '../../../../src/image/registry/tls.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-certsd-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('certs.d', () => {
  it('searches the user, containers and docker directories in order', () => {
    expect(defaultCertDirs({ HOME: '/home/u' })).toEqual([
      '/home/u/.config/containers/certs.d',
      '/etc/containers/certs.d',
      '/etc/docker/certs.d',
    ]);
  });

  it('adds *.crt to the system roots and loads client cert/key pairs from the first matching directory', () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    fs.mkdirSync(path.join(a, 'reg:5000'), { recursive: true });
    fs.mkdirSync(path.join(b, 'reg:5000'), { recursive: true });
    fs.writeFileSync(path.join(a, 'reg:5000', 'ca.crt'), 'CA-A');
    fs.writeFileSync(path.join(a, 'reg:5000', 'client.cert'), 'CERT');
    fs.writeFileSync(path.join(a, 'reg:5000', 'client.key'), 'KEY');
    fs.writeFileSync(path.join(b, 'reg:5000', 'ca.crt'), 'CA-B');
    const m = loadTlsMaterial('reg:5000', [path.join(tmp, 'missing'), a, b]);
    expect(m.ca.slice(0, tls.rootCertificates.length)).toEqual([...tls.rootCertificates]);
    expect(m.ca.slice(tls.rootCertificates.length)).toEqual(['CA-A']);
    expect(m.cert).toBe('CERT');
    expect(m.key).toBe('KEY');
    expect(m.dir).toBe(path.join(a, 'reg:5000'));
    const none = loadTlsMaterial('other', [a, b]);
    expect(none.extraCaFiles).toEqual([]);
    expect(none.cert).toBeUndefined();
  });

  it('refuses a client certificate without its key', () => {
    const c = path.join(tmp, 'c', 'host');
    fs.mkdirSync(c, { recursive: true });
    fs.writeFileSync(path.join(c, 'me.cert'), 'CERT');
    expect(() => loadTlsMaterial('host', [path.join(tmp, 'c')])).toThrow(/has no matching key/);
  });
});

describe('NODE_EXTRA_CA_CERTS, set aside by the launcher as TSPOD_EXTRA_CA_CERTS', () => {
  it('is added to the CAs of every registry connection', () => {
    const bundle = path.join(tmp, 'extra-ca.pem');
    fs.writeFileSync(bundle, '-----BEGIN CERTIFICATE-----\nextra\n-----END CERTIFICATE-----\n');
    const saved = process.env.TSPOD_EXTRA_CA_CERTS;
    process.env.TSPOD_EXTRA_CA_CERTS = bundle;
    try {
      const m = loadTlsMaterial('nowhere.example:5000', [path.join(tmp, 'none')]);
      expect(m.extraCaFiles).toEqual([bundle]);
      expect(m.ca).toHaveLength(tls.rootCertificates.length + 1);
      expect(m.ca.at(-1)).toContain('extra');
    } finally {
      if (saved === undefined) delete process.env.TSPOD_EXTRA_CA_CERTS;
      else process.env.TSPOD_EXTRA_CA_CERTS = saved;
    }
  });
});
