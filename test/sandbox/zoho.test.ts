// The fake Zoho Books + Accounts server behaves like the real API in the ways the relay depends on
// (shared/reference/zoho-books.md): OAuth quirks, auth and organization errors, string IDs, searches,
// invoice numbering and totals, rate limits, payments with workflow webhooks, OAS checks.
import axios from 'axios';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../sandbox/common.js';
import { ZohoCode, createFakeZoho, type FakeZoho, type FakeZohoOptions } from '../../sandbox/zoho/server.js';

const fakes: FakeZoho[] = [];
const receivers: Server[] = [];

afterEach(async () => {
  // Every answer of every test here is checked against Zoho's contract; requests may be wrong on purpose.
  const answers = fakes.flatMap((f) => f.violations.filter((v) => v.direction === 'response'));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
  expect(answers).toEqual([]);
  await Promise.all(receivers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function fake(opts: FakeZohoOptions = {}): FakeZoho {
  const f = createFakeZoho({ validateOas: true, ...opts });
  fakes.push(f);
  return f;
}

/** supertest helpers bound to one fake, one access token and its organization. */
function books(f: FakeZoho, token = f.mintAccessToken()) {
  const auth = { Authorization: `Zoho-oauthtoken ${token}` };
  const org = `organization_id=${f.organizationId}`;
  const withOrg = (path: string) => `/books/v3${path}${path.includes('?') ? '&' : '?'}${org}`;
  return {
    get: (path: string) => request(f.app).get(withOrg(path)).set(auth),
    post: (path: string, body?: object) => request(f.app).post(withOrg(path)).set(auth).send(body ?? {}),
    put: (path: string, body?: object) => request(f.app).put(withOrg(path)).set(auth).send(body ?? {}),
    del: (path: string) => request(f.app).delete(withOrg(path)).set(auth),
  };
}

function refreshParams(f: FakeZoho, overrides: Record<string, string> = {}) {
  return {
    grant_type: 'refresh_token',
    client_id: f.clientId,
    client_secret: f.clientSecret,
    refresh_token: f.refreshToken,
    ...overrides,
  };
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

async function webhookReceiver(status = 200): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = status;
      res.end('ok');
    });
  });
  receivers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/zoho`, received };
}

async function customerWithInvoice(f: FakeZoho, api = books(f), extra: object = {}) {
  const customerId = f.addContact({ name: `Customer ${Math.random()}`, email: 'buyer@example.com' });
  const res = await api.post('/invoices', {
    customer_id: customerId,
    line_items: [{ name: 'Consulting', rate: 100, quantity: 2 }],
    ...extra,
  });
  expect(res.status).toBe(201);
  return { customerId, invoiceId: res.body.invoice.invoice_id as string, res };
}

describe('Zoho Accounts (OAuth)', () => {
  it('refreshes a token from a form body or the query string and reports api_domain', async () => {
    const f = fake({ accessTokenTtlSeconds: 120 });
    const base = await f.listen();
    const form = await axios.post(`${base}/oauth/v2/token`, new URLSearchParams(refreshParams(f)));
    expect(form.status).toBe(200);
    expect(form.data).toMatchObject({ api_domain: base, token_type: 'Bearer', expires_in: 120 });
    expect(form.data.access_token).toMatch(/^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/);
    expect(form.data.refresh_token).toBeUndefined();

    const query = await axios.post(`${base}/oauth/v2/token?${new URLSearchParams(refreshParams(f))}`);
    expect(query.data.access_token).toBeTruthy();
    expect(f.state.tokenGrants).toBe(2);

    const ok = await axios.get(`${form.data.api_domain}/books/v3/organizations`, {
      headers: { Authorization: `Zoho-oauthtoken ${form.data.access_token}` },
    });
    expect(ok.data.organizations[0]).toMatchObject({ organization_id: f.organizationId, currency_code: 'EUR', is_default_org: true });
  });

  it('answers a wrong client or refresh token with HTTP 200 and an error body', async () => {
    const f = fake();
    const wrongSecret = await request(f.app).post('/oauth/v2/token').type('form').send(refreshParams(f, { client_secret: 'nope' }));
    expect(wrongSecret.status).toBe(200);
    expect(wrongSecret.body).toEqual({ error: 'invalid_client' });
    const wrongClient = await request(f.app).post('/oauth/v2/token').type('form').send(refreshParams(f, { client_id: '1000.OTHER' }));
    expect(wrongClient.body).toEqual({ error: 'invalid_client' });
    const badRefresh = await request(f.app).post('/oauth/v2/token').type('form').send(refreshParams(f, { refresh_token: '1000.x.y' }));
    expect(badRefresh.status).toBe(200);
    expect(badRefresh.body).toEqual({ error: 'invalid_code' });
    expect(f.state.tokenGrants).toBe(0);
  });

  it('caps access tokens per refresh token per window with HTTP 400 Access Denied', async () => {
    const f = fake({ tokenMintLimit: { limit: 3, windowMs: 300 } });
    for (let i = 0; i < 3; i++) {
      const res = await request(f.app).post('/oauth/v2/token').type('form').send(refreshParams(f));
      expect(res.body.access_token).toBeTruthy();
    }
    const denied = await request(f.app).post('/oauth/v2/token').type('form').send(refreshParams(f));
    expect(denied.status).toBe(400);
    expect(denied.body).toEqual({
      error: 'Access Denied',
      error_description: 'You have made too many requests continuously. Please try again after some time.',
    });
    expect(f.state.tokenGrants).toBe(3);
    await sleep(350);
    const again = await request(f.app).post('/oauth/v2/token').type('form').send(refreshParams(f));
    expect(again.body.access_token).toBeTruthy();
  });

  it('runs the authorization-code flow: redirect with location and accounts-server, single-use code', async () => {
    const f = fake({ dc: 'eu' });
    const base = await f.listen();
    const redirectUri = 'http://127.0.0.1:9/callback';
    const auth = await axios.get(`${base}/oauth/v2/auth`, {
      params: {
        scope: 'ZohoBooks.invoices.ALL,ZohoBooks.contacts.READ',
        client_id: f.clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        access_type: 'offline',
        prompt: 'consent',
        state: 'st+/=1',
      },
      maxRedirects: 0,
      validateStatus: () => true,
    });
    expect(auth.status).toBe(302);
    const location = new URL(String(auth.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get('location')).toBe('eu');
    expect(location.searchParams.get('accounts-server')).toBe(base);
    expect(location.searchParams.get('state')).toBe('st+/=1');
    const code = location.searchParams.get('code')!;

    const exchange = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: f.clientId, client_secret: f.clientSecret };
    const first = await axios.post(`${base}/oauth/v2/token`, new URLSearchParams(exchange));
    expect(first.data).toMatchObject({ api_domain: base, token_type: 'Bearer', expires_in: 3600 });
    expect(first.data.refresh_token).toMatch(/^1000\./);
    const reused = await axios.post(`${base}/oauth/v2/token`, new URLSearchParams(exchange));
    expect(reused.data).toEqual({ error: 'invalid_code' });

    // The granted scope is enforced: contacts are read-only for this token.
    const api = books(f, first.data.access_token);
    expect((await api.get('/contacts')).status).toBe(200);
    const create = await api.post('/contacts', { contact_name: 'Nope' });
    expect(create.status).toBe(401);
    expect(create.body.code).toBe(57);
  });
});

describe('Books API gate', () => {
  it('answers a missing, unknown or expired token with 401 code 57', async () => {
    const f = fake();
    const missing = await request(f.app).get(`/books/v3/contacts?organization_id=${f.organizationId}`);
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ code: 57, message: 'You are not authorized to perform this operation' });
    const api = books(f);
    expect((await api.get('/contacts')).status).toBe(200);
    f.expireAccessTokens();
    const expired = await api.get('/contacts');
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe(57);
  });

  it('requires a known organization_id on every call but GET /organizations', async () => {
    const f = fake();
    const token = f.mintAccessToken();
    const auth = { Authorization: `Zoho-oauthtoken ${token}` };
    const missing = await request(f.app).get('/books/v3/invoices').set(auth);
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ code: ZohoCode.organizationInvalid, message: 'organization_id is required' });
    const unknown = await request(f.app).get('/books/v3/invoices?organization_id=123').set(auth);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ code: ZohoCode.organizationInvalid, message: 'Organization ID is invalid' });
    expect((await request(f.app).get('/books/v3/organizations').set(auth)).status).toBe(200);
    const notARoute = await books(f, token).get('/nothing/here');
    expect(notARoute.status).toBe(404);
    expect(notARoute.body.code).toBe(5);
  });

  it('rate-limits per organization with X-Rate-Limit headers and 429 code 45, no Retry-After', async () => {
    const f = fake({ rateLimit: { limit: 3, windowMs: 1000 } });
    const api = books(f);
    const first = await api.get('/settings/taxes');
    expect(first.headers['x-rate-limit-limit']).toBe('3');
    expect(first.headers['x-rate-limit-remaining']).toBe('2');
    expect(Number(first.headers['x-rate-limit-reset'])).toBeGreaterThanOrEqual(1);
    await api.get('/settings/taxes');
    await api.get('/settings/taxes');
    const over = await api.get('/settings/taxes');
    expect(over.status).toBe(429);
    expect(over.body.code).toBe(45);
    expect(over.body.message).toMatch(/^You have made too many requests/);
    expect(over.headers['x-rate-limit-remaining']).toBe('0');
    expect(over.headers['retry-after']).toBeUndefined();
    await sleep(1050);
    expect((await api.get('/settings/taxes')).status).toBe(200);
  });

  it('injects faults in Zoho error format and logs requests', async () => {
    const f = fake();
    const api = books(f);
    f.faults.failNext(1, { status: 503 });
    const failed = await api.get('/contacts');
    expect(failed.status).toBe(503);
    expect(failed.body.code).toBe(ZohoCode.internal);
    expect((await api.get('/contacts')).status).toBe(200);
    expect(f.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /books/v3/contacts 503', 'GET /books/v3/contacts 200']);
  });
});

describe('IDs, settings and contacts', () => {
  it('serialises IDs as 19-digit strings in the raw JSON', async () => {
    const f = fake();
    const taxId = f.addTax({ name: 'VAT 19', percentage: 19, countryCode: 'DE' });
    const itemId = f.addItem({ name: 'Widget', sku: 'W-1', rate: 12.5 });
    const api = books(f);
    const contact = await api.post('/contacts', {
      contact_name: 'Big Numbers GmbH',
      contact_persons: [{ first_name: 'Ada', email: 'ada@example.com' }],
    });
    expect(contact.status).toBe(201);
    expect(contact.text).toMatch(/"contact_id":"\d{19}"/);
    expect(contact.text).toMatch(/"contact_person_id":"\d{19}"/);
    expect(contact.text).toMatch(/"currency_id":"\d{19}"/);
    const invoice = await api.post('/invoices', {
      customer_id: contact.body.contact.contact_id,
      line_items: [{ item_id: itemId, quantity: 1, tax_id: taxId }],
    });
    expect(invoice.status).toBe(201);
    for (const field of ['invoice_id', 'customer_id', 'line_item_id', 'item_id', 'tax_id'])
      expect(invoice.text).toMatch(new RegExp(`"${field}":"\\d{19}"`));

    const taxes = await api.get('/settings/taxes');
    expect(taxes.text).toContain(`"tax_id":"${taxId}"`);
    expect(taxes.body.taxes[0]).toMatchObject({ tax_name: 'VAT 19', tax_percentage: 19, tax_type: 'tax' });
    const items = await api.get('/items?sku=W-1');
    expect(items.body.items).toEqual([expect.objectContaining({ item_id: itemId, name: 'Widget', rate: 12.5 })]);
    const currencies = await api.get('/settings/currencies');
    expect(currencies.body.currencies[0]).toMatchObject({ currency_code: 'EUR', is_base_currency: true, price_precision: 2 });
  });

  it('searches contacts by the primary person email only, case-insensitively, with page_context', async () => {
    const f = fake();
    const api = books(f);
    const created = await api.post('/contacts', {
      contact_name: 'Primary Ltd',
      contact_type: 'customer',
      contact_persons: [
        { first_name: 'Sec', email: 'second@example.com' },
        { first_name: 'Pri', email: 'Boss@Example.com', is_primary_contact: true },
      ],
    });
    expect(created.body.contact.contact_persons.map((p: { is_primary_contact: boolean }) => p.is_primary_contact)).toEqual([false, true]);
    const hit = await api.get('/contacts?email=boss%40example.COM&contact_type=customer');
    expect(hit.body.contacts.map((c: { contact_name: string }) => c.contact_name)).toEqual(['Primary Ltd']);
    expect(hit.body.page_context).toMatchObject({ page: 1, per_page: 200, has_more_page: false });
    const secondary = await api.get('/contacts?email=second@example.com');
    expect(secondary.body.contacts).toEqual([]);

    for (let i = 0; i < 3; i++) f.addContact({ name: `Page ${i}` });
    const page = await api.get('/contacts?search_text=page&per_page=2&page=1');
    expect(page.body.contacts).toHaveLength(2);
    expect(page.body.page_context.has_more_page).toBe(true);
    const last = await api.get('/contacts?search_text=page&per_page=2&page=2');
    expect(last.body.page_context.has_more_page).toBe(false);
    expect((await api.get('/contacts?contact_name=primary%20ltd')).body.contacts).toHaveLength(1);
  });

  it('rejects a duplicate contact name with code 3062', async () => {
    const f = fake();
    const api = books(f);
    expect((await api.post('/contacts', { contact_name: 'Twin' })).status).toBe(201);
    const dup = await api.post('/contacts', { contact_name: 'Twin' });
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual({ code: 3062, message: 'The contact name already exists' });
    const missing = await api.post('/contacts', { company_name: 'No name' });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/contact_name/);
  });
});

describe('invoices', () => {
  it('creates with send=true: 201, one email, computed totals and a portal URL that round-trips', async () => {
    const f = fake();
    const taxId = f.addTax({ name: 'VAT 19', percentage: 19 });
    const customerId = f.addContact({ name: 'Mail Me', email: 'ap@example.com' });
    const api = books(f);
    const res = await api.post('/invoices?send=true', {
      customer_id: customerId,
      reference_number: 'deal-42',
      payment_terms: 14,
      line_items: [
        { name: 'Seats', rate: 19.99, quantity: 3, tax_id: taxId },
        { name: 'Setup', description: 'once', rate: 0.1, quantity: 0.3 },
      ],
      custom_fields: [{ api_name: 'cf_kommo_deal_id', value: '42' }],
    });
    expect(res.status).toBe(201);
    expect(res.body.code).toBe(0);
    expect(res.body.message).toBe('The invoice has been created.');
    const inv = res.body.invoice;
    expect(inv).toMatchObject({
      invoice_number: 'INV-000001',
      status: 'sent',
      customer_id: customerId,
      customer_name: 'Mail Me',
      currency_code: 'EUR',
      reference_number: 'deal-42',
      payment_terms: 14,
      payment_terms_label: 'Net 14',
      // 59.97 + 0.03 (0.1 × 0.3) = 60.00; tax 19% of 59.97 = 11.3943 -> 11.39
      sub_total: 60,
      tax_total: 11.39,
      total: 71.39,
      balance: 71.39,
    });
    expect(inv.line_items[0]).toMatchObject({ name: 'Seats', rate: 19.99, quantity: 3, tax_id: taxId, tax_percentage: 19, item_total: 59.97 });
    expect(inv.custom_fields[0]).toMatchObject({ api_name: 'cf_kommo_deal_id', value: '42' });
    expect(inv.invoice_url).toMatch(/^https:\/\/books\.zoho\.eu\/portal\/acme\/secure\?CInvoiceID=2-[0-9a-f]{64}&token=.*%2B/);
    expect(inv.last_modified_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$/);
    expect(f.emails).toEqual([expect.objectContaining({ invoiceId: inv.invoice_id, to: ['ap@example.com'] })]);

    const again = await api.get(`/invoices/${inv.invoice_id}`);
    expect(again.body.invoice.invoice_url).toBe(inv.invoice_url);
    expect(again.text).toContain(`"invoice_url":${JSON.stringify(inv.invoice_url)}`);
  });

  it('creates a draft and says so when send=true finds no email address', async () => {
    const f = fake();
    const customerId = f.addContact({ name: 'No Mail' });
    const res = await books(f).post('/invoices?send=true', { customer_id: customerId, line_items: [{ name: 'x', rate: 1, quantity: 1 }] });
    expect(res.status).toBe(201);
    expect(res.body.invoice.status).toBe('draft');
    expect(res.body.message).toMatch(/could not be sent/);
    expect(f.emails).toHaveLength(0);
  });

  it('validates customer, line items, tax and exchange rate', async () => {
    const f = fake();
    const api = books(f);
    const customerId = f.addContact({ name: 'Valid' });
    const cases: Array<[object, RegExp]> = [
      [{ customer_id: '1234567890123456789', line_items: [{ name: 'x', rate: 1 }] }, /customer_id/],
      [{ customer_id: customerId, line_items: [] }, /line_items/],
      [{ customer_id: customerId, line_items: [{ rate: 1 }] }, /item_id or a name/],
      [{ customer_id: customerId, line_items: [{ name: 'x', rate: 'abc' }] }, /rate/],
      [{ customer_id: customerId, line_items: [{ name: 'x', rate: 1, quantity: 0 }] }, /quantity/],
      [{ customer_id: customerId, line_items: [{ name: 'x', rate: 1, tax_id: '999' }] }, /tax_id/],
    ];
    for (const [body, message] of cases) {
      const res = await api.post('/invoices', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe(ZohoCode.invalidValue);
      expect(res.body.message).toMatch(message);
    }
    f.addCurrency({ code: 'USD', exchangeRate: 0.92 });
    const usdCustomer = f.addContact({ name: 'Dollar Inc', currencyCode: 'USD' });
    const noRate = await api.post('/invoices', { customer_id: usdCustomer, line_items: [{ name: 'x', rate: 1 }] });
    expect(noRate.status).toBe(400);
    expect(noRate.body.message).toMatch(/exchange_rate is required/);
    const withRate = await api.post('/invoices', { customer_id: usdCustomer, exchange_rate: 0.92, line_items: [{ name: 'x', rate: 1 }] });
    expect(withRate.body.invoice).toMatchObject({ currency_code: 'USD', exchange_rate: 0.92 });
  });

  it('computes money in minor units: precision 0, inclusive tax, discounts', async () => {
    const f = fake();
    const api = books(f);
    const vat = f.addTax({ name: 'VAT 19', percentage: 19 });
    const jct = f.addTax({ name: 'JCT 10', percentage: 10 });
    f.addCurrency({ code: 'JPY', exchangeRate: 0.0062 });
    const eur = f.addContact({ name: 'Euro' });
    const yen = f.addContact({ name: 'Yen', currencyCode: 'JPY' });
    const inclusive = await api.post('/invoices', {
      customer_id: eur,
      is_inclusive_tax: true,
      line_items: [{ name: 'Gross', rate: 119, quantity: 1, tax_id: vat }],
    });
    expect(inclusive.body.invoice).toMatchObject({ sub_total: 119, tax_total: 19, total: 119 });
    const discounted = await api.post('/invoices', {
      customer_id: eur,
      line_items: [
        { name: 'Pct', rate: 100, quantity: 1, discount: '10%' },
        { name: 'Amount', rate: 100, quantity: 1, discount: 5 },
      ],
    });
    expect(discounted.body.invoice.line_items.map((l: { item_total: number }) => l.item_total)).toEqual([90, 95]);
    expect(discounted.body.invoice.total).toBe(185);
    const yenInvoice = await api.post('/invoices', {
      customer_id: yen,
      exchange_rate: 0.0062,
      line_items: [{ name: 'Half', rate: 1000.5, quantity: 1, tax_id: jct }],
    });
    expect(yenInvoice.body.invoice).toMatchObject({ currency_code: 'JPY', sub_total: 1001, tax_total: 100, total: 1101 });
  });

  it('derives overdue, filters unpaid, refuses to delete a paid invoice, answers bad JSON with 1038', async () => {
    const f = fake();
    const api = books(f);
    const { invoiceId } = await customerWithInvoice(f, api, { date: '2020-01-01', payment_terms: 30 });
    await api.post(`/invoices/${invoiceId}/status/sent`);
    const inv = (await api.get(`/invoices/${invoiceId}`)).body.invoice;
    expect(inv).toMatchObject({ status: 'overdue', due_date: '2020-01-31', payment_terms_label: 'Net 30' });
    expect((await api.get('/invoices?status=unpaid')).body.invoices).toHaveLength(1);
    expect((await api.get('/invoices?status=paid')).body.invoices).toHaveLength(0);
    expect((await api.get('/invoices?per_page=201')).status).toBe(400);
    f.recordPayment(invoiceId, { amount: 1 });
    const del = await api.del(`/invoices/${invoiceId}`);
    expect(del.status).toBe(400);
    expect(del.body.code).toBe(ZohoCode.invoiceHasPayments);
    const bad = await api.post('/contacts').set('Content-Type', 'application/json').send('{"contact_name":');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(ZohoCode.malformedJson);
  });

  it("keeps a contact's currency once it has transactions", async () => {
    const f = fake();
    const api = books(f);
    const usd = f.addCurrency({ code: 'USD' });
    const { customerId } = await customerWithInvoice(f, api);
    const res = await api.put(`/contacts/${customerId}`, { currency_id: usd });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(ZohoCode.contactCurrencyLocked);
    const fresh = f.addContact({ name: 'Fresh' });
    expect((await api.put(`/contacts/${fresh}`, { currency_id: usd })).body.contact.currency_code).toBe('USD');
  });

  it('numbers manually with ignore_auto_number_generation and rejects a duplicate with code 1001', async () => {
    const f = fake();
    const api = books(f);
    const customerId = f.addContact({ name: 'Numbers' });
    const body = { customer_id: customerId, invoice_number: 'KOMMO-7', line_items: [{ name: 'x', rate: 5, quantity: 1 }] };
    const first = await api.post('/invoices?ignore_auto_number_generation=true', body);
    expect(first.status).toBe(201);
    expect(first.body.invoice.invoice_number).toBe('KOMMO-7');
    const dup = await api.post('/invoices?ignore_auto_number_generation=true', body);
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual({ code: 1001, message: 'Invoice number already exists' });
    const noNumber = await api.post('/invoices?ignore_auto_number_generation=true', { ...body, invoice_number: undefined });
    expect(noNumber.status).toBe(400);
    const auto = await api.post('/invoices', body);
    expect(auto.body.invoice.invoice_number).toBe('INV-000001');
  });

  it('filters by exact reference_number', async () => {
    const f = fake();
    const api = books(f);
    const customerId = f.addContact({ name: 'Refs' });
    for (const ref of ['REF-1', 'REF-10', 'XREF-1'])
      await api.post('/invoices', { customer_id: customerId, reference_number: ref, line_items: [{ name: 'x', rate: 1 }] });
    const res = await api.get('/invoices?reference_number=REF-1');
    expect(res.body.invoices.map((i: { reference_number: string }) => i.reference_number)).toEqual(['REF-1']);
    expect(res.body.page_context.has_more_page).toBe(false);
  });

  it('filters by last_modified_time with an encoded or a decoded "+" offset', async () => {
    const f = fake();
    const api = books(f);
    const { invoiceId } = await customerWithInvoice(f, api);
    const stamp = (await api.get(`/invoices/${invoiceId}`)).body.invoice.last_modified_time as string;
    const future = '2999-01-01T00:00:00+0000';
    const list = async (raw: string) =>
      (await api.get(`/invoices?last_modified_time=${raw}&sort_column=last_modified_time&sort_order=A`)).body.invoices.map(
        (i: { invoice_id: string }) => i.invoice_id,
      );
    expect(await list(stamp.replace('+', '%2B'))).toEqual([invoiceId]);
    expect(await list(stamp)).toEqual([invoiceId]); // raw '+' arrives as a space
    expect(await list(future.replace('+', '%2B'))).toEqual([]);
    expect(await list(future)).toEqual([]);
    expect(await list('2000-01-01T00:00:00-0800')).toEqual([invoiceId]);
    const bad = await api.get('/invoices?last_modified_time=yesterday');
    expect(bad.status).toBe(400);
  });

  it('emails a draft (then sent), voids, and lists payments', async () => {
    const f = fake();
    const api = books(f);
    const { invoiceId } = await customerWithInvoice(f, api);
    expect((await api.post(`/invoices/${invoiceId}/email`, { to_mail_ids: [] })).status).toBe(400);
    const mail = await api.post(`/invoices/${invoiceId}/email`, { to_mail_ids: ['x@example.com'], subject: 'Your invoice' });
    expect(mail.status).toBe(200);
    expect(f.emails).toEqual([expect.objectContaining({ invoiceId, to: ['x@example.com'], subject: 'Your invoice' })]);
    expect((await api.get(`/invoices/${invoiceId}`)).body.invoice.status).toBe('sent');
    const paymentId = f.recordPayment(invoiceId, { amount: 50, date: '2024-05-01' });
    const payments = await api.get(`/invoices/${invoiceId}/payments`);
    expect(payments.body.payments).toEqual([
      expect.objectContaining({ payment_id: paymentId, amount: 50, date: '2024-05-01', payment_mode: 'banktransfer' }),
    ]);
    expect(payments.text).toMatch(/"invoice_payment_id":"\d{19}"/);
    expect((await api.post(`/invoices/${invoiceId}/status/void`)).status).toBe(200);
    const voided = (await api.get(`/invoices/${invoiceId}`)).body.invoice;
    expect(voided).toMatchObject({ status: 'void', balance: 0 });
    expect((await api.get(`/invoices/${invoiceId}/payments`)).body.payments).toEqual([]);
  });

  it('upserts by a unique custom field with X-Unique-Identifier-Key/Value and X-Upsert', async () => {
    const f = fake();
    f.addCustomField({ entity: 'invoice', label: 'Kommo deal', apiName: 'cf_kommo_deal', unique: true });
    const customerId = f.addContact({ name: 'Upsert' });
    const token = f.mintAccessToken();
    const put = (amount: number) =>
      request(f.app)
        .put(`/books/v3/invoices?organization_id=${f.organizationId}`)
        .set({
          Authorization: `Zoho-oauthtoken ${token}`,
          'X-Unique-Identifier-Key': 'cf_kommo_deal',
          'X-Unique-Identifier-Value': 'deal-9',
          'X-Upsert': 'true',
        })
        .send({ customer_id: customerId, line_items: [{ name: 'x', rate: amount, quantity: 1 }] });
    const created = await put(10);
    expect(created.status).toBe(200); // the contract documents 200 for this operation, created or updated
    expect(created.body.message).toMatch(/created/i);
    const updated = await put(20);
    expect(updated.status).toBe(200);
    expect(updated.body.invoice.invoice_id).toBe(created.body.invoice.invoice_id);
    expect(updated.body.invoice.total).toBe(20);
    expect(f.state.invoices.size).toBe(1);
    const dup = await books(f, token).post('/invoices', {
      customer_id: customerId,
      line_items: [{ name: 'x', rate: 1 }],
      custom_fields: [{ api_name: 'cf_kommo_deal', value: 'deal-9' }],
    });
    expect(dup.status).toBe(400);
    expect(dup.body.code).toBe(ZohoCode.customFieldValueExists);
  });
});

describe('payments and workflow webhooks', () => {
  it('records a payment: balance, status, customer payment with a 19-digit id, last_modified_time', async () => {
    const f = fake();
    const api = books(f);
    const { invoiceId, customerId } = await customerWithInvoice(f, api);
    const before = (await api.get(`/invoices/${invoiceId}`)).body.invoice;
    await sleep(1100); // last_modified_time has one-second resolution
    const paymentId = f.recordPayment(invoiceId, { amount: 150 });
    expect(paymentId).toMatch(/^\d{19}$/);
    const partly = (await api.get(`/invoices/${invoiceId}`)).body.invoice;
    expect(partly).toMatchObject({ status: 'partially_paid', balance: 50, payment_made: 150 });
    expect(partly.last_modified_time > before.last_modified_time).toBe(true);
    f.recordPayment(invoiceId, { amount: 50 });
    expect((await api.get(`/invoices/${invoiceId}`)).body.invoice).toMatchObject({ status: 'paid', balance: 0 });

    const list = await api.get(`/customerpayments?customer_id=${customerId}`);
    expect(list.body.customer_payments).toHaveLength(2);
    expect(list.text).toContain(`"payment_id":"${paymentId}"`);
    const one = await api.get(`/customerpayments/${paymentId}`);
    expect(one.body.payment).toMatchObject({ payment_id: paymentId, amount: 150, customer_id: customerId });
    expect(one.body.payment.invoices[0]).toMatchObject({ invoice_id: invoiceId, amount_applied: 150 });
    const since = await api.get(`/customerpayments?last_modified_time=${encodeURIComponent(before.last_modified_time)}`);
    expect(since.body.customer_payments).toHaveLength(2);
  });

  it('posts the default record JSON, signed with HMAC-SHA256 of the raw body', async () => {
    const f = fake();
    const hook = await webhookReceiver();
    f.setWorkflowWebhook({ url: hook.url, format: 'json', signingSecret: 's3cret', headers: { 'X-Relay-Token': 'abc' } });
    const { invoiceId } = await customerWithInvoice(f);
    f.recordPayment(invoiceId, { amount: 200 });
    await f.flushWebhooks();
    expect(hook.received).toHaveLength(1);
    const [got] = hook.received;
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['x-relay-token']).toBe('abc');
    expect(got!.headers['x-zoho-webhook-signature']).toBe(createHmac('sha256', 's3cret').update(got!.body).digest('hex'));
    expect(got!.body).toMatch(new RegExp(`"invoice_id":"${invoiceId}"`));
    expect(JSON.parse(got!.body).invoice).toMatchObject({ status: 'paid', balance: 0 });
  });

  it('posts form fields or a raw body, and drops webhooks on request', async () => {
    const f = fake();
    const hook = await webhookReceiver();
    const { invoiceId } = await customerWithInvoice(f);
    const invoiceNumber = f.state.invoices.get(invoiceId)!.invoiceNumber;

    f.setWorkflowWebhook({ url: hook.url, format: 'form' });
    f.recordPayment(invoiceId, { amount: 20 });
    await f.flushWebhooks();
    expect(hook.received[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(hook.received[0]!.body))).toEqual({
      invoice_id: invoiceId,
      invoice_number: invoiceNumber,
      status: 'partially_paid',
      balance: '180',
    });

    f.setWorkflowWebhook({ url: hook.url, format: 'raw' });
    f.dropNextWebhooks(1);
    f.recordPayment(invoiceId, { amount: 30 });
    f.recordPayment(invoiceId, { amount: 40 });
    await f.flushWebhooks();
    expect(hook.received).toHaveLength(2);
    expect(hook.received[1]!.body).toBe(`{"invoice_id":"${invoiceId}","event":"payment"}`);
    expect(f.webhookDeliveries.map((d) => d.dropped)).toEqual([false, true, false]);
  });

  it('retries a failed delivery when the workflow asks for retries', async () => {
    const f = fake();
    const hook = await webhookReceiver(500);
    f.setWorkflowWebhook({ url: hook.url, format: 'raw', retries: 2, retryDelayMs: 10 });
    const { invoiceId } = await customerWithInvoice(f);
    f.recordPayment(invoiceId, { amount: 1 });
    await f.flushWebhooks();
    expect(hook.received).toHaveLength(3);
    expect(f.webhookDeliveries[0]).toMatchObject({ attempts: 3, status: 500 });
  });
});

describe('OAS validation', () => {
  it('records violations for a bad body and none for a good one, still serving the call', async () => {
    const f = fake({ validateOas: true });
    await f.ready();
    const api = books(f);
    const customerId = f.addContact({ name: 'Oas', email: 'oas@example.com' });
    const good = await api.post('/invoices', {
      customer_id: customerId,
      reference_number: 'ok',
      line_items: [{ name: 'Service', rate: 10, quantity: 1 }],
    });
    expect(good.status).toBe(201);
    await api.get('/invoices?reference_number=ok');
    await api.get('/organizations');
    expect(f.violations).toEqual([]);

    const bad = await api.post('/invoices', { customer_id: customerId, line_items: [{ name: 'Service', rate: '10', quantity: 1 }] });
    expect(bad.status).toBe(201); // Zoho takes numeric strings; the OAS says number
    expect(f.violations).toHaveLength(1);
    expect(f.violations[0]).toMatchObject({ method: 'POST', path: '/invoices', operationId: 'create_invoice' });
    expect(f.violations[0]!.messages.join('\n')).toMatch(/rate/);
  });
});

describe('recurring invoices', () => {
  it('creates, finds by name, stops, resumes, generates an invoice and deletes', async () => {
    const f = fake();
    const api = books(f);
    const customerId = f.addContact({ name: 'Subscriber', email: 'sub@example.com' });
    const body = {
      recurrence_name: 'Deal 77 monthly',
      customer_id: customerId,
      recurrence_frequency: 'months',
      repeat_every: 1,
      start_date: '2024-01-31',
      line_items: [{ name: 'Plan', rate: 49.5, quantity: 1 }],
      reference_number: 'deal-77',
    };
    const created = await api.post('/recurringinvoices', body);
    expect(created.status).toBe(201);
    const rec = created.body.recurring_invoice;
    // Zoho's contract names the profile's ID recurring_invoice_id and documents no status in its answers.
    expect(rec).toMatchObject({ recurrence_name: 'Deal 77 monthly', reference_number: 'deal-77', next_invoice_date: '2024-01-31' });
    expect(rec.line_items).toMatchObject([{ name: 'Plan', quantity: 1, item_total: 49.5 }]);
    expect(created.text).toMatch(/"recurring_invoice_id":"\d{19}"/);
    expect(created.text).not.toMatch(/recurrence_id|"status"/);
    const id = rec.recurring_invoice_id as string;
    const status = () => f.state.recurring.get(id)?.status;
    expect(status()).toBe('active');

    const dup = await api.post('/recurringinvoices', body);
    expect(dup.status).toBe(400);
    expect(dup.body.code).toBe(ZohoCode.recurrenceNameExists);
    expect((await api.post('/recurringinvoices', { ...body, recurrence_name: 'x', recurrence_frequency: 'hourly' })).status).toBe(400);

    const found = await api.get('/recurringinvoices?recurrence_name=Deal%2077%20monthly');
    expect(found.body.recurring_invoices.map((r: { recurring_invoice_id: string }) => r.recurring_invoice_id)).toEqual([id]);

    expect((await api.post(`/recurringinvoices/${id}/status/stop`)).body.code).toBe(0);
    expect(status()).toBe('stopped');
    // A stopped profile has no next invoice date.
    expect((await api.get(`/recurringinvoices/${id}`)).body.recurring_invoice).toMatchObject({ recurring_invoice_id: id, next_invoice_date: '' });
    expect(() => f.generateRecurringInvoice(id)).toThrow(/stopped/);
    await api.post(`/recurringinvoices/${id}/status/resume`);
    expect(status()).toBe('active');

    const invoiceId = f.generateRecurringInvoice(id);
    const inv = (await api.get(`/invoices/${invoiceId}`)).body.invoice;
    expect(inv).toMatchObject({ recurring_invoice_id: id, reference_number: 'deal-77', total: 49.5, status: 'sent' });
    expect((await api.get(`/invoices?recurring_invoice_id=${id}`)).body.invoices).toHaveLength(1);

    expect((await api.del(`/recurringinvoices/${id}`)).status).toBe(200);
    const gone = await api.get(`/recurringinvoices/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe(ZohoCode.notFound);
  });
});

describe('/_sandbox control routes', () => {
  it('seeds, records payments, injects faults, expires tokens and reports state over HTTP', async () => {
    const f = fake();
    const base = await f.listen();
    const creds = (await axios.get(`${base}/_sandbox/credentials`)).data;
    expect(creds).toMatchObject({ organization_id: f.organizationId, client_id: f.clientId, base_url: base });
    const token = (await axios.post(`${base}/oauth/v2/token`, new URLSearchParams(refreshParams(f)))).data.access_token as string;
    const headers = { Authorization: `Zoho-oauthtoken ${token}` };
    const params = { organization_id: f.organizationId };

    const { contact_id } = (await axios.post(`${base}/_sandbox/contacts`, { name: 'Remote', email: 'r@example.com' })).data;
    const inv = await axios.post(
      `${base}/books/v3/invoices`,
      { customer_id: contact_id, line_items: [{ name: 'x', rate: 10 }] },
      { headers, params },
    );
    const invoiceId = inv.data.invoice.invoice_id as string;
    const pay = await axios.post(`${base}/_sandbox/invoices/${invoiceId}/payments`, { amount: 10 });
    expect(pay.data.payment_id).toMatch(/^\d{19}$/);

    const state = (await axios.get(`${base}/_sandbox/state`)).data;
    expect(state.token_grants).toBe(1);
    expect(state.invoices[0]).toMatchObject({ invoice_id: invoiceId, status: 'paid' });

    await axios.post(`${base}/_sandbox/faults`, { failNext: { count: 1, status: 500 } });
    const faulted = await axios.get(`${base}/books/v3/contacts`, { headers, params, validateStatus: () => true });
    expect(faulted.status).toBe(500);

    await axios.post(`${base}/_sandbox/expire-tokens`);
    const expired = await axios.get(`${base}/books/v3/contacts`, { headers, params, validateStatus: () => true });
    expect(expired.status).toBe(401);

    const logged = (await axios.get(`${base}/_sandbox/requests`)).data as Array<{ path: string; status: number }>;
    expect(logged.map((r) => r.path)).toContain('/oauth/v2/token');
    expect((await axios.get(`${base}/_sandbox/violations`)).data).toEqual([]);
    const bad = await axios.post(`${base}/_sandbox/invoices/123/payments`, { amount: 1 }, { validateStatus: () => true });
    expect(bad.status).toBe(400);
  });
});
