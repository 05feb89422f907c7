// A database written by the previous version is read by this one. test/fixtures/upgrade/relay-95e7aa9.db
// was made by the relay as of commit 95e7aa9 — its own migrations, store classes and key formats — with
// make-fixture.ts.txt beside it: a Zoho connection made on /connect (tokens sealed with ENCRYPTION_KEY),
// a Self Client token, an invoiced deal, a retainer, events and jobs. Opened here, the new migrations run
// on top, and the stored connection, intent records and jobs keep working with ACCOUNTING left unset.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZohoAccounting } from '../../src/accounting/zoho/accounting.js';
import type { ZohoParts } from '../../src/accounting/zoho/side.js';
import { ZohoStamps } from '../../src/accounting/zoho/stamp.js';
import { parseEnv } from '../../src/config/env.js';
import type { ResolvedMapping } from '../../src/config/resolve-mapping.js';
import { acceptEvents } from '../../src/jobs/inbox.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createLogger } from '../../src/log.js';
import { createClients } from '../../src/startup/clients.js';
import { openStore, type Store } from '../../src/store/db.js';
import { DealWrites } from '../../src/store/deal-write-records.js';
import { CustomerLinks, DealInvoices } from '../../src/store/invoice-records.js';
import { KeyValue } from '../../src/store/kv.js';
import { InvoiceLinks } from '../../src/store/payment-records.js';
import { DealRecurringProfiles } from '../../src/store/recurring-records.js';
import { BillingParty } from '../../src/sync/billing-party.js';
import { DealWriter } from '../../src/sync/deal-writer.js';
import { InvoiceForDeal } from '../../src/sync/invoice-for-deal.js';
import { InvoiceOwners } from '../../src/sync/invoice-owner.js';
import { invoiceChangedItem } from '../../src/sync/payment-triggers.js';
import { Reconciler } from '../../src/sync/reconciler.js';
import { MemoryAccounting, MemoryCrm, sampleDeal, samplePerson, sampleReference } from '../support/doubles.js';
import { tempDir } from '../support/tmp.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/upgrade/relay-95e7aa9.db');
const KEY = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const API = 'https://www.zohoapis.eu';
const log = createLogger({ level: 'silent' });

/** The settings of that deployment, unchanged: no ACCOUNTING, the same ZOHO_* names. */
const settings = (file: string, extra: Record<string, string> = {}) =>
  parseEnv({
    DATABASE_URL: `sqlite:${file}`,
    WEBHOOK_SECRET: 'upgrade-secret-0123456789',
    KOMMO_BASE_URL: 'https://acme.kommo.com',
    KOMMO_ACCESS_TOKEN: 'kommo-long-lived',
    ZOHO_DC: 'eu',
    ZOHO_CLIENT_ID: '1000.CLIENT',
    ZOHO_CLIENT_SECRET: 'zoho-client-secret',
    ZOHO_REDIRECT_URI: 'https://relay.example.com/connect/zoho/callback',
    ENCRYPTION_KEY: KEY,
    ADMIN_TOKEN: '4f9c2e71b08d3a65c7e19f42d8b06a3e5c1f7d92',
    ...extra,
  });

describe('a database of the relay as of 95e7aa9, opened by this version', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  let store: Store;

  beforeEach(async () => {
    nock.disableNetConnect();
    dir = tempDir('relay-upgrade-');
    file = join(dir.path, 'relay.db');
    copyFileSync(FIXTURE, file);
    store = await openStore({ dialect: 'sqlite', location: file });
  });
  afterEach(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await store.close();
    dir.cleanup();
  });

  it('the new migrations run on top of the old ones', async () => {
    const names = (await sql<{ name: string }>`select name from schema_migrations order by name`.execute(store.db)).rows.map((r) => r.name);
    expect(names.slice(0, 4)).toEqual(['0001_core', '0002_payments', '0003_connections', '0004_retainers_and_currency']);
    expect(names.length).toBeGreaterThan(4);
  });

  it('the stored Zoho connection is used: its organization, its sealed access token, its API domain', async () => {
    const env = settings(file);
    expect(env.accounting.backend.id).toBe('zoho');
    const { accounting } = await createClients(env, store, log);
    await accounting.start();
    expect(accounting.organizationId()).toBe('20099887');
    expect(await accounting.awaitingConnection()).toBe(false);
    const status = await accounting.status(() => undefined);
    expect(status).toMatchObject({ connected: true, method: 'OAuth', dataCentre: 'eu', apiDomain: API, organization: { id: '20099887', name: 'Acme GmbH' } });
    expect(accounting.readiness(status)).toBe('connected');

    const api = nock(API, { reqheaders: { authorization: 'Zoho-oauthtoken 1000.stored-zoho-access-token' } })
      .get('/books/v3/settings/taxes')
      .query({ organization_id: '20099887' })
      .reply(200, { code: 0, message: 'success', taxes: [] });
    expect(await (accounting.parts as ZohoParts).client.listTaxes()).toEqual([]);
    expect(api.isDone()).toBe(true);
  });

  it("a Self Client's stored access token is found under its old key: no new token is minted", async () => {
    const env = settings(file, { ZOHO_REFRESH_TOKEN: '1000.self-client-refresh', ZOHO_ORGANIZATION_ID: '20099887' });
    const { accounting } = await createClients(env, store, log);
    await accounting.start();
    const api = nock(API, { reqheaders: { authorization: 'Zoho-oauthtoken 1000.self-client-access' } })
      .get('/books/v3/settings/taxes')
      .query({ organization_id: '20099887' })
      .reply(200, { code: 0, message: 'success', taxes: [] });
    await (accounting.parts as ZohoParts).client.listTaxes();
    expect(api.isDone()).toBe(true); // no call to accounts.zoho.eu: nock refuses any other host
  });

  it('an invoiced deal entering the invoicing stage again is not invoiced again', async () => {
    const crm = new MemoryCrm();
    const accounting = new MemoryAccounting();
    crm.deals.set(31700125, sampleDeal({ fields: new Map([[900, ['9834000000000000777']]]) }));
    crm.people.set(501, samplePerson());
    const mapping = {
      invoiceStages: [{ pipelineId: 7710021, statusId: 61234570, label: 'Sales / Invoice' }],
      payment: { stages: [] },
      lines: { sources: ['deal'], products: {}, whenTotalDiffers: 'record' },
      currency: {},
      paymentTerms: {},
      tax: { countryFrom: [], rules: {} },
      sendInvoice: true,
      dealFields: { invoiceId: { id: 900, name: 'Invoice ID', type: 'text' }, invoiceUrl: { id: 901, name: 'Invoice URL', type: 'url' } },
    } satisfies ResolvedMapping;
    const party = new BillingParty({ crm, accounting, customers: new CustomerLinks(store.db), mapping, settings: { get: async () => ({ system: 'Zoho Books', reference: sampleReference(), taxRules: new Map() }) }, customerClaimStaleMs: 60_000 });
    const useCase = new InvoiceForDeal({ crm, accounting, invoices: new DealInvoices(store.db), party, writer: new DealWriter(crm, new DealWrites(store.db)), mapping });
    expect(await useCase.run(31700125, { jobId: 1, log })).toEqual({ outcome: 'already_invoiced', invoiceId: '9834000000000000777' });
    expect(accounting.totalCalls).toBe(0);
  });

  it('the invoice owner is found from the old records: the invoice created, the retainer profile', async () => {
    const owners = new InvoiceOwners(store.db);
    expect(await owners.of({ invoiceId: '9834000000000000777' }, { clues: 'claimed' })).toEqual({ dealId: '31700125', retainer: false, ownWrite: { at: expect.any(Number), inFlight: false } });
    expect(await owners.of({ invoiceId: '9834000000000000999', recurringId: '9834000000000000900' }, { clues: 'claimed' })).toEqual({ dealId: '31700200', retainer: true });
  });

  it("the reconciler goes on from the stored cursor; an invoice version handled before is not handled again, a newer one is", async () => {
    const queue = new JobQueue(store.db, { maxAttempts: 12, leaseMs: 60_000, backoffBaseMs: 2000, backoffMaxMs: 900_000 });
    const env = settings(file);
    const { accounting } = await createClients(env, store, log);
    await accounting.start();
    const port = new ZohoAccounting((accounting.parts as ZohoParts).client, new ZohoStamps({ referenceTemplate: 'KOMMO-{deal_id}' }, 'Kommo deal {deal_id}'));
    const listed = nock(API)
      .get('/books/v3/invoices')
      .query({ organization_id: '20099887', last_modified_time: '2026-11-21T08:00:00+0000', sort_column: 'last_modified_time', sort_order: 'A', page: '1', per_page: '200' })
      .reply(200, {
        code: 0,
        message: 'success',
        invoices: [
          { invoice_id: '9834000000000000777', status: 'paid', reference_number: 'KOMMO-31700125', last_modified_time: '2026-11-20T10:15:00+0000', balance: 0 },
          { invoice_id: '9834000000000000778', status: 'paid', reference_number: 'Kommo deal 31700200', last_modified_time: '2026-11-21T09:30:00+0100', balance: 0 },
        ],
        page_context: { page: 1, per_page: 200, has_more_page: false },
      });
    const reconciler = new Reconciler({
      db: store.db,
      queue,
      crm: new MemoryCrm(),
      accounting: port,
      invoices: new DealInvoices(store.db),
      links: new InvoiceLinks(store.db),
      profiles: new DealRecurringProfiles(store.db),
      owners: new InvoiceOwners(store.db),
      kv: new KeyValue(store.db),
      mapping: { invoiceStages: [] },
      log,
    });
    const result = await reconciler.sweep();
    expect(listed.isDone()).toBe(true);
    // 777's version is the one the old relay stored: nothing to do. 778 (the retainer's) was paid since.
    expect(result).toMatchObject({ errors: [], invoicesChecked: 2, paymentJobs: 1 });
    const jobs = await store.db.selectFrom('jobs').select(['kind', 'lane', 'payload']).where('state', '=', 'queued').orderBy('id').execute();
    expect(jobs.map((j) => [j.kind, j.lane, JSON.parse(j.payload)])).toEqual([
      ['payment_to_deal', 'deal:31700200', { invoiceId: '9834000000000000778' }], // queued by the old version
      ['payment_to_deal', 'deal:31700200', { invoiceId: '9834000000000000778' }],
    ]);
    expect(await new KeyValue(store.db).get('reconcile:zoho:last_modified')).toBe('2026-11-21T08:30:00+0000');
  });

  it('a job the old version queued is claimed and run by this one; a webhook it stored is still a duplicate', async () => {
    const queue = new JobQueue(store.db, { maxAttempts: 12, leaseMs: 60_000, backoffBaseMs: 2000, backoffMaxMs: 900_000 });
    const job = await queue.claim('new-worker', ['payment_to_deal']);
    expect(job).toMatchObject({ kind: 'payment_to_deal', lane: 'deal:31700200', payload: { invoiceId: '9834000000000000778' } });
    const again = invoiceChangedItem('zoho', { invoiceId: '9834000000000000777', dealId: '31700125', source: 'webhook', version: 'a1b2c3' });
    expect(await acceptEvents(store.db, queue, [again])).toEqual({ stored: 0, duplicates: 1, jobIds: [] });
  });
});
