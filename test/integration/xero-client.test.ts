// The Xero client against nock (no network): what it sends (URL, tenant header, token, Idempotency-Key, body,
// each request validated against contract/xero/accounting.json) and what it makes of each kind of answer:
// limits (429 with Retry-After, the day quota), Xero's refusals in both forms, 401, 403, 5xx, timeouts.
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { XeroClient, type XeroClientOptions } from '../../src/accounting/xero/client.js';
import { parseXeroDate } from '../../src/accounting/xero/dates.js';
import { xeroIdempotencyKey } from '../../src/accounting/xero/idempotency.js';
import type { XeroInvoiceInput } from '../../src/accounting/xero/types.js';
import { XeroApiMock, xeroOas } from '../support/xero-nock.js';

const TENANT = '7b1d9e40-0c4d-4a4b-9d0a-6a3b2f1e0c11';
const CONTACT = '1f0e2d3c-4b5a-4968-8776-655443322110';
const INVOICE = '4a4b4c4d-1111-4222-8333-944455556666';
const REPEATING = '9e8d7c6b-5a49-4838-a726-150493827160';
const silent = createLogger({ level: 'silent' });

let api: XeroApiMock;
let tokens: { current: string; refreshes: number };

function client(o: Partial<XeroClientOptions> = {}): XeroClient {
  return new XeroClient({
    tokens: {
      accessToken: async () => tokens.current,
      onUnauthorized: async (rejected) => {
        if (rejected === tokens.current) {
          tokens.refreshes++;
          tokens.current = `access-${tokens.refreshes + 1}`;
        }
        return true;
      },
    },
    tenantId: () => TENANT,
    timeoutMs: 1000,
    log: silent,
    retryBaseMs: 5,
    ...o,
  });
}

async function rejection(p: Promise<unknown>): Promise<RelayError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RelayError);
  return err as RelayError;
}

const invoice = (extra: Record<string, unknown> = {}) => ({
  InvoiceID: INVOICE,
  InvoiceNumber: 'INV-0042',
  Type: 'ACCREC',
  Status: 'AUTHORISED',
  Reference: 'Kommo deal 1234',
  CurrencyCode: 'EUR',
  Date: '/Date(1552262400000+0000)/',
  DueDate: '/Date(1553472000000+0000)/',
  Total: 119,
  AmountDue: 119,
  AmountPaid: 0,
  UpdatedDateUTC: '/Date(1552290000000+0000)/',
  Contact: { ContactID: CONTACT, Name: 'Ada Lovelace' },
  HasAttachments: false,
  HasErrors: false,
  ...extra,
});

const draft: XeroInvoiceInput = {
  Type: 'ACCREC',
  Contact: { ContactID: CONTACT },
  LineItems: [{ Description: 'Consulting', Quantity: 2, UnitAmount: 50, AccountCode: '200', TaxType: 'OUTPUT2' }],
  Date: '2019-03-11',
  DueDate: '2019-03-25',
  LineAmountTypes: 'Exclusive',
  CurrencyCode: 'EUR',
  Reference: 'Kommo deal 1234',
  Status: 'AUTHORISED',
};

beforeEach(async () => {
  api = new XeroApiMock(await xeroOas());
  tokens = { current: 'access-1', refreshes: 0 };
});
afterEach(() => {
  // Every request the client sent, and every answer the test gave, is what Xero's document allows.
  expect(api.violations).toEqual([]);
  nock.abortPendingRequests();
  nock.cleanAll();
});

describe('every call', () => {
  it('carries the bearer token and xero-tenant-id; writes carry their Idempotency-Key and summarizeErrors=false; bodies validate against the contract', async () => {
    api.on('GET', '/Contacts', [200, { Contacts: [] }]);
    api.on('PUT', '/Contacts', [200, { Contacts: [{ ContactID: CONTACT, Name: 'Ada Lovelace', EmailAddress: 'ada@example.com', ContactNumber: 'kommo-77', StatusAttributeString: 'OK' }] }]);
    api.on('PUT', '/Invoices', [200, { Invoices: [invoice({ StatusAttributeString: 'OK' })] }]);
    api.on('POST', `/Invoices/${INVOICE}/Email`, [204]);
    api.on('GET', `/Invoices/${INVOICE}/OnlineInvoice`, [200, { OnlineInvoices: [{ OnlineInvoiceUrl: 'https://in.xero.com/abc' }] }]);
    const xero = client();

    expect(await xero.findContactsByEmail(' ada@example.com ')).toEqual([]);
    const contact = await xero.createContact(
      { Name: 'Ada Lovelace', EmailAddress: 'ada@example.com', ContactNumber: 'kommo-77', DefaultCurrency: 'EUR', Addresses: [{ AddressType: 'STREET', Country: 'Germany' }] },
      xeroIdempotencyKey('deal', 1234, 'contact'),
    );
    const created = await xero.createInvoice(draft, xeroIdempotencyKey('deal', 1234, 'invoice'));
    await xero.emailInvoice(created.InvoiceID, xeroIdempotencyKey('deal', 1234, 'email'));
    const url = await xero.onlineInvoiceUrl(created.InvoiceID);

    expect(contact.ContactID).toBe(CONTACT);
    expect(created).toMatchObject({ InvoiceID: INVOICE, InvoiceNumber: 'INV-0042', Status: 'AUTHORISED' });
    expect(url).toBe('https://in.xero.com/abc');
    expect(api.seen.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /Contacts', 'PUT /Contacts', 'PUT /Invoices', `POST /Invoices/${INVOICE}/Email`, `GET /Invoices/${INVOICE}/OnlineInvoice`]);
    for (const r of api.seen) {
      expect(r.headers['xero-tenant-id']).toBe(TENANT);
      expect(r.headers.authorization).toBe('Bearer access-1');
      expect(r.headers.accept).toBe('application/json');
    }
    expect(api.seen[0]!.query).toEqual({ where: 'EmailAddress=="ada@example.com"' });
    expect(api.seen.filter((r) => r.method !== 'GET').map((r) => r.headers['idempotency-key'])).toEqual(['deal:1234:contact', 'deal:1234:invoice', 'deal:1234:email']);
    expect(api.seen.filter((r) => r.method === 'GET').every((r) => r.headers['idempotency-key'] === undefined)).toBe(true);
    expect(api.seen[1]!.query).toEqual({ summarizeErrors: 'false' });
    expect(api.seen[2]!.body).toEqual({ Invoices: [draft] });
    expect(api.seen[3]!.body).toEqual({});
  });

  it('refuses to call without a chosen organisation (retryable: the /connect page fixes it) or with an over-long Idempotency-Key', async () => {
    const none = await rejection(client({ tenantId: () => undefined }).taxRates());
    expect(none).toMatchObject({ code: 'xero_no_tenant', kind: 'retryable' });
    const long = await rejection(client().createInvoice(draft, 'k'.repeat(129)));
    expect(long).toMatchObject({ code: 'xero_bad_idempotency_key', kind: 'permanent' });
    expect(xeroIdempotencyKey('deal', 'x'.repeat(200))).toMatch(/^relay-sha256-[0-9a-f]{64}$/);
    expect(api.seen).toEqual([]);
  });
});

describe('reading', () => {
  it('finds contacts by email ignoring case and spaces, and leaves out other emails and archived contacts', async () => {
    api.on('GET', '/Contacts', [
      200,
      {
        Contacts: [
          { ContactID: CONTACT, Name: 'Ada', EmailAddress: 'ADA@Example.com ', ContactStatus: 'ACTIVE' },
          { ContactID: '2f0e2d3c-4b5a-4968-8776-655443322110', Name: 'Other', EmailAddress: 'ada@example.com.au', ContactStatus: 'ACTIVE' },
          { ContactID: '3f0e2d3c-4b5a-4968-8776-655443322110', Name: 'Old', EmailAddress: 'ada@example.com', ContactStatus: 'ARCHIVED' },
        ],
      },
    ]);
    api.on('GET', '/Contacts', [200, { Contacts: [{ ContactID: CONTACT, Name: 'Ada', ContactNumber: 'kommo-77' }] }]);
    const xero = client();
    expect((await xero.findContactsByEmail('ada@example.com')).map((c) => c.ContactID)).toEqual([CONTACT]);
    expect((await xero.findContactByNumber('kommo-77'))?.ContactID).toBe(CONTACT);
    expect(api.seen[1]!.query).toEqual({ where: 'ContactNumber=="kommo-77"' });
    // A quote would end Xero's string literal: such a value is never put into a where expression.
    expect(await rejection(xero.findContactsByEmail('a"||1==1@x.com'))).toMatchObject({ code: 'xero_unsearchable_value', kind: 'permanent' });
  });

  it('lists invoices changed since a moment with If-Modified-Since, oldest change first, page by page; parses /Date()/ values', async () => {
    const page1 = Array.from({ length: 2 }, (_, i) => invoice({ InvoiceID: `4a4b4c4d-1111-4222-8333-94445555000${i}` }));
    api.on('GET', '/Invoices', [200, { Invoices: page1, pagination: { page: 1, pageCount: 2, pageSize: 2, itemCount: 3 } }]);
    api.on('GET', '/Invoices', [200, { Invoices: [invoice()], pagination: { page: 2, pageCount: 2, pageSize: 2, itemCount: 3 } }]);
    const xero = client();
    const since = Date.UTC(2019, 2, 10, 8, 30, 0);
    const first = await xero.listInvoicesModifiedSince(since, { pageSize: 2 });
    const second = await xero.listInvoicesModifiedSince(since, { pageSize: 2, page: 2 });
    expect([first.hasMore, second.hasMore]).toEqual([true, false]);
    expect(api.seen[0]!.headers['if-modified-since']).toBe('2019-03-10T08:30:00Z');
    expect(api.seen[1]!.query).toEqual({ where: 'Type=="ACCREC"', order: 'UpdatedDateUTC ASC', page: '2', pageSize: '2' });
    expect(parseXeroDate(second.invoices[0]!.UpdatedDateUTC)).toBe(1552290000000);
    expect(parseXeroDate(second.invoices[0]!.Date)).toBe(Date.UTC(2019, 2, 11));
  });

  it('finds a deal invoice by Reference, reads one invoice, its payments, and the reference data', async () => {
    api.on('GET', '/Invoices', [200, { Invoices: [invoice(), invoice({ InvoiceID: '5a4b4c4d-1111-4222-8333-944455556666', Reference: 'Kommo deal 12345' })] }]);
    api.on('GET', `/Invoices/${INVOICE}`, [200, { Invoices: [invoice({ Status: 'PAID', AmountDue: 0, AmountPaid: 119 })] }]);
    api.on('GET', '/Payments', [200, { Payments: [{ PaymentID: '6a4b4c4d-1111-4222-8333-944455556666', Amount: 119, Date: '/Date(1552348800000+0000)/', Status: 'AUTHORISED', PaymentType: 'ACCRECPAYMENT', Invoice: { InvoiceID: INVOICE }, HasAccount: false, HasValidationErrors: false }] }]);
    api.on('GET', '/TaxRates', [200, { TaxRates: [{ Name: '20% (VAT on Income)', TaxType: 'OUTPUT2', EffectiveRate: 20, Status: 'ACTIVE', CanApplyToRevenue: true }] }]);
    api.on('GET', '/Currencies', [200, { Currencies: [{ Code: 'EUR', Description: 'Euro' }] }]);
    api.on('GET', '/Organisation', [200, { Organisations: [{ OrganisationID: TENANT, Name: 'Demo Company (UK)', BaseCurrency: 'GBP', CountryCode: 'GB' }] }]);
    api.on('GET', '/Accounts', [200, { Accounts: [{ AccountID: '8a4b4c4d-1111-4222-8333-944455556666', Code: '200', Name: 'Sales', Type: 'REVENUE', HasAttachments: false }] }]);
    api.on('GET', '/BrandingThemes', [200, { BrandingThemes: [{ BrandingThemeID: '9a4b4c4d-1111-4222-8333-944455556666', Name: 'Standard', SortOrder: 0 }] }]);
    const xero = client();

    expect((await xero.findInvoicesByReference('Kommo deal 1234')).map((i) => i.InvoiceID)).toEqual([INVOICE]);
    expect(api.seen[0]!.query).toEqual({ where: 'Type=="ACCREC"&&Reference=="Kommo deal 1234"' });
    expect(await xero.getInvoice(INVOICE)).toMatchObject({ Status: 'PAID', AmountPaid: 119 });
    expect((await xero.invoicePayments(INVOICE)).map((p) => p.Amount)).toEqual([119]);
    expect(api.seen[2]!.query).toEqual({ where: `Invoice.InvoiceID=guid("${INVOICE}")` });
    expect((await xero.taxRates())[0]).toMatchObject({ TaxType: 'OUTPUT2', EffectiveRate: 20 });
    expect((await xero.currencies()).map((c) => c.Code)).toEqual(['EUR']);
    expect((await xero.organisation()).Name).toBe('Demo Company (UK)');
    expect((await xero.accounts())[0]!.Code).toBe('200');
    expect((await xero.brandingThemes())[0]!.Name).toBe('Standard');
    expect(await rejection(xero.getInvoice('not-a-guid'))).toMatchObject({ code: 'xero_bad_id', kind: 'permanent' });
  });
});

describe('changing invoices and repeating invoices', () => {
  it('voids and deletes invoices by status; creates, finds and deletes repeating invoices', async () => {
    api.on('POST', `/Invoices/${INVOICE}`, (req) => [200, { Invoices: [invoice({ Status: (req.body as { Invoices: Array<{ Status: string }> }).Invoices[0]!.Status })] }], 2);
    const template = { RepeatingInvoiceID: REPEATING, Reference: 'Kommo deal 1234', Status: 'AUTHORISED', Type: 'ACCREC', ApprovedForSending: true, IncludePDF: false, MarkAsSent: false, SendCopy: false, HasAttachments: false, Schedule: { Period: 1, Unit: 'MONTHLY', DueDate: 14, DueDateType: 'DAYSAFTERBILLDATE', StartDate: '/Date(1554076800000+0000)/' } };
    api.on('PUT', '/RepeatingInvoices', [200, { RepeatingInvoices: [template] }]);
    api.on('GET', '/RepeatingInvoices', [200, { RepeatingInvoices: [template] }]);
    api.on('POST', `/RepeatingInvoices/${REPEATING}`, [200, { RepeatingInvoices: [{ ...template, Status: 'DELETED' }] }]);
    const xero = client();

    expect((await xero.voidInvoice(INVOICE, 'deal:1234:void')).Status).toBe('VOIDED');
    expect((await xero.deleteInvoice(INVOICE, 'deal:1234:delete')).Status).toBe('DELETED');
    const created = await xero.createRepeatingInvoice(
      {
        Type: 'ACCREC',
        Contact: { ContactID: CONTACT },
        LineItems: [{ Description: 'Retainer', Quantity: 1, UnitAmount: 500, AccountCode: '200' }],
        Reference: 'Kommo deal 1234',
        Status: 'AUTHORISED',
        ApprovedForSending: true,
        Schedule: { Period: 1, Unit: 'MONTHLY', DueDate: 14, DueDateType: 'DAYSAFTERBILLDATE', StartDate: '2019-04-01' },
      },
      'deal:1234:retainer:1',
    );
    expect(created.RepeatingInvoiceID).toBe(REPEATING);
    expect((await xero.findRepeatingInvoicesByReference('Kommo deal 1234')).map((r) => r.RepeatingInvoiceID)).toEqual([REPEATING]);
    await xero.deleteRepeatingInvoice(REPEATING, 'deal:1234:retainer:1:stop');

    expect(api.seen.map((r) => r.body)).toEqual([
      { Invoices: [{ InvoiceID: INVOICE, Status: 'VOIDED' }] },
      { Invoices: [{ InvoiceID: INVOICE, Status: 'DELETED' }] },
      expect.objectContaining({ RepeatingInvoices: [expect.objectContaining({ Reference: 'Kommo deal 1234' })] }),
      undefined,
      { RepeatingInvoices: [{ RepeatingInvoiceID: REPEATING, Status: 'DELETED' }] },
    ]);
    expect(api.seen.filter((r) => r.method !== 'GET').every((r) => r.headers['idempotency-key'])).toBe(true);
  });
});
