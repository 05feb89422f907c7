// Notes the relay has added (or is adding) to deals, and the accounting invoices it has tied to deals.
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { DealNotesTable, InvoiceLinksTable } from './schema.js';

export class DealNotes {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): Promise<Selectable<DealNotesTable> | undefined> {
    return this.db.selectFrom('deal_notes').selectAll().where('note_key', '=', key).executeTakeFirst();
  }

  async markSending(key: string, dealId: string, text: string): Promise<void> {
    const now = this.now();
    await this.db
      .insertInto('deal_notes')
      .values({ note_key: key, deal_id: dealId, state: 'sending', text, reason: null, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('note_key').doUpdateSet({ state: 'sending', text, updated_at: now }))
      .execute();
  }

  async markSent(key: string): Promise<void> {
    await this.db.updateTable('deal_notes').set({ state: 'sent', reason: null, updated_at: this.now() }).where('note_key', '=', key).execute();
  }

  /** Kommo said no: kept with its reason (for the deal's page), and tried again by the next run. */
  async markRefused(key: string, reason: string): Promise<void> {
    await this.db.updateTable('deal_notes').set({ state: 'refused', reason, updated_at: this.now() }).where('note_key', '=', key).execute();
  }

  async forget(key: string): Promise<void> {
    await this.db.deleteFrom('deal_notes').where('note_key', '=', key).where('state', '=', 'sending').execute();
  }

  forDeal(dealId: string): Promise<Array<Selectable<DealNotesTable>>> {
    return this.db.selectFrom('deal_notes').selectAll().where('deal_id', '=', dealId).orderBy('created_at').execute();
  }
}

export type InvoiceLink = Selectable<InvoiceLinksTable>;

export class InvoiceLinks {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  get(invoiceId: string): Promise<InvoiceLink | undefined> {
    return this.db.selectFrom('invoice_links').selectAll().where('invoice_id', '=', invoiceId).executeTakeFirst();
  }

  async upsert(invoiceId: string, dealId: string, fields: { version?: string; paidAt?: number }): Promise<void> {
    const now = this.now();
    const set = {
      deal_id: dealId,
      updated_at: now,
      ...(fields.version !== undefined ? { version: fields.version } : {}),
      ...(fields.paidAt !== undefined ? { paid_at: fields.paidAt } : {}),
    };
    await this.db
      .insertInto('invoice_links')
      .values({ invoice_id: invoiceId, deal_id: dealId, version: fields.version ?? null, paid_at: fields.paidAt ?? null, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('invoice_id').doUpdateSet(set))
      .execute();
  }
}
