// Where the API clients get their limiters: the composition root hands them this factory, so a client only
// says which limit it needs. On SQLite there is one relay per file, and the limit is kept in memory; on
// PostgreSQL several relays may share the database, so each limit is one budget in the database that every
// process spends (shared-limiter.ts), whatever the number of processes.
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { Store } from '../store/db.js';
import { SlidingWindowLimiter, type CallLimiter } from './rate-limiter.js';
import { SharedWindowLimiter } from './shared-limiter.js';

export interface LimitSpec {
  /** The budget's name: one per limit the vendor sets (per integration, per organization). */
  name: string;
  limit: number;
  /** The window as the server counts it, with the margin already added (withMargin). */
  windowMs: number;
  /** At most this many calls on their way at once (some backends cap concurrent calls per organisation). */
  maxInFlight?: number;
}

export type LimiterFactory = (spec: LimitSpec) => CallLimiter;

export interface LimiterFactoryOptions {
  /** Timeout of one HTTP call: an unanswered call of a dead process is counted for twice this, plus 5 s. */
  httpTimeoutMs: number;
  log?: Logger;
}

export function limiterFactory(store: Pick<Store, 'db' | 'dialect'>, opts: LimiterFactoryOptions): LimiterFactory {
  if (store.dialect !== 'postgres') return (spec) => new SlidingWindowLimiter(spec.limit, spec.windowMs);
  const holder = `${hostname()}/${process.pid}`;
  return (spec) =>
    new SharedWindowLimiter(store.db, spec.name, spec.limit, spec.windowMs, {
      holder,
      holdMs: 2 * opts.httpTimeoutMs + 5000,
      ...(spec.maxInFlight ? { maxInFlight: spec.maxInFlight } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
}
