// Xero's limits per organisation: 5 calls in flight, 60 per minute, 5,000 per day (all configurable), plus
// 10,000 per minute for the whole app. Every answer carries X-DayLimit-Remaining, X-MinLimit-Remaining and
// X-AppMinLimit-Remaining; a refused call is 429 with Retry-After (seconds) and X-Rate-Limit-Problem
// (minute | concurrent | daily) (developer.xero.com/faq/limits; shared/reference/xero.md "Limits").
import type { NextFunction, Request, Response } from 'express';
import { WindowRateLimiter } from '../common.js';
import { problem } from './errors.js';
import type { Tenant } from './state.js';
import type { Clock } from './time.js';

export interface LimitSettings {
  perMinute: number;
  concurrent: number;
  perDay: number;
  appPerMinute: number;
}

export const defaultLimits = (): LimitSettings => ({ perMinute: 60, concurrent: 5, perDay: 5000, appPerMinute: 10_000 });

export type LimitProblem = 'minute' | 'concurrent' | 'daily';

export class TenantLimits {
  private minute: WindowRateLimiter;
  private day: WindowRateLimiter;
  private app: WindowRateLimiter;
  private inflight = new Map<string, number>();
  /** Every 429 the limits gave (not the injected ones), for tests. */
  readonly refusals: Array<{ at: number; tenantId: string; problem: LimitProblem }> = [];

  constructor(
    readonly settings: LimitSettings,
    private readonly clock: Clock,
  ) {
    this.minute = new WindowRateLimiter(settings.perMinute, 60_000);
    this.day = new WindowRateLimiter(settings.perDay, 86_400_000);
    this.app = new WindowRateLimiter(settings.appPerMinute, 60_000);
  }

  inFlight(tenantId: string): number {
    return this.inflight.get(tenantId) ?? 0;
  }

  middleware() {
    return (_req: Request, res: Response, next: NextFunction) => {
      const tenant = res.locals.tenant as Tenant;
      const id = tenant.tenantId;
      const now = this.clock.now();
      const refuse = (p: LimitProblem, retryAfterMs: number) => {
        this.refusals.push({ at: now, tenantId: id, problem: p });
        res.set({ 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))), 'X-Rate-Limit-Problem': p });
        res.status(429).json(problem(429, 'Too Many Requests', `Rate limit exceeded: ${p}`));
      };
      if (this.inFlight(id) >= this.settings.concurrent) {
        this.setRemaining(res, id, now);
        return refuse('concurrent', 1000);
      }
      const minute = this.minute.take(id, now);
      const app = minute.allowed ? this.app.take('app', now) : undefined;
      const day = minute.allowed ? this.day.take(id, now) : undefined;
      this.setRemaining(res, id, now);
      if (!minute.allowed) return refuse('minute', minute.resetMs);
      if (!day!.allowed) return refuse('daily', day!.resetMs);
      if (!app!.allowed) return refuse('minute', app!.resetMs);
      this.inflight.set(id, this.inFlight(id) + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.inflight.set(id, this.inFlight(id) - 1);
      };
      res.on('finish', release);
      res.on('close', release);
      next();
    };
  }

  /** The counts as they stand (peeking does not use a call). */
  remaining(tenantId: string, now = this.clock.now()): { day: number; minute: number; app: number } {
    const left = (l: WindowRateLimiter, key: string) => l.peek(key, now).remaining;
    return { day: left(this.day, tenantId), minute: left(this.minute, tenantId), app: left(this.app, 'app') };
  }

  private setRemaining(res: Response, tenantId: string, now: number): void {
    const r = this.remaining(tenantId, now);
    res.set({ 'X-DayLimit-Remaining': String(r.day), 'X-MinLimit-Remaining': String(r.minute), 'X-AppMinLimit-Remaining': String(r.app) });
  }
}
