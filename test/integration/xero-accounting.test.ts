// Xero as the relay's accounting port, against the fake Xero listening on a port (every request and answer
// checked against contract/xero) and a real SQLite store: the side starts from a seeded refresh token, and the
// use cases (invoice, payments, retainer) run on the Xero port with an in-memory Kommo. What a deal must end
// with: one contact (ContactNumber = the Kommo contact), one invoice stamped with the deal, one email, its
// online link on the deal — also when Xero's answers are lost.
import { afterEach, describe, expect, it } from 'vitest';
import { XeroAccounting } from '../../src/accounting/xero/accounting.js';
import { XeroClient } from '../../src/accounting/xero/client.js';
import { xeroMappingSection } from '../../src/accounting/xero/mapping.js';
import { xeroSettingsSchema } from '../../src/accounting/xero/settings.js';
import { createXeroSide } from '../../src/accounting/xero/side.js';
import { XeroStamps } from '../../src/accounting/xero/stamp.js';
import { ConfigError } from '../../src/config/config-error.js';
import type { Env } from '../../src/config/env.js';
import type { Mapping } from '../../src/config/mapping.js';
import type { ResolvedMapping, ResolvedRetainer } from '../../src/config/resolve-mapping.js';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { SlidingWindowLimiter } from '../../src/net/rate-limiter.js';
import { TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import { DealWrites } from '../../src/store/deal-write-records.js';
import { CustomerLinks, DealInvoices } from '../../src/store/invoice-records.js';
import { DealNotes, InvoiceLinks } from '../../src/store/payment-records.js';
import { DealRecurringProfiles } from '../../src/store/recurring-records.js';
import { BillingParty } from '../../src/sync/billing-party.js';
import { NoteOnce } from '../../src/sync/deal-notes.js';
import { DealWriter } from '../../src/sync/deal-writer.js';
import { InvoiceForDeal } from '../../src/sync/invoice-for-deal.js';
import { InvoiceOwners } from '../../src/sync/invoice-owner.js';
import { PaymentToDeal } from '../../src/sync/payment-to-deal.js';
import type { AccountingReference, InvoiceDraft } from '../../src/sync/ports.js';
import { RetainerForDeal } from '../../src/sync/retainer-for-deal.js';
import { resolveTaxRules } from '../../src/sync/tax-rules.js';
import type { FakeXero, FakeXeroOptions } from '../../sandbox/xero/server.js';
import { MemoryCrm, sampleDeal, samplePerson } from '../support/doubles.js';
import { tempStore } from '../support/tmp.js';
import { closeFakesAfterEach, startXero } from '../sandbox/xero-helpers.js';

closeFakesAfterEach();

const KEY = Buffer.from('a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01', 'hex');
const log = createLogger({ level: 'silent' });
const DEAL = 31700125;
const COUNTRY_FIELD = { id: 700, name: 'Country', type: 'text' };
const CURRENCY_FIELD = { id: 800, name: 'Currency', type: 'text' };
const FREQUENCY_FIELD = { id: 810, name: 'Billing', type: 'text' };
const TAX: Mapping['tax'] = { countryFrom: [], rules: { GB: { tax: '20% (VAT on Income)' }, DE: { tax: 'ZERORATEDOUTPUT' }, US: 'none', '*': { percentage: 5 } } };
const stage = (statusId: number, label: string) => ({ pipelineId: 7710021, statusId, label });

const retainer: ResolvedRetainer = {
  startStages: [stage(61234580, 'Retainer')],
  stopStages: [stage(61234581, 'Paused')],
  frequencyField: FREQUENCY_FIELD,
  frequency: 'years',
  every: 1,
  recurringIdField: { id: 902, name: 'Recurring ID', type: 'text' },
  nameTemplate: 'Kommo deal {deal_id}',
  moveOnPayment: false,
};

const mapping = (o: Partial<ResolvedMapping> = {}): ResolvedMapping => ({
  invoiceStages: [stage(61234570, 'Invoice')],
  payment: { stages: [stage(142, 'Paid')] },
  lines: { sources: ['products', 'fields', 'deal'], products: {}, whenTotalDiffers: 'record' },
  currency: { field: CURRENCY_FIELD },
  paymentTerms: { defaultDays: 14 },
  tax: { countryFrom: [{ entity: 'contact', field: COUNTRY_FIELD }], rules: TAX.rules },
  sendInvoice: true,
  dealFields: { invoiceId: { id: 900, name: 'Invoice ID', type: 'text' }, invoiceUrl: { id: 901, name: 'Invoice URL', type: 'url' } },
  retainer,
  ...o,
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Options {
  fake?: FakeXeroOptions;
  section?: Record<string, unknown>;
  /** The client's resends of a failed call (0: a lost answer ends the attempt, uncertain). */
  maxRetries?: number;
  mapping?: Partial<ResolvedMapping>;
  /** XERO_TENANT_ID, chosen among the fake's organisations. */
  tenant?: (fake: FakeXero) => string;
}

/** A Xero side started from the fake's refresh token, a port on a client with quick retries, and the use cases. */
async function world(o: Options = {}) {
  const { fake, base } = await startXero({ tenants: [{ name: 'Demo Company (UK)', currencies: ['EUR'] }], ...o.fake });
  const store = await tempStore();
  cleanups.push(() => store.cleanup());
  const connections = new Connections(store.db, new TokenCipher(KEY));
  const settings = xeroSettingsSchema.parse({ XERO_CLIENT_ID: fake.clientId, XERO_CLIENT_SECRET: fake.clientSecret, XERO_REFRESH_TOKEN: fake.refreshToken, XERO_API_URL: base, ...(o.tenant ? { XERO_TENANT_ID: o.tenant(fake) } : {}) });
  const side = createXeroSide({ settings, env: { HTTP_TIMEOUT_MS: 2000 } as Env, connections, log, limiter: (spec) => new SlidingWindowLimiter(spec.limit, spec.windowMs) });
  await side.start();
  const { tokens, connection } = side.parts;
  const client = new XeroClient({ tokens, tenantId: connection.tenantId, baseUrl: `${base}/api.xro/2.0`, timeoutMs: 2000, log, retryBaseMs: 5, maxRetries: o.maxRetries ?? 2 });
  const section = xeroMappingSection.parse(o.section ?? {});
  const port = new XeroAccounting(client, new XeroStamps(section, retainer.nameTemplate), section, connection);

  const crm = new MemoryCrm();
  crm.deals.set(DEAL, sampleDeal({ fields: new Map([[CURRENCY_FIELD.id, ['GBP']]]) }));
  crm.people.set(501, samplePerson({ fields: new Map([[COUNTRY_FIELD.id, ['United Kingdom']]]) }));
  const m = mapping(o.mapping);
  let reference: AccountingReference | undefined;
  const settingsOf = { get: async () => ((reference ??= await port.reference({ exemptions: false })), { system: 'Xero', reference, taxRules: resolveTaxRules(TAX, reference, 'Xero') }) };
  const party = new BillingParty({ crm, accounting: port, customers: new CustomerLinks(store.db), mapping: m, settings: settingsOf, customerClaimStaleMs: 60_000 });
  const writer = new DealWriter(crm, new DealWrites(store.db));
  const owners = new InvoiceOwners(store.db);
  const invoiceForDeal = new InvoiceForDeal({ crm, accounting: port, invoices: new DealInvoices(store.db), party, writer, mapping: m });
  const paymentToDeal = new PaymentToDeal({ crm, accounting: port, links: new InvoiceLinks(store.db), owners, notes: new NoteOnce(crm, new DealNotes(store.db)), writer, mapping: m });
  const retainerForDeal = new RetainerForDeal({ crm, accounting: port, profiles: new DealRecurringProfiles(store.db), party, mapping: m, today: () => '2026-12-06' });
  let jobId = 0;
  const ctx = () => ({ jobId: ++jobId, log });
  const state = () => fake.snapshot() as { contacts: any[]; invoices: any[]; repeatingInvoices: any[]; emails: any[]; payments: any[] };
  return {
    fake,
    base,
    store,
    connections,
    side,
    client,
    port,
    crm,
    state,
    invoice: (dealId = DEAL) => invoiceForDeal.run(dealId, ctx()),
    payment: (invoiceId: string) => paymentToDeal.run(invoiceId, ctx()),
    retainer: (dealId = DEAL) => retainerForDeal.run(dealId, ctx()),
    /** The value last written to a deal field. */
    field: (fieldId: number, dealId = DEAL) => crm.fieldWrites.filter((w) => w.dealId === dealId).flatMap((w) => w.values).filter((v) => v.fieldId === fieldId).at(-1)?.value,
  };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('Xero side at start-up', () => {
  it('stores XERO_REFRESH_TOKEN, rotates it in the store, and works in the connection\'s only organisation', async () => {
    const w = await world();
    expect(w.side.organizationId()).toBe(w.fake.tenantId);
    const stored = await w.connections.get('xero');
    expect(stored?.status).toBe('connected');
    expect(stored?.refreshToken).toBeDefined();
    expect(stored?.refreshToken).not.toBe(w.fake.refreshToken); // Xero rotated it; the store holds the new one
    expect(stored?.organizations).toEqual([{ id: w.fake.tenantId, name: 'Demo Company (UK)' }]);
    expect(await w.side.awaitingConnection()).toBe(false);
    const status = await w.side.status(() => undefined);
    expect(status).toMatchObject({ connected: true, organization: { id: w.fake.tenantId, name: 'Demo Company (UK)' } });
    expect(w.side.readiness(status)).toBe('connected');
  });

  it('a restart with the same XERO_REFRESH_TOKEN keeps the rotated pair in the store (the seed is spent); a new value seeds again', async () => {
    const w = await world();
    await w.port.reference({ exemptions: false });
    const rotated = (await w.connections.get('xero'))!.refreshToken;
    const again = (extra: Record<string, string> = {}) =>
      createXeroSide({
        settings: xeroSettingsSchema.parse({ XERO_CLIENT_ID: w.fake.clientId, XERO_CLIENT_SECRET: w.fake.clientSecret, XERO_REFRESH_TOKEN: w.fake.refreshToken, XERO_API_URL: w.base, ...extra }),
        env: { HTTP_TIMEOUT_MS: 2000 } as Env,
        connections: w.connections,
        log,
        limiter: (spec) => new SlidingWindowLimiter(spec.limit, spec.windowMs),
      });
    const restarted = again();
    await restarted.start();
    expect((await w.connections.get('xero'))!.refreshToken).toBe(rotated);
    expect(restarted.organizationId()).toBe(w.fake.tenantId);
    // It works on with the stored pair (the spent seed would be refused after Xero's grace period).
    const port = restarted.port({ section: xeroMappingSection.parse({}), retainerNameTemplate: retainer.nameTemplate });
    expect((await port.reference({ exemptions: false })).baseCurrency).toBe('GBP');

    const fresh = w.fake.issueTokens().refresh_token!;
    const reseeded = again({ XERO_REFRESH_TOKEN: fresh });
    await reseeded.start();
    const stored = await w.connections.get('xero');
    expect(stored!.refreshToken).not.toBe(rotated);
    expect(stored!.organizations).toHaveLength(1);
    expect(reseeded.organizationId()).toBe(w.fake.tenantId);
  });

  it('a connection reaching several organisations: XERO_TENANT_ID picks one; without it, the page asks and jobs wait', async () => {
    const tenants = [{ name: 'Acme Ltd' }, { name: 'Acme GmbH', countryCode: 'DE', baseCurrency: 'EUR' }];
    const chosen = await world({ fake: { tenants }, tenant: (fake) => fake.tenantIds[1]! });
    expect(chosen.side.organizationId()).toBe(chosen.fake.tenantIds[1]);
    expect((await chosen.port.reference({ exemptions: false })).baseCurrency).toBe('EUR');
    expect(await chosen.side.status(() => undefined)).toMatchObject({ connected: true, organization: { id: chosen.fake.tenantIds[1], name: 'Acme GmbH' } });

    const open = await world({ fake: { tenants } });
    expect(open.side.organizationId()).toBeUndefined();
    const status = await open.side.status(() => undefined);
    expect(status.chooseFrom?.map((o) => o.name)).toEqual(['Acme Ltd', 'Acme GmbH']);
    expect(open.side.readiness(status)).toBe('no_organization');
    const err = (await failure(open.port.reference({ exemptions: false }))) as RelayError;
    expect(err).toMatchObject({ retryable: true, code: 'xero_no_tenant' });
    expect(open.side.waitingCodes).toContain(err.code);
  });

  it('reference data: base currency, enabled currencies, sales tax rates by Name and TaxType (no expense rates, no exemptions, no items)', async () => {
    const w = await world();
    const ref = await w.port.reference({ exemptions: false });
    expect(ref.baseCurrency).toBe('GBP');
    expect(ref.currencies.map((c) => [c.code, c.isBase])).toEqual([
      ['GBP', true],
      ['EUR', false],
    ]);
    expect(ref.taxes).toContainEqual({ id: 'OUTPUT2', name: '20% (VAT on Income)', percentage: 20, code: 'OUTPUT2' });
    expect(ref.taxes.map((t) => t.id)).not.toContain('INPUT2');
    expect(ref).toMatchObject({ exemptions: [], items: [], noTaxId: 'NONE' });
    // A rule names a rate by its Name or its TaxType, or by percentage.
    const rules = resolveTaxRules(TAX, ref, 'Xero');
    expect([...rules].map(([country, r]) => [country, r.kind === 'tax' ? r.taxId : r.kind])).toEqual([
      ['GB', 'OUTPUT2'],
      ['DE', 'ZERORATEDOUTPUT'],
      // "none": Xero's own NONE, else the line would get its account's default rate.
      ['US', 'NONE'],
      ['*', 'RROUTPUT'],
    ]);
    const bad = await failure(Promise.resolve().then(() => resolveTaxRules({ countryFrom: [], rules: { FR: { tax: 'TVA 20%' } } }, ref, 'Xero')));
    expect((bad as ConfigError).problems[0]).toMatch(/^MAPPING_FILE tax\.rules\.FR: no tax named 'TVA 20%' in Xero\. Taxes: '20% \(VAT on Income\)' \(20 %\)/);
  });

  it('the mapping\'s account and branding theme are checked against the organisation when its reference data is read', async () => {
    const wrongAccount = await world({ section: { salesAccountCode: '999' } });
    const err = (await failure(wrongAccount.port.reference({ exemptions: false }))) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toEqual(["MAPPING_FILE xero.salesAccountCode: '999' is not an active revenue account of the Xero organisation. Revenue accounts: 200 (Sales), 260 (Other Revenue)"]);

    const wrongTheme = await world({ section: { brandingTheme: 'Fancy' } });
    const themeErr = (await failure(wrongTheme.port.reference({ exemptions: false }))) as ConfigError;
    expect(themeErr.problems[0]).toMatch(/^MAPPING_FILE xero\.brandingTheme: no branding theme named or with the ID 'Fancy' in the Xero organisation\. Themes: 'Standard' \(/);

    // An invoice job meets the same problem as a permanent error a person can act on, not a crash.
    const draft: InvoiceDraft = { customerId: wrongAccount.fake.addContact({ Name: 'X', EmailAddress: 'x@example.com' }), stamp: { key: 'KOMMO-1', dealId: 1 }, lines: [{ name: 'A', rate: 1, quantity: 1 }] };
    const jobErr = (await failure(wrongAccount.port.createInvoice(draft, { send: false }))) as RelayError;
    expect(jobErr).toMatchObject({ kind: 'permanent', code: 'accounting_mapping' });
    expect(wrongAccount.state().invoices).toHaveLength(0);
  });
});

describe('invoice for deal on Xero', () => {
  it('new client: contact created with the Kommo contact as ContactNumber, AUTHORISED invoice with tax by country, currency, due date, reference and account, emailed once, online link on the deal', async () => {
    const w = await world();
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    const { contacts, invoices, emails } = w.state();
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({ Name: 'Schmidt GmbH', EmailAddress: 'anna.schmidt@example.de', ContactNumber: '501', FirstName: 'Anna', LastName: 'Schmidt', DefaultCurrency: 'GBP' });
    expect(invoices).toHaveLength(1);
    const inv = invoices[0];
    expect(inv).toMatchObject({
      Type: 'ACCREC',
      Status: 'AUTHORISED',
      Reference: `KOMMO-${DEAL}`,
      CurrencyCode: 'GBP',
      LineAmountTypes: 'Exclusive',
      Contact: { ContactID: contacts[0].ContactID },
      SentToContact: true,
      Total: 5760,
    });
    expect(inv.LineItems).toHaveLength(1);
    expect(inv.LineItems[0]).toMatchObject({ Description: 'Аудит сайта + SEO', Quantity: 1, UnitAmount: 4800, AccountCode: '200', TaxType: 'OUTPUT2' });
    // Due 14 days after the invoice date (mapping paymentTerms.defaultDays).
    const day = (d: string) => Number(/\d+/.exec(d)![0]);
    expect(day(inv.DueDate) - day(inv.Date)).toBe(14 * 86_400_000);
    expect(emails).toEqual([expect.objectContaining({ invoiceId: inv.InvoiceID, to: 'anna.schmidt@example.de' })]);
    expect(w.field(900)).toBe(inv.InvoiceID);
    expect(w.field(901)).toMatch(/^https:\/\/in\.xero\.com\/\w+$/);
  });

  it('repeat client: the second deal reuses the contact; a client elsewhere gets its own contact, its country\'s TaxType and its currency', async () => {
    const w = await world();
    await w.invoice();
    w.crm.deals.set(31700200, sampleDeal({ id: 31700200, name: 'Second deal', price: 100, fields: new Map([[CURRENCY_FIELD.id, ['GBP']]]) }));
    await w.invoice(31700200);
    expect(w.state().contacts).toHaveLength(1);

    w.crm.people.set(777, samplePerson({ id: 777, name: 'Jonas Weber', firstName: 'Jonas', lastName: 'Weber', companyName: undefined, emails: ['jonas@weber.de'], fields: new Map([[COUNTRY_FIELD.id, ['DE']]]) }));
    w.crm.deals.set(31700300, sampleDeal({ id: 31700300, name: 'Berlin deal', price: 900, contacts: [{ id: 777, isMain: true }], fields: new Map([[CURRENCY_FIELD.id, ['EUR']]]) }));
    await w.invoice(31700300);
    const { contacts, invoices } = w.state();
    expect(contacts.map((c) => c.ContactNumber)).toEqual(['501', '777']);
    const berlin = invoices.find((i) => i.Reference === 'KOMMO-31700300');
    expect(berlin).toMatchObject({ CurrencyCode: 'EUR', Contact: { ContactID: contacts[1].ContactID }, Total: 900 });
    expect(berlin.LineItems[0]).toMatchObject({ TaxType: 'ZERORATEDOUTPUT' });
    expect(contacts[1].Addresses).toContainEqual(expect.objectContaining({ AddressType: 'STREET', Country: 'Germany' }));
  });

  it('a client already in Xero is found by email (case and spaces ignored), not created again', async () => {
    const w = await world();
    const existing = w.fake.addContact({ Name: 'Schmidt (old)', EmailAddress: 'Anna.Schmidt@example.de' });
    await w.invoice();
    expect(w.state().contacts).toHaveLength(1);
    expect(w.state().invoices[0].Contact.ContactID).toBe(existing);
  });

  it('another active contact with the same name: the new one is named "Name (email)"', async () => {
    const w = await world();
    w.fake.addContact({ Name: 'Schmidt GmbH', EmailAddress: 'someone.else@example.com' });
    await w.invoice();
    expect(w.state().contacts.map((c) => c.Name)).toEqual(['Schmidt GmbH', 'Schmidt GmbH (anna.schmidt@example.de)']);
  });

  it('sendInvoice false: a DRAFT, no email, and the link into Xero on the deal', async () => {
    const w = await world({ mapping: { sendInvoice: false } });
    await w.invoice();
    const [inv] = w.state().invoices;
    expect(inv).toMatchObject({ Status: 'DRAFT', SentToContact: false });
    expect(w.state().emails).toEqual([]);
    expect(w.field(901)).toBe(`https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=${inv.InvoiceID}`);
  });

  it('the answer to the create is lost and Xero\'s key window has passed: the next attempt finds the invoice by its Reference and emails it (once)', async () => {
    const w = await world({ maxRetries: 0 });
    w.fake.loseNextAnswers(1, { method: 'PUT', path: /^\/Invoices$/ });
    const err = (await failure(w.invoice())) as RelayError;
    expect(err).toMatchObject({ retryable: true, uncertain: true });
    expect(w.state().invoices).toHaveLength(1);
    expect(w.state().emails).toHaveLength(0);
    w.fake.advanceTime(10 * 60_000); // past the Idempotency-Key window: only the look-up can prevent a second invoice
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    const { invoices, emails } = w.state();
    expect(invoices).toHaveLength(1);
    // Xero emails in a call of its own: the adopted invoice was approved but not sent, so it is sent now.
    expect(emails).toHaveLength(1);
    expect(w.field(900)).toBe(invoices[0].InvoiceID);
  });

  it('the invoice is created but its online link cannot be read: the next attempt adopts it (by Reference) instead of creating another', async () => {
    const w = await world({ maxRetries: 0 });
    w.fake.loseNextAnswers(1, { method: 'GET', path: /\/OnlineInvoice$/ });
    const err = (await failure(w.invoice())) as RelayError;
    expect(err).toMatchObject({ retryable: true, uncertain: true });
    expect(err.message).toMatch(/^Invoice INV-0001 was created in Xero, but its link could not be read: /);
    w.fake.advanceTime(10 * 60_000);
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    expect(w.state().invoices).toHaveLength(1);
    expect(w.state().emails).toHaveLength(1);
    expect(w.field(901)).toMatch(/^https:\/\/in\.xero\.com\//);
  });

  it('the answer to the email is lost: the next attempt sees SentToContact and sends nothing more', async () => {
    const w = await world({ maxRetries: 0 });
    w.fake.loseNextAnswers(1, { method: 'POST', path: /\/Email$/ });
    await failure(w.invoice());
    expect(w.state().emails).toHaveLength(1);
    expect(await w.invoice()).toMatchObject({ outcome: 'invoiced' });
    expect(w.state().emails).toHaveLength(1);
  });

  it('product lines with descriptions, a discount as a negative line taxed like the others, an invoice number from the mapping, the branding theme and Inclusive amounts', async () => {
    const w = await world({ section: { brandingTheme: 'Standard', lineAmountTypes: 'Inclusive' } });
    const customerId = w.fake.addContact({ Name: 'Ada', EmailAddress: 'ada@example.com' });
    const draft: InvoiceDraft = {
      customerId,
      stamp: { key: 'KOMMO-7', dealId: 7 },
      lines: [
        { name: 'SEO audit', description: 'SKU SEO-1', rate: 1500, quantity: 1, taxId: 'OUTPUT2' },
        { name: 'Hosting', rate: 29.9, quantity: 12, taxId: 'OUTPUT2' },
      ],
      currencyId: 'GBP',
      invoiceNumber: 'INV-7',
      dueDate: '2027-01-31',
      discount: 58.8,
    };
    const created = await w.port.createInvoice(draft, { send: false });
    expect(created).toMatchObject({ number: 'INV-7', status: 'draft', emailed: false, sent: false });
    const [inv] = w.state().invoices;
    expect(inv.LineItems.map((l: any) => [l.Description, l.Quantity, l.UnitAmount, l.TaxType, l.AccountCode])).toEqual([
      ['SEO audit\nSKU SEO-1', 1, 1500, 'OUTPUT2', '200'],
      ['Hosting', 12, 29.9, 'OUTPUT2', '200'],
      ['Discount', 1, -58.8, 'OUTPUT2', '200'],
    ]);
    expect(inv).toMatchObject({ InvoiceNumber: 'INV-7', LineAmountTypes: 'Inclusive', Total: 1800 });
    const sent = w.fake.requests.find((r) => r.method === 'PUT' && /\/Invoices$/.test(r.path))?.body as { Invoices: Array<{ BrandingThemeID?: string }> };
    expect(sent.Invoices[0]!.BrandingThemeID).toBe(w.fake.state.tenants.get(w.fake.tenantId)!.brandingThemeId);
    expect(inv.DueDate).toBe(`/Date(${Date.parse('2027-01-31T00:00:00Z')}+0000)/`);
    // The same number again is refused with what to do.
    const taken = (await failure(w.port.createInvoice({ ...draft, stamp: { key: 'KOMMO-8', dealId: 8 } }, { send: false }))) as RelayError;
    expect(taken).toMatchObject({ kind: 'permanent', code: 'invoice_number_taken' });
  });

  it('a write resent with the same Idempotency-Key is done once: the client resends after a lost answer, and so may a caller', async () => {
    const w = await world({ maxRetries: 2 });
    const customerId = w.fake.addContact({ Name: 'Ada', EmailAddress: 'ada@example.com' });
    const draft: InvoiceDraft = { customerId, stamp: { key: 'KOMMO-42', dealId: 42 }, lines: [{ name: 'Work', rate: 10, quantity: 3, taxId: 'OUTPUT2' }], currencyId: 'GBP', paymentTerms: 30 };
    w.fake.loseNextAnswers(1, { method: 'PUT', path: /^\/Invoices$/ });
    const first = await w.port.createInvoice(draft, { send: true, idempotencyKey: 'invoice:42:1' });
    const again = await w.port.createInvoice(draft, { send: true, idempotencyKey: 'invoice:42:1' });
    expect(again.id).toBe(first.id);
    expect(w.state().invoices).toHaveLength(1);
    expect(w.fake.idempotency.replays).toBeGreaterThanOrEqual(2);
    expect(first).toMatchObject({ status: 'open', emailed: false, sent: false });
    expect(await w.port.findDealInvoice({ key: 'KOMMO-42', dealId: 42 }, customerId)).toMatchObject({ id: first.id, url: first.url });
    expect(await w.port.findDealInvoice({ key: 'KOMMO-43', dealId: 43 }, customerId)).toBeUndefined();

    // Refused (a currency the organisation lacks), corrected, sent again within the window under the same
    // intent: a new write, not Xero's replayed refusal nor its "same key, other body" 400.
    const refused = (await failure(w.port.createInvoice({ ...draft, stamp: { key: 'KOMMO-44', dealId: 44 }, currencyId: 'JPY' }, { send: true, idempotencyKey: 'invoice:44:1' }))) as RelayError;
    expect(refused).toMatchObject({ kind: 'permanent', code: 'accounting_rejected' });
    expect(refused.message).toContain('The currency code JPY is not a valid currency for this organisation.');
    const fixed = await w.port.createInvoice({ ...draft, stamp: { key: 'KOMMO-44', dealId: 44 } }, { send: true, idempotencyKey: 'invoice:44:1' });
    expect(w.state().invoices.map((i) => i.InvoiceID)).toEqual([first.id, fixed.id]);
  });
});

describe('payments on Xero', () => {
  it('a partial payment is noted, the full one marks the deal paid and moves it; status and version follow AmountPaid', async () => {
    const w = await world();
    await w.invoice();
    const id = w.state().invoices[0].InvoiceID as string;
    const before = await w.port.getInvoice(id);
    expect(before).toMatchObject({ status: 'open', total: 5760, balance: 5760, currencyCode: 'GBP', sent: true, stamped: { dealId: String(DEAL), retainer: false } });

    w.fake.recordPayment(id, { amount: 1000, date: '2026-12-01' });
    const partial = await w.port.getInvoice(id);
    expect(partial).toMatchObject({ status: 'partially_paid', balance: 4760 });
    expect(partial.version).not.toBe(before.version);
    expect(await w.payment(id)).toMatchObject({ outcome: 'noted', notesAdded: 1, paid: false, moved: false });
    expect(w.crm.notes.at(-1)?.text).toMatch(/^Partial payment received: .*1,000\.00.* on 2026-12-01 for invoice INV-0001; .*4,760\.00.* still due\. \(Xero payment [0-9a-f-]{36}\)$/);

    w.fake.recordPayment(id, { amount: 4760, date: '2026-12-03' });
    expect(await w.port.getInvoice(id)).toMatchObject({ status: 'paid', balance: 0 });
    expect(await w.payment(id)).toMatchObject({ outcome: 'noted', notesAdded: 1, paid: true, moved: true });
    expect(w.crm.moves).toEqual([{ dealId: DEAL, pipelineId: 7710021, statusId: 142 }]);
    expect((await w.port.invoicePayments(id)).map((p) => [p.amount, p.date])).toEqual([
      [1000, '2026-12-01'],
      [4760, '2026-12-03'],
    ]);
    // The payments came with GET /Invoices/{InvoiceID} (Invoice.Payments): the payment job never asked GET /Payments.
    const paymentReads = w.fake.requests.filter((r) => r.method === 'GET' && /\/Payments$/i.test(r.path));
    expect(paymentReads).toHaveLength(1); // the port's own invoicePayments just above
    expect((await w.port.getInvoice(id)).payments?.map((p) => [p.amount, p.date])).toEqual([
      [1000, '2026-12-01'],
      [4760, '2026-12-03'],
    ]);
    // Again: nothing new.
    expect(await w.payment(id)).toMatchObject({ notesAdded: 0, moved: false });
  });

  it('changed invoices: one sweep pages through with the same cursor; the next cursor brings back what changed since (at or after, told apart by version)', async () => {
    const w = await world();
    const contact = w.fake.addContact({ Name: 'Many', EmailAddress: 'many@example.com' });
    const ids = Array.from({ length: 120 }, (_, i) =>
      w.fake.addInvoice({ Type: 'ACCREC', Contact: { ContactID: contact }, Status: 'AUTHORISED', DueDate: '2026-12-31', Reference: `KOMMO-${1000 + i}`, LineItems: [{ Description: 'x', Quantity: 1, UnitAmount: 10, AccountCode: '200' }] }),
    );
    const page1 = await w.port.changedInvoices(undefined, 1, 3600_000);
    expect(page1).toMatchObject({ hasMore: true });
    expect(page1.invoices).toHaveLength(100);
    const page2 = await w.port.changedInvoices(undefined, 2, 3600_000);
    expect(page2.hasMore).toBe(false);
    expect(page2.invoices).toHaveLength(20);
    expect(new Set([...page1.invoices, ...page2.invoices].map((i) => i.invoiceId))).toEqual(new Set(ids));
    expect(page2.invoices[0]).toMatchObject({ status: 'open', stamped: { dealId: '1100', retainer: false } });
    const cursor = page2.next;
    expect(Date.parse(cursor)).toBeGreaterThan(Date.now() - 60_000);

    w.fake.advanceTime(2000);
    w.fake.recordPayment(ids[7]!, { amount: 4 });
    const sweep = async (since: string) => {
      const found = [];
      let next = since;
      for (let page = 1; ; page++) {
        const r = await w.port.changedInvoices(since, page, 3600_000);
        found.push(...r.invoices);
        next = r.next;
        if (!r.hasMore) break;
      }
      return { found, next };
    };
    const second = await sweep(cursor);
    const paid = second.found.find((i) => i.invoiceId === ids[7]);
    expect(paid).toMatchObject({ status: 'partially_paid' });
    expect(paid!.version).not.toBe(page1.invoices.find((i) => i.invoiceId === ids[7])?.version);
    expect(Date.parse(second.next)).toBeGreaterThan(Date.parse(cursor));
    // From the newest change on: only what changed at or after it, with the same version (the reconciler skips it).
    const third = await sweep(second.next);
    expect(third.found).toEqual([paid]);
    expect(third.next).toBe(second.next);
  });
});

describe('retainers as repeating invoices', () => {
  const toStage = (w: Awaited<ReturnType<typeof world>>, statusId: number) => Object.assign(w.crm.deals.get(DEAL)!, { statusId });

  it('start (yearly = 12 months), stop deletes the template, resume creates a new one whose ID goes on the deal', async () => {
    const w = await world();
    toStage(w, 61234580);
    const started = await w.retainer();
    expect(started).toMatchObject({ outcome: 'started' });
    const [template] = w.state().repeatingInvoices;
    expect(template).toMatchObject({ Reference: `Kommo deal ${DEAL}`, Status: 'AUTHORISED', Type: 'ACCREC', Schedule: { Unit: 'MONTHLY', Period: 12, DueDate: 14, DueDateType: 'DAYSAFTERBILLDATE' } });
    expect(w.field(902)).toBe(template.RepeatingInvoiceID);
    // The invoices it generates are the deal's (a retainer's), by their Reference.
    const generated = w.fake.runRepeatingInvoice(template.RepeatingInvoiceID);
    expect(await w.port.getInvoice(generated)).toMatchObject({ recurringId: template.RepeatingInvoiceID, stamped: { dealId: String(DEAL), retainer: true } });

    toStage(w, 61234581);
    expect(await w.retainer()).toMatchObject({ outcome: 'stopped', recurrenceId: template.RepeatingInvoiceID });
    expect(w.state().repeatingInvoices.map((r) => r.Status)).toEqual(['DELETED']);

    toStage(w, 61234580);
    const resumed = await w.retainer();
    expect(resumed).toMatchObject({ outcome: 'resumed' });
    const templates = w.state().repeatingInvoices;
    expect(templates.map((r) => r.Status)).toEqual(['DELETED', 'AUTHORISED']);
    expect((resumed as { recurrenceId: string }).recurrenceId).toBe(templates[1].RepeatingInvoiceID);
    expect(w.field(902)).toBe(templates[1].RepeatingInvoiceID);
    expect(await w.retainer()).toMatchObject({ outcome: 'already_active' });
  });

  it('a lost answer to the create (first start or resume): the next attempt finds the template by its Reference', async () => {
    const w = await world({ maxRetries: 0 });
    toStage(w, 61234580);
    w.fake.loseNextAnswers(1, { method: 'PUT', path: /^\/RepeatingInvoices$/ });
    await failure(w.retainer());
    w.fake.advanceTime(10 * 60_000);
    expect(await w.retainer()).toMatchObject({ outcome: 'started' });
    expect(w.state().repeatingInvoices).toHaveLength(1);

    toStage(w, 61234581);
    await w.retainer();
    toStage(w, 61234580);
    w.fake.loseNextAnswers(1, { method: 'PUT', path: /^\/RepeatingInvoices$/ });
    await failure(w.retainer());
    w.fake.advanceTime(10 * 60_000);
    expect(await w.retainer()).toMatchObject({ outcome: 'resumed' });
    const live = w.state().repeatingInvoices.filter((r) => r.Status !== 'DELETED');
    expect(live).toHaveLength(1);
    expect(w.field(902)).toBe(live[0].RepeatingInvoiceID);
  });

  it('a deal asking for a schedule Xero cannot repeat on is refused with the reason; 14 days are two weeks', async () => {
    const w = await world();
    toStage(w, 61234580);
    w.crm.deals.get(DEAL)!.fields.set(FREQUENCY_FIELD.id, ['every 10 days']);
    const err = (await failure(w.retainer())) as RelayError;
    expect(err).toMatchObject({ kind: 'permanent', code: 'recurrence_unsupported' });
    expect(err.message).toBe("Recurring invoice not created: Xero repeats invoices only every so many weeks or months, and every 10 days is neither (use a multiple of 7 days, weeks or months). Change the deal's billing schedule, then move it into the retainer stage again.");
    w.crm.deals.get(DEAL)!.fields.set(FREQUENCY_FIELD.id, ['every 14 days']);
    expect(await w.retainer()).toMatchObject({ outcome: 'started' });
    expect(w.state().repeatingInvoices[0].Schedule).toMatchObject({ Unit: 'WEEKLY', Period: 2 });
  });
});
