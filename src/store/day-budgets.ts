// API day quotas in the store (net/day-budget.ts): one row per quota, the day it counts and the calls counted
// in it. Taking a call is one upsert that only applies while the quota has room (or has no limit) and is not
// paused, so on PostgreSQL the processes never take more than the limit between them (the conflicting row is
// locked and the condition read again on its latest version), and on SQLite the one writer does the same.
// Plain SQL that both dialects run.
import { sql } from 'kysely';
import type { Db } from './db.js';

export interface DayBudgetRow {
  name: string;
  day: string;
  used: number;
  limit: number | null;
  resetsAt: number;
  pausedUntil: number;
}

export type DayTake = { taken: true; used: number } | { taken: false; row: DayBudgetRow };

export class DayBudgets {
  constructor(private readonly db: Db) {}

  /** Counts one call in `day` if the quota has room and is not paused; else says why not. */
  async take(name: string, day: string, resetsAt: number, limit: number | null, now: number): Promise<DayTake> {
    const rows = await sql<{ used: number }>`
      insert into day_budgets (name, day, used, max_calls, resets_at, paused_until) values (${name}, ${day}, 1, ${limit}, ${resetsAt}, 0)
      on conflict (name) do update set
        used = case when day_budgets.day = excluded.day then day_budgets.used + 1 else 1 end,
        day = excluded.day, max_calls = excluded.max_calls, resets_at = excluded.resets_at
      where day_budgets.paused_until <= ${now}
        and (day_budgets.day <> excluded.day or excluded.max_calls is null or day_budgets.used < excluded.max_calls)
      returning used`.execute(this.db);
    const taken = rows.rows[0];
    if (taken) return { taken: true, used: Number(taken.used) };
    const row = await this.get(name);
    if (!row) throw new Error(`day budget ${name} vanished`);
    return { taken: false, row };
  }

  /** A process starts with this limit: the row says so (a count of another day starts again at 0). */
  async setLimit(name: string, day: string, resetsAt: number, limit: number | null): Promise<void> {
    await sql`
      insert into day_budgets (name, day, used, max_calls, resets_at, paused_until) values (${name}, ${day}, 0, ${limit}, ${resetsAt}, 0)
      on conflict (name) do update set
        used = case when day_budgets.day = excluded.day then day_budgets.used else 0 end,
        day = excluded.day, max_calls = excluded.max_calls, resets_at = excluded.resets_at`.execute(this.db);
  }

  /** The server said the quota is used up: no call before `until`. */
  async pause(name: string, day: string, resetsAt: number, limit: number | null, until: number): Promise<void> {
    await sql`
      insert into day_budgets (name, day, used, max_calls, resets_at, paused_until) values (${name}, ${day}, 0, ${limit}, ${resetsAt}, ${until})
      on conflict (name) do update set
        used = case when day_budgets.day = excluded.day then day_budgets.used else 0 end,
        day = excluded.day, max_calls = excluded.max_calls, resets_at = excluded.resets_at,
        paused_until = case when day_budgets.paused_until > excluded.paused_until then day_budgets.paused_until else excluded.paused_until end`.execute(this.db);
  }

  async get(name: string): Promise<DayBudgetRow | undefined> {
    return (await this.list()).find((r) => r.name === name);
  }

  async list(): Promise<DayBudgetRow[]> {
    const rows = await this.db.selectFrom('day_budgets').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, day: r.day, used: Number(r.used), limit: r.max_calls === null ? null : Number(r.max_calls), resetsAt: Number(r.resets_at), pausedUntil: Number(r.paused_until) }));
  }
}

export interface DayBudgetStatus {
  day: string;
  used: number;
  /** null: counted only (no limit set). */
  limit: number | null;
  remaining: number | null;
  resetsAt: string;
  /** How long the server's "used up" answer still pauses the work. */
  pausedForMs: number;
}

/** The day quotas as they stand at `now` (a row of a day that is over counts 0), for `relay status`. */
export async function dayBudgetStatus(db: Db, now = Date.now()): Promise<Record<string, DayBudgetStatus>> {
  const out: Record<string, DayBudgetStatus> = {};
  for (const r of await new DayBudgets(db).list()) {
    const used = now >= r.resetsAt ? 0 : r.used;
    out[r.name] = {
      day: r.day,
      used,
      limit: r.limit,
      remaining: r.limit === null ? null : Math.max(0, r.limit - used),
      resetsAt: new Date(r.resetsAt).toISOString(),
      pausedForMs: Math.max(0, r.pausedUntil - now),
    };
  }
  return out;
}
