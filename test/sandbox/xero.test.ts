// The fake Xero behaves like Xero in the ways a client depends on (shared/reference/xero.md), through real
// HTTP: the identity server (authorize, token grants, rotating refresh tokens with a 30-minute grace,
// connections), the tenant header, Contacts and Invoices; and it checks all traffic against contract/xero.
import { describe, expect, it } from 'vitest';
import { closeFakesAfterEach, invoiceInput, newContact, newInvoice, startXero, where } from './xero-helpers.js';

closeFakesAfterEach();

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const MINUTE = 60_000;

async function tokenCall(base: string, auth: string | undefined, form: Record<string, string>) {
  const res = await fetch(`${base}/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe('identity', () => {
  it('authorizes with a redirect carrying code and state, and exchanges the code once, client credentials as HTTP Basic', async () => {
    const { fake, base } = await startXero();
    const redirect = 'http://127.0.0.1:1/connect/xero/callback';
    const url = `${base}/identity/connect/authorize?response_type=code&client_id=${fake.clientId}&redirect_uri=${encodeURIComponent(redirect)}&scope=${encodeURIComponent('offline_access accounting.invoices')}&state=s-42`;
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(redirect);
    expect(back.searchParams.get('state')).toBe('s-42');
    const code = back.searchParams.get('code')!;

    const auth = basic(fake.clientId, fake.clientSecret);
    expect((await tokenCall(base, undefined, { grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: fake.clientId, client_secret: fake.clientSecret })).json).toEqual({ error: 'invalid_client' });
    expect((await tokenCall(base, basic(fake.clientId, 'wrong'), { grant_type: 'authorization_code', code, redirect_uri: redirect })).status).toBe(401);
    const first = await tokenCall(base, auth, { grant_type: 'authorization_code', code, redirect_uri: redirect });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ token_type: 'Bearer', expires_in: 1800, scope: 'offline_access accounting.invoices' });
    expect(first.json.access_token).toEqual(expect.any(String));
    expect(first.json.refresh_token).toEqual(expect.any(String));
    expect(await tokenCall(base, auth, { grant_type: 'authorization_code', code, redirect_uri: redirect })).toEqual({ status: 400, json: { error: 'invalid_grant' } });
  });

  it('gives no refresh token without offline_access, and refuses a scope the app may not request', async () => {
    const { fake, base } = await startXero({ refusedScopes: ['accounting.transactions'] });
    const authorize = (scope: string) =>
      fetch(`${base}/identity/connect/authorize?response_type=code&client_id=${fake.clientId}&redirect_uri=http%3A%2F%2Fx.test%2Fcb&scope=${encodeURIComponent(scope)}&state=s`, { redirect: 'manual' });
    const refused = new URL((await authorize('offline_access accounting.transactions')).headers.get('location')!);
    expect(refused.searchParams.get('error')).toBe('invalid_scope');
    const code = new URL((await authorize('accounting.invoices')).headers.get('location')!).searchParams.get('code')!;
    const tokens = await tokenCall(base, basic(fake.clientId, fake.clientSecret), { grant_type: 'authorization_code', code, redirect_uri: 'http://x.test/cb' });
    expect(tokens.json.refresh_token).toBeUndefined();
  });

  it('rotates refresh tokens, keeps the previous one for a 30-minute grace, then answers invalid_grant', async () => {
    const { fake, base } = await startXero();
    const auth = basic(fake.clientId, fake.clientSecret);
    const refresh = (token: string) => tokenCall(base, auth, { grant_type: 'refresh_token', refresh_token: token });
    const first = await refresh(fake.refreshToken);
    expect(first.status).toBe(200);
    expect(first.json.refresh_token).not.toBe(fake.refreshToken);
    // The answer was "lost": the old token still works within the grace and gives yet another new one.
    fake.advanceTime(29 * MINUTE);
    const again = await refresh(fake.refreshToken);
    expect(again.status).toBe(200);
    expect(new Set([fake.refreshToken, first.json.refresh_token, again.json.refresh_token]).size).toBe(3);
    fake.advanceTime(2 * MINUTE);
    expect(await refresh(fake.refreshToken)).toEqual({ status: 400, json: { error: 'invalid_grant' } });
    // Unused tokens issued along the way still work.
    expect((await refresh(first.json.refresh_token)).status).toBe(200);
    expect((await refresh(again.json.refresh_token)).status).toBe(200);
    expect(fake.identity.grants.filter((g) => g.ok).length).toBe(4);
  });

  it('expires access tokens after their lifetime (configurable; 401 TokenExpired) and on demand', async () => {
    const { fake, api } = await startXero({ accessTokenTtlSeconds: 60 });
    expect((await api.get('/Organisation')).status).toBe(200);
    fake.advanceTime(61_000);
    const expired = await api.get('/Organisation');
    expect(expired.status).toBe(401);
    expect(expired.json.Detail).toMatch(/TokenExpired/);
    const fresh = fake.mintAccessToken();
    expect((await api.get('/Organisation', { token: fresh })).status).toBe(200);
    fake.expireAccessTokens();
    expect((await api.get('/Organisation', { token: fresh })).status).toBe(401);
    expect((await api.get('/Organisation', { token: 'not-a-token' })).json.Detail).toBe('AuthenticationUnsuccessful');
  });

  it('lists the connected organisations on GET /connections, filters by authEventId, and disconnects', async () => {
    const { fake, base, token, api } = await startXero({ tenants: [{ name: 'Acme UK' }, { name: 'Acme NZ', countryCode: 'NZ', baseCurrency: 'NZD' }] });
    const list = async (query = '') => {
      const res = await fetch(`${base}/connections${query}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, json: (await res.json().catch(() => undefined)) as any[] };
    };
    const all = await list();
    expect(all.json.map((c) => c.tenantName).sort()).toEqual(['Acme NZ', 'Acme UK']);
    expect(all.json.every((c) => c.tenantType === 'ORGANISATION' && fake.tenantIds.includes(c.tenantId))).toBe(true);
    const event = all.json[0].authEventId as string;
    const added = fake.addTenant({ name: 'Acme AU', countryCode: 'AU', baseCurrency: 'AUD' });
    expect((await list(`?authEventId=${event}`)).json).toEqual([]);
    expect((await list()).json.map((c) => c.tenantId)).toContain(added);
    expect((await fetch(`${base}/connections`)).status).toBe(401);
    // The identity document types authEventId as a uuid: a client sending anything else is reported.
    await list('?authEventId=last');
    expect(fake.violations.splice(0).flatMap((v) => v.messages)).toEqual(['GET /Connections (getConnections): query/authEventId must match format "uuid"']);

    const nz = all.json.find((c) => c.tenantName === 'Acme NZ');
    expect((await api.get('/Organisation', { tenant: nz.tenantId })).json.Organisations[0]).toMatchObject({ Name: 'Acme NZ', BaseCurrency: 'NZD', CountryCode: 'NZ' });
    const del = await fetch(`${base}/connections/${nz.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(del.status).toBe(204);
    expect((await api.get('/Organisation', { tenant: nz.tenantId })).status).toBe(403);
  });
});

describe('the xero-tenant-id header', () => {
  it('is required on every call: 403 AuthenticationUnsuccessful without it or for an unknown organisation', async () => {
    const { fake, api } = await startXero();
    const without = await api.get('/Invoices', { tenant: null });
    expect(without.status).toBe(403);
    expect(without.json).toMatchObject({ Status: 403, Detail: 'AuthenticationUnsuccessful' });
    expect((await api.get('/Invoices', { tenant: '5b0c1c4e-1111-4111-8111-111111111111' })).status).toBe(403);
    // The contract marks it required too: the request is recorded as a violation.
    expect(fake.violations.filter((v) => v.direction === 'request').flatMap((v) => v.messages)).toEqual([
      'GET /Invoices (getInvoices): header/xero-tenant-id is required',
    ]);
    fake.violations.splice(0);
  });
});

describe('contacts', () => {
  it('creates, finds by where EmailAddress, searchTerm, ID and ContactNumber, and refuses a duplicate active Name', async () => {
    const { fake, api } = await startXero();
    const id = await newContact(api, { Name: 'ACME GmbH', EmailAddress: 'Ada@Example.com', ContactNumber: 'kommo-77', DefaultCurrency: 'EUR', Addresses: [{ AddressType: 'STREET', Country: 'Germany' }] });
    await newContact(api, { Name: 'Other Ltd', EmailAddress: 'bob@example.com' });
    const byEmail = await api.get(`/Contacts?${where('EmailAddress=="ada@example.com"')}`);
    expect(byEmail.json.Contacts.map((c: any) => c.ContactID)).toEqual([id]);
    expect(Object.keys(byEmail.json)).toEqual(['Contacts']); // the envelope as documented
    expect((await api.get(`/Contacts?searchTerm=acme`)).json.Contacts.map((c: any) => c.Name)).toEqual(['ACME GmbH']);
    expect((await api.get(`/Contacts?searchTerm=example.com`)).json.Contacts).toHaveLength(2);
    const byId = (await api.get(`/Contacts/${id}`)).json.Contacts[0];
    expect(byId).toMatchObject({ ContactID: id, ContactNumber: 'kommo-77', DefaultCurrency: 'EUR', ContactStatus: 'ACTIVE', Addresses: [{ AddressType: 'STREET', Country: 'Germany' }] });
    expect(byId.UpdatedDateUTC).toMatch(/^\/Date\(\d+\+0000\)\/$/);
    expect((await api.get('/Contacts/kommo-77')).json.Contacts[0].ContactID).toBe(id);
    const missing = await api.get('/Contacts/kommo-78');
    expect([missing.status, missing.headers.get('content-type')?.startsWith('text/plain')]).toEqual([404, true]);

    const dup = await api.put('/Contacts', { Contacts: [{ Name: 'acme gmbh' }] });
    expect(dup.status).toBe(400);
    expect(dup.json).toMatchObject({ ErrorNumber: 10, Type: 'ValidationException' });
    expect(dup.json.Elements[0].ValidationErrors[0].Message).toMatch(/already assigned to another contact/);
    expect(fake.state.contacts.size).toBe(2);
  });

  it('compares where text case-sensitively when configured so', async () => {
    const { api } = await startXero({ caseSensitiveWhere: true });
    await newContact(api, { EmailAddress: 'Ada@Example.com' });
    expect((await api.get(`/Contacts?${where('EmailAddress=="ada@example.com"')}`)).json.Contacts).toEqual([]);
    expect((await api.get(`/Contacts?${where('EmailAddress.ToLower()=="ada@example.com"')}`)).json.Contacts).toHaveLength(1);
    expect((await api.get(`/Contacts?${where('EmailAddress=="ada@example.com" OR Name=="Ada Lovelace"')}`)).json.Contacts).toHaveLength(1);
    await newContact(api, { Name: 'No Mail Ltd', EmailAddress: undefined });
    expect((await api.get(`/Contacts?${where('EmailAddress==null')}`)).json.Contacts.map((c: any) => c.Name)).toEqual(['No Mail Ltd']);
    expect((await api.get(`/Contacts?${where('EmailAddress!=null')}`)).json.Contacts).toHaveLength(1);
    const bad = await api.get(`/Contacts?${where('EmailAddress === 1')}`);
    expect(bad.status).toBe(400);
  });
});

describe('invoices', () => {
  it('creates an ACCREC invoice with tax, currency, reference and due date, and answers in Xero\'s formats', async () => {
    const { api } = await startXero({ tenants: [{ name: 'Acme UK', currencies: ['EUR'] }] });
    const contact = await newContact(api);
    const inv = await newInvoice(api, contact, {
      CurrencyCode: 'EUR',
      LineItems: [
        { Description: 'Design', Quantity: 2, UnitAmount: 100.5, AccountCode: '200', TaxType: 'OUTPUT2' },
        { Description: 'Books', Quantity: 1, UnitAmount: 40, TaxType: 'ZERORATEDOUTPUT' },
      ],
    });
    expect(inv).toMatchObject({
      Type: 'ACCREC',
      InvoiceNumber: 'INV-0001',
      Reference: 'kommo-deal-31337',
      Status: 'AUTHORISED',
      CurrencyCode: 'EUR',
      LineAmountTypes: 'Exclusive',
      SubTotal: 241,
      TotalTax: 40.2,
      Total: 281.2,
      AmountDue: 281.2,
      AmountPaid: 0,
      Contact: { ContactID: contact },
      Date: `/Date(${Date.UTC(2026, 2, 1)}+0000)/`,
      DueDate: `/Date(${Date.UTC(2026, 2, 15)}+0000)/`,
      UpdatedDateUTCString: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(inv.InvoiceID).toMatch(/^[0-9a-f-]{36}$/);
    expect(inv.LineItems[0]).toMatchObject({ LineAmount: 201, TaxAmount: 40.2, TaxType: 'OUTPUT2' });
    expect((await api.get(`/Invoices/${inv.InvoiceID}`)).json.Invoices[0]).toEqual(inv);
    expect((await api.get('/Invoices/INV-0001')).json.Invoices[0].InvoiceID).toBe(inv.InvoiceID);

    const inclusive = await newInvoice(api, contact, { LineAmountTypes: 'Inclusive', LineItems: [{ Description: 'x', Quantity: 1, UnitAmount: 120, TaxType: 'OUTPUT2' }] });
    expect([inclusive.SubTotal, inclusive.TotalTax, inclusive.Total]).toEqual([100, 20, 120]);
  });

  it('lists by where Reference, Statuses, ContactIDs, searchTerm, pages, and If-Modified-Since', async () => {
    const { fake, api } = await startXero();
    const a = await newContact(api, { Name: 'A' });
    const b = await newContact(api, { Name: 'B' });
    const one = await newInvoice(api, a, { Reference: 'REL-1' });
    const two = await newInvoice(api, b, { Reference: 'REL-2', Status: 'DRAFT' });
    const ids = (res: { json: any }) => res.json.Invoices.map((i: any) => i.InvoiceID);
    expect(ids(await api.get(`/Invoices?${where('Reference=="REL-2"')}`))).toEqual([two.InvoiceID]);
    expect(ids(await api.get(`/Invoices?${where(`Contact.ContactID==guid("${a}")`)}`))).toEqual([one.InvoiceID]);
    expect(ids(await api.get('/Invoices?Statuses=DRAFT,SUBMITTED'))).toEqual([two.InvoiceID]);
    expect(ids(await api.get(`/Invoices?ContactIDs=${b}`))).toEqual([two.InvoiceID]);
    expect(ids(await api.get('/Invoices?searchTerm=rel-1'))).toEqual([one.InvoiceID]);
    expect(ids(await api.get(`/Invoices?${where('Date >= DateTime(2026, 03, 01) AND Total > 100 AND Status <> "DRAFT"')}`))).toEqual([one.InvoiceID]);
    expect(ids(await api.get(`/Invoices?${where('Date < DateTime(2026, 03, 01)')}`))).toEqual([]);
    expect(ids(await api.get('/Invoices?order=Reference DESC'))).toEqual([two.InvoiceID, one.InvoiceID]);
    const paged = await api.get('/Invoices?page=2&pageSize=1');
    expect(paged.json.pagination).toEqual({ page: 2, pageSize: 1, pageCount: 2, itemCount: 2 });
    expect(ids(paged)).toEqual([two.InvoiceID]);

    fake.advanceTime(5000);
    const since = new Date(fake.clock.now()).toISOString();
    fake.advanceTime(1000);
    await api.post(`/Invoices/${two.InvoiceID}`, { Invoices: [{ Status: 'AUTHORISED' }] });
    expect(ids(await api.get('/Invoices', { headers: { 'If-Modified-Since': since } }))).toEqual([two.InvoiceID]);
  });

  it('refuses an invalid invoice with 400 ValidationException, or per element with summarizeErrors=false', async () => {
    const { fake, api } = await startXero();
    const contact = await newContact(api);
    const bad = invoiceInput(contact, { CurrencyCode: 'JPY', LineItems: [{ Description: 'x', Quantity: 1, UnitAmount: 5, TaxType: 'NOPE' }] });
    const summarized = await api.put('/Invoices', { Invoices: [invoiceInput(contact), bad] });
    expect(summarized.status).toBe(400);
    expect(summarized.json).toMatchObject({ ErrorNumber: 10, Type: 'ValidationException', Message: expect.any(String) });
    expect(summarized.json.Elements[0].ValidationErrors.map((e: any) => e.Message)).toEqual([
      'The currency code JPY is not a valid currency for this organisation.',
      "The TaxType code 'NOPE' does not exist or cannot be used with this type of transaction.",
    ]);
    expect(fake.state.invoices.size).toBe(0); // the whole request was refused

    const perElement = await api.put('/Invoices?summarizeErrors=false', { Invoices: [invoiceInput(contact), bad] });
    expect(perElement.status).toBe(200);
    const [ok, failed] = perElement.json.Invoices;
    expect(ok.StatusAttributeString).toBe('OK');
    expect(failed).toMatchObject({ StatusAttributeString: 'ERROR', HasErrors: true, ValidationErrors: [{ Message: expect.stringMatching(/JPY/) }, { Message: expect.stringMatching(/NOPE/) }] });
    expect(fake.state.invoices.size).toBe(1);

    const dupNumber = await api.put('/Invoices', { Invoices: [invoiceInput(contact, { InvoiceNumber: ok.InvoiceNumber })] });
    expect(dupNumber.json.Elements[0].ValidationErrors).toEqual([{ Message: 'Invoice # must be unique.' }]);
  });

  it('moves through statuses as Xero allows: DELETED from draft, VOIDED from authorised, nothing from voided', async () => {
    const { api } = await startXero();
    const contact = await newContact(api);
    const status = async (id: string, s: string) => api.post(`/Invoices/${id}`, { Invoices: [{ Status: s }] });
    const draft = await newInvoice(api, contact, { Status: 'DRAFT' });
    expect((await status(draft.InvoiceID, 'DELETED')).json.Invoices[0].Status).toBe('DELETED');
    const approved = await newInvoice(api, contact);
    const del = await status(approved.InvoiceID, 'DELETED');
    expect([del.status, del.json.Elements[0].ValidationErrors[0].Message]).toEqual([400, 'Invoice with status AUTHORISED cannot be deleted.']);
    expect((await status(approved.InvoiceID, 'VOIDED')).json.Invoices[0].Status).toBe('VOIDED');
    expect((await status(approved.InvoiceID, 'AUTHORISED')).status).toBe(400);
    const viaPost = await api.post('/Invoices', { Invoices: [{ InvoiceID: draft.InvoiceID, Reference: 'x' }] });
    expect(viaPost.json.Elements[0].ValidationErrors[0].Message).toBe('Invoice not of valid status for modification');
  });

  it('emails approved invoices only (204, recorded with the contact address) and links the online invoice', async () => {
    const { fake, api } = await startXero();
    const contact = await newContact(api, { EmailAddress: 'billing@acme.test' });
    const draft = await newInvoice(api, contact, { Status: 'DRAFT' });
    const refused = await api.post(`/Invoices/${draft.InvoiceID}/Email`, {});
    expect([refused.status, refused.json.Elements[0].ValidationErrors[0].Message]).toEqual([400, 'Invoice not of valid status for sending']);
    expect((await api.get(`/Invoices/${draft.InvoiceID}/OnlineInvoice`)).status).toBe(400);

    const approved = await newInvoice(api, contact);
    const sent = await api.post(`/Invoices/${approved.InvoiceID}/Email`, {});
    expect([sent.status, sent.text]).toEqual([204, '']);
    expect(fake.state.emails).toEqual([expect.objectContaining({ invoiceId: approved.InvoiceID, to: 'billing@acme.test', via: 'api', tenantId: fake.tenantId })]);
    expect((await api.get(`/Invoices/${approved.InvoiceID}`)).json.Invoices[0].SentToContact).toBe(true);
    const online = await api.get(`/Invoices/${approved.InvoiceID}/OnlineInvoice`);
    expect(online.json.OnlineInvoices[0].OnlineInvoiceUrl).toMatch(/^https:\/\/in\.xero\.com\/\w{30,}$/);
    expect((await api.get(`/Invoices/${approved.InvoiceID}/OnlineInvoice`)).json.OnlineInvoices).toEqual(online.json.OnlineInvoices);
  });
});
