// The recurring profile of each retainer deal: written before the profile is created, so a retry after a
// lost answer looks it up by name instead of creating a second one.
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { DealRecurringTable } from './schema.js';

export type DealRecurring = Selectable<DealRecurringTable>;

export class DealRecurringProfiles {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  get(dealId: string): Promise<DealRecurring | undefined> {
    return this.db.selectFrom('deal_recurring').selectAll().where('deal_id', '=', dealId).executeTakeFirst();
  }

  findByRecurrenceId(recurrenceId: string): Promise<DealRecurring | undefined> {
    return this.db.selectFrom('deal_recurring').selectAll().where('recurrence_id', '=', recurrenceId).executeTakeFirst();
  }

  async start(dealId: string, name: string): Promise<DealRecurring> {
    const now = this.now();
    await this.db
      .insertInto('deal_recurring')
      .values({ deal_id: dealId, state: 'creating', name, customer_id: null, recurrence_id: null, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('deal_id').doNothing())
      .execute();
    return (await this.get(dealId))!;
  }

  async update(dealId: string, fields: Partial<Pick<DealRecurring, 'state' | 'customer_id' | 'recurrence_id'>>): Promise<DealRecurring> {
    await this.db.updateTable('deal_recurring').set({ ...fields, updated_at: this.now() }).where('deal_id', '=', dealId).execute();
    return (await this.get(dealId))!;
  }
}
