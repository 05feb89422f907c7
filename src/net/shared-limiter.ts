// The SlidingWindowLimiter's rule, kept in PostgreSQL so that every relay on the database spends one budget:
// at most `limit` calls in any window, each call holding its place from the moment it is let through until
// its answer, the window counted from the answer (the server counts arrivals; a request cannot arrive after
// its answer). Every call is a row in rate_calls; taking a place locks the budget's row in rate_budgets, so
// two processes never both take the last place. Times are the database's clock, one clock for every process.
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
  /** At most this many calls on their way at once, over all processes (Xero: 5). */
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

  private tryTake(): Promise<Turn> {
    const { holdMs } = this.opts;
    const maxInFlight = this.opts.maxInFlight ?? this.limit;
    return this.db.transaction().execute(async (trx) => {
      const budget = await sql<{ now: number; paused_until: number }>`
        select ${dbNowMs} as now, paused_until from rate_budgets where name = ${this.name} for update`.execute(trx);
      const row = budget.rows[0];
      if (!row) throw new Error(`no budget row '${this.name}'`);
      const now = Number(row.now);
      if (now < Number(row.paused_until)) return { waitMs: Number(row.paused_until) - now };
      // A call counts until `answered + window`; an unanswered one until `started + holdMs + window`.
      const counted = sql`coalesce(answered_at, started_at + ${holdMs})`;
      const result = await sql<{ n: string; in_flight: string; oldest_answer: number | null; oldest_start: number | null; id: number | null }>`
        with gone as (
          delete from rate_calls where budget = ${this.name} and ${counted} <= ${now - this.windowMs}
        ), live as (
          select count(*) as n,
                 count(*) filter (where answered_at is null and started_at + ${holdMs} > ${now}) as in_flight,
                 min(answered_at) as oldest_answer,
                 min(started_at) filter (where answered_at is null) as oldest_start
          from rate_calls where budget = ${this.name} and ${counted} > ${now - this.windowMs}
        ), taken as (
          insert into rate_calls (budget, holder, started_at, answered_at)
          select ${this.name}, ${this.opts.holder}, ${now}, null from live where n < ${this.limit} and in_flight < ${maxInFlight}
          returning id
        )
        select n, in_flight, oldest_answer, oldest_start, (select id from taken) as id from live`.execute(trx);
      const live = result.rows[0]!;
      if (live.id !== null) return { slotId: Number(live.id) };
      const poll = this.opts.pollMs ?? 25;
      if (Number(live.in_flight) >= maxInFlight || live.oldest_answer === null) {
        // Every place is held by a call on its way: one of them answers soon (or expires after holdMs).
        const expires = live.oldest_start === null ? poll : Number(live.oldest_start) + holdMs + this.windowMs - now;
        return { waitMs: Math.max(1, Math.min(poll, expires)) };
      }
      return { waitMs: Math.max(1, Number(live.oldest_answer) + this.windowMs - now + 1) };
    });
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
