// What the relay did with each lost deal's invoice (invoice.onLost): the intent is written before a void or a
// delete, and the outcome after, so the deal page and /admin say what happened and a retry never acts twice.
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { DealLostAction, DealLostTable } from './schema.js';

export type DealLost = Selectable<DealLostTable>;

export class DealLostRecords {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  get(dealId: string): Promise<DealLost | undefined> {
    return this.db.selectFrom('deal_lost').selectAll().where('deal_id', '=', dealId).executeTakeFirst();
  }

  /** The intent to void or delete `invoiceId`, or (state 'done') the outcome. Replaces an earlier loss of the same deal. */
  async put(dealId: string, row: { invoice_id: string | null; invoice_number: string | null; state: DealLost['state']; action: DealLostAction | null; detail: string | null; attention: number; recurring_stopped?: number }): Promise<DealLost> {
    const now = this.now();
    const values = { ...row, recurring_stopped: row.recurring_stopped ?? 0, updated_at: now };
    await this.db
      .insertInto('deal_lost')
      .values({ deal_id: dealId, lost_at: now, ...values })
      .onConflict((oc) => oc.column('deal_id').doUpdateSet(values))
      .execute();
    return (await this.get(dealId))!;
  }

  /** The deal left the lost stage (reopened) or its invoice was settled: no longer an item on /admin. */
  async clearAttention(dealId: string): Promise<void> {
    await this.db.updateTable('deal_lost').set({ attention: 0, updated_at: this.now() }).where('deal_id', '=', dealId).where('attention', '=', 1).execute();
  }

  /** Lost deals whose invoice is still open (the /admin list), newest first. */
  needingAttention(limit = 50): Promise<DealLost[]> {
    return this.db.selectFrom('deal_lost').selectAll().where('attention', '=', 1).orderBy('lost_at', 'desc').limit(limit).execute();
  }
}
