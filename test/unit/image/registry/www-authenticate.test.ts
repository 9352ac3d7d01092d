import { describe, expect, it } from 'vitest';
import { findChallenge, parseWwwAuthenticate } from '../../../../src/image/registry/www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it('parses a Docker Hub bearer challenge', () => {
    const chs = parseWwwAuthenticate(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    );
    expect(chs).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' },
      },
    ]);
  });

  it('keeps commas inside quoted scopes and unescapes quotes', () => {
    const [ch] = parseWwwAuthenticate('Bearer realm="https://r/t", scope="repository:a/b:pull,push repository:c:pull", error="say \\"hi\\""');
    expect(ch!.params.scope).toBe('repository:a/b:pull,push repository:c:pull');
    expect(ch!.params.error).toBe('say "hi"');
  });

  it('handles unquoted values, spaces and case', () => {
    const [ch] = parseWwwAuthenticate('BEARER Realm = https://r/token , Service=svc');
    expect(ch).toEqual({ scheme: 'bearer', params: { realm: 'https://r/token', service: 'svc' } });
  });

  it('parses several challenges in one header and in several headers', () => {
    const chs = parseWwwAuthenticate(['Basic realm="Registry Realm"', 'Bearer realm="https://a/b",service="s"']);
    expect(chs.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    const two = parseWwwAuthenticate('Basic realm="x", Bearer realm="https://a/b"');
    expect(two.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(two[0]!.params.realm).toBe('x');
    expect(findChallenge(two, 'Bearer')!.params.realm).toBe('https://a/b');
  });

  it('returns nothing for an absent or empty header', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(findChallenge([], 'bearer')).toBeUndefined();
  });
});
