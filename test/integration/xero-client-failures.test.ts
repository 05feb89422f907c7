// What the Xero client makes of answers that are not plain successes: the minute limit (429 + Retry-After),
// the day quota (work paused, not failed), Xero's refusals in both forms, 401, 403 (wrong tenant), 5xx and
// timeouts on writes (resent under the same Idempotency-Key), and the 5-in-flight limit.
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { XeroClient, type XeroClientOptions } from '../../src/accounting/xero/client.js';
import type { XeroInvoiceInput } from '../../src/accounting/xero/types.js';
import { XeroApiMock, xeroOas } from '../support/xero-nock.js';

const TENANT = '7b1d9e40-0c4d-4a4b-9d0a-6a3b2f1e0c11';
const CONTACT = '1f0e2d3c-4b5a-4968-8776-655443322110';
const INVOICE = '4a4b4c4d-1111-4222-8333-944455556666';
const TAX_RATES = { TaxRates: [{ Name: 'No VAT', TaxType: 'NONE', EffectiveRate: 0, Status: 'ACTIVE' }] };
const silent = createLogger({ level: 'silent' });

let api: XeroApiMock;
let tokens: { current: string; refreshes: number };

function client(o: Partial<XeroClientOptions> = {}): XeroClient {
  return new XeroClient({
    tokens: {
      accessToken: async () => tokens.current,
      onUnauthorized: async (rejected) => {
        if (rejected === tokens.current) tokens.current = `access-${++tokens.refreshes + 1}`;
        return true;
      },
    },
    tenantId: () => TENANT,
    timeoutMs: 300,
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

const draft: XeroInvoiceInput = {
  Type: 'ACCREC',
  Contact: { ContactID: CONTACT },
  LineItems: [{ Description: 'Consulting', Quantity: 1, UnitAmount: 100, AccountCode: '200' }],
  Reference: 'Kommo deal 1234',
  Status: 'AUTHORISED',
};
const created = { Invoices: [{ InvoiceID: INVOICE, Status: 'AUTHORISED', InvoiceNumber: 'INV-1', HasErrors: false, HasAttachments: false }] };

beforeEach(async () => {
  api = new XeroApiMock(await xeroOas());
  tokens = { current: 'access-1', refreshes: 0 };
});
afterEach(() => {
  expect(api.violations).toEqual([]);
  nock.abortPendingRequests();
  nock.cleanAll();
});

describe('limits', () => {
  it('a 429 of the minute limit: waits the Retry-After seconds, then resends', async () => {
    const at: number[] = [];
    api.on('GET', '/TaxRates', (_req, n) => {
      at.push(Date.now());
      return n === 1 ? [429, undefined, { 'retry-after': '1', 'x-rate-limit-problem': 'minute' }] : [200, TAX_RATES];
    }, 2);
    const rates = await client().taxRates();
    expect(rates.map((r) => r.TaxType)).toEqual(['NONE']);
    expect(at).toHaveLength(2);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
  });

  it('the day quota reaching 0: the answer is used, then calls fail fast as retryable with retryAfter (no request sent) until the pause ends', async () => {
    api.on('GET', '/TaxRates', [200, TAX_RATES, { 'x-daylimit-remaining': '1', 'x-minlimit-remaining': '59' }]);
    api.on('GET', '/TaxRates', [200, TAX_RATES, { 'x-daylimit-remaining': '0', 'x-minlimit-remaining': '58' }]);
    const xero = client({ dayLimitPauseMs: 400 });
    await xero.taxRates();
    expect(xero.quotaSnapshot()).toMatchObject({ tenantId: TENANT, dayRemaining: 1, minuteRemaining: 59, pausedUntil: undefined });
    await xero.taxRates();
    expect(xero.quotaSnapshot().dayRemaining).toBe(0);

    const paused = await rejection(xero.currencies());
    expect(paused).toMatchObject({ code: 'xero_day_limit', kind: 'retryable', service: 'xero' });
    expect(paused.retryAfterMs).toBeGreaterThan(0);
    expect(paused.retryAfterMs).toBeLessThanOrEqual(400);
    expect(api.seen).toHaveLength(2);

    await new Promise((r) => setTimeout(r, 450));
    api.on('GET', '/Currencies', [200, { Currencies: [{ Code: 'EUR' }] }, { 'x-daylimit-remaining': '4999' }]);
    expect((await xero.currencies()).map((c) => c.Code)).toEqual(['EUR']);
    expect(xero.quotaSnapshot()).toMatchObject({ dayRemaining: 4999, pausedUntil: undefined });
  });

  it('a 429 of the day limit: paused for its Retry-After at once, not held inside the call', async () => {
    api.on('GET', '/TaxRates', [429, undefined, { 'retry-after': '3600', 'x-rate-limit-problem': 'day', 'x-daylimit-remaining': '0' }]);
    const xero = client();
    const started = Date.now();
    const err = await rejection(xero.taxRates());
    expect(Date.now() - started).toBeLessThan(500);
    expect(err).toMatchObject({ code: 'xero_day_limit', kind: 'retryable' });
    expect(err.retryAfterMs).toBeGreaterThan(3_590_000);
    expect(xero.quotaSnapshot().pausedUntil).toBeGreaterThan(Date.now() + 3_590_000);
    expect((await rejection(xero.currencies())).code).toBe('xero_day_limit');
    expect(api.seen).toHaveLength(1);
  });

  it('at most 5 requests in flight', async () => {
    let inFlight = 0;
    let most = 0;
    api.on('GET', '/TaxRates', async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 40));
      inFlight--;
      return [200, TAX_RATES];
    }, 12);
    const xero = client();
    await Promise.all(Array.from({ length: 12 }, () => xero.taxRates()));
    expect(api.seen).toHaveLength(12);
    expect(most).toBe(5);
  });
});

describe("Xero's refusals", () => {
  it('a 400 ValidationException becomes a permanent error carrying Elements[].ValidationErrors[].Message', async () => {
    api.on('PUT', '/Invoices', [
      400,
      {
        ErrorNumber: 10,
        Type: 'ValidationException',
        Message: 'A validation exception occurred',
        Elements: [{ InvoiceID: '00000000-0000-0000-0000-000000000000', ValidationErrors: [{ Message: 'Account code \'999\' is not a valid code for this document.' }, { Message: 'Invoice not of valid status for creation' }] }],
      },
    ]);
    const err = await rejection(client().createInvoice({ ...draft, LineItems: [{ Description: 'x', Quantity: 1, UnitAmount: 1, AccountCode: '999' }] }, 'deal:1:invoice'));
    expect(err).toMatchObject({ kind: 'permanent', code: 'xero_rejected', status: 400, service: 'xero' });
    expect(err.message).toBe("Xero rejected PUT /Invoices (ValidationException): Account code '999' is not a valid code for this document.; Invoice not of valid status for creation.");
  });

  it('a 200 answer whose element has StatusAttributeString ERROR (summarizeErrors=false) is refused just the same', async () => {
    api.on('PUT', '/Contacts', [
      200,
      { Contacts: [{ Name: 'Ada Lovelace', StatusAttributeString: 'ERROR', ValidationErrors: [{ Message: 'The contact name Ada Lovelace is already assigned to another contact. The contact name must be unique across all active contacts.' }], HasAttachments: false, HasValidationErrors: true }] },
    ]);
    const err = await rejection(client().createContact({ Name: 'Ada Lovelace' }, 'deal:1:contact'));
    expect(err).toMatchObject({ kind: 'permanent', code: 'xero_rejected' });
    expect(err.message).toContain('is already assigned to another contact');
    expect(api.seen[0]!.query).toEqual({ summarizeErrors: 'false' });
  });

  it('401: the token is refreshed once and the call sent again; a second 401 is not looped on', async () => {
    api.on('GET', '/TaxRates', (req) => (req.headers.authorization === 'Bearer access-1' ? [401, { Title: 'Unauthorized', Detail: 'TokenExpired: token expired at 03/11/2019 10:00:00' }] : [200, TAX_RATES]), 2);
    expect((await client().taxRates())[0]!.TaxType).toBe('NONE');
    expect(api.seen.map((r) => r.headers.authorization)).toEqual(['Bearer access-1', 'Bearer access-2']);

    api.on('GET', '/Currencies', [401, { Title: 'Unauthorized', Detail: 'AuthorizationUnsuccessful' }], 2);
    const err = await rejection(client().currencies());
    expect(err).toMatchObject({ code: 'xero_unauthorized', kind: 'retryable' });
    expect(api.seen).toHaveLength(4);
  });

  it('403 AuthenticationUnsuccessful (the organisation is not reachable with this login): permanent, saying how to fix it', async () => {
    api.on('GET', '/Organisation', [403, { Type: null, Title: 'Forbidden', Detail: 'AuthenticationUnsuccessful', Status: 403 }]);
    const err = await rejection(client().organisation());
    expect(err).toMatchObject({ code: 'xero_wrong_tenant', kind: 'permanent', status: 403 });
    expect(err.message).toContain(TENANT);
    expect(err.message).toContain('/connect');
  });

  it('404 with its plain-text body: permanent not found', async () => {
    api.on('GET', `/Invoices/${INVOICE}`, [404, 'The resource you\'re looking for cannot be found']);
    const err = await rejection(client().getInvoice(INVOICE));
    expect(err).toMatchObject({ code: 'xero_not_found', kind: 'permanent' });
    expect(err.message).toContain('cannot be found');
  });
});

describe('5xx and timeouts', () => {
  it('a PUT answered 503 is resent with the same Idempotency-Key (safe because of the key), and succeeds', async () => {
    api.on('PUT', '/Invoices', (_req, n) => (n === 1 ? [503, 'Service Unavailable'] : [200, created]), 2);
    const invoice = await client().createInvoice(draft, 'deal:1234:invoice');
    expect(invoice.InvoiceID).toBe(INVOICE);
    expect(api.seen.map((r) => r.headers['idempotency-key'])).toEqual(['deal:1234:invoice', 'deal:1234:invoice']);
    expect(api.seen[0]!.body).toEqual(api.seen[1]!.body);
  });

  it('a write that keeps timing out ends retryable and uncertain: the next attempt must look by Reference before it writes', async () => {
    api.on('PUT', '/Invoices', [200, created], 3, 1000);
    const err = await rejection(client({ maxRetries: 2 }).createInvoice(draft, 'deal:1234:invoice'));
    expect(err).toMatchObject({ code: 'xero_unreachable', kind: 'retryable', uncertain: true });
  });

  it('a read answered 500 is retried, then reported retryable', async () => {
    api.on('GET', '/TaxRates', [500, { Message: 'An error occurred in Xero.' }], 3);
    const err = await rejection(client({ maxRetries: 2 }).taxRates());
    expect(err).toMatchObject({ code: 'xero_unavailable', kind: 'retryable', uncertain: false });
    expect(api.seen).toHaveLength(3);
  });
});
