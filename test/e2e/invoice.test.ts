// End to end through both sandboxes: Kommo's real form-encoded webhooks into the relay, the relay's real
// HTTP calls out to fake Zoho Books and Kommo, a real SQLite file. Every body the relay sends to Zoho is
// validated against Zoho's OpenAPI documents by the fake (violations must stay empty).
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { WEBHOOK_SECRET } from '../../sandbox/scenario.js';
import { invoicesOf, startE2E, waitFor, zohoCalls, type E2E } from '../support/e2e.js';
import { startLossyProxy } from '../support/lossy-proxy.js';

let e2e: E2E | undefined;
afterEach(async () => {
  // close() also fails the test on any contract violation or unreadable log line.
  await e2e?.close();
  e2e = undefined;
});

function dealField(e: E2E, dealId: number, fieldId: number): unknown {
  return e.scenario.kommo.state.leads.get(dealId)?.customFields.find((f) => f.fieldId === fieldId)?.values[0]?.value;
}

async function invoiced(e: E2E, dealId: number) {
  await waitFor(() => dealField(e, dealId, e.scenario.fields.invoiceUrl), `deal ${dealId} to show its invoice URL`);
  const invoices = invoicesOf(e.scenario, dealId);
  expect(invoices).toHaveLength(1);
  return invoices[0]!;
}

describe('a deal entering the invoicing stage', () => {
  it('gets one customer, one invoice, one email, and its fields equal Zoho invoice_id and invoice_url byte for byte', async () => {
    e2e = await startE2E();
    const { scenario: s } = e2e;
    const { dealId } = s.addClientDeal({ name: 'Аудит сайта + SEO', price: 4800, email: ' Anna.Schmidt@Example.DE ', contactName: 'Anna Schmidt' });
    const afterStartup = s.zoho.requests.length; // start-up read currencies, taxes and items once
    s.moveToInvoice(dealId);

    const invoice = await invoiced(e2e, dealId);
    expect(s.zoho.state.contacts.size).toBe(1);
    const customer = [...s.zoho.state.contacts.values()][0]!;
    expect(customer.persons[0]?.email).toBe('anna.schmidt@example.de');
    expect(invoice.customerId).toBe(customer.contactId);
    expect(invoice.customFields).toEqual(expect.arrayContaining([expect.objectContaining({ value: String(dealId) })]));
    expect(s.zoho.emails).toHaveLength(1);
    expect(s.zoho.emails[0]).toMatchObject({ invoiceId: invoice.invoiceId, to: ['anna.schmidt@example.de'] });

    // Byte for byte: the 19-digit ID as a string, the portal URL with its query untouched.
    expect(invoice.invoiceId).toMatch(/^\d{19}$/);
    expect(dealField(e2e, dealId, s.fields.invoiceId)).toBe(invoice.invoiceId);
    expect(dealField(e2e, dealId, s.fields.invoiceUrl)).toBe(invoice.invoiceUrl);
    expect(invoice.invoiceUrl).toMatch(/^https:\/\/books\.zoho\.eu\/portal\/.+\?.+/);

    // A new customer costs 3 Zoho calls: search, create customer, create+send invoice (plus the token).
    expect(zohoCalls(s, afterStartup).filter((c) => c.startsWith('GET /books') || c.startsWith('POST /books'))).toEqual([
      'GET /books/v3/contacts',
      'POST /books/v3/contacts',
      'POST /books/v3/invoices',
    ]);
    // Our own write-back fired Kommo webhooks; none of them started the flow again.
    await s.kommo.flushWebhooks();
    await new Promise((r) => setTimeout(r, 300));
    expect(invoicesOf(s, dealId)).toHaveLength(1);
    expect(s.zoho.emails).toHaveLength(1);
  });

  it('the same webhook three times plus five concurrent copies: one invoice', async () => {
    e2e = await startE2E();
    const { scenario: s } = e2e;
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    await s.kommo.flushWebhooks();
    const body = s.kommo.deliveries.find((d) => d.events.includes('status_lead'))!.body;
    const post = () => request(e2e!.relay.url).post(`/webhooks/kommo/${WEBHOOK_SECRET}`).set('Content-Type', 'application/x-www-form-urlencoded').send(body);
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(200);
    expect((await Promise.all(Array.from({ length: 5 }, post))).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await invoiced(e2e, dealId);
    await new Promise((r) => setTimeout(r, 500));
    expect(invoicesOf(s, dealId)).toHaveLength(1);
    expect(s.zoho.emails).toHaveLength(1);
    const events = await e2e.relay.store.db.selectFrom('events').selectAll().execute();
    expect(events).toHaveLength(1);
  });

  it('one webhook request carrying two leads: two invoices', async () => {
    e2e = await startE2E();
    const { scenario: s } = e2e;
    const a = s.addClientDeal();
    const b = s.addClientDeal();
    s.moveToInvoice(a.dealId, b.dealId);
    await s.kommo.flushWebhooks();
    const statusHooks = s.kommo.deliveries.filter((d) => d.events.includes('status_lead'));
    expect(statusHooks).toHaveLength(1);
    expect(statusHooks[0]!.body).toContain(encodeURIComponent('leads[status][1][id]'));
    await invoiced(e2e, a.dealId);
    await invoiced(e2e, b.dealId);
    expect(s.zoho.emails).toHaveLength(2);
  });

  it('a repeat customer: no new customer and no search, one Zoho call', async () => {
    e2e = await startE2E();
    const { scenario: s } = e2e;
    const first = s.addClientDeal({ email: 'repeat@example.com' });
    s.moveToInvoice(first.dealId);
    await invoiced(e2e, first.dealId);
    const before = s.zoho.requests.length;
    const second = s.addClientDeal({ contactId: first.contactId });
    s.moveToInvoice(second.dealId);
    await invoiced(e2e, second.dealId);
    expect(zohoCalls(s, before)).toEqual(['POST /books/v3/invoices']);
    expect(s.zoho.state.contacts.size).toBe(1);
  });

  it('bursts of Zoho 429s and 5xx: completes with exactly one invoice', async () => {
    e2e = await startE2E();
    const { scenario: s } = e2e;
    s.zoho.faults.failNext(3, { status: 429, body: { code: 45, message: 'Too many requests' }, headers: { 'X-Rate-Limit-Reset': '1' } });
    s.zoho.faults.failNext(2, { status: 503, body: { code: 9999, message: 'Service unavailable' } });
    s.zoho.faults.failNext(2, { status: 500, body: { code: 9999, message: 'Internal error' } });
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    await invoiced(e2e, dealId);
    expect(s.zoho.state.contacts.size).toBe(1);
    expect(s.zoho.emails).toHaveLength(1);
    expect(s.zoho.requests.filter((r) => r.status === 429)).toHaveLength(3);
  });

  it('the invoice create reaches Zoho but its answer is lost: the retry looks it up, one invoice, one email', async () => {
    let dropFirstInvoiceAnswer = true;
    e2e = await startE2E();
    const { scenario: s } = e2e;
    const proxy = await startLossyProxy(s.zohoUrl, (method, path) => {
      if (method === 'POST' && path === '/books/v3/invoices' && dropFirstInvoiceAnswer) {
        dropFirstInvoiceAnswer = false;
        return true;
      }
      return false;
    });
    await e2e.restart({ ZOHO_API_URL: proxy.url });
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    await invoiced(e2e, dealId);
    expect(proxy.dropped).toBe(1);
    expect(s.zoho.emails).toHaveLength(1);
    // The second attempt asked Zoho for the deal's invoice by reference before creating anything.
    const listed = s.zoho.requests.filter((r) => r.method === 'GET' && r.path === '/books/v3/invoices');
    expect(listed).toHaveLength(1);
    expect(listed[0]!.query.reference_number).toBe(`KOMMO-${dealId}`);
    expect(zohoCalls(s).filter((c) => c === 'POST /books/v3/invoices')).toHaveLength(1);
    await proxy.close();
  });

  it('bad input: no email -> job failed with the reason, a note tells the manager, a later move after the fix invoices', async () => {
    e2e = await startE2E();
    const { scenario: s } = e2e;
    const { dealId, contactId } = s.addClientDeal({ email: null, contactName: 'Bob Nomail' });
    s.moveToInvoice(dealId);
    const note = await waitFor(() => [...s.kommo.state.notes.values()].find((n) => n.entityId === dealId), 'a note on the deal');
    expect(note.params.text).toBe('Invoice not created: the contact "Bob Nomail" has no email. Add an email to the contact, then move the deal into the invoicing stage again.');
    const job = await e2e.relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'invoice_for_deal').executeTakeFirstOrThrow();
    expect(job).toMatchObject({ state: 'failed', last_error_code: 'contact_missing_email' });
    expect(s.zoho.state.invoices.size).toBe(0);

    // The manager adds the email and moves the deal out and back in.
    const emailField = [...s.kommo.state.contactFields.values()].find((f) => f.code === 'EMAIL')!;
    s.kommo.state.contacts.get(contactId)!.customFields.push({ fieldId: emailField.id, values: [{ value: 'bob@example.com', enumCode: 'WORK' }] });
    s.kommo.moveLeads([dealId], s.stages.proposal);
    s.moveToInvoice(dealId);
    await invoiced(e2e, dealId);
  });

  it('a deleted deal: failed with the reason, no Zoho call', async () => {
    e2e = await startE2E();
    const { scenario: s } = e2e;
    const { dealId } = s.addClientDeal();
    const afterStartup = s.zoho.requests.length;
    s.moveToInvoice(dealId);
    s.kommo.deleteLead(dealId);
    await waitFor(async () => {
      const job = await e2e!.relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'invoice_for_deal').executeTakeFirst();
      return job?.state === 'failed' ? job : undefined;
    }, 'the job to fail');
    const job = await e2e.relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'invoice_for_deal').executeTakeFirstOrThrow();
    expect(job.last_error_code).toBe('deal_not_found');
    expect(zohoCalls(s, afterStartup).filter((c) => c.includes('/books/'))).toEqual([]);
  });

  it('no token or secret appears in any log line', async () => {
    e2e = await startE2E();
    const { scenario: s } = e2e;
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    await invoiced(e2e, dealId);
    await request(e2e.relay.url).post(`/webhooks/kommo/wrong-${WEBHOOK_SECRET}`).send('x=1');
    const all = e2e.logs.join('\n');
    expect(e2e.logs.length).toBeGreaterThan(5);
    const tokens = [WEBHOOK_SECRET, 'kommo-long-lived-token', s.zoho.clientSecret, s.zoho.refreshToken];
    // Every access token Zoho issued, as seen on the wire.
    for (const r of s.zoho.requests) {
      const auth = r.headers.authorization;
      if (typeof auth === 'string') tokens.push(auth.replace('Zoho-oauthtoken ', ''));
    }
    expect(tokens.length).toBeGreaterThan(4);
    for (const t of tokens) expect(all).not.toContain(t);
    expect(all).toContain('/webhooks/kommo/[redacted]');
  });
});
