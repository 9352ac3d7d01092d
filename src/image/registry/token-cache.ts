/** Bearer tokens, cached per registry + realm + service + scopes until they expire. */

export interface CachedToken {
  token: string;
  /** ms since epoch after which the token must not be used. */
  expiresAt: number;
}

/** Tokens without expires_in last 60 s (distribution's token spec). */
export const DEFAULT_TOKEN_LIFETIME_S = 60;

/**
 * Cache key. `identity` distinguishes credentials (a hash, never the secret itself), so a
 * token obtained with one password is never used for another, nor for anonymous access.
 */
export function tokenCacheKey(registry: string, realm: string, service: string | undefined, scopes: readonly string[], identity = ''): string {
  return JSON.stringify([registry, realm, service ?? '', [...new Set(scopes)].sort(), identity]);
}

/**
 * When a token issued at `issuedAtMs` with `expiresInS` seconds of life stops being
 * used: a safety margin of 10% of its life (at most 30 s, at least 1 s) is subtracted
 * so a token never expires in flight.
 */
export function tokenExpiry(issuedAtMs: number, expiresInS: number | undefined): number {
  const life = (expiresInS && expiresInS > 0 ? expiresInS : DEFAULT_TOKEN_LIFETIME_S) * 1000;
  const margin = Math.min(30_000, Math.max(1000, life * 0.1));
  return issuedAtMs + Math.max(0, life - margin);
}

export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();
  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return e.token;
  }

  set(key: string, token: string, expiresAt: number): void {
    this.entries.set(key, { token, expiresAt });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Process-wide cache shared by clients that are not given their own. */
export const defaultTokenCache = new TokenCache();
