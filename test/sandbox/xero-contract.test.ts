// The fake Xero checks its traffic against the contract the repository carries (contract/xero, with the
// live-API differences of src/accounting/xero/contract/overrides.ts): what a client sends, what the fake
// answers (strictly), the operations it serves; the loader is the one Zoho's fake uses (sandbox/oas).
import { describe, expect, it } from 'vitest';
import { loadXeroContract } from '../../sandbox/xero/contract.js';
import { closeFakesAfterEach, startXero } from './xero-helpers.js';

closeFakesAfterEach();

describe('the contract', () => {
  it('reports an undocumented property in an answer, a request body the contract refuses, and an operation it lacks', async () => {
    const { fake, api } = await startXero();
    fake.faults.failNext(1, { status: 200, body: { Invoices: [{ InvoiceID: '5b0c1c4e-1111-4111-8111-111111111111', Colour: 'red' }] } });
    expect((await api.get('/Invoices')).status).toBe(200);
    await api.put('/Contacts', { Contacts: [{ Name: 'N', EmailAddress: 7 }] });
    const items = await api.get('/Items');
    expect([items.status, items.text]).toEqual([404, "The resource you're looking for cannot be found"]);
    expect(fake.violations.map((v) => [v.direction, v.messages])).toEqual([
      ['response', ['GET /Invoices (getInvoices): response 200 body/Invoices/0/Colour is not in the contract']],
      ['request', ['PUT /Contacts (createContacts): body/Contacts/0/EmailAddress must be string']],
      ['request', ['no operation GET /Items in the Xero contract']],
    ]);
    fake.violations.splice(0); // deliberate: the after-each check wants clean answers
  });

  it('routes every operation of contract/xero and compiles every schema, with the overrides applied', async () => {
    const oas = await loadXeroContract();
    const id = '5b0c1c4e-1111-4111-8111-111111111111';
    for (const [method, path, operationId] of [
      ['GET', `/Invoices/${id}/OnlineInvoice`, 'getOnlineInvoice'],
      ['POST', `/RepeatingInvoices/${id}`, 'updateRepeatingInvoice'],
      ['GET', '/connections', 'getConnections'],
      ['POST', 'invoices', 'publishInvoiceEvent'],
    ] as const) {
      expect(oas.operation(method, path)?.operationId).toBe(operationId);
    }
    // The overrides of src/accounting/xero/contract/overrides.ts apply, and nothing else is relaxed.
    const repeating = { RepeatingInvoices: [{ StatusAttributeString: 'ERROR', ValidationErrors: [{ Message: 'x' }] }] };
    expect(oas.validateResponse({ method: 'PUT', path: '/RepeatingInvoices', status: 200, body: repeating })).toEqual([]);
    expect(oas.validateResponse({ method: 'GET', path: '/Invoices', status: 200, body: { Status: 'OK', Invoices: [{ InvoiceID: id, DateString: '2026-01-01T00:00:00' }] } })).toEqual([
      'GET /Invoices (getInvoices): response 200 body/Status is not in the contract',
      'GET /Invoices (getInvoices): response 200 body/Invoices/0/DateString is not in the contract',
    ]);
    const intent = { events: [], firstEventSequence: 0, lastEventSequence: 0, entropy: 'ABC' };
    expect(oas.validate({ method: 'POST', path: 'invoices', query: {}, body: intent }, { strict: true })).toEqual([]);
    // What the fake sends as a webhook is held to the document as strictly as an answer.
    expect(oas.validate({ method: 'POST', path: 'invoices', query: {}, body: { ...intent, secret: 'x' } }, { strict: true })).toEqual([
      'POST invoices (publishInvoiceEvent): body/secret is not in the contract',
    ]);
    expect(oas.validateResponse({ method: 'PUT', path: '/Invoices', status: 400, body: { ErrorNumber: 10, Elements: [{ Name: 'x' }] } })).toEqual([
      'PUT /Invoices (createInvoices): response 400 body/Elements/0/Name is not in the contract',
    ]);
  });
});
