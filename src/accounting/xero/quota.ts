// Xero's day quota per organisation (5,000 calls, or fewer on small plans): every answer says how many are
// left (X-DayLimit-Remaining). When none are left, calls fail fast as retryable with a retryAfter until the
// quota comes back, so the work waits (paused, not failed) and no call is spent learning that it is still 0.
import { retryable, type RelayError } from '../../errors.js';

export interface XeroQuotaSnapshot {
  /** The tenant the figures are for. */
  tenantId: string | undefined;
  /** X-DayLimit-Remaining of the last answer; undefined until one was seen. */
  dayRemaining: number | undefined;
  /** X-MinLimit-Remaining of the last answer. */
  minuteRemaining: number | undefined;
  /** Calls are refused until then (epoch ms); undefined when not paused. */
  pausedUntil: number | undefined;
  /** When the last figure was read (epoch ms). */
  observedAt: number | undefined;
}

type Headers = Record<string, unknown>;

export class XeroDayQuota {
  private tenantId: string | undefined;
  private dayRemaining: number | undefined;
  private minuteRemaining: number | undefined;
  private pausedUntil = 0;
  private observedAt: number | undefined;

  constructor(
    /** How long to pause when the count reaches 0 without a Retry-After (Xero does not say when a day resets). */
    private readonly pauseWithoutResetMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads the figures of one answer (any status). An answer of another tenant starts the figures afresh. */
  observe(tenantId: string | undefined, headers: Headers, status: number): void {
    if (tenantId !== this.tenantId) {
      this.tenantId = tenantId;
      this.dayRemaining = this.minuteRemaining = undefined;
      this.pausedUntil = 0;
    }
    const day = count(headers['x-daylimit-remaining']);
    const minute = count(headers['x-minlimit-remaining']);
    if (day === undefined && minute === undefined) return;
    this.observedAt = this.now();
    if (day !== undefined) this.dayRemaining = day;
    if (minute !== undefined) this.minuteRemaining = minute;
    // A 429 says itself when to come back (exhausted() with its Retry-After); a success that spent the last call does not.
    if (day === 0 && status !== 429) this.exhausted(this.pauseWithoutResetMs);
  }

  /** The day quota is spent: refuse calls for `forMs`. */
  exhausted(forMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + Math.max(0, forMs));
    this.dayRemaining = 0;
  }

  /** Throws the "paused" error while the quota is spent. */
  check(): void {
    const error = this.pausedError();
    if (error) throw error;
  }

  pausedError(): RelayError | undefined {
    const waitMs = this.pausedUntil - this.now();
    if (waitMs <= 0) return undefined;
    return retryable(
      'xero_day_limit',
      `Xero's daily API limit for this organisation is used up; work is paused until ${new Date(this.pausedUntil).toISOString()} and continues then.`,
      { service: 'xero', status: 429, retryAfterMs: waitMs, paused: true },
    );
  }

  snapshot(): XeroQuotaSnapshot {
    return {
      tenantId: this.tenantId,
      dayRemaining: this.dayRemaining,
      minuteRemaining: this.minuteRemaining,
      pausedUntil: this.pausedUntil > this.now() ? this.pausedUntil : undefined,
      observedAt: this.observedAt,
    };
  }
}

function count(raw: unknown): number | undefined {
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (typeof text !== 'string' && typeof text !== 'number') return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** `Retry-After`: delta-seconds, or an HTTP date. Milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(raw: unknown, now = Date.now()): number | undefined {
  const text = String(Array.isArray(raw) ? raw[0] : (raw ?? '')).trim();
  if (text === '') return undefined;
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  if (text.length > 64) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
