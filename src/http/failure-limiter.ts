// Wrong admin tokens (login form, bearer header) are counted per client address and overall, in fixed
// windows. Once either count is reached, every token check from that address (or, overall, from anyone)
// answers 429 with Retry-After until the window ends — the right token included, or the limit would only
// hide which guess was right. Successful checks are never counted or delayed, and a browser that already
// holds a session cookie is not affected (its cookie is not a guess at the token).
// In memory, per process: the table of addresses is capped, so a flood of addresses cannot grow it.

export interface FailureLimits {
  /** Wrong tokens allowed from one address per window. */
  perAddress: number;
  /** Wrong tokens allowed from all addresses together per window. */
  overall: number;
  windowMs: number;
  /** Addresses tracked at most; beyond it, new addresses share the overall count only. */
  maxAddresses: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = { perAddress: 10, overall: 100, windowMs: 15 * 60_000, maxAddresses: 10_000 };

interface Window {
  count: number;
  endsAt: number;
}

export class FailureLimiter {
  private readonly byAddress = new Map<string, Window>();
  private overall: Window = { count: 0, endsAt: 0 };

  constructor(
    private readonly limits: FailureLimits = DEFAULT_FAILURE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `address` may try a token again; 0 when it may now. */
  blockedFor(address: string): number {
    const now = this.now();
    const overall = this.current(this.overall, now);
    if (overall.count >= this.limits.overall) return overall.endsAt - now;
    const own = this.byAddress.get(address);
    if (own && own.endsAt > now && own.count >= this.limits.perAddress) return own.endsAt - now;
    return 0;
  }

  /** A wrong token from `address`. */
  fail(address: string): void {
    const now = this.now();
    this.overall = this.current(this.overall, now);
    this.overall.count++;
    let own = this.byAddress.get(address);
    if (!own || own.endsAt <= now) {
      if (!own && this.byAddress.size >= this.limits.maxAddresses) this.prune(now);
      if (!own && this.byAddress.size >= this.limits.maxAddresses) return;
      own = { count: 0, endsAt: now + this.limits.windowMs };
      this.byAddress.set(address, own);
    }
    own.count++;
  }

  private current(w: Window, now: number): Window {
    return w.endsAt > now ? w : { count: 0, endsAt: now + this.limits.windowMs };
  }

  private prune(now: number): void {
    for (const [address, w] of this.byAddress) if (w.endsAt <= now) this.byAddress.delete(address);
  }
}
