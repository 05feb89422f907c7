// The SlidingWindowLimiter's rule, kept in PostgreSQL so that every relay on the database spends one budget:
// at most `limit` calls in any window, each call holding its place from the moment it is let through until
// its answer, the window counted from the answer (the server counts arrivals; a request cannot arrive after
// its answer). Every call is a row in rate_calls; taking a place locks the budget's row in rate_budgets, so
// two processes never both take the last place (one call of relay_take_call, store/budget-function.ts).
// Times are the database's clock, one clock for every process.
//
// A process that dies leaves its calls unanswered: such a row counts as answered `holdMs` after it started
// (longer than any call can take: token refresh + request, each bounded by HTTP_TIMEOUT_MS), so a crash costs
// a little budget for one window and can never let the processes exceed the limit.
import { sql } from 'kysely';
import { retryable } from '../errors.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import type { CallLimiter, LimiterSlot } from './rate-limiter.js';

export interface SharedLimiterOptions {
  /** Which process holds a call (shown by `relay status`). */
  holder: string;
  /** An unanswered call counts as answered this long after it started (its process died). */
  holdMs: number;
  /** At most this many calls on their way at once, over all processes (a vendor's concurrency cap). */
  maxInFlight?: number;
  /** While every place is held by a call on its way, how often to look again. */
  pollMs?: number;
  log?: Logger;
}

type Turn = { slotId: number } | { waitMs: number };

export class SharedWindowLimiter implements CallLimiter {
  private tail: Promise<unknown> = Promise.resolve();
  private ready: Promise<void> | undefined;
  private localPauseUntil = 0;

  constructor(
    private readonly db: Db,
    readonly name: string,
    readonly limit: number,
    readonly windowMs: number,
    private readonly opts: SharedLimiterOptions,
  ) {}

  acquireSlot(): Promise<LimiterSlot> {
    const start = Date.now();
    // One caller of this process at a time asks the database; the others queue here in order, as in memory.
    const turn = this.tail.then(() => this.take()).then((slotId) => ({ waitedMs: Date.now() - start, release: once(() => this.release(slotId)) }));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** A 429 said "not before t": every process holds its calls until then. */
  pauseUntil(t: number): void {
    const ms = Math.max(0, Math.ceil(t - Date.now()));
    this.localPauseUntil = Math.max(this.localPauseUntil, t);
    void sql`update rate_budgets set paused_until = greatest(paused_until, ${dbNowMs} + ${ms}) where name = ${this.name}`
      .execute(this.db)
      .catch((err: unknown) => this.opts.log?.warn({ err, budget: this.name }, 'could not record the pause in the shared budget'));
  }

  private async take(): Promise<number> {
    await (this.ready ??= this.ensureBudget());
    for (;;) {
      const now = Date.now();
      if (now < this.localPauseUntil) {
        await sleep(this.localPauseUntil - now);
        continue;
      }
      let turn: Turn;
      try {
        turn = await this.tryTake();
      } catch (err) {
        throw retryable('rate_budget_unavailable', `The shared API budget '${this.name}' could not be read from the database: ${(err as Error).message}`, { cause: err });
      }
      if ('slotId' in turn) return turn.slotId;
      await sleep(turn.waitMs);
    }
  }

  /** Creates the budget's row, or sets its limit to this process's (the processes should agree). */
  private async ensureBudget(): Promise<void> {
    await this.db
      .insertInto('rate_budgets')
      .values({ name: this.name, max_calls: this.limit, window_ms: this.windowMs })
      .onConflict((oc) => oc.column('name').doUpdateSet({ max_calls: this.limit, window_ms: this.windowMs }))
      .execute();
  }

  /** One round trip: the database takes a place, or says how full the window is (store/budget-function.ts, relay_take_call). */
  private async tryTake(): Promise<Turn> {
    const { holdMs } = this.opts;
    const maxInFlight = this.opts.maxInFlight ?? this.limit;
    const result = await sql<{ call_id: number | null; now_ms: number; paused_until: number; n: number; in_flight: number; oldest_answer: number | null; oldest_start: number | null }>`
      select * from relay_take_call(${this.name}, ${this.opts.holder}, ${this.limit}, ${this.windowMs}, ${holdMs}, ${maxInFlight})`.execute(this.db);
    const row = result.rows[0]!;
    if (row.call_id !== null) return { slotId: Number(row.call_id) };
    const now = Number(row.now_ms);
    if (now < Number(row.paused_until)) return { waitMs: Number(row.paused_until) - now };
    const poll = this.opts.pollMs ?? 25;
    if (Number(row.in_flight) >= maxInFlight || row.oldest_answer === null) {
      // Every place is held by a call on its way: one of them answers soon (or expires after holdMs).
      const expires = row.oldest_start === null ? poll : Number(row.oldest_start) + holdMs + this.windowMs - now;
      return { waitMs: Math.max(1, Math.min(poll, expires)) };
    }
    return { waitMs: Math.max(1, Number(row.oldest_answer) + this.windowMs - now + 1) };
  }

  private release(slotId: number): void {
    // The answer is in: its place counts from now. Late is safe (the place is only held longer).
    void sql`update rate_calls set answered_at = ${dbNowMs} where id = ${slotId} and answered_at is null`
      .execute(this.db)
      .catch((err: unknown) => this.opts.log?.warn({ err, budget: this.name }, 'could not record a call\'s answer in the shared budget; its place expires on its own'));
  }
}

/** The database's clock in epoch milliseconds: the one clock every process agrees on. */
const dbNowMs = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
