// The fake Xero's money flows and write safety, through real HTTP: payments (partial, full, deleted),
// repeating invoices (create, run, stop — only DELETED is accepted), and Idempotency-Key on writes.
import { describe, expect, it } from 'vitest';
import { closeFakesAfterEach, invoiceInput, newContact, newInvoice, startXero, where } from './xero-helpers.js';

closeFakesAfterEach();

describe('payments', () => {
  it('records partial and full payments through the control route: AmountPaid, AmountDue, PAID, FullyPaidOnDate', async () => {
    const { fake, base, api } = await startXero();
    const inv = await newInvoice(api, await newContact(api)); // 240.00 incl. 20 % VAT
    const pay = (amount: number, date?: string) =>
      fetch(`${base}/_sandbox/invoices/${inv.InvoiceID}/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount, date }) });
    expect((await pay(100, '2026-03-20')).status).toBe(201);
    let now = (await api.get(`/Invoices/${inv.InvoiceID}`)).json.Invoices[0];
    expect(now).toMatchObject({ Status: 'AUTHORISED', AmountPaid: 100, AmountDue: 140, Payments: [{ Amount: 100 }] });
    expect((await pay(500)).status).toBe(400); // more than is due
    await pay(140, '2026-03-25');
    now = (await api.get(`/Invoices/${inv.InvoiceID}`)).json.Invoices[0];
    expect(now).toMatchObject({ Status: 'PAID', AmountPaid: 240, AmountDue: 0, FullyPaidOnDate: `/Date(${Date.UTC(2026, 2, 25)}+0000)/` });

    const payments = (await api.get('/Payments')).json.Payments;
    expect(payments).toHaveLength(2);
    expect(payments[0]).toMatchObject({ PaymentType: 'ACCRECPAYMENT', Status: 'AUTHORISED', Amount: 100, Invoice: { InvoiceID: inv.InvoiceID } });
    expect((await api.get(`/Payments?${where(`Invoice.InvoiceID==guid("${inv.InvoiceID}") AND Amount==140`)}`)).json.Payments).toHaveLength(1);
    const voidPaid = await api.post(`/Invoices/${inv.InvoiceID}`, { Invoices: [{ Status: 'VOIDED' }] });
    expect(voidPaid.status).toBe(400);

    // A deleted payment reopens the invoice.
    const deleted = await api.post(`/Payments/${payments[1].PaymentID}`, { Status: 'DELETED' });
    expect(deleted.json.Payments[0].Status).toBe('DELETED');
    now = (await api.get(`/Invoices/${inv.InvoiceID}`)).json.Invoices[0];
    expect(now).toMatchObject({ Status: 'AUTHORISED', AmountPaid: 100, AmountDue: 140 });
    expect(now.FullyPaidOnDate).toBeUndefined();
    expect([...fake.state.payments.values()].map((p) => p.status)).toEqual(['AUTHORISED', 'DELETED']);
  });

  it('takes payments only on approved invoices', async () => {
    const { fake, api } = await startXero();
    const draft = await newInvoice(api, await newContact(api), { Status: 'DRAFT' });
    expect(() => fake.recordPayment(draft.InvoiceID, { amount: 1 })).toThrow();
  });
});

describe('repeating invoices', () => {
  const template = (contactId: string, extra: Record<string, unknown> = {}) => ({
    Type: 'ACCREC',
    Contact: { ContactID: contactId },
    LineItems: [{ Description: 'Retainer', Quantity: 1, UnitAmount: 500, AccountCode: '200', TaxType: 'OUTPUT2' }],
    Reference: 'kommo-deal-9',
    CurrencyCode: 'GBP',
    Status: 'AUTHORISED',
    ApprovedForSending: true,
    Schedule: { Period: 1, Unit: 'MONTHLY', DueDate: 14, DueDateType: 'DAYSAFTERBILLDATE', StartDate: '2026-04-30' },
    ...extra,
  });

  it('creates a template, generates invoices that carry RepeatingInvoiceID, and moves NextScheduledDate', async () => {
    const { fake, base, api } = await startXero();
    const contact = await newContact(api, { EmailAddress: 'ops@acme.test' });
    const created = await api.put('/RepeatingInvoices', { RepeatingInvoices: [template(contact)] });
    expect(created.status).toBe(200);
    const r = created.json.RepeatingInvoices[0];
    expect(r).toMatchObject({ Status: 'AUTHORISED', Reference: 'kommo-deal-9', Total: 600, ID: r.RepeatingInvoiceID, Schedule: { Unit: 'MONTHLY', NextScheduledDate: `/Date(${Date.UTC(2026, 3, 30)}+0000)/` } });
    expect((await api.get(`/RepeatingInvoices?${where('Reference=="kommo-deal-9"')}`)).json.RepeatingInvoices).toHaveLength(1);

    const run = await fetch(`${base}/_sandbox/repeating-invoices/${r.RepeatingInvoiceID}/run`, { method: 'POST' });
    const { InvoiceID } = (await run.json()) as { InvoiceID: string };
    const generated = (await api.get(`/Invoices/${InvoiceID}`)).json.Invoices[0];
    expect(generated).toMatchObject({ RepeatingInvoiceID: r.RepeatingInvoiceID, Reference: 'kommo-deal-9', Status: 'AUTHORISED', Total: 600, DueDate: `/Date(${Date.UTC(2026, 4, 14)}+0000)/` });
    expect(fake.state.emails).toEqual([expect.objectContaining({ invoiceId: InvoiceID, via: 'schedule', to: 'ops@acme.test' })]);
    // 30 April + 1 month keeps the month's end: 30 May.
    expect((await api.get(`/RepeatingInvoices/${r.RepeatingInvoiceID}`)).json.RepeatingInvoices[0].Schedule.NextScheduledDate).toBe(`/Date(${Date.UTC(2026, 4, 30)}+0000)/`);
    fake.runRepeatingInvoice(r.RepeatingInvoiceID);
    expect((await api.get(`/Invoices?${where(`RepeatingInvoiceID==guid("${r.RepeatingInvoiceID}")`)}`)).json.Invoices).toHaveLength(2);
  });

  it('accepts only Status DELETED on an existing template; a deleted one generates nothing more', async () => {
    const { fake, api } = await startXero();
    const contact = await newContact(api);
    const r = (await api.put('/RepeatingInvoices', { RepeatingInvoices: [template(contact)] })).json.RepeatingInvoices[0];
    for (const change of [{ Status: 'DRAFT' }, { Reference: 'paused' }, { Status: 'AUTHORISED' }]) {
      const res = await api.post(`/RepeatingInvoices/${r.RepeatingInvoiceID}`, { RepeatingInvoices: [change] });
      expect([res.status, res.json.Message]).toEqual([400, 'Repeating invoice status must be set to DELETED']);
    }
    const stopped = await api.post('/RepeatingInvoices', { RepeatingInvoices: [{ RepeatingInvoiceID: r.RepeatingInvoiceID, Status: 'DELETED' }] });
    expect(stopped.json.RepeatingInvoices[0].Status).toBe('DELETED');
    expect(() => fake.runRepeatingInvoice(r.RepeatingInvoiceID)).toThrow(/deleted/);
    const noSchedule = await api.put('/RepeatingInvoices', { RepeatingInvoices: [template(contact, { Schedule: undefined })] });
    expect(noSchedule.json.Elements[0].ValidationErrors[0].Message).toMatch(/Schedule/);
    const perElement = await api.put('/RepeatingInvoices?summarizeErrors=false', { RepeatingInvoices: [template(contact, { Schedule: undefined })] });
    expect(perElement.status).toBe(200);
    expect(perElement.json.RepeatingInvoices[0]).toMatchObject({ StatusAttributeString: 'ERROR', ValidationErrors: [{ Message: expect.stringMatching(/Schedule/) }] });
  });
});

describe('Idempotency-Key', () => {
  it('answers the same key and body again without a second create; another body with the key is 400', async () => {
    const { fake, api } = await startXero();
    const contact = await newContact(api);
    const body = { Invoices: [invoiceInput(contact)] };
    const key = { 'Idempotency-Key': 'deal-31337-invoice' };
    const first = await api.put('/Invoices', body, { headers: key });
    const again = await api.put('/Invoices', body, { headers: key });
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(fake.state.invoices.size).toBe(1);
    expect(fake.idempotency.replays).toBe(1);

    const other = await api.put('/Invoices', { Invoices: [invoiceInput(contact, { Reference: 'other' })] }, { headers: key });
    expect(other.status).toBe(400);
    expect(other.json.Elements[0].ValidationErrors[0].Message).toMatch(/already been used with a different request/);
    expect((await api.put('/Invoices', body, { headers: { 'Idempotency-Key': 'x'.repeat(129) } })).status).toBe(400);

    // After the window the key is forgotten: the same request creates again.
    fake.advanceTime(6 * 60_000 + 1);
    await api.put('/Invoices', body, { headers: key });
    expect(fake.state.invoices.size).toBe(2);
  });

  it('creates once when requests with one key race, and replays a 204 Email without a second email', async () => {
    const { fake, api } = await startXero({ limits: { concurrent: 10 } });
    const contact = await newContact(api);
    fake.faults.set({ latencyMs: 50 });
    const body = { Invoices: [invoiceInput(contact)] };
    const answers = await Promise.all([1, 2, 3].map(() => api.put('/Invoices', body, { headers: { 'Idempotency-Key': 'race' } })));
    fake.faults.reset();
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => a.json.Invoices[0].InvoiceID)).size).toBe(1);
    expect(fake.state.invoices.size).toBe(1);

    const id = answers[0]!.json.Invoices[0].InvoiceID;
    const email = () => api.post(`/Invoices/${id}/Email`, {}, { headers: { 'Idempotency-Key': 'email-1' } });
    expect((await email()).status).toBe(204);
    expect((await email()).status).toBe(204);
    expect(fake.state.emails).toHaveLength(1);
  });

  it('loses the answer of a create that happened: the retry with the key gets it, the look-up by Reference finds it', async () => {
    const { fake, api } = await startXero();
    const contact = await newContact(api);
    fake.loseNextAnswers(1, { method: 'PUT', path: /^\/Invoices$/ });
    const body = { Invoices: [invoiceInput(contact, { Reference: 'kommo-deal-5' })] };
    const key = { 'Idempotency-Key': 'deal-5' };
    await expect(api.put('/Invoices', body, { headers: key })).rejects.toThrow();
    expect(fake.state.invoices.size).toBe(1);
    const found = await api.get(`/Invoices?${where('Reference=="kommo-deal-5"')}`);
    const retry = await api.put('/Invoices', body, { headers: key });
    expect(retry.status).toBe(200);
    expect(retry.json.Invoices[0].InvoiceID).toBe(found.json.Invoices[0].InvoiceID);
    expect(fake.state.invoices.size).toBe(1);
    expect(fake.answerLoss.lost).toEqual([expect.objectContaining({ method: 'PUT', path: '/Invoices', status: 200 })]);
  });

  it('lets the retry after a server error create, once', async () => {
    const { fake, api } = await startXero();
    const contact = await newContact(api);
    fake.faults.failNext(1, { status: 503 });
    const body = { Invoices: [invoiceInput(contact)] };
    expect((await api.put('/Invoices', body, { headers: { 'Idempotency-Key': 'k' } })).status).toBe(503);
    expect((await api.put('/Invoices', body, { headers: { 'Idempotency-Key': 'k' } })).status).toBe(200);
    expect(fake.state.invoices.size).toBe(1);
  });
});

describe('the control API', () => {
  it('serves credentials, seeds data, moves the clock and shows the state as Xero-shaped JSON', async () => {
    const { fake, base, api } = await startXero();
    const control = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}/_sandbox${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, json: (await res.json()) as Record<string, any> };
    };
    const creds = (await control('GET', '/credentials')).json;
    expect(creds).toMatchObject({ client_id: fake.clientId, refresh_token: fake.refreshToken, tenant_id: fake.tenantId, api_url: `${base}/api.xro/2.0` });
    const { ContactID } = (await control('POST', '/contacts', { Name: 'Seeded Ltd', EmailAddress: 'seed@x.test' })).json;
    const { InvoiceID } = (await control('POST', '/invoices', invoiceInput(ContactID))).json;
    expect((await control('POST', '/contacts', { Name: 'Seeded Ltd' })).status).toBe(400); // same rules as the API
    await control('POST', '/invoices/' + InvoiceID, { Status: 'VOIDED' });
    const state = (await control('GET', '/state')).json;
    expect(state.contacts).toEqual([expect.objectContaining({ tenantId: fake.tenantId, ContactID, Name: 'Seeded Ltd' })]);
    expect(state.invoices).toEqual([expect.objectContaining({ InvoiceID, Status: 'VOIDED' })]);
    // Made "in Xero", not by the app: createdByMyApp=true leaves it out.
    expect((await api.get('/Invoices?createdByMyApp=true')).json.Invoices).toEqual([]);
    expect((await api.get('/Invoices?createdByMyApp=false')).json.Invoices).toHaveLength(1);

    const before = fake.clock.now();
    await control('POST', '/advance-time', { ms: 3_600_000 });
    expect(fake.clock.now() - before).toBeGreaterThanOrEqual(3_600_000);
    expect((await api.get('/Organisation')).status).toBe(401); // the 30-minute token has expired
    await control('POST', '/rate-limit-burst', { count: 1, problem: 'daily', retryAfter: 30 });
    const limited = await api.get('/Organisation', { token: fake.mintAccessToken() });
    expect([limited.status, limited.headers.get('x-rate-limit-problem'), limited.headers.get('retry-after')]).toEqual([429, 'daily', '30']);
  });
});
