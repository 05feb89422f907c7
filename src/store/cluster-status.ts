// What the relays on one database look like from any of them, for /readyz and `relay status`: the processes
// seen recently (heartbeats), who holds each periodic task's lease, and the API budgets they share.
import { sql } from 'kysely';
import type { Db, Dialect } from './db.js';
import { listLeases } from './leases.js';
import { recentProcesses } from './processes.js';

export interface ClusterStatus {
  processes: Array<{ id: string; role: string; startedAt: string; seenMsAgo: number }>;
  /** Per periodic task: the process holding it (null once its lease ran out), and its last run. */
  leases: Record<string, { holder: string | null; expiresInMs: number; lastRunAt: string | null }>;
  /** Per API limit (PostgreSQL): calls counted in the current window, on their way, and any 429 pause.
   *  On SQLite the one process keeps its limits in memory: null. */
  budgets: Record<string, { limit: number; windowMs: number; used: number; inFlight: number; pausedForMs: number }> | null;
}

export async function clusterStatus(db: Db, dialect: Dialect, seenWithinMs: number, now = Date.now()): Promise<ClusterStatus> {
  const processes = (await recentProcesses(db, seenWithinMs, now)).map((p) => ({
    id: p.id,
    role: p.role,
    startedAt: new Date(Number(p.started_at)).toISOString(),
    seenMsAgo: Math.max(0, now - Number(p.seen_at)),
  }));
  const leases: ClusterStatus['leases'] = {};
  for (const l of await listLeases(db)) {
    const live = Number(l.expires_at) > now;
    leases[l.name] = { holder: live ? l.holder : null, expiresInMs: live ? Number(l.expires_at) - now : 0, lastRunAt: l.last_run_at == null ? null : new Date(Number(l.last_run_at)).toISOString() };
  }
  return { processes, leases, budgets: dialect === 'postgres' ? await sharedBudgets(db) : null };
}

async function sharedBudgets(db: Db): Promise<NonNullable<ClusterStatus['budgets']>> {
  // The database's clock, as the budgets are kept (net/shared-limiter.ts).
  const rows = await sql<{ name: string; max_calls: number; window_ms: number; paused_for: number; used: string; in_flight: string }>`
    with t as (select (extract(epoch from clock_timestamp()) * 1000)::bigint as now)
    select b.name, b.max_calls, b.window_ms, greatest(0, b.paused_until - t.now) as paused_for,
           count(c.id) filter (where c.answered_at is null or c.answered_at > t.now - b.window_ms) as used,
           count(c.id) filter (where c.answered_at is null) as in_flight
    from rate_budgets b cross join t left join rate_calls c on c.budget = b.name
    group by b.name, b.max_calls, b.window_ms, b.paused_until, t.now
    order by b.name`.execute(db);
  return Object.fromEntries(
    rows.rows.map((r) => [r.name, { limit: Number(r.max_calls), windowMs: Number(r.window_ms), used: Number(r.used), inFlight: Number(r.in_flight), pausedForMs: Number(r.paused_for) }]),
  );
}
