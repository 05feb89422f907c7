// The reconciler is the safety net for payment webhooks the intake settled as "not ours" or that never
// came: it must find the paid invoices a retainer's recurring profile generated, although a backend's
// invoice list may carry no recurring profile ID (Zoho's GET /invoices does not) — by the stamp they
// inherit, the profile's name.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedMapping } from '../../src/config/resolve-mapping.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createLogger } from '../../src/log.js';
import { DealInvoices } from '../../src/store/invoice-records.js';
import { KeyValue } from '../../src/store/kv.js';
import { InvoiceLinks } from '../../src/store/payment-records.js';
import { DealRecurringProfiles } from '../../src/store/recurring-records.js';
import { InvoiceOwners } from '../../src/sync/invoice-owner.js';
import type { InvoiceChange } from '../../src/sync/ports.js';
import { Reconciler } from '../../src/sync/reconciler.js';
import { MemoryAccounting, MemoryCrm } from '../support/doubles.js';
import { tempStore } from '../support/tmp.js';

/** Paid invoices as a list answers them: no recurring profile ID in a row, only the reference's stamp. */
class ListedInvoices extends MemoryAccounting {
  listed: Array<{ id: string; reference: string }> = [];
  override async changedInvoices() {
    const invoices = this.listed.map((i): InvoiceChange => ({ invoiceId: i.id, status: 'paid', version: '2026-12-01T10:00:00+0000|0', ...this.stampedOf(i.reference) }));
    return { invoices, hasMore: false, next: '2026-12-01T10:00:00+0000' };
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
    } as unknown as Pick<ResolvedMapping, 'invoiceStages' | 'retainer'>;
    reconciler = new Reconciler({
      db: store.db,
      queue,
      crm: new MemoryCrm(),
      accounting,
      invoices: new DealInvoices(store.db),
      links: new InvoiceLinks(store.db),
      profiles,
      owners: new InvoiceOwners(store.db),
      kv: new KeyValue(store.db),
      mapping,
      log: createLogger({ level: 'silent' }),
    });
  });
  afterEach(async () => store.cleanup());

  it("a paid invoice named after a retainer's profile becomes a payment job in that deal's lane; a stranger's does not", async () => {
    accounting.listed = [
      { id: '6000000000000000001', reference: 'Kommo deal 55' },
      { id: '6000000000000000002', reference: 'PO-7' },
    ];
    const result = await reconciler.sweep();
    expect(result.errors).toEqual([]);
    expect(result.paymentJobs).toBe(1);
    const jobs = await store.db.selectFrom('jobs').select(['kind', 'lane', 'payload']).execute();
    expect(jobs.map((j) => [j.kind, j.lane, JSON.parse(j.payload)])).toEqual([['payment_to_deal', 'deal:55', { invoiceId: '6000000000000000001' }]]);
  });
});
