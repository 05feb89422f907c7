// Wave as the relay's accounting port, against the fake Wave listening on a port (every document validated
// against contract/wave/schema.graphql) and a real SQLite store: the side starts from a Full Access Token (or
// a seeded refresh token), and the use cases (invoice, payments through the reconciler) run on the Wave port
// with an in-memory Kommo. What a deal must end with: one customer, one product per kind of line, one invoice
// numbered after the deal, one email, its viewUrl on the deal — also when Wave's answers are lost.
import { afterEach, describe, expect, it } from 'vitest';
import { waveBackend } from '../../src/accounting/wave/index.js';
import { waveMappingSection } from '../../src/accounting/wave/mapping.js';
import { waveSettingsSchema } from '../../src/accounting/wave/settings.js';
import { createWaveSide } from '../../src/accounting/wave/side.js';
import { checkCapabilities } from '../../src/config/capabilities.js';
import { ConfigError } from '../../src/config/config-error.js';
import type { Env } from '../../src/config/env.js';
import type { Mapping } from '../../src/config/mapping.js';
import type { ResolvedMapping } from '../../src/config/resolve-mapping.js';
import { RelayError } from '../../src/errors.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createLogger } from '../../src/log.js';
import { SlidingWindowLimiter } from '../../src/net/rate-limiter.js';
import { TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import { DealWrites } from '../../src/store/deal-write-records.js';
import { CustomerLinks, DealInvoices } from '../../src/store/invoice-records.js';
import { KeyValue } from '../../src/store/kv.js';
import { DealNotes, InvoiceLinks } from '../../src/store/payment-records.js';
import { DealRecurringProfiles } from '../../src/store/recurring-records.js';
import { BillingParty } from '../../src/sync/billing-party.js';
import { NoteOnce } from '../../src/sync/deal-notes.js';
import { DealWriter } from '../../src/sync/deal-writer.js';
import { InvoiceForDeal } from '../../src/sync/invoice-for-deal.js';
import { InvoiceOwners } from '../../src/sync/invoice-owner.js';
import { PaymentToDeal } from '../../src/sync/payment-to-deal.js';
import type { AccountingReference } from '../../src/sync/ports.js';
import { Reconciler } from '../../src/sync/reconciler.js';
import { resolveTaxRules } from '../../src/sync/tax-rules.js';
import { createFakeWave, type FakeWave, type FakeWaveOptions } from '../../sandbox/wave/server.js';
import { MemoryCrm, sampleDeal, samplePerson } from '../support/doubles.js';
import { tempStore } from '../support/tmp.js';

const KEY = Buffer.from('a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01', 'hex');
const log = createLogger({ level: 'silent' });
const DEAL = 31700125;
const COUNTRY_FIELD = { id: 700, name: 'Country', type: 'text' };
const CURRENCY_FIELD = { id: 800, name: 'Currency', type: 'text' };
const TAX: Mapping['tax'] = { countryFrom: [], rules: { GB: { tax: 'VAT 20%' }, CA: { tax: 'GST' }, US: 'none', '*': { percentage: 20 } } };
const stage = (statusId: number, label: string) => ({ pipelineId: 7710021, statusId, label });

const mapping = (o: Partial<ResolvedMapping> = {}): ResolvedMapping => ({
  invoiceStages: [stage(61234570, 'Invoice')],
  payment: { stages: [stage(142, 'Paid')] },
  lines: { sources: ['products', 'fields', 'deal'], products: {}, whenTotalDiffers: 'record' },
  currency: { field: CURRENCY_FIELD },
  paymentTerms: { defaultDays: 14 },
  tax: { countryFrom: [{ entity: 'contact', field: COUNTRY_FIELD }], rules: TAX.rules },
  sendInvoice: true,
  dealFields: { invoiceId: { id: 900, name: 'Invoice ID', type: 'text' }, invoiceUrl: { id: 901, name: 'Invoice URL', type: 'url' } },
  ...o,
});

const cleanups: Array<() => Promise<void>> = [];
let fakes: FakeWave[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  // Every test ends with the fake having seen nothing outside the contract.
  for (const f of fakes) expect(f.violations).toEqual([]);
  for (const f of fakes) await f.close();
  fakes = [];
});

async function startWave(opts: FakeWaveOptions = {}): Promise<{ fake: FakeWave; base: string }> {
  const fake = createFakeWave(opts);
  fakes.push(fake);
  return { fake, base: await fake.listen() };
}

interface Options {
  fake?: FakeWaveOptions;
  section?: Record<string, unknown>;
  mapping?: Partial<ResolvedMapping>;
  settings?: (fake: FakeWave) => Record<string, string>;
  /** OAuth from a seeded refresh token instead of the Full Access Token. */
  oauth?: boolean;
}

async function world(o: Options = {}) {
  const { fake, base } = await startWave(o.fake);
  const store = await tempStore();
  cleanups.push(() => store.cleanup());
  const connections = new Connections(store.db, new TokenCipher(KEY));
  const auth = o.oauth
    ? { WAVE_CLIENT_ID: fake.clientId, WAVE_CLIENT_SECRET: fake.clientSecret, WAVE_REFRESH_TOKEN: fake.refreshToken }
    : { WAVE_ACCESS_TOKEN: fake.fullAccessToken };
  const settings = waveSettingsSchema.parse({ ...auth, WAVE_API_URL: base, ...o.settings?.(fake) });
  const kv = new KeyValue(store.db);
  const makeSide = () => createWaveSide({ settings, env: { HTTP_TIMEOUT_MS: 2000 } as Env, connections, log, kv, limiter: (spec) => new SlidingWindowLimiter(spec.limit, spec.windowMs) });
  const side = makeSide();
  await side.start();
  const m = mapping(o.mapping);
  const section = waveMappingSection.parse(o.section ?? {});
  const port = side.port({ section, sendInvoice: m.sendInvoice, ...(m.numberTemplate ? { numberTemplate: m.numberTemplate } : {}) });

  const crm = new MemoryCrm();
  crm.deals.set(DEAL, sampleDeal({ fields: new Map([[CURRENCY_FIELD.id, ['USD']]]) }));
  crm.people.set(501, samplePerson({ fields: new Map([[COUNTRY_FIELD.id, ['United Kingdom']]]) }));
  let reference: AccountingReference | undefined;
  const settingsOf = { get: async () => ((reference ??= await port.reference({ exemptions: false })), { system: 'Wave', reference, taxRules: resolveTaxRules(TAX, reference, 'Wave') }) };
  const party = new BillingParty({ crm, accounting: port, customers: new CustomerLinks(store.db), mapping: m, settings: settingsOf, customerClaimStaleMs: 60_000 });
  const writer = new DealWriter(crm, new DealWrites(store.db));
  const owners = new InvoiceOwners(store.db);
  const invoices = new DealInvoices(store.db);
  const links = new InvoiceLinks(store.db);
  const invoiceForDeal = new InvoiceForDeal({ crm, accounting: port, invoices, party, writer, mapping: m });
  const paymentToDeal = new PaymentToDeal({ crm, accounting: port, links, owners, notes: new NoteOnce(crm, new DealNotes(store.db)), writer, mapping: m });
  const queue = new JobQueue(store.db, { maxAttempts: 3, leaseMs: 30_000, backoffBaseMs: 1000, backoffMaxMs: 60_000 });
  const reconciler = new Reconciler({ db: store.db, queue, crm, accounting: port, invoices, links, profiles: new DealRecurringProfiles(store.db), owners, kv, mapping: m, log });
  let jobId = 0;
  const ctx = () => ({ jobId: ++jobId, log });
  const state = () => fake.snapshot() as { customers: any[]; products: any[]; invoices: any[]; emails: any[]; payments: any[]; lostAnswers: any[] };
  return {
    fake,
    store,
    connections,
    side,
    makeSide,
    port,
    crm,
    state,
    invoice: (dealId = DEAL) => invoiceForDeal.run(dealId, ctx()),
    payment: (invoiceId: string) => paymentToDeal.run(invoiceId, ctx()),
    /** A reconciler sweep, then every payment job it queued run through the use case. */
    sweep: async () => {
      const result = await reconciler.sweep();
      expect(result.errors).toEqual([]);
      const jobs = await store.db.selectFrom('jobs').select(['id', 'kind', 'payload', 'state']).where('kind', '=', 'payment_to_deal').where('state', '=', 'queued').execute();
      const outcomes = [];
      for (const j of jobs) {
        outcomes.push(await paymentToDeal.run((JSON.parse(j.payload) as { invoiceId: string }).invoiceId, ctx()));
        await store.db.updateTable('jobs').set({ state: 'done' }).where('id', '=', j.id).execute();
      }
      return { result, outcomes };
    },
    field: (fieldId: number, dealId = DEAL) => crm.fieldWrites.filter((w) => w.dealId === dealId).flatMap((w) => w.values).filter((v) => v.fieldId === fieldId).at(-1)?.value,
  };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('Wave port through the use cases (fake Wave on a port)', () => {
  it('new customer: found by nobody, created with its country; one product for the deal amount; VAT by country; approved and sent once; viewUrl on the deal', async () => {
    const w = await world();
    const out = await w.invoice();
    expect(out).toMatchObject({ outcome: 'invoiced', invoiceNumber: `KOMMO-${DEAL}` });
    const s = w.state();
    expect(s.customers).toHaveLength(1);
    expect(s.customers[0]).toMatchObject({ name: 'Schmidt GmbH', email: 'anna.schmidt@example.de', phone: '+49 30 1234567', currency: 'USD', address: { countryCode: 'GB' } });
    expect(s.products).toHaveLength(1);
    expect(s.products[0]).toMatchObject({ name: 'Kommo deal', unitPrice: '0.00', incomeAccountId: w.fake.accountId('Sales') });
    expect(s.invoices).toHaveLength(1);
    const inv = s.invoices[0];
    expect(inv).toMatchObject({ invoiceNumber: `KOMMO-${DEAL}`, currency: 'USD', total: '5760.00', status: 'SENT' });
    expect(inv.items).toEqual([{ productId: s.products[0].id, description: 'Аудит сайта + SEO', quantity: '1', unitPrice: '4800.00', salesTaxIds: [w.fake.salesTaxId('VAT 20%')] }]);
    // Due date from the payment terms (14 days after the invoice date).
    expect(Date.parse(inv.dueDate) - Date.parse(inv.invoiceDate)).toBe(14 * 86_400_000);
    expect(s.emails).toHaveLength(1);
    expect(s.emails[0]).toMatchObject({ to: ['anna.schmidt@example.de'], attachPDF: true });
    expect(w.field(900)).toBe(inv.id);
    expect(String(w.field(901))).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.+/);
    // Running again changes nothing.
    expect(await w.invoice()).toMatchObject({ outcome: 'already_invoiced' });
    expect(w.state().emails).toHaveLength(1);
  });

  it('repeat customer found by email compared without case and spaces (Wave also lists a near miss); the product is created once and remembered across deals and restarts', async () => {
    const w = await world();
    w.fake.addCustomer({ name: 'Someone else', email: 'anna.schmidt@example.de.other' });
    const existing = w.fake.addCustomer({ name: 'Schmidt GmbH', email: ' ANNA.Schmidt@example.de ' });
    // Wave's filter lists the near miss and the match; the relay takes the match.
    await w.invoice();
    w.crm.deals.set(DEAL + 1, sampleDeal({ id: DEAL + 1, name: 'Second deal', price: 100, fields: new Map([[CURRENCY_FIELD.id, ['USD']]]) }));
    await w.invoice(DEAL + 1);
    const s = w.state();
    expect(s.customers).toHaveLength(2);
    expect(s.invoices.map((i) => i.customerId)).toEqual([existing, existing]);
    expect(s.products).toHaveLength(1);
    expect(s.invoices.map((i) => i.items[0].description)).toEqual(['Аудит сайта + SEO', 'Second deal']);
    // A new process (same store) remembers the product without asking Wave for the list.
    const again = w.makeSide();
    await again.start();
    const before = w.fake.requests.length;
    const line = { name: 'Third', rate: 1, quantity: 1 };
    expect((await again.parts.products.forLine(line, 'deal', 'unused')).productId).toBe(s.products[0].id);
    expect(w.fake.requests.length).toBe(before);
  });

  it("a customer Wave's email filter does not bring up among its first answers (a loose filter: 120 near misses first) is still found, not created again", async () => {
    const w = await world();
    for (let i = 0; i < 120; i++) w.fake.addCustomer({ name: `Near miss ${i}`, email: `x${i}anna.schmidt@example.de` });
    const existing = w.fake.addCustomer({ name: 'Schmidt GmbH', email: 'Anna.Schmidt@Example.de' });
    await w.invoice();
    expect(w.state().customers).toHaveLength(121);
    expect(w.state().invoices[0].customerId).toBe(existing);
  });

  it('Kommo products: one Wave product each, the one Wave already has (same name) used with its price, the other created once', async () => {
    const w = await world({ mapping: { lines: { sources: ['products', 'deal'], products: { priceFieldId: 50 }, whenTotalDiffers: 'record' } } });
    // "Audit" was made in Wave's UI at 100.00.
    const audit = await w.side.parts.client.createProduct({ name: 'Audit', unitPrice: '100.00', incomeAccountId: w.fake.accountId('Sales') });
    w.crm.deals.set(DEAL, sampleDeal({ price: 300, products: [{ id: 11, quantity: 2 }, { id: 12, quantity: 1 }], fields: new Map([[CURRENCY_FIELD.id, ['USD']]]) }));
    w.crm.dealProducts = async () => [
      { id: 11, name: ' audit ', quantity: 2, fields: new Map() },
      { id: 12, name: 'Hosting', quantity: 1, fields: new Map([[50, ['100']]]) },
    ];
    await w.invoice();
    w.crm.deals.set(DEAL + 1, sampleDeal({ id: DEAL + 1, price: 100, products: [{ id: 12, quantity: 1 }], fields: new Map([[CURRENCY_FIELD.id, ['USD']]]) }));
    w.crm.dealProducts = async () => [{ id: 12, name: 'Hosting', quantity: 1, fields: new Map([[50, ['100']]]) }];
    await w.invoice(DEAL + 1);
    const s = w.state();
    expect(s.products.map((p) => p.name).sort()).toEqual(['Audit', 'Hosting']);
    const hosting = s.products.find((p) => p.name === 'Hosting')!.id;
    expect(s.invoices[0].items.map((i: { productId: string; unitPrice: string; quantity: string }) => [i.productId, i.unitPrice, i.quantity])).toEqual([
      [audit.id, '100.00', '2'],
      [hosting, '100.00', '1'],
    ]);
    expect(s.invoices[1].items.map((i: { productId: string }) => i.productId)).toEqual([hosting]);
  });

  it('two deals of the same new Kommo product invoiced at the same moment: one Wave product', async () => {
    const w = await world({ mapping: { lines: { sources: ['products', 'deal'], products: { priceFieldId: 50 }, whenTotalDiffers: 'record' } } });
    const second = DEAL + 1;
    w.crm.deals.set(DEAL, sampleDeal({ price: 100, products: [{ id: 12, quantity: 1 }], fields: new Map([[CURRENCY_FIELD.id, ['USD']]]) }));
    w.crm.deals.set(second, sampleDeal({ id: second, price: 100, contacts: [{ id: 502, isMain: true }], products: [{ id: 12, quantity: 1 }], fields: new Map([[CURRENCY_FIELD.id, ['USD']]]) }));
    w.crm.people.set(502, samplePerson({ id: 502, emails: ['other@example.com'], companyName: 'Other Ltd', fields: new Map([[COUNTRY_FIELD.id, ['GB']]]) }));
    w.crm.dealProducts = async () => [{ id: 12, name: 'Hosting', quantity: 1, fields: new Map([[50, ['100']]]) }];
    await Promise.all([w.invoice(), w.invoice(second)]);
    const s = w.state();
    expect(s.products).toHaveLength(1);
    expect(s.invoices).toHaveLength(2);
    expect(new Set(s.invoices.map((i) => i.items[0].productId))).toEqual(new Set([s.products[0].id]));
  });

  it('a "none" tax rule sends taxes: [] (not the product defaults); another country gets its tax by abbreviation', async () => {
    const w = await world();
    w.crm.people.set(501, samplePerson({ fields: new Map([[COUNTRY_FIELD.id, ['US']]]) }));
    await w.invoice();
    expect(w.state().invoices[0].items[0].salesTaxIds).toEqual([]);
    expect(w.state().invoices[0].total).toBe('4800.00');

    const v = await world();
    v.crm.people.set(501, samplePerson({ fields: new Map([[COUNTRY_FIELD.id, ['Canada']]]) }));
    await v.invoice();
    expect(v.state().invoices[0].items[0].salesTaxIds).toEqual([v.fake.salesTaxId('GST 5%')]);
    expect(v.state().customers[0].address).toMatchObject({ countryCode: 'CA' });
  });

  it('a customer without a known country is created without an address', async () => {
    const w = await world({ mapping: { tax: { countryFrom: [], rules: { '*': 'none' } } } });
    await w.invoice();
    expect(w.state().customers[0].address).toBeNull();
  });

  it('another currency: the invoice in it with the mapping\'s rate; a currency without a rate is refused with a reason', async () => {
    const w = await world({ section: { exchangeRates: { EUR: 1.08 } } });
    w.crm.deals.set(DEAL, sampleDeal({ fields: new Map([[CURRENCY_FIELD.id, ['EUR']]]) }));
    await w.invoice();
    const inv = w.fake.state.invoices.get(w.state().invoices[0].id)!;
    expect(inv.currency).toBe('EUR');
    expect(String(inv.exchangeRate)).not.toBe('0');

    const v = await world();
    v.crm.deals.set(DEAL, sampleDeal({ fields: new Map([[CURRENCY_FIELD.id, ['EUR']]]) }));
    const err = await failure(v.invoice());
    expect(err).toMatchObject({ kind: 'permanent', code: 'currency_not_enabled' });
    expect(v.state().invoices).toHaveLength(0);
  });

  it('send off: a DRAFT, no email, still its link on the deal', async () => {
    const w = await world({ mapping: { sendInvoice: false } });
    await w.invoice();
    const s = w.state();
    expect(s.invoices[0].status).toBe('DRAFT');
    expect(s.emails).toHaveLength(0);
    expect(w.field(901)).toBeTruthy();
  });

  it('lost invoiceCreate answer: the next attempt finds the invoice by its number instead of creating another', async () => {
    const w = await world();
    w.fake.loseNextAnswers(1, { field: 'invoiceCreate' });
    const err = await failure(w.invoice());
    expect(err).toMatchObject({ kind: 'retryable', uncertain: true });
    expect(w.state().invoices).toHaveLength(1);
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    const s = w.state();
    expect(s.invoices).toHaveLength(1);
    expect(s.emails).toHaveLength(1);
    expect(s.lostAnswers).toHaveLength(1);
  });

  it("an invoice of the deal's number made by hand for another customer is not adopted after a lost answer", async () => {
    const w = await world({ fake: { rejectDuplicateInvoiceNumbers: false } });
    w.fake.loseNextAnswers(1, { field: 'customerCreate' });
    await failure(w.invoice());
    const stranger = w.fake.addCustomer({ name: 'Stranger', email: 'stranger@example.com' });
    const product = (await w.side.parts.client.createProduct({ name: 'Misc', unitPrice: '1.00', incomeAccountId: w.fake.accountId('Sales') })).id;
    const theirs = w.fake.addInvoice({ customerId: stranger, invoiceNumber: `KOMMO-${DEAL}`, items: [{ productId: product, quantity: '1', unitPrice: '1.00' }] });
    expect(await w.port.findDealInvoice(w.port.stamp(DEAL, 1), 'QnVzaW5lc3M6b3RoZXI=')).toBeUndefined();
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    expect(w.field(900)).not.toBe(theirs);
  });

  it('lost customerCreate and productCreate answers: found again (by email, by name), never made twice', async () => {
    const w = await world();
    w.fake.loseNextAnswers(1, { field: 'customerCreate' });
    await failure(w.invoice());
    w.fake.loseNextAnswers(1, { field: 'productCreate' });
    await failure(w.invoice());
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    const s = w.state();
    expect(s.lostAnswers).toHaveLength(2);
    expect([s.customers.length, s.products.length, s.invoices.length, s.emails.length]).toEqual([1, 1, 1, 1]);
  });

  it('lost invoiceSend answer: the email is not sent twice (lastSentAt read back)', async () => {
    const w = await world();
    w.fake.loseNextAnswers(1, { field: 'invoiceSend' });
    const err = await failure(w.invoice());
    expect(err).toMatchObject({ kind: 'retryable', uncertain: true });
    expect(w.state().emails).toHaveLength(1);
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    expect(w.state().emails).toHaveLength(1);
  });

  it('lost invoiceApprove answer: adopted by number, approved if needed, sent once', async () => {
    const w = await world();
    w.fake.loseNextAnswers(1, { field: 'invoiceApprove' });
    await failure(w.invoice());
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    expect(w.state().invoices).toHaveLength(1);
    expect(w.state().emails).toHaveLength(1);
  });

  it("didSucceed: false is a permanent refusal carrying Wave's message (neutral accounting_rejected), and nothing is invoiced", async () => {
    const w = await world();
    // A credit (negative amount): Wave refuses an invoice whose total is negative.
    w.crm.deals.set(DEAL, sampleDeal({ price: -100, fields: new Map([[CURRENCY_FIELD.id, ['USD']]]) }));
    const err = await failure(w.invoice());
    expect(err).toMatchObject({ kind: 'permanent', code: 'accounting_rejected' });
    expect(err.message).toMatch(/^Wave refused InvoiceCreate: .*The invoice total cannot be negative\. \(input\.items\)\.$/);
    expect(w.state().invoices).toHaveLength(0);
  });

  it('internal errors and 429 are retried (queries), and nothing is made twice', async () => {
    const w = await world();
    w.fake.internalErrorNext(1, { field: 'business' });
    w.fake.rateLimitBurst(2, 1);
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    expect(w.state().invoices).toHaveLength(1);
  });

  it('payments: partial then full, found by the reconciler polling invoices modified since its cursor', async () => {
    const w = await world();
    await w.invoice();
    const id = w.state().invoices[0].id;
    expect((await w.sweep()).outcomes).toEqual([]);
    w.fake.advanceTime(2000);
    w.fake.payInvoice(id, { amount: '1000.00' });
    const first = await w.sweep();
    expect(first.result.paymentJobs).toBe(1);
    expect(first.outcomes[0]).toMatchObject({ outcome: 'noted', notesAdded: 1, paid: false, moved: false });
    // Nothing new: no job.
    expect((await w.sweep()).result.paymentJobs).toBe(0);
    w.fake.advanceTime(2000);
    w.fake.payInvoice(id, { amount: '4760.00' });
    const second = await w.sweep();
    expect(second.outcomes[0]).toMatchObject({ notesAdded: 1, paid: true, moved: true });
    expect(w.crm.moves.at(-1)).toMatchObject({ dealId: DEAL, statusId: 142 });
    expect(w.crm.notes.filter((n) => n.dealId === DEAL)).toHaveLength(2);
  });

  it('changed invoices: ours carry their deal (from the number), a stranger\'s none; the cursor is the newest modifiedAt', async () => {
    const w = await world();
    const customer = w.fake.addCustomer({ name: 'Walk-in', email: 'walkin@example.com' });
    await w.invoice();
    const stranger = w.fake.addInvoice({ customerId: customer, invoiceNumber: 'PO-7', status: 'SAVED', items: [{ productId: w.state().products[0].id, unitPrice: '5.00', quantity: '1' }] });
    const page = await w.port.changedInvoices(undefined, 1, 3600_000);
    expect(page.invoices.map((i) => i.invoiceId).sort()).toEqual([w.state().invoices[0].id, stranger].sort());
    expect(page.invoices.find((i) => i.invoiceId === stranger)?.stamped).toBeUndefined();
    expect(page.invoices.find((i) => i.invoiceId !== stranger)?.stamped).toEqual({ dealId: String(DEAL), retainer: false });
    expect(Date.parse(page.next)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe("Wave numbering by the mapping's invoice.number.template", () => {
  it('the number is the mapping\'s and the stamp: a lost create is found by it, and invoices of either template carry their deal', async () => {
    const w = await world({ mapping: { numberTemplate: 'INV-{deal_id}' } });
    const old = w.fake.addCustomer({ name: 'Earlier', email: 'earlier@example.com' });
    w.fake.loseNextAnswers(1, { field: 'invoiceCreate' });
    expect(await failure(w.invoice())).toMatchObject({ kind: 'retryable', uncertain: true });
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced', invoiceNumber: `INV-${DEAL}` });
    const s = w.state();
    expect(s.invoices.map((i) => i.invoiceNumber)).toEqual([`INV-${DEAL}`]);
    expect(s.emails).toHaveLength(1);
    expect(w.port.stamp(DEAL, 2).key).toBe(`INV-${DEAL}-2`);
    // An invoice the relay numbered by wave.invoiceNumberTemplate before the mapping changed is still the deal's.
    const before = w.fake.addInvoice({ customerId: old, invoiceNumber: 'KOMMO-777', status: 'SAVED', items: [{ productId: s.products[0].id, unitPrice: '5.00', quantity: '1' }] });
    const page = await w.port.changedInvoices(undefined, 1, 3600_000);
    expect(page.invoices.find((i) => i.invoiceId === before)?.stamped).toEqual({ dealId: '777', retainer: false });
    expect(page.invoices.find((i) => i.invoiceId !== before)?.stamped).toEqual({ dealId: String(DEAL), retainer: false });
  });

  it('a number another invoice already has is invoice_number_taken (permanent, with what to do), looked up before the create', async () => {
    const w = await world({ mapping: { numberTemplate: 'INV-{deal_id}' }, fake: { rejectDuplicateInvoiceNumbers: false } });
    const stranger = w.fake.addCustomer({ name: 'Stranger', email: 'stranger@example.com' });
    const product = (await w.side.parts.client.createProduct({ name: 'Misc', unitPrice: '1.00', incomeAccountId: w.fake.accountId('Sales') })).id;
    w.fake.addInvoice({ customerId: stranger, invoiceNumber: `INV-${DEAL}`, items: [{ productId: product, quantity: '1', unitPrice: '1.00' }] });
    const err = await failure(w.invoice());
    expect(err).toMatchObject({ kind: 'permanent', code: 'invoice_number_taken' });
    expect(err.message).toBe(
      `Invoice not created: the invoice number INV-${DEAL} is already used in Wave. Remove or renumber that invoice, or change invoice.number.template, then move the deal into the invoicing stage again.`,
    );
    expect(w.state().invoices).toHaveLength(1);
    expect(w.state().emails).toHaveLength(0);
  });

  it('without invoice.number.template the stamp stays wave.invoiceNumberTemplate', async () => {
    const w = await world({ section: { invoiceNumberTemplate: 'DEAL-{deal_id}' } });
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced', invoiceNumber: `DEAL-${DEAL}` });
  });
});

describe('Wave start-up checks', () => {
  it('classic invoicing stops start-up with a clear message', async () => {
    const w = await world({ fake: { businesses: [{ isClassicInvoicing: true }] } });
    const err = await failure(w.port.reference({ exemptions: false }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.join(' ')).toMatch(/classic invoicing/);
  });

  it('email sending disabled stops start-up when the mapping sends, not when it does not', async () => {
    const w = await world({ fake: { businesses: [{ emailSendEnabled: false }] } });
    const err = await failure(w.port.reference({ exemptions: false }));
    expect((err as ConfigError).problems.join(' ')).toMatch(/cannot email invoices \(emailSendEnabled is false\).*invoice\.send to false/);
    const v = await world({ fake: { businesses: [{ emailSendEnabled: false }] }, mapping: { sendInvoice: false } });
    await expect(v.port.reference({ exemptions: false })).resolves.toMatchObject({ baseCurrency: 'USD' });
  });

  it('the income account is resolved by name or ID among income accounts a product may sell to; a wrong one is named with the choices', async () => {
    const w = await world({ section: { incomeAccount: 'Uncategorized Income' } });
    const err = await failure(w.port.reference({ exemptions: false }));
    expect((err as ConfigError).problems.join(' ')).toMatch(/wave\.incomeAccount: no income account named or with the ID 'Uncategorized Income'.*Income accounts: 'Sales', 'Discounts'$/);
    const v = await world({ fake: { businesses: [{ accounts: [{ name: 'Consulting', type: 'INCOME', subtype: 'INCOME' }] }] }, section: { incomeAccount: ' consulting ' } });
    await v.port.reference({ exemptions: false });
    await v.invoice();
    expect(v.state().products[0].incomeAccountId).toBe(v.fake.accountId('Consulting'));
    // By its ID, in the same business; another business's ID is not one of this business's accounts.
    const id = v.fake.accountId('Consulting');
    await expect(v.side.port({ section: waveMappingSection.parse({ incomeAccount: id }), sendInvoice: true }).reference({ exemptions: false })).resolves.toMatchObject({ baseCurrency: 'USD' });
    const other = await world({ section: { incomeAccount: id } });
    await expect(other.port.reference({ exemptions: false })).rejects.toBeInstanceOf(ConfigError);
  });

  it('a retainer section on Wave is refused at start-up, naming Wave\'s lack of recurring invoices', () => {
    const problems = checkCapabilities(waveBackend, { retainer: { frequency: 'months', every: 1 }, dealFields: { invoiceUrl: 1 } });
    expect(problems).toEqual([expect.stringMatching(/^retainer: Wave has no recurring invoices/)]);
  });

  it('taxes are percentages by name or abbreviation; products are items', async () => {
    const w = await world();
    const ref = await w.port.reference({ exemptions: false });
    expect(ref.taxes).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'VAT 20%', percentage: 20, code: 'VAT' }), expect.objectContaining({ name: 'GST 5%', percentage: 5, code: 'GST' })]));
    expect(ref.currencies).toEqual([{ id: 'USD', code: 'USD', precision: 2, exchangeRate: 1, isBase: true }]);
  });
});
