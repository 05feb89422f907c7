// Where the API clients get their limiters: the composition root hands them this factory, so a client only
// says which limit it needs. On SQLite there is one relay per file, and the limit is kept in memory; on
// PostgreSQL several relays may share the database, so each limit is one budget in the database that every
// process spends (shared-limiter.ts), whatever the number of processes. A day quota (day-budget.ts) is kept in
// the store on both: every process spends one count, and a restart does not forget the day's calls.
import { hostname } from 'node:os';
import type { RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/db.js';
import { DayBudgets } from '../store/day-budgets.js';
import { DayBudget, type DayLimitSpec } from './day-budget.js';
import { SlidingWindowLimiter, type CallLimiter, type LimiterSlot } from './rate-limiter.js';
import { SharedWindowLimiter } from './shared-limiter.js';

export type { DayLimitSpec } from './day-budget.js';

export interface LimitSpec {
  /** The budget's name: one per limit the vendor sets (per integration, per organization). */
  name: string;
  limit: number;
  /** The window as the server counts it, with the margin already added (withMargin). */
  windowMs: number;
  /** At most this many calls on their way at once (some backends cap concurrent calls per organisation). */
  maxInFlight?: number;
  /** Also a day quota (calls per day per organization, by plan): checked before the window's place. */
  day?: DayLimitSpec;
}

export type LimiterFactory = (spec: LimitSpec) => CallLimiter;

export interface LimiterFactoryOptions {
  /** Timeout of one HTTP call: an unanswered call of a dead process is counted for twice this, plus 5 s. */
  httpTimeoutMs: number;
  log?: Logger;
}

export function limiterFactory(store: Pick<Store, 'db' | 'dialect'>, opts: LimiterFactoryOptions): LimiterFactory {
  const days = new DayBudgets(store.db);
  const withDay = (spec: LimitSpec, limiter: CallLimiter): CallLimiter => (spec.day ? new DayLimitedLimiter(limiter, new DayBudget(days, spec.day)) : limiter);
  if (store.dialect !== 'postgres') return (spec) => withDay(spec, new SlidingWindowLimiter(spec.limit, spec.windowMs));
  const holder = `${hostname()}/${process.pid}`;
  return (spec) =>
    withDay(
      spec,
      new SharedWindowLimiter(store.db, spec.name, spec.limit, spec.windowMs, {
        holder,
        holdMs: 2 * opts.httpTimeoutMs + 5000,
        ...(spec.maxInFlight ? { maxInFlight: spec.maxInFlight } : {}),
        ...(opts.log ? { log: opts.log } : {}),
      }),
    );
}

/**
 * A window limit with a day quota in front: a call is counted in the day first, so while the day is spent it
 * is refused at once (paused) and holds no place in the window. Each attempt of a call counts, as the server
 * counts each request.
 */
export class DayLimitedLimiter implements CallLimiter {
  constructor(
    private readonly window: CallLimiter,
    readonly day: DayBudget,
  ) {}

  async acquireSlot(): Promise<LimiterSlot> {
    await this.day.take();
    return this.window.acquireSlot();
  }

  pauseUntil(t: number): void {
    this.window.pauseUntil(t);
  }

  dayExhausted(): Promise<RelayError> {
    return this.day.exhausted();
  }
}
