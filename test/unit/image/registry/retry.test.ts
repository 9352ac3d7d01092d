import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
} from '../../../../src/image/registry/retry.js';

const policy = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 };

describe('retry policy', () => {
  it('backs off exponentially, capped', () => {
    expect([2, 3, 4, 5, 6, 7].map((n) => backoffDelay(policy, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('applies jitter downwards only', () => {
    const p = { ...policy, jitter: 0.5 };
    expect(backoffDelay(p, 2, undefined, () => 0)).toBe(100);
    expect(backoffDelay(p, 2, undefined, () => 1)).toBe(50);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(DEFAULT_RETRY_POLICY, 3);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.initialDelayMs * 2);
    }
  });

  it('honours Retry-After up to the cap', () => {
    expect(backoffDelay(policy, 2, 0.5)).toBe(500);
    expect(backoffDelay(policy, 2, 60)).toBe(1000);
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10);
  });

  it('retries 429 and 5xx but not 501, 505 or 4xx', () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 501, 505].some(isRetryableStatus)).toBe(false);
  });

  it('retries dropped connections but not refusals or TLS failures', () => {
    const err = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(isRetryableNetworkError(err('ECONNRESET'))).toBe(true);
    expect(isRetryableNetworkError(err('EPIPE'))).toBe(true);
    expect(isRetryableNetworkError(err('ETIMEDOUT'))).toBe(true);
    expect(isRetryableNetworkError(new Error('socket hang up'))).toBe(true);
    expect(isRetryableNetworkError(new Error('aborted'))).toBe(true);
    expect(isRetryableNetworkError(err('ECONNREFUSED'))).toBe(false);
    expect(isRetryableNetworkError(err('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'))).toBe(false);
    expect(isRetryableNetworkError('nope')).toBe(false);
  });
});
