// Leases on periodic tasks that must run in one process at a time (the reconciler, the retention sweep).
// A lease is a row with a holder and an expiry: the holder renews it well before it runs out; any process
// may take it once it has. Plain SQL (an upsert whose update only applies when the row is ours or expired),
// so the same code works on SQLite and PostgreSQL. Times are the processes' clocks: keep them in sync (NTP);
// a skew shortens or lengthens a dead holder's lease by that much, it never gives two live holders.
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { LeasesTable } from './schema.js';

export type LeaseRow = Selectable<LeasesTable>;

export class Leases {
  constructor(
    private readonly db: Db,
    /** This process (relay_processes.id). */
    readonly holder: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes the lease if it is free or expired, renews it if it is ours; true while this process holds it. */
  async hold(name: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const row = await this.db
      .insertInto('leases')
      .values({ name, holder: this.holder, expires_at: now + ttlMs, acquired_at: now, last_run_at: null })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({
            holder: eb.ref('excluded.holder'),
            expires_at: eb.ref('excluded.expires_at'),
            acquired_at: eb.case().when('leases.holder', '=', eb.ref('excluded.holder')).then(eb.ref('leases.acquired_at')).else(eb.ref('excluded.acquired_at')).end(),
          }))
          .where((eb) => eb.or([eb('leases.holder', '=', eb.ref('excluded.holder')), eb('leases.expires_at', '<', now)])),
      )
      .returning('holder')
      .executeTakeFirst();
    return row?.holder === this.holder;
  }

  /** Gives the lease up (graceful shutdown), so another process takes it at its next look, not after expiry. */
  async release(name: string): Promise<void> {
    await this.db.updateTable('leases').set({ expires_at: 0 }).where('name', '=', name).where('holder', '=', this.holder).execute();
  }

  /** Records that the task ran now, so whoever holds the lease next keeps the interval. */
  async markRun(name: string): Promise<void> {
    await this.db.updateTable('leases').set({ last_run_at: this.now() }).where('name', '=', name).where('holder', '=', this.holder).execute();
  }

  /**
   * Makes the task due at `dueAt` at the latest, by moving its last run back to `dueAt - intervalMs` (never
   * forward: a sooner due time asked by anyone stays). The holder finds it at its next look.
   */
  async requestRun(name: string, dueAt: number, intervalMs: number): Promise<void> {
    const lastRun = dueAt - intervalMs;
    await this.db
      .updateTable('leases')
      .set({ last_run_at: lastRun })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('last_run_at', 'is', null), eb('last_run_at', '>', lastRun)]))
      .execute();
  }

  async get(name: string): Promise<LeaseRow | undefined> {
    return this.db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
  }
}

export async function listLeases(db: Db): Promise<LeaseRow[]> {
  return db.selectFrom('leases').selectAll().orderBy('name').execute();
}
