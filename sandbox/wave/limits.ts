// Wave's limits are not documented; second-hand: about 60 requests a minute per token and about two
// concurrent requests, 429 with Retry-After (seconds) when exceeded (reference "Limits"). Counted per
// Authorization header value (a request without one counts under ""). The 429 body is a guess: a GraphQL-shaped
// `errors` list with code RATE_LIMITED; a client must go by the status and Retry-After.
import type { NextFunction, Request, Response } from 'express';
import { WindowRateLimiter } from '../common.js';
import type { LimitSettings } from './options.js';

export type LimitProblem = 'minute' | 'concurrent';

export class TokenLimits {
  private minute: WindowRateLimiter;
  private inflight = new Map<string, number>();
  /** Every 429 the limits gave (not the injected ones). */
  readonly refusals: Array<{ at: number; problem: LimitProblem }> = [];

  constructor(
    readonly settings: LimitSettings,
    private readonly now: () => number,
  ) {
    this.minute = new WindowRateLimiter(settings.perMinute, 60_000);
  }

  inFlight(key: string): number {
    return this.inflight.get(key) ?? 0;
  }

  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const key = String(req.get('authorization') ?? '').slice(0, 600);
      const now = this.now();
      const refuse = (problem: LimitProblem, retryAfterMs: number) => {
        this.refusals.push({ at: now, problem });
        res.set('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
        res.status(429).json(rateLimitedBody());
      };
      if (this.inFlight(key) >= this.settings.concurrent) return refuse('concurrent', 1000);
      const minute = this.minute.take(key, now);
      if (!minute.allowed) return refuse('minute', minute.resetMs);
      this.inflight.set(key, this.inFlight(key) + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const left = this.inFlight(key) - 1;
        if (left <= 0) this.inflight.delete(key);
        else this.inflight.set(key, left);
      };
      res.on('finish', release);
      res.on('close', release);
      next();
    };
  }
}

export const rateLimitedBody = () => ({ errors: [{ message: 'Too many requests: slow down and retry after the Retry-After seconds.', extensions: { code: 'RATE_LIMITED' } }] });
