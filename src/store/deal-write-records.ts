// The intent records of writes to deals (stage moves, single fields): recorded 'pending' before the call,
// then 'done', or 'refused' with Kommo's reason. A job run again skips what is done and tries the rest.
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { DealWriteKind, DealWritesTable } from './schema.js';

export type DealWrite = Selectable<DealWritesTable>;

export class DealWrites {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  async byKey(keys: string[]): Promise<Map<string, DealWrite>> {
    if (keys.length === 0) return new Map();
    const rows = await this.db.selectFrom('deal_writes').selectAll().where('write_key', 'in', keys).execute();
    return new Map(rows.map((r) => [r.write_key, r]));
  }

  forDeal(dealId: string): Promise<DealWrite[]> {
    return this.db.selectFrom('deal_writes').selectAll().where('deal_id', '=', dealId).orderBy('created_at').orderBy('write_key').execute();
  }

  /** The intent, before the call: counts the attempt and keeps the last reason until the outcome is known. */
  async begin(writes: Array<{ key: string; dealId: string; kind: DealWriteKind; label: string }>): Promise<void> {
    if (writes.length === 0) return;
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      for (const w of writes) {
        await trx
          .insertInto('deal_writes')
          .values({ write_key: w.key, deal_id: w.dealId, kind: w.kind, label: w.label, state: 'pending', reason: null, attempts: 1, created_at: now, updated_at: now })
          .onConflict((oc) => oc.column('write_key').doUpdateSet((eb) => ({ state: 'pending', label: w.label, attempts: eb('deal_writes.attempts', '+', 1), updated_at: now })))
          .execute();
      }
    });
  }

  async settle(keys: string[], state: 'done' | 'refused' | 'pending', reason: string | null): Promise<void> {
    if (keys.length === 0) return;
    await this.db.updateTable('deal_writes').set({ state, reason, updated_at: this.now() }).where('write_key', 'in', keys).execute();
  }
}
