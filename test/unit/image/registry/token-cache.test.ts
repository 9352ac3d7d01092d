import { describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN_LIFETIME_S, TokenCache, tokenCacheKey, tokenExpiry } from '../../../../src/image/registry/token-cache.js';

describe('token cache', () => {
  it('keys by registry, realm, service and the set of scopes (order-insensitive)', () => {
    const a = tokenCacheKey('r:5000', 'https://t/token', 'svc', ['repository:a:pull', 'repository:b:pull']);
    const b = tokenCacheKey('r:5000', 'https://t/token', 'svc', ['repository:b:pull', 'repository:a:pull', 'repository:a:pull']);
    expect(a).toBe(b);
    expect(tokenCacheKey('r:5000', 'https://t/token', 'svc', ['repository:a:pull'])).not.toBe(a);
    expect(tokenCacheKey('other', 'https://t/token', 'svc', ['repository:a:pull', 'repository:b:pull'])).not.toBe(a);
    expect(tokenCacheKey('r:5000', 'https://t/token', 'svc2', ['repository:a:pull', 'repository:b:pull'])).not.toBe(a);
    // different credentials never share a token
    expect(tokenCacheKey('r:5000', 'https://t/token', 'svc', ['repository:a:pull', 'repository:b:pull'], 'id1')).not.toBe(a);
    expect(tokenCacheKey('r:5000', 'https://t/token', 'svc', ['repository:a:pull'], 'id1')).not.toBe(tokenCacheKey('r:5000', 'https://t/token', 'svc', ['repository:a:pull'], 'id2'));
  });

  it('serves a token until its expiry, then forgets it', () => {
    let now = 1_000_000;
    const c = new TokenCache(() => now);
    c.set('k', 'tok', now + 5000);
    expect(c.get('k')).toBe('tok');
    now += 4999;
    expect(c.get('k')).toBe('tok');
    now += 1;
    expect(c.get('k')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('computes expiry with a safety margin and the 60 s default', () => {
    expect(tokenExpiry(0, 300)).toBe(300_000 - 30_000);
    expect(tokenExpiry(0, 60)).toBe(60_000 - 6_000);
    expect(tokenExpiry(0, 5)).toBe(4_000);
    expect(tokenExpiry(0, undefined)).toBe(tokenExpiry(0, DEFAULT_TOKEN_LIFETIME_S));
    expect(tokenExpiry(0, 0)).toBe(tokenExpiry(0, 60));
  });

  it('delete and clear drop entries', () => {
    const c = new TokenCache(() => 0);
    c.set('a', '1', 10);
    c.set('b', '2', 10);
    c.delete('a');
    expect(c.get('a')).toBeUndefined();
    expect(c.get('b')).toBe('2');
    c.clear();
    expect(c.get('b')).toBeUndefined();
  });
});
