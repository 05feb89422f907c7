// The e2e suites assert through scenario.books; here each implementation is held to its fake's own state
// and wire, without a relay: what a user does in the system shows in the view as the system keeps it, calls
// are named by what they do, and the faults answer as the system does.
import { afterEach, describe, expect, it } from 'vitest';
import { waveOp } from '../../sandbox/books/wave.js';
import { xeroOp } from '../../sandbox/books/xero.js';
import { zohoOp } from '../../sandbox/books/zoho.js';
import { SANDBOX_ACCOUNTING, startScenario, type Scenario } from '../../sandbox/scenario.js';
import { CUSTOMERS_BY_EMAIL } from '../../src/accounting/wave/documents.js';
import { tempDir } from '../support/tmp.js';

let scenario: Scenario | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await scenario?.close();
  dir?.cleanup();
  scenario = undefined;
});

/** One API call as the relay would make it: a search of customers. */
async function searchCustomers(s: Scenario): Promise<Response> {
  if (s.accounting === 'wave') {
    const body = { query: CUSTOMERS_BY_EMAIL.text, operationName: CUSTOMERS_BY_EMAIL.name, variables: { businessId: s.books.organizationId, email: 'x@example.com', page: 1, pageSize: 20 } };
    return fetch(`${s.accountingUrl}/graphql/public`, { method: 'POST', headers: { authorization: `Bearer ${s.wave.fullAccessToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }
  if (s.accounting === 'zoho') {
    return fetch(`${s.accountingUrl}/books/v3/contacts?organization_id=${s.books.organizationId}`, { headers: { authorization: `Zoho-oauthtoken ${s.zoho.mintAccessToken()}` } });
  }
  return fetch(`${s.accountingUrl}/api.xro/2.0/Contacts`, { headers: { authorization: `Bearer ${s.xero.mintAccessToken()}`, 'xero-tenant-id': s.books.organizationId, accept: 'application/json' } });
}

describe.each(SANDBOX_ACCOUNTING)('%s: the neutral view of the accounting side', (accounting) => {
  it("shows a customer, an invoice and its payments as the fake keeps them, and a void", async () => {
    dir = tempDir('books-view-');
    scenario = await startScenario({ dir: dir.path, accounting });
    const books = scenario.books;
    books.addCurrency('GBP', 1.17);
    const customer = books.addCustomer({ name: 'Legacy Ltd', email: 'legacy@client.example', currency: 'GBP' });
    expect(customer).toMatch(books.facts.id);
    expect(books.customers()).toEqual([expect.objectContaining({ id: customer, name: 'Legacy Ltd', email: 'legacy@client.example', currency: 'GBP' })]);

    const local = books.addCustomer({ name: 'Walk-in GmbH', email: 'walkin@example.de' });
    expect(books.customers().map((c) => [c.name, c.currency ?? 'EUR'])).toEqual([['Legacy Ltd', 'GBP'], ['Walk-in GmbH', 'EUR']]);

    const id = await books.addForeignInvoice({ customerId: local, reference: 'PO-7', amount: 250, number: 'EXT-1' });
    const open = books.invoice(id)!;
    // Where the number is the deal's stamp (Wave), the view's reference is the number.
    const reference = books.facts.stamp === 'number' ? 'EXT-1' : 'PO-7';
    expect(open).toMatchObject({ id, number: 'EXT-1', reference, customerId: local, currency: 'EUR', status: 'open', total: 250, amountPaid: 0, emailed: false, recurringId: undefined });
    expect(open.lines).toEqual([{ name: 'Consulting', description: undefined, quantity: 1, unitAmount: 250, taxName: undefined, taxPercent: 0, amount: 250 }]);
    expect(books.invoicesWithReference(reference).map((i) => i.id)).toEqual([id]);
    expect(books.invoicesWithReference('PO-8')).toEqual([]);

    const first = books.pay(id, { amount: 100.5, date: '2026-11-20' });
    expect(first).toMatch(books.facts.id);
    expect(books.invoice(id)).toMatchObject({ status: 'partially_paid', amountPaid: 100.5 });
    books.pay(id, { amount: 149.5 });
    expect(books.invoice(id)).toMatchObject({ status: 'paid', amountPaid: 250 });

    const other = await books.addForeignInvoice({ customerId: local, reference: 'PO-9', amount: 10 });
    if (books.facts.voids === false) await expect(books.void(other)).rejects.toThrow(/no void/);
    else {
      await books.void(other);
      expect(books.invoice(other)?.status).toBe('void');
    }
    expect(books.emails()).toEqual([]);
    expect(books.violations).toEqual([]);
  });

  it('names the calls by what they do, and answers faults as the system does', async () => {
    dir = tempDir('books-view-');
    scenario = await startScenario({ dir: dir.path, accounting });
    const books = scenario.books;
    const mark = books.callCount;
    expect((await searchCustomers(scenario)).status).toBe(200);
    books.rateLimit(1);
    const limited = await searchCustomers(scenario);
    expect(limited.status).toBe(429);
    // Zoho says when its window resets; Xero says how long to wait.
    expect(limited.headers.get('retry-after') ?? limited.headers.get('x-rate-limit-reset')).toBe('1');
    books.serverErrors(1, 503);
    expect((await searchCustomers(scenario)).status).toBe(503);
    expect(books.calls(mark).map((c) => [c.op, c.status])).toEqual([
      ['customer.search', 200],
      ['customer.search', 429],
      ['customer.search', 503],
    ]);
    books.resetFaults();
    expect((await searchCustomers(scenario)).status).toBe(200);
  });
});

describe('calls named by what they do', () => {
  it('Wave operations', () => {
    const cases: Array<[string, string | undefined, string]> = [
      ['/oauth2/token/', undefined, 'token'],
      ['/graphql/public', 'Businesses', 'reference'],
      ['/graphql/public', 'SalesTaxes', 'reference'],
      ['/graphql/public', 'ProductCreate', 'item.create'],
      ['/graphql/public', 'CustomersByEmail', 'customer.search'],
      ['/graphql/public', 'CustomerCreate', 'customer.create'],
      ['/graphql/public', 'InvoiceCreate', 'invoice.create'],
      ['/graphql/public', 'InvoiceApprove', 'invoice.update'],
      ['/graphql/public', 'Invoice', 'invoice.read'],
      ['/graphql/public', 'InvoicesByNumber', 'invoice.list'],
      ['/graphql/public', 'InvoicesModified', 'invoice.list'],
      ['/graphql/public', 'InvoicePayments', 'payment.list'],
      ['/graphql/public', 'InvoiceSend', 'invoice.email'],
      ['/graphql/public', 'Unknown', 'other'],
    ];
    expect(cases.map(([p, name]) => waveOp(p, name))).toEqual(cases.map((c) => c[2]));
  });

  it('Zoho Books paths', () => {
    const cases: Array<[string, string, string]> = [
      ['POST', '/oauth/v2/token', 'token'],
      ['GET', '/books/v3/settings/taxes', 'reference'],
      ['GET', '/books/v3/contacts', 'customer.search'],
      ['POST', '/books/v3/contacts', 'customer.create'],
      ['POST', '/books/v3/invoices', 'invoice.create'],
      ['GET', '/books/v3/invoices', 'invoice.list'],
      ['GET', '/books/v3/invoices/9834000000000000001', 'invoice.read'],
      ['POST', '/books/v3/invoices/9834000000000000001/email', 'invoice.email'],
      ['POST', '/books/v3/invoices/9834000000000000001/status/void', 'invoice.void'],
      ['GET', '/books/v3/customerpayments', 'payment.list'],
      ['POST', '/books/v3/recurringinvoices', 'recurring.create'],
      ['POST', '/books/v3/recurringinvoices/9834000000000000002/status/stop', 'recurring.stop'],
      ['POST', '/books/v3/recurringinvoices/9834000000000000002/status/resume', 'recurring.resume'],
    ];
    expect(cases.map(([m, p]) => zohoOp(m, p))).toEqual(cases.map((c) => c[2]));
  });

  it('Xero paths and bodies', () => {
    const id = '0e6b5bef-447a-4f7d-96cf-bc717f2ecc39';
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/connect/token', undefined, 'token'],
      ['GET', '/connections', undefined, 'connections'],
      ['GET', '/api.xro/2.0/TaxRates', undefined, 'reference'],
      ['GET', '/api.xro/2.0/Contacts', undefined, 'customer.search'],
      ['PUT', '/api.xro/2.0/Contacts', { Contacts: [{}] }, 'customer.create'],
      ['PUT', '/api.xro/2.0/Invoices', { Invoices: [{}] }, 'invoice.create'],
      ['POST', '/api.xro/2.0/Invoices', { Invoices: [{ InvoiceID: id }] }, 'invoice.update'],
      ['POST', `/api.xro/2.0/Invoices/${id}`, { Invoices: [{ Status: 'VOIDED' }] }, 'invoice.void'],
      ['GET', '/api.xro/2.0/Invoices', undefined, 'invoice.list'],
      ['GET', `/api.xro/2.0/Invoices/${id}`, undefined, 'invoice.read'],
      ['GET', `/api.xro/2.0/Invoices/${id}/OnlineInvoice`, undefined, 'invoice.link'],
      ['POST', `/api.xro/2.0/Invoices/${id}/Email`, {}, 'invoice.email'],
      ['GET', '/api.xro/2.0/Payments', undefined, 'payment.list'],
      ['PUT', '/api.xro/2.0/RepeatingInvoices', { RepeatingInvoices: [{}] }, 'recurring.create'],
      ['POST', `/api.xro/2.0/RepeatingInvoices/${id}`, { RepeatingInvoices: [{ Status: 'DELETED' }] }, 'recurring.stop'],
    ];
    expect(cases.map(([m, p, b]) => xeroOp(m, p, b))).toEqual(cases.map((c) => c[3]));
  });
});
