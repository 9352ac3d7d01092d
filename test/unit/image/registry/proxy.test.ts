import { describe, expect, it } from 'vitest';
import { noProxyMatches, parseProxyUrl, proxyAuthorization, proxyFromEnvironment } from '../../../../src/image/registry/proxy.js';

describe('proxies from the environment', () => {
  const env = { HTTPS_PROXY: 'http://proxy.corp:3128', http_proxy: 'proxy.corp:8080', NO_PROXY: 'internal.corp,.svc,10.0.0.0/8,reg.example:5000,[::2]' };

  it('uses HTTPS_PROXY for https and HTTP_PROXY (either case) for http', () => {
    expect(proxyFromEnvironment(new URL('https://quay.io/v2/'), env)?.href).toBe('http://proxy.corp:3128/');
    expect(proxyFromEnvironment(new URL('http://insecure.example:5000/v2/'), env)?.href).toBe('http://proxy.corp:8080/');
    expect(proxyFromEnvironment(new URL('https://quay.io/v2/'), {})).toBeUndefined();
  });

  it('never proxies loopback and honours NO_PROXY', () => {
    for (const u of ['https://127.0.0.1:5000/', 'https://localhost:5000/', 'https://[::1]:5000/', 'https://127.9.9.9/']) {
      expect(proxyFromEnvironment(new URL(u), env)).toBeUndefined();
    }
    expect(proxyFromEnvironment(new URL('https://internal.corp/v2/'), env)).toBeUndefined();
    expect(proxyFromEnvironment(new URL('https://a.b.svc/v2/'), env)).toBeUndefined();
    expect(proxyFromEnvironment(new URL('https://10.1.2.3/v2/'), env)).toBeUndefined();
    expect(proxyFromEnvironment(new URL('https://11.1.2.3/v2/'), env)).toBeDefined();
    expect(proxyFromEnvironment(new URL('https://reg.example:5000/v2/'), env)).toBeUndefined();
    expect(proxyFromEnvironment(new URL('https://reg.example/v2/'), env)).toBeDefined();
    expect(proxyFromEnvironment(new URL('https://[::2]/v2/'), env)).toBeUndefined();
    expect(proxyFromEnvironment(new URL('https://notinternal.corp/v2/'), env)).toBeDefined();
    expect(noProxyMatches('anything', '443', '*')).toBe(true);
    expect(noProxyMatches('x.example', '443', '*.example')).toBe(true);
    expect(noProxyMatches('example', '443', '')).toBe(false);
  });

  it('parses proxy URLs and their credentials', () => {
    expect(parseProxyUrl('proxy:3128').href).toBe('http://proxy:3128/');
    expect(() => parseProxyUrl('socks5://proxy:1080')).toThrow(/only http:\/\/ proxies are/);
    expect(proxyAuthorization(parseProxyUrl('http://u%40x:p%3Aw@proxy:3128'))).toBe(`Basic ${Buffer.from('u@x:p:w').toString('base64')}`);
    expect(proxyAuthorization(parseProxyUrl('http://proxy:3128'))).toBeUndefined();
  });
});
