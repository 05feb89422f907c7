// The use case against in-memory ports and a real SQLite store: every step is interrupted once, before
// and after it takes effect, and the deal must still end with exactly one customer, invoice and email.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedMapping } from '../../src/config/resolve-mapping.js';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { CustomerLinks, DealInvoices } from '../../src/store/invoice-records.js';
import { BillingParty } from '../../src/sync/billing-party.js';
import { InvoiceForDeal } from '../../src/sync/invoice-for-deal.js';
import { DealWriter } from '../../src/sync/deal-writer.js';
import { DealWrites } from '../../src/store/deal-write-records.js';
import { MemoryAccounting, MemoryCrm, sampleDeal, samplePerson, sampleReference } from '../support/doubles.js';
import { tempStore } from '../support/tmp.js';

const mapping: ResolvedMapping = {
  invoiceStages: [{ pipelineId: 7710021, statusId: 61234570, label: 'Sales / Invoice' }],
  payment: { stages: [] },
  lines: { sources: ['products', 'fields', 'deal'], products: {}, whenTotalDiffers: 'record' },
  currency: {},
  paymentTerms: {},
  tax: { countryFrom: [], rules: {} },
  sendInvoice: true,
  dealFields: { invoiceId: { id: 900, name: 'Invoice ID', type: 'text' }, invoiceUrl: { id: 901, name: 'Invoice URL', type: 'url' } },
};
const log = createLogger({ level: 'silent' });

describe('invoice for deal', () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let crm: MemoryCrm;
  let accounting: MemoryAccounting;
  let useCase: InvoiceForDeal;
  let jobId = 0;
  const run = (dealId = 31700125) => useCase.run(dealId, { jobId: ++jobId, log });

  beforeEach(async () => {
    store = await tempStore();
    crm = new MemoryCrm();
    accounting = new MemoryAccounting();
    crm.deals.set(31700125, sampleDeal());
    crm.people.set(501, samplePerson());
    const party = new BillingParty({ crm, accounting, customers: new CustomerLinks(store.db), mapping, settings: { get: async () => ({ system: 'Zoho Books', reference: sampleReference(), taxRules: new Map() }) }, customerClaimStaleMs: 60_000 });
    useCase = new InvoiceForDeal({ crm, accounting, invoices: new DealInvoices(store.db), party, writer: new DealWriter(crm, new DealWrites(store.db)), mapping });
  });
  afterEach(async () => store.cleanup());

  function expectExactlyOnce() {
    expect(accounting.customers).toHaveLength(1);
    expect(accounting.invoices).toHaveLength(1);
    expect(accounting.emails).toHaveLength(1);
    const inv = accounting.invoices[0]!;
    const last = crm.fieldWrites.at(-1)!;
    expect(last.values).toEqual([
      { fieldId: 900, value: inv.id },
      { fieldId: 901, value: inv.url },
    ]);
  }

  it('new customer: search, create customer, create+send invoice, write back (3 accounting calls)', async () => {
    const out = await run();
    expect(out).toMatchObject({ outcome: 'invoiced' });
    expectExactlyOnce();
    expect(accounting.calls).toEqual({ findCustomerByEmail: 1, createCustomer: 1, createInvoice: 1 });
    const draft = accounting.invoices[0]!.draft;
    expect(draft).toMatchObject({ stamp: { key: 'KOMMO-31700125', dealId: 31700125 } });
    expect(draft.lines).toEqual([{ name: 'Аудит сайта + SEO', rate: 4800, quantity: 1 }]);
    expect(accounting.customers[0]!.input).toMatchObject({ name: 'Schmidt GmbH', email: 'anna.schmidt@example.de', firstName: 'Anna', lastName: 'Schmidt', phone: '+49 30 1234567' });
  });

  it('repeat customer (same Kommo contact, new deal): no search, no new customer, 1 accounting call', async () => {
    await run();
    crm.deals.set(31700200, sampleDeal({ id: 31700200, name: 'Second deal' }));
    const before = { ...accounting.calls };
    await run(31700200);
    expect(accounting.customers).toHaveLength(1);
    expect(accounting.calls.findCustomerByEmail).toBe(before.findCustomerByEmail);
    expect(accounting.calls.createInvoice).toBe(2);
    expect(accounting.totalCalls - Object.values(before).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('finds an existing Zoho customer by email, ignoring case and spaces', async () => {
    accounting.customers.push({ id: '9834000000000000001', name: 'Schmidt GmbH', email: 'anna.schmidt@example.de', input: { name: 'x', email: 'anna.schmidt@example.de' } });
    await run();
    expect(accounting.customers).toHaveLength(1);
    expect(accounting.invoices[0]!.customerId).toBe('9834000000000000001');
  });

  it('running again after success changes nothing', async () => {
    await run();
    const calls = accounting.totalCalls;
    expect(await run()).toMatchObject({ outcome: 'already_invoiced' });
    expect(accounting.totalCalls).toBe(calls);
    expectExactlyOnce();
  });

  it('a person clears the Invoice ID field and moves the deal in again: a second invoice, -2 reference, same customer', async () => {
    await run();
    crm.deals.get(31700125)!.fields.set(900, ['']);
    expect(await run()).toMatchObject({ outcome: 'invoiced' });
    expect(accounting.invoices.map((i) => i.draft.stamp.key)).toEqual(['KOMMO-31700125', 'KOMMO-31700125-2']);
    expect(accounting.customers).toHaveLength(1);
    expect(crm.fieldWrites.at(-1)!.values[0]).toEqual({ fieldId: 900, value: accounting.invoices[1]!.id });
    // Not cleared (our own write-back is there): nothing more.
    expect(await run()).toMatchObject({ outcome: 'already_invoiced' });
    expect(accounting.invoices).toHaveLength(2);
  });

  it('skips a deal that is no longer in the invoicing stage when first seen', async () => {
    crm.deals.set(31700125, sampleDeal({ statusId: 142 }));
    expect(await run()).toMatchObject({ outcome: 'skipped' });
    expect(accounting.totalCalls).toBe(0);
  });

  const steps = [
    ['findCustomer', 'before'],
    ['findCustomer', 'after'],
    ['createCustomer', 'before'],
    ['createCustomer', 'after'],
    ['createInvoice', 'before'],
    ['createInvoice', 'after'],
    ['emailInvoice', 'before'],
    ['writeDealFields', 'before'],
    ['writeDealFields', 'after'],
  ] as const;

  it.each(steps)('interrupted at %s (%s it takes effect) then retried: exactly one of everything', async (step, when) => {
    if (step === 'emailInvoice') draftOnCreate();
    accounting.faults.failOnce(step as never, when);
    crm.faults.failOnce(step as never, when);
    await expect(run()).rejects.toBeInstanceOf(RelayError);
    await run();
    if (step === 'emailInvoice') {
      // Not sent on create: the explicit email is the only one.
      expect(accounting.emails).toHaveLength(1);
      return;
    }
    expectExactlyOnce();
  });

  it('Kommo refuses the Invoice URL field: the ID is still written, the deal is not linked, the failure names the field; a retry writes only the rest', async () => {
    crm.refusedFields.add(901);
    const err = (await run().catch((e: unknown) => e)) as RelayError;
    const inv = accounting.invoices[0]!;
    expect(err).toMatchObject({ code: 'deal_write_refused', kind: 'permanent' });
    expect(err.message).toBe(
      `Invoice ${inv.number} was created in Zoho Books and emailed (${inv.url}), and the other fields were written. One write to deal 31700125 could not be made: invoice field 'Invoice URL' = "${inv.url}": Kommo rejected PATCH /leads (400 Bad Request; custom_fields_values.0.values.0.enum_id: The value you selected is not a valid choice.). Fix the field in Kommo (or the mapping, then restart the relay) and retry this job: writes already made are not repeated.`,
    );
    // One PATCH with both fields was refused; then each alone: the ID landed.
    expect(crm.fieldWrites.map((w) => w.values)).toEqual([[{ fieldId: 900, value: inv.id }]]);
    expect((await new DealInvoices(store.db).get('31700125'))!.state).toBe('created');
    const writes = await new DealWrites(store.db).forDeal('31700125');
    expect(writes.map((w) => [w.write_key, w.state, w.attempts])).toEqual([
      ['invoice_field:31700125:1:invoiceId', 'done', 1],
      ['invoice_field:31700125:1:invoiceUrl', 'refused', 1],
    ]);
    expect(writes[1]!.reason).toContain('The value you selected is not a valid choice.');

    // The deal's stage event comes again with nothing changed: the refusal stands, no PATCH.
    const sent: unknown[] = [];
    const write = crm.writeDealFields.bind(crm);
    crm.writeDealFields = async (dealId, values) => {
      sent.push(values);
      return write(dealId, values);
    };
    await expect(run()).rejects.toMatchObject({ code: 'deal_write_refused' });
    expect(sent).toEqual([]);

    // An operator's retry once Kommo takes it: the rest only.
    crm.refusedFields.clear();
    expect(await useCase.run(31700125, { jobId: ++jobId, log, retried: true })).toMatchObject({ outcome: 'invoiced', invoiceId: inv.id });
    expect(crm.fieldWrites.map((w) => w.values)).toEqual([[{ fieldId: 900, value: inv.id }], [{ fieldId: 901, value: inv.url }]]);
    expect(accounting.invoices).toHaveLength(1);
    expect(accounting.emails).toHaveLength(1);
    expect((await new DealInvoices(store.db).get('31700125'))!.state).toBe('linked');
  });

  it('an email whose answer was lost is not sent again when Zoho shows the invoice as sent', async () => {
    draftOnCreate();
    accounting.faults.failOnce('emailInvoice', 'after');
    await expect(run()).rejects.toBeInstanceOf(RelayError);
    await run();
    expect(accounting.emails).toHaveLength(1);
    expect(accounting.calls.getInvoice).toBe(1);
  });

  it('a create refused outright does not cost a lookup on the next attempt', async () => {
    accounting.faults.failOnce('createInvoice', 'before', new RelayError('retryable', 'zoho_rate_limited', '429'));
    await expect(run()).rejects.toThrow('429');
    await run();
    expect(accounting.calls.findDealInvoice).toBeUndefined();
    expectExactlyOnce();
  });

  it.each([
    ['deal_has_no_contact', () => crm.deals.set(31700125, sampleDeal({ contacts: [] })), 'the deal has no contact'],
    ['contact_missing_email', () => crm.people.set(501, samplePerson({ emails: [] })), 'has no email'],
    ['contact_invalid_email', () => crm.people.set(501, samplePerson({ emails: ['anna at example'] })), 'invalid email'],
    ['contact_not_found', () => crm.people.delete(501), 'no longer exists'],
    ['deal_not_found', () => crm.deals.delete(31700125), 'no longer exists in Kommo'],
  ])('bad input %s: permanent error that says what to fix, nothing created', async (code, breakIt, text) => {
    breakIt();
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect((err as RelayError).kind).toBe('permanent');
    expect((err as RelayError).code).toBe(code);
    expect((err as RelayError).message).toContain(text);
    expect(accounting.invoices).toHaveLength(0);
  });

  it('after the fix, running again creates the invoice', async () => {
    crm.people.set(501, samplePerson({ emails: [] }));
    await expect(run()).rejects.toThrow('has no email');
    crm.people.set(501, samplePerson());
    // The deal has moved on meanwhile? It was recorded as pending, so the invoice still follows.
    crm.deals.set(31700125, sampleDeal({ statusId: 61234599 }));
    expect(await run()).toMatchObject({ outcome: 'invoiced' });
    expectExactlyOnce();
  });

  it('two deals of one new client processed at once create one customer', async () => {
    crm.deals.set(31700300, sampleDeal({ id: 31700300, contacts: [{ id: 502, isMain: true }] }));
    crm.people.set(502, samplePerson({ id: 502 }));
    const results = await Promise.allSettled([run(), run(31700300)]);
    // One wins the claim; the other is told to come back in a moment.
    const retried = results.filter((r) => r.status === 'rejected');
    for (const r of retried) expect(((r as PromiseRejectedResult).reason as RelayError).code).toBe('customer_being_created');
    if (retried.length) await run(31700300);
    expect(accounting.customers).toHaveLength(1);
    expect(accounting.invoices).toHaveLength(2);
  });

  /** Zoho creates the invoice but does not send it (a draft comes back), so the explicit email path runs. */
  function draftOnCreate() {
    const create = accounting.createInvoice.bind(accounting);
    accounting.createInvoice = async (draft) => ({ ...(await create(draft, { send: false })), emailed: false });
  }
});
