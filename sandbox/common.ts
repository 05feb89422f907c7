// Pieces both fake servers share: fault injection, latency, a fixed-window rate limiter, 19-digit IDs,
// and a log of every request they received (tests read it to count and check calls).
import type { NextFunction, Request, Response } from 'express';
import { randomInt } from 'node:crypto';

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  status?: number;
}

export interface FaultSettings {
  /** Fraction (0..1) of API calls answered with one of `statuses`. */
  errorRate: number;
  statuses: number[];
  /** Fraction (0..1) of API calls that never answer (the client must time out). */
  timeoutRate: number;
  /** Added to every API call, in milliseconds. */
  latencyMs: number;
}

export const noFaults = (): FaultSettings => ({ errorRate: 0, statuses: [500, 503], timeoutRate: 0, latencyMs: 0 });

/** Queue of one-off answers: the next N API calls get this status (e.g. a 429 burst). */
export interface ForcedAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export class FaultInjector {
  settings: FaultSettings = noFaults();
  private forced: ForcedAnswer[] = [];
  /** Sockets held open by simulated timeouts; released on close so servers shut down promptly. */
  private hanging = new Set<Response>();

  set(settings: Partial<FaultSettings>): void {
    this.settings = { ...this.settings, ...settings };
  }

  reset(): void {
    this.settings = noFaults();
    this.forced = [];
  }

  failNext(count: number, answer: ForcedAnswer): void {
    for (let i = 0; i < count; i++) this.forced.push(answer);
  }

  releaseHanging(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  /** Express middleware; `errorBody(status)` renders the error in the fake API's own format. */
  middleware(errorBody: (status: number) => unknown) {
    return async (_req: Request, res: Response, next: NextFunction) => {
      if (this.settings.latencyMs > 0) await sleep(this.settings.latencyMs);
      const forced = this.forced.shift();
      if (forced) {
        if (forced.headers) res.set(forced.headers);
        res.status(forced.status).json(forced.body ?? errorBody(forced.status));
        return;
      }
      if (this.settings.timeoutRate > 0 && Math.random() < this.settings.timeoutRate) {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return; // never answers
      }
      if (this.settings.errorRate > 0 && Math.random() < this.settings.errorRate) {
        const statuses = this.settings.statuses.length ? this.settings.statuses : [500];
        const status = statuses[Math.floor(Math.random() * statuses.length)]!;
        res.status(status).json(errorBody(status));
        return;
      }
      next();
    };
  }
}

/** Fixed window limiter: at most `limit` calls per `windowMs` per key (as Zoho counts per organization). */
export class WindowRateLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  constructor(
    public limit: number,
    public windowMs: number,
  ) {}

  /** Returns null when allowed, else the milliseconds until the window resets. */
  take(key: string, now = Date.now()): { allowed: boolean; remaining: number; resetMs: number } {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    const resetMs = w.start + this.windowMs - now;
    if (w.count >= this.limit) return { allowed: false, remaining: 0, resetMs };
    w.count++;
    return { allowed: true, remaining: this.limit - w.count, resetMs };
  }

  /** The window as `take` would see it, without using a call. */
  peek(key: string, now = Date.now()): { remaining: number; resetMs: number } {
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) return { remaining: this.limit, resetMs: this.windowMs };
    return { remaining: Math.max(0, this.limit - w.count), resetMs: w.start + this.windowMs - now };
  }
}

/** Zoho-style ID: a numeric string of 19 digits, beyond Number.MAX_SAFE_INTEGER on purpose. */
export function longId(): string {
  let s = String(randomInt(1, 10));
  for (let i = 0; i < 18; i++) s += String(randomInt(0, 10));
  return s;
}

export function recordRequests(log: RecordedRequest[]) {
  return (req: Request, res: Response, next: NextFunction) => {
    const entry: RecordedRequest = {
      at: Date.now(),
      method: req.method,
      path: req.path,
      query: { ...(req.query as Record<string, unknown>) },
      headers: { ...req.headers },
      body: req.body,
    };
    log.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
      entry.body = req.body; // body parsers run after this middleware
    });
    // An answer cut after the work (a lost answer) never finishes: the body the work was done on is still the call's.
    res.on('close', () => {
      if (entry.status === undefined) entry.body = req.body;
    });
    next();
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
