// What the relay knows about each deal's invoice and each customer it created or found. These rows are
// the "intent" records that make every step safe to run twice.
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { DealInvoiceState, DealInvoicesTable } from './schema.js';

export type DealInvoice = Selectable<DealInvoicesTable>;

export class DealInvoices {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  get(dealId: string): Promise<DealInvoice | undefined> {
    return this.db.selectFrom('deal_invoices').selectAll().where('deal_id', '=', dealId).executeTakeFirst();
  }

  findByInvoiceId(invoiceId: string): Promise<DealInvoice | undefined> {
    return this.db.selectFrom('deal_invoices').selectAll().where('invoice_id', '=', invoiceId).executeTakeFirst();
  }

  /** Of these invoices, those whose draft is in review (waiting or approved, not yet sent). */
  async inReview(invoiceIds: string[]): Promise<DealInvoice[]> {
    if (invoiceIds.length === 0) return [];
    return this.db.selectFrom('deal_invoices').selectAll().where('invoice_id', 'in', invoiceIds).where('review', 'in', ['waiting', 'approved']).execute();
  }

  /** Records the decision to invoice this deal; a no-op if it was already recorded. */
  async start(dealId: string, reference: string, generation = 1): Promise<DealInvoice> {
    const now = this.now();
    await this.db
      .insertInto('deal_invoices')
      .values({
        deal_id: dealId,
        generation,
        state: 'pending',
        reference,
        customer_id: null,
        invoice_id: null,
        invoice_number: null,
        invoice_url: null,
        invoice_status: null,
        emailed: 0,
        review: null,
        draft_version: null,
        draft_basis: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('deal_id').doNothing())
      .execute();
    return (await this.get(dealId))!;
  }

  /** A new invoice for the same deal (a person asked for it): fresh intent, same customer. */
  async restart(dealId: string, reference: string, generation: number): Promise<DealInvoice> {
    return this.update(dealId, { state: 'pending', generation, reference, invoice_id: null, invoice_number: null, invoice_url: null, invoice_status: null, emailed: 0, review: null, draft_version: null, draft_basis: null });
  }

  async update(dealId: string, fields: Partial<Omit<DealInvoice, 'deal_id' | 'created_at' | 'updated_at'>> & { state?: DealInvoiceState }): Promise<DealInvoice> {
    await this.db
      .updateTable('deal_invoices')
      .set({ ...fields, updated_at: this.now() })
      .where('deal_id', '=', dealId)
      .execute();
    return (await this.get(dealId))!;
  }
}

export type CustomerClaim = { kind: 'known'; customerId: string; currencyCode?: string } | { kind: 'claimed' } | { kind: 'busy' };

export class CustomerLinks {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  async forContact(kommoContactId: string): Promise<{ customerId: string; emailKey: string; currencyCode?: string } | undefined> {
    const row = await this.db
      .selectFrom('contact_links as l')
      .leftJoin('customers as c', 'c.email_key', 'l.email_key')
      .select(['l.customer_id', 'l.email_key', 'c.currency_code'])
      .where('l.kommo_contact_id', '=', kommoContactId)
      .executeTakeFirst();
    return row ? { customerId: row.customer_id, emailKey: row.email_key, ...(row.currency_code ? { currencyCode: row.currency_code } : {}) } : undefined;
  }

  /**
   * Either returns the customer already known for this email, or makes `owner` the only one allowed to
   * search for / create it. A claim older than `staleMs` belongs to a job that died and is taken over.
   */
  async claim(emailKey: string, owner: string, staleMs: number): Promise<CustomerClaim> {
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('customers')
        .values({ email_key: emailKey, customer_id: null, currency_code: null, claimed_by: owner, claimed_at: now, updated_at: now })
        .onConflict((oc) => oc.column('email_key').doNothing())
        .execute();
      const row = await trx.selectFrom('customers').selectAll().where('email_key', '=', emailKey).executeTakeFirstOrThrow();
      if (row.customer_id) return { kind: 'known', customerId: row.customer_id, ...(row.currency_code ? { currencyCode: row.currency_code } : {}) } as const;
      if (row.claimed_by === owner) return { kind: 'claimed' } as const;
      if (row.claimed_at !== null && now - Number(row.claimed_at) < staleMs) return { kind: 'busy' } as const;
      const taken = await trx
        .updateTable('customers')
        .set({ claimed_by: owner, claimed_at: now, updated_at: now })
        .where('email_key', '=', emailKey)
        .where('customer_id', 'is', null)
        .executeTakeFirst();
      return Number(taken.numUpdatedRows) > 0 ? ({ kind: 'claimed' } as const) : ({ kind: 'busy' } as const);
    });
  }

  async release(emailKey: string, owner: string): Promise<void> {
    await this.db.deleteFrom('customers').where('email_key', '=', emailKey).where('claimed_by', '=', owner).where('customer_id', 'is', null).execute();
  }

  async save(emailKey: string, customerId: string, kommoContactId: string, currencyCode?: string): Promise<void> {
    const now = this.now();
    const currency = currencyCode ?? null;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('customers')
        .values({ email_key: emailKey, customer_id: customerId, currency_code: currency, claimed_by: null, claimed_at: null, updated_at: now })
        .onConflict((oc) => oc.column('email_key').doUpdateSet({ customer_id: customerId, currency_code: currency, claimed_by: null, claimed_at: null, updated_at: now }))
        .execute();
      await this.linkContact(kommoContactId, customerId, emailKey, trx);
    });
  }

  async linkContact(kommoContactId: string, customerId: string, emailKey: string, executor: Db = this.db): Promise<void> {
    const now = this.now();
    await executor
      .insertInto('contact_links')
      .values({ kommo_contact_id: kommoContactId, customer_id: customerId, email_key: emailKey, updated_at: now })
      .onConflict((oc) => oc.column('kommo_contact_id').doUpdateSet({ customer_id: customerId, email_key: emailKey, updated_at: now }))
      .execute();
  }

  async byEmail(emailKey: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('customers').select('customer_id').where('email_key', '=', emailKey).executeTakeFirst();
    return row?.customer_id ?? undefined;
  }
}
