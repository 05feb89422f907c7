// Wave's side of issue 18 against the fake Wave on a port (every document validated against
// contract/wave/schema.graphql, the fake's violations checked after each test) and a real SQLite store:
// review before sending (invoicePatch, invoiceApprove, a person's approval / send / edit in Wave seen through
// the reconciler's polling), lost deals (Wave has no void: an unpaid invoice is deleted, a paid one never) and
// pay online (disableCreditCardPayments / disableBankPayments on the invoice; the offer in the reference).
import { afterEach, describe, expect, it } from 'vitest';
import { waveBackend } from '../../src/accounting/wave/index.js';
import { waveMappingSection } from '../../src/accounting/wave/mapping.js';
import { waveSettingsSchema } from '../../src/accounting/wave/settings.js';
import { createWaveSide } from '../../src/accounting/wave/side.js';
import { checkCapabilities } from '../../src/config/capabilities.js';
import type { Env } from '../../src/config/env.js';
import type { ResolvedMapping } from '../../src/config/resolve-mapping.js';
import { KOMMO_LOST_STATUS } from '../../src/config/resolve-mapping.js';
import { REVIEW_JOB } from '../../src/intake/triggers.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createLogger } from '../../src/log.js';
import { SlidingWindowLimiter } from '../../src/net/rate-limiter.js';
import { TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import { DealWrites } from '../../src/store/deal-write-records.js';
import { CustomerLinks, DealInvoices } from '../../src/store/invoice-records.js';
import { KeyValue } from '../../src/store/kv.js';
import { DealLostRecords } from '../../src/store/lost-records.js';
import { DealNotes, InvoiceLinks } from '../../src/store/payment-records.js';
import { DealRecurringProfiles } from '../../src/store/recurring-records.js';
import { BillingParty } from '../../src/sync/billing-party.js';
import { NoteOnce } from '../../src/sync/deal-notes.js';
import { DealWriter } from '../../src/sync/deal-writer.js';
import { InvoiceForDeal } from '../../src/sync/invoice-for-deal.js';
import { InvoiceOwners } from '../../src/sync/invoice-owner.js';
import { InvoiceReview } from '../../src/sync/invoice-review.js';
import { LostDeal } from '../../src/sync/lost-deal.js';
import { PaymentToDeal } from '../../src/sync/payment-to-deal.js';
import type { AccountingReference, InvoiceDraft } from '../../src/sync/ports.js';
import { Reconciler } from '../../src/sync/reconciler.js';
import { RetainerForDeal } from '../../src/sync/retainer-for-deal.js';
import { resolveTaxRules } from '../../src/sync/tax-rules.js';
import { createFakeWave, type FakeWave, type FakeWaveOptions } from '../../sandbox/wave/server.js';
import { MemoryCrm, sampleDeal, samplePerson } from '../support/doubles.js';
import { tempStore } from '../support/tmp.js';

const KEY = Buffer.from('a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01', 'hex');
const log = createLogger({ level: 'silent' });
const DEAL = 31700125;
const PIPELINE = 7710021;
const COUNTRY_FIELD = { id: 700, name: 'Country', type: 'text' };
const CURRENCY_FIELD = { id: 800, name: 'Currency', type: 'text' };
const stage = (statusId: number, label: string) => ({ pipelineId: PIPELINE, statusId, label });
const APPROVAL = stage(61234571, 'Approved');

const mapping = (o: Partial<ResolvedMapping> = {}): ResolvedMapping => ({
  invoiceStages: [stage(61234570, 'Invoice')],
  payment: { stages: [stage(142, 'Paid')] },
  lines: { sources: ['deal'], products: {}, whenTotalDiffers: 'record' },
  currency: { field: CURRENCY_FIELD },
  paymentTerms: { defaultDays: 14 },
  tax: { countryFrom: [{ entity: 'contact', field: COUNTRY_FIELD }], rules: { '*': 'none' } },
  sendInvoice: true,
  dealFields: { invoiceId: { id: 900, name: 'Invoice ID', type: 'text' }, invoiceUrl: { id: 901, name: 'Invoice URL', type: 'url' } },
  ...o,
});

const cleanups: Array<() => Promise<void>> = [];
let fakes: FakeWave[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const f of fakes) expect(f.violations).toEqual([]);
  for (const f of fakes) await f.close();
  fakes = [];
});

async function world(o: { fake?: FakeWaveOptions; mapping?: Partial<ResolvedMapping> } = {}) {
  const fake = createFakeWave(o.fake);
  fakes.push(fake);
  const base = await fake.listen();
  const store = await tempStore();
  cleanups.push(() => store.cleanup());
  const connections = new Connections(store.db, new TokenCipher(KEY));
  const settings = waveSettingsSchema.parse({ WAVE_ACCESS_TOKEN: fake.fullAccessToken, WAVE_API_URL: base });
  const kv = new KeyValue(store.db);
  const side = createWaveSide({ settings, env: { HTTP_TIMEOUT_MS: 2000 } as Env, connections, log, kv, limiter: (spec) => new SlidingWindowLimiter(spec.limit, spec.windowMs) });
  await side.start();
  const m = mapping(o.mapping);
  const port = side.port({ section: waveMappingSection.parse({}), sendInvoice: m.sendInvoice });

  const crm = new MemoryCrm();
  crm.deals.set(DEAL, sampleDeal({ fields: new Map([[CURRENCY_FIELD.id, ['USD']]]) }));
  crm.people.set(501, samplePerson({ fields: new Map([[COUNTRY_FIELD.id, ['United Kingdom']]]) }));
  let reference: AccountingReference | undefined;
  const settingsOf = { get: async () => ((reference ??= await port.reference({ exemptions: false })), { system: 'Wave', reference, taxRules: resolveTaxRules({ countryFrom: [], rules: { '*': 'none' } }, reference, 'Wave') }) };
  const party = new BillingParty({ crm, accounting: port, customers: new CustomerLinks(store.db), mapping: m, settings: settingsOf, customerClaimStaleMs: 60_000 });
  const writer = new DealWriter(crm, new DealWrites(store.db));
  const owners = new InvoiceOwners(store.db);
  const invoices = new DealInvoices(store.db);
  const links = new InvoiceLinks(store.db);
  const notes = new NoteOnce(crm, new DealNotes(store.db));
  const profiles = new DealRecurringProfiles(store.db);
  const invoiceForDeal = new InvoiceForDeal({ crm, accounting: port, invoices, party, writer, mapping: m, notes });
  const review = new InvoiceReview({ crm, accounting: port, invoices, party, notes, writer, mapping: m });
  const retainer = new RetainerForDeal({ crm, accounting: port, profiles, party, mapping: m });
  const lost = new LostDeal({ crm, accounting: port, invoices, lost: new DealLostRecords(store.db), notes, retainer, mapping: m });
  const paymentToDeal = new PaymentToDeal({ crm, accounting: port, links, owners, notes, writer, mapping: m });
  const queue = new JobQueue(store.db, { maxAttempts: 3, leaseMs: 30_000, backoffBaseMs: 1000, backoffMaxMs: 60_000 });
  const reconciler = new Reconciler({ db: store.db, queue, crm, accounting: port, invoices, links, profiles, owners, kv, mapping: m, log });
  let jobId = 0;
  const ctx = () => ({ jobId: ++jobId, log });
  /** The jobs of a kind the reconciler queued, marked done (the test runs their use case itself). */
  const queued = async (kind: string) => {
    const jobs = await store.db.selectFrom('jobs').select(['id', 'payload']).where('kind', '=', kind).where('state', '=', 'queued').execute();
    for (const j of jobs) await store.db.updateTable('jobs').set({ state: 'done' }).where('id', '=', j.id).execute();
    return jobs.map((j) => JSON.parse(j.payload) as Record<string, unknown>);
  };
  const ops = (since = 0) => fake.requests.slice(since).map((r) => (r.body as { operationName?: string } | undefined)?.operationName);
  const invoiceId = () => String(crm.fieldWrites.flatMap((w) => w.values).find((v) => v.fieldId === 900)?.value);
  return {
    fake,
    port,
    crm,
    invoices,
    invoice: (dealId = DEAL) => invoiceForDeal.run(dealId, ctx()),
    review: (dealId = DEAL) => review.run(dealId, ctx()),
    lose: (dealId = DEAL) => {
      const deal = crm.deals.get(dealId)!;
      crm.deals.set(dealId, { ...deal, statusId: KOMMO_LOST_STATUS });
      return lost.run(dealId, ctx());
    },
    payment: (id: string) => paymentToDeal.run(id, ctx()),
    sweep: async () => {
      const result = await reconciler.sweep();
      expect(result.errors).toEqual([]);
      return result;
    },
    queued,
    ops,
    invoiceId,
    stored: (id: string) => fake.state.invoices.get(id),
    notes: () => crm.notes.filter((n) => n.dealId === DEAL).map((n) => n.text),
  };
}

const reviewing = { review: { approvalStages: [APPROVAL] } } satisfies Partial<ResolvedMapping>;

describe('Wave capabilities of issue 18', () => {
  it('review, onLost "void" and payOnline are no longer refused at start-up with ACCOUNTING=wave', () => {
    expect(waveBackend.capabilities).toMatchObject({ reviewDrafts: true, cancelInvoices: true, payOnline: true });
    expect(checkCapabilities(waveBackend, { dealFields: {}, invoice: { onLost: 'void', review: { approvalStages: [] } } })).toEqual([]);
  });
});

describe('Wave review before sending', () => {
  it('the draft waits unsent; a change of the deal rewrites it with invoicePatch (new version); a person\'s edit in Wave is kept, with a note', async () => {
    const w = await world({ mapping: reviewing });
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    const id = w.invoiceId();
    expect(w.stored(id)).toMatchObject({ baseStatus: 'DRAFT' });
    expect(w.fake.emails).toHaveLength(0);
    const first = await w.port.getInvoice(id);
    expect(first).toMatchObject({ status: 'draft', sent: false });

    // The deal's amount changes: the draft follows it.
    w.crm.deals.set(DEAL, { ...w.crm.deals.get(DEAL)!, price: 5000 });
    const before = w.fake.requests.length;
    expect(await w.review()).toMatchObject({ outcome: 'updated', invoiceId: id });
    expect(w.ops(before)).toContain('InvoicePatch');
    expect(w.fake.snapshot().invoices).toEqual([expect.objectContaining({ id, total: '5000.00', status: 'DRAFT' })]);
    const afterPatch = await w.port.getInvoice(id);
    expect(afterPatch.version).not.toBe(first.version);
    expect((await w.invoices.get(String(DEAL)))?.draft_version).toBe(afterPatch.version);
    // Nothing changed since: nothing is written.
    const quiet = w.fake.requests.length;
    expect(await w.review()).toMatchObject({ outcome: 'waiting' });
    expect(w.ops(quiet)).not.toContain('InvoicePatch');

    // A person edits the draft's lines in Wave: a new version; the next change of the deal leaves it alone.
    w.fake.editInvoice(id, [{ description: 'Audit, as agreed on the phone', unitPrice: 4200, quantity: 1 }]);
    expect((await w.port.getInvoice(id)).version).not.toBe(afterPatch.version);
    w.crm.deals.set(DEAL, { ...w.crm.deals.get(DEAL)!, price: 6000 });
    const edited = w.fake.requests.length;
    expect(await w.review()).toMatchObject({ outcome: 'kept_edit' });
    expect(w.ops(edited)).not.toContain('InvoicePatch');
    expect(w.fake.snapshot().invoices).toEqual([expect.objectContaining({ total: '4200.00', items: [expect.objectContaining({ description: 'Audit, as agreed on the phone' })] })]);
    expect(w.notes().at(-1)).toMatch(/was edited in Wave, so the relay did not overwrite it/);
    expect(w.fake.emails).toHaveLength(0);
  });

  it('a person approves the draft in Wave: the reconciler\'s sweep queues its review, which sends it once (approved already, not approved again)', async () => {
    const w = await world({ mapping: reviewing });
    await w.invoice();
    const id = w.invoiceId();
    await w.sweep();
    await w.queued(REVIEW_JOB);
    w.fake.advanceTime(2000);
    w.fake.approveInvoice(id);
    expect((await w.port.getInvoice(id)).status).toBe('open');
    await w.sweep();
    expect(await w.queued(REVIEW_JOB)).toEqual([{ dealId: DEAL }]);
    const before = w.fake.requests.length;
    expect(await w.review()).toMatchObject({ outcome: 'sent', invoiceId: id });
    expect(w.ops(before).filter((op) => op === 'InvoiceApprove')).toEqual([]);
    expect(w.ops(before).filter((op) => op === 'InvoiceSend')).toHaveLength(1);
    expect(w.fake.emails).toEqual([expect.objectContaining({ invoiceId: id, to: ['anna.schmidt@example.de'] })]);
    expect(w.notes().at(-1)).toBe(`Invoice KOMMO-${DEAL} approved (approval in Wave) and sent to the client.`);
    expect(await w.review()).toMatchObject({ outcome: 'skipped' });
    expect(w.fake.emails).toHaveLength(1);
  });

  it('a person sends the draft from Wave: seen by its lastSentAt, the relay sends nothing', async () => {
    const w = await world({ mapping: reviewing });
    await w.invoice();
    const id = w.invoiceId();
    await w.sweep();
    await w.queued(REVIEW_JOB);
    w.fake.advanceTime(2000);
    w.fake.sendInvoice(id, ['accounts@schmidt.example']);
    await w.sweep();
    expect(await w.queued(REVIEW_JOB)).toEqual([{ dealId: DEAL }]);
    expect(await w.port.getInvoice(id)).toMatchObject({ status: 'open', sent: true });
    expect(await w.review()).toMatchObject({ outcome: 'sent_by_person' });
    expect(w.fake.emails).toEqual([expect.objectContaining({ to: ['accounts@schmidt.example'] })]);
    expect(w.notes().at(-1)).toBe(`Invoice KOMMO-${DEAL} was sent from Wave.`);
  });

  it('the deal enters the approval stage: invoiceApprove (DRAFT → SAVED) then invoiceSend, once, also when the approve answer is lost', async () => {
    const w = await world({ mapping: reviewing });
    await w.invoice();
    const id = w.invoiceId();
    w.crm.deals.set(DEAL, { ...w.crm.deals.get(DEAL)!, statusId: APPROVAL.statusId });
    w.fake.loseNextAnswers(1, { field: 'invoiceApprove' });
    await expect(w.review()).rejects.toMatchObject({ kind: 'retryable', uncertain: true });
    expect(w.stored(id)).toMatchObject({ baseStatus: 'SAVED' });
    expect(await w.review()).toMatchObject({ outcome: 'sent' });
    expect(w.fake.emails).toHaveLength(1);
    expect(w.ops().filter((op) => op === 'InvoiceApprove')).toHaveLength(1);
    expect(w.stored(id)).toMatchObject({ baseStatus: 'SENT' });
  });

  it('invoice.send false: approved in Wave, not emailed; approving one already approved is no error and writes nothing', async () => {
    const w = await world({ mapping: { ...reviewing, sendInvoice: false } });
    await w.invoice();
    const id = w.invoiceId();
    w.crm.deals.set(DEAL, { ...w.crm.deals.get(DEAL)!, statusId: APPROVAL.statusId });
    expect(await w.review()).toMatchObject({ outcome: 'approved' });
    expect(w.stored(id)).toMatchObject({ baseStatus: 'SAVED' });
    expect(w.fake.emails).toHaveLength(0);
    const before = w.fake.requests.length;
    expect(await w.port.approveInvoice!(id, { thenEmail: false })).toMatchObject({ id, status: 'open', sent: false });
    expect(w.ops(before)).toEqual(['Invoice']);
  });

  it('updateDraftInvoice: lines, currency and rate, due date from the terms, discount removed; an invoice no longer a draft is not rewritten (retryable)', async () => {
    const w = await world({ mapping: reviewing });
    await w.invoice();
    const id = w.invoiceId();
    const draft = (o: Partial<InvoiceDraft> = {}): InvoiceDraft => ({
      customerId: w.stored(id)!.customerId,
      stamp: w.port.stamp(DEAL, 1),
      lines: [{ name: 'Audit', rate: 100, quantity: 3 }],
      lineSources: ['deal'],
      paymentTerms: 30,
      ...o,
    });
    await w.port.updateDraftInvoice!(id, draft({ discount: 50 }));
    expect(w.fake.snapshot().invoices).toEqual([expect.objectContaining({ total: '250.00', invoiceNumber: `KOMMO-${DEAL}` })]);
    const { version } = await w.port.updateDraftInvoice!(id, draft());
    const stored = w.stored(id)!;
    expect(w.fake.snapshot().invoices).toEqual([expect.objectContaining({ total: '300.00' })]);
    expect(Date.parse(stored.dueDate) - Date.parse(stored.invoiceDate)).toBe(30 * 86_400_000);
    expect((await w.port.getInvoice(id)).version).toBe(version);
    w.fake.approveInvoice(id);
    await expect(w.port.updateDraftInvoice!(id, draft())).rejects.toMatchObject({ kind: 'retryable', code: 'wave_not_draft' });
    expect(w.fake.snapshot().invoices).toEqual([expect.objectContaining({ total: '300.00', status: 'SAVED' })]);
  });
});

describe('Wave lost deals (invoice.onLost "void": Wave has no void, an unpaid invoice is deleted)', () => {
  const lostVoid = { onLost: { action: 'void' as const, stages: [stage(KOMMO_LOST_STATUS, 'Closed - lost')] } };

  it('a draft is deleted with invoiceDelete; deleting it again is no error', async () => {
    const w = await world({ mapping: { ...lostVoid, sendInvoice: false } });
    await w.invoice();
    const id = w.invoiceId();
    expect(await w.lose()).toMatchObject({ outcome: 'deleted', invoiceId: id });
    expect(w.stored(id)).toBeUndefined();
    expect(w.ops()).toContain('InvoiceDelete');
    const before = w.fake.requests.length;
    await w.port.deleteDraftInvoice!(id);
    await w.port.voidInvoice!(id);
    expect(w.ops(before).filter((op) => op === 'InvoiceDelete')).toEqual([]);
  });

  it('a sent invoice with nothing paid is deleted (the use case\'s "voided"); a lost invoiceDelete answer leaves it gone, and a second delete is no error', async () => {
    const w = await world({ mapping: lostVoid });
    await w.invoice();
    const id = w.invoiceId();
    expect(w.stored(id)).toMatchObject({ baseStatus: 'SENT' });
    expect(await w.lose()).toMatchObject({ outcome: 'voided', invoiceId: id });
    expect(w.stored(id)).toBeUndefined();

    const v = await world();
    await v.invoice();
    const other = v.invoiceId();
    v.fake.loseNextAnswers(1, { field: 'invoiceDelete' });
    await expect(v.port.voidInvoice!(other)).rejects.toMatchObject({ kind: 'retryable', uncertain: true });
    expect(v.stored(other)).toBeUndefined();
    await expect(v.port.voidInvoice!(other)).resolves.toBeUndefined();
  });

  it('a lost invoiceDelete answer on a lost deal: the retry reads the invoice as void (the relay remembers what it deleted) and tells the deal once', async () => {
    const w = await world({ mapping: lostVoid });
    await w.invoice();
    const id = w.invoiceId();
    w.fake.loseNextAnswers(1, { field: 'invoiceDelete' });
    await expect(w.lose()).rejects.toMatchObject({ kind: 'retryable', uncertain: true });
    expect(w.stored(id)).toBeUndefined();
    expect(await w.lose()).toMatchObject({ outcome: 'voided', invoiceId: id });
    expect(await w.port.getInvoice(id)).toMatchObject({ id, number: `KOMMO-${DEAL}`, status: 'void', total: 4800, balance: 0, currencyCode: 'USD' });
    expect(w.notes().filter((n) => n.startsWith('Deal lost'))).toHaveLength(1);
    expect(w.ops().filter((op) => op === 'InvoiceDelete')).toHaveLength(1);
  });

  it('an invoice with a payment is never deleted: the use case keeps a partly paid one, the port refuses with a reason', async () => {
    const w = await world({ mapping: lostVoid });
    await w.invoice();
    const id = w.invoiceId();
    w.fake.payInvoice(id, { amount: '1000.00' });
    expect(await w.lose()).toMatchObject({ outcome: 'kept_partly_paid' });
    expect(w.stored(id)).toBeDefined();
    const err = await w.port.voidInvoice!(id).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'permanent', code: 'wave_invoice_has_payments' });
    expect((err as Error).message).toMatch(/^Invoice KOMMO-31700125 has .*1,000\.00.* paid in Wave, so the relay did not delete it/);
    await expect(w.port.deleteDraftInvoice!(id)).rejects.toMatchObject({ code: 'wave_invoice_has_payments' });
    expect(w.ops().filter((op) => op === 'InvoiceDelete')).toEqual([]);
    expect(w.stored(id)).toBeDefined();
  });
});

describe('Wave pay online (card and bank payments, Wave Payments)', () => {
  it('the reference offers card and bank only when asked, with where to set them up and what the API cannot tell', async () => {
    const w = await world();
    expect((await w.port.reference({ exemptions: false })).payOnline).toBeUndefined();
    const ref = await w.port.reference({ exemptions: false, payOnline: true });
    expect(ref.payOnline).toEqual({
      available: [
        { id: 'card', name: 'card', detail: 'credit and debit cards' },
        { id: 'bank', name: 'bank', detail: 'bank payments (ACH)' },
      ],
      byDefault: ['card', 'bank'],
      setUp: 'Wave › Settings › Payments',
      unconfirmed: expect.stringMatching(/^Wave's API does not say whether the business has Wave Payments set up/),
    });
  });

  it('createInvoice with payOnline ["card"]: card on, bank off on the invoice (sent and read back); the customer pays by card, found by the sweep', async () => {
    const w = await world();
    const customer = w.fake.addCustomer({ name: 'Schmidt GmbH', email: 'anna.schmidt@example.de' });
    const before = w.fake.requests.length;
    const made = await w.port.createInvoice(
      { customerId: customer, stamp: w.port.stamp(DEAL, 1), lines: [{ name: 'Audit', rate: 500, quantity: 1 }], lineSources: ['deal'], payOnline: ['card'] },
      { send: true },
    );
    const create = w.fake.requests.slice(before).find((r) => (r.body as { operationName?: string }).operationName === 'InvoiceCreate')!;
    expect((create.body as { variables: { input: Record<string, unknown> } }).variables.input).toMatchObject({ disableCreditCardPayments: false, disableBankPayments: true });
    expect((create.body as { variables: { input: Record<string, unknown> } }).variables.input).not.toHaveProperty('disableAmexPayments');
    expect(w.stored(made.id)).toMatchObject({ disableCreditCardPayments: false, disableBankPayments: true, disableAmexPayments: false });
    expect(w.fake.onlinePayment(made.id)).toEqual(['card']);
    await w.sweep();
    w.fake.advanceTime(2000);
    const paymentId = w.fake.payOnline(made.id, 200);
    expect(w.fake.state.payments.get(paymentId)).toMatchObject({ paymentMethod: 'CREDIT_CARD', online: 'card' });
    expect(await w.port.getInvoice(made.id)).toMatchObject({ status: 'partially_paid', balance: 300 });
    const swept = await w.sweep();
    expect(swept.paymentJobs).toBe(1);
    expect(await w.port.invoicePayments(made.id)).toEqual([{ paymentId, amount: 200, date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) }]);
    w.fake.payOnline(made.id, 300);
    expect(await w.port.getInvoice(made.id)).toMatchObject({ status: 'paid', balance: 0 });
  });

  it('without payOnline nothing new is sent (the business\'s defaults); updateDraftInvoice switches the ways; a gateway refuses an invoice with both off', async () => {
    const w = await world({ mapping: { sendInvoice: false } });
    const before = w.fake.requests.length;
    await w.invoice();
    const id = w.invoiceId();
    for (const r of w.fake.requests.slice(before)) {
      const input = (r.body as { variables?: { input?: Record<string, unknown> } }).variables?.input ?? {};
      expect(Object.keys(input).filter((k) => k.startsWith('disable'))).toEqual([]);
    }
    expect(w.stored(id)).toMatchObject({ disableCreditCardPayments: false, disableBankPayments: false });
    const draft: InvoiceDraft = { customerId: w.stored(id)!.customerId, stamp: w.port.stamp(DEAL, 1), lines: [{ name: 'Audit', rate: 100, quantity: 1 }], lineSources: ['deal'], payOnline: ['bank'] };
    await w.port.updateDraftInvoice!(id, draft);
    expect(w.stored(id)).toMatchObject({ disableCreditCardPayments: true, disableBankPayments: false });
    // A draft cannot be paid online; approved, by bank payment only.
    expect(w.fake.onlinePayment(id)).toEqual([]);
    expect(() => w.fake.payOnline(id, 10)).toThrow(/draft/);
    await w.port.approveInvoice!(id, { thenEmail: false });
    expect(w.fake.onlinePayment(id)).toEqual(['bank']);
    // The business has not set up bank payments in Wave: nothing is payable online, whatever the invoice says.
    w.fake.setBusiness(w.fake.businessId, { payments: { bank: false } });
    expect(w.fake.onlinePayment(id)).toEqual([]);
    w.fake.setBusiness(w.fake.businessId, { payments: { bank: true } });
    // An invoice made with no way at all: a gateway refuses it.
    const none = await w.port.createInvoice({ ...draft, stamp: w.port.stamp(DEAL, 2), payOnline: [] }, { send: true });
    expect(w.stored(none.id)).toMatchObject({ disableCreditCardPayments: true, disableBankPayments: true });
    expect(() => w.fake.payOnline(none.id, 10)).toThrow(/cannot be paid online/);
    expect(w.fake.state.payments.size).toBe(0);
  });
});
