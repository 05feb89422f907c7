/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries spread out
 * (no thundering herd after an outage) but never come back immediately.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
