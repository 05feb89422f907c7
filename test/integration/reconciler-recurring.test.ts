// The reconciler is the safety net for payment webhooks the intake settled as "not ours" or that never
// came: it must find the paid invoices a retainer's recurring profile generated, although Zoho's invoice
// list (GET /invoices) carries no recurring_invoice_id — by the reference they inherit, the profile's name.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedMapping } from '../../src/config/resolve-mapping.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createLogger } from '../../src/log.js';
import { DealInvoices } from '../../src/store/invoice-records.js';
import { KeyValue } from '../../src/store/kv.js';
import { InvoiceLinks } from '../../src/store/payment-records.js';
import { DealRecurringProfiles } from '../../src/store/recurring-records.js';
import { Reconciler } from '../../src/sync/reconciler.js';
import { MemoryAccounting, MemoryCrm } from '../support/doubles.js';
import { tempStore } from '../support/tmp.js';

/** Paid invoices as GET /invoices lists them: no recurring_invoice_id in a list row. */
class ListedInvoices extends MemoryAccounting {
  listed: Array<{ id: string; status: string; reference: string; lastModified: string; balance: number }> = [];
  override async invoicesModifiedSince() {
    return { invoices: this.listed, hasMore: false };
  }
}

describe('reconciler and recurring-generated invoices', () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let reconciler: Reconciler;
  let accounting: ListedInvoices;

  beforeEach(async () => {
    store = await tempStore();
    accounting = new ListedInvoices();
    const queue = new JobQueue(store.db, { maxAttempts: 3, leaseMs: 30_000, backoffBaseMs: 1000, backoffMaxMs: 60_000 });
    const profiles = new DealRecurringProfiles(store.db);
    await profiles.start('55', 'Kommo deal 55');
    await profiles.update('55', { recurrence_id: '7000000000000000055', state: 'active' });
    const mapping = {
      invoiceStages: [],
      retainer: { startStages: [], stopStages: [], nameTemplate: 'Kommo deal {deal_id}' },
      zoho: { referenceTemplate: 'KOMMO-{deal_id}' },
    } as unknown as Pick<ResolvedMapping, 'invoiceStages' | 'retainer' | 'zoho'>;
    reconciler = new Reconciler({
      db: store.db,
      queue,
      crm: new MemoryCrm(),
      accounting,
      invoices: new DealInvoices(store.db),
      links: new InvoiceLinks(store.db),
      profiles,
      kv: new KeyValue(store.db),
      mapping,
      log: createLogger({ level: 'silent' }),
    });
  });
  afterEach(async () => store.cleanup());

  it("a paid invoice named after a retainer's profile becomes a payment job in that deal's lane; a stranger's does not", async () => {
    accounting.listed = [
      { id: '6000000000000000001', status: 'paid', reference: 'Kommo deal 55', lastModified: '2026-12-01T10:00:00+0000', balance: 0 },
      { id: '6000000000000000002', status: 'paid', reference: 'PO-7', lastModified: '2026-12-01T10:00:00+0000', balance: 0 },
    ];
    const result = await reconciler.sweep();
    expect(result.errors).toEqual([]);
    expect(result.paymentJobs).toBe(1);
    const jobs = await store.db.selectFrom('jobs').select(['kind', 'lane', 'payload']).execute();
    expect(jobs.map((j) => [j.kind, j.lane, JSON.parse(j.payload)])).toEqual([['payment_to_deal', 'deal:55', { invoiceId: '6000000000000000001' }]]);
  });
});
