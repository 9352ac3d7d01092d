/** Retry policy: which failures are worth another attempt, and how long to wait. */

export interface RetryPolicy {
  /** Total attempts including the first (>= 1). */
  maxAttempts: number;
  /** Delay before the 2nd attempt in ms; doubles each time. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** 0..1: fraction of the delay randomised away (0 = deterministic). */
  jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 250, maxDelayMs: 8000, jitter: 0.2 };

/**
 * Delay before attempt number `attempt` (1-based; attempt 2 is the first retry).
 * A server's Retry-After (seconds) is honoured up to maxDelayMs.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterS?: number, random: () => number = Math.random): number {
  if (retryAfterS !== undefined && Number.isFinite(retryAfterS) && retryAfterS >= 0) {
    return Math.min(policy.maxDelayMs, retryAfterS * 1000);
  }
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 2));
  return Math.round(base * (1 - policy.jitter * random()));
}

/** HTTP statuses that are retried: 429 and 5xx except 501 (not implemented) and 505. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN',
  'ENETRESET',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Network errors worth retrying: dropped or timed-out connections (not refusals, not TLS failures). */
export function isRetryableNetworkError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: string; message?: string };
  if (e.code && RETRYABLE_CODES.has(e.code)) return true;
  return typeof e.message === 'string' && /socket hang up|aborted|premature close/i.test(e.message);
}

/** Parse Retry-After (delta-seconds or HTTP date) into seconds. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, (t - now) / 1000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
