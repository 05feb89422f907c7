// End to end through both sandboxes, for each accounting backend: Kommo's real form-encoded webhooks into
// the relay, the relay's real HTTP calls out to the fake accounting system and Kommo, a real SQLite file.
// Every body the relay sends is validated against the system's published contract by its fake
// (violations must stay empty: E2E.close() checks).
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { BooksCall } from '../../sandbox/books/view.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY, WEBHOOK_SECRET } from '../../sandbox/scenario.js';
import { accountingBackend } from '../../src/accounting/registry.js';
import { ACCOUNTING_BACKENDS } from '../support/accounting-backends.js';
import { dealField, dealInvoices, startE2E, waitFor, type E2E } from '../support/e2e.js';

let e2e: E2E | undefined;
afterEach(async () => {
  // close() also fails the test on any contract violation or unreadable log line.
  await e2e?.close();
  e2e = undefined;
});

async function invoiced(e: E2E, dealId: number) {
  await waitFor(() => dealField(e.scenario, dealId, e.scenario.fields.invoiceUrl), `deal ${dealId} to show its invoice URL`);
  const invoices = dealInvoices(e.scenario, dealId);
  expect(invoices).toHaveLength(1);
  return invoices[0]!;
}

/** The API calls, without the token grants around them. */
const apiCalls = (calls: BooksCall[]) => calls.filter((c) => c.op !== 'token' && c.op !== 'connections');

describe.each(ACCOUNTING_BACKENDS)('%s: a deal entering the invoicing stage', (accounting) => {
  const backend = accountingBackend(accounting)!;
  it('gets one customer, one invoice, one email, and its fields equal the invoice ID and link byte for byte', async () => {
    e2e = await startE2E({ accounting });
    const { scenario: s } = e2e;
    const books = s.books;
    const { dealId } = s.addClientDeal({ name: 'Аудит сайта + SEO', price: 4800, email: ' Anna.Schmidt@Example.DE ', contactName: 'Anna Schmidt' });
    const afterStartup = books.callCount; // start-up read currencies, taxes and items once
    s.moveToInvoice(dealId);

    const invoice = await invoiced(e2e, dealId);
    const customers = books.customers();
    expect(customers).toHaveLength(1);
    expect(customers[0]!.email).toBe('anna.schmidt@example.de');
    expect(invoice.customerId).toBe(customers[0]!.id);
    expect(invoice.dealField).toBe(books.facts.dealField ? String(dealId) : undefined);
    expect(books.emails()).toEqual([{ invoiceId: invoice.id, to: ['anna.schmidt@example.de'] }]);
    expect(invoice.emailed).toBe(true);

    // Byte for byte: the system's ID as a string (Zoho's 19 digits, beyond a JS number), the link with its query untouched.
    expect(invoice.id).toMatch(books.facts.id);
    expect(dealField(s, dealId, s.fields.invoiceId)).toBe(invoice.id);
    expect(dealField(s, dealId, s.fields.invoiceUrl)).toBe(invoice.url);
    expect(invoice.url).toMatch(books.facts.invoiceUrl);

    // A new customer costs a search and a create, then what one invoice costs in this system (plus tokens).
    const cost = [...(books.facts.customerOps ?? ['customer.search', 'customer.create']), ...(books.facts.firstInvoiceOps ?? []), ...books.facts.invoiceOps];
    expect(apiCalls(books.calls(afterStartup)).slice(0, cost.length).map((c) => c.op)).toEqual(cost);
    // Our own write-back fired Kommo webhooks, and a system that tells of our own changes (Xero) its events
    // (the create, the email): none of them started a job or cost a call.
    await s.kommo.flushWebhooks();
    await books.flushWebhooks();
    await new Promise((r) => setTimeout(r, 300));
    await waitFor(async () => (await e2e!.relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain');
    expect(apiCalls(books.calls(afterStartup)).map((c) => c.op)).toEqual(cost);
    const jobs = await e2e.relay.store.db.selectFrom('jobs').select('kind').execute();
    expect(jobs.map((j) => j.kind)).toEqual(['invoice_for_deal']);
    expect(dealInvoices(s, dealId)).toHaveLength(1);
    expect(books.emails()).toHaveLength(1);
  });

  it('the same webhook three times plus five concurrent copies: one invoice', async () => {
    e2e = await startE2E({ accounting });
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
    expect(dealInvoices(s, dealId)).toHaveLength(1);
    expect(s.books.emails()).toHaveLength(1);
    const events = await e2e.relay.store.db.selectFrom('events').selectAll().where('source', '=', 'kommo').execute();
    expect(events).toHaveLength(1);
  });

  it('one webhook request carrying two leads: two invoices', async () => {
    e2e = await startE2E({ accounting });
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
    expect(s.books.emails()).toHaveLength(2);
  });

  it('a repeat customer: no new customer and no search, only the invoice calls', async () => {
    e2e = await startE2E({ accounting });
    const { scenario: s } = e2e;
    const first = s.addClientDeal({ email: 'repeat@example.com' });
    s.moveToInvoice(first.dealId);
    await invoiced(e2e, first.dealId);
    // What the system's own webhooks about the first invoice cause (Xero tells of every create and send) is done first.
    await s.books.flushWebhooks();
    await waitFor(async () => (await e2e!.relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain');
    const before = s.books.callCount;
    const second = s.addClientDeal({ contactId: first.contactId });
    s.moveToInvoice(second.dealId);
    await invoiced(e2e, second.dealId);
    // Nothing else, even once the system has told of the relay's own create and email (Xero does).
    await s.books.flushWebhooks();
    await new Promise((r) => setTimeout(r, 300));
    await waitFor(async () => (await e2e!.relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain');
    expect(apiCalls(s.books.calls(before)).map((c) => c.op)).toEqual(s.books.facts.invoiceOps);
    expect(s.books.customers()).toHaveLength(1);
  });

  it('bursts of 429s (with the retry header) and 5xx: completes with exactly one invoice', async () => {
    e2e = await startE2E({ accounting });
    const { scenario: s } = e2e;
    const before = s.books.callCount;
    s.books.rateLimit(3);
    s.books.serverErrors(2, 503);
    s.books.serverErrors(2, 500);
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    await invoiced(e2e, dealId);
    expect(s.books.customers()).toHaveLength(1);
    expect(s.books.emails()).toHaveLength(1);
    const calls = s.books.calls(before);
    expect(calls.filter((c) => c.status === 429)).toHaveLength(3);
    expect(calls.filter((c) => c.status === 503 || c.status === 500)).toHaveLength(4);
  });

  it('the invoice create reaches the system but its answer is lost: the retry finds it, one invoice, one email', async () => {
    e2e = await startE2E({ accounting });
    const { scenario: s } = e2e;
    const before = s.books.callCount;
    s.books.loseNextAnswer('invoice.create');
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    await invoiced(e2e, dealId);
    expect(s.books.lostAnswers()).toBe(1);
    expect(s.books.emails()).toHaveLength(1);
    // The retry either asked for the deal's invoice by its stamp before creating anything, or resent the
    // create under the lost one's Idempotency-Key (the system answers it from memory): never a new create.
    const calls = s.books.calls(before);
    const creates = calls.filter((c) => c.op === 'invoice.create');
    const lookups = calls.filter((c) => c.op === 'invoice.list' && JSON.stringify(c.query).includes(`KOMMO-${dealId}`));
    expect(creates.slice(1).every((c) => c.idempotencyKey !== undefined && c.idempotencyKey === creates[0]!.idempotencyKey)).toBe(true);
    if (backend.capabilities.idempotencyKeys) expect(lookups.length + creates.length).toBeGreaterThanOrEqual(2);
    else expect([lookups.length, creates.length]).toEqual([1, 1]);
  });

  it('bad input: no email -> job failed with the reason, a note tells the manager, a later move after the fix invoices', async () => {
    e2e = await startE2E({ accounting });
    const { scenario: s } = e2e;
    const { dealId, contactId } = s.addClientDeal({ email: null, contactName: 'Bob Nomail' });
    s.moveToInvoice(dealId);
    const note = await waitFor(() => [...s.kommo.state.notes.values()].find((n) => n.entityId === dealId), 'a note on the deal');
    expect(note.params.text).toBe('Invoice not created: the contact "Bob Nomail" has no email. Add an email to the contact, then move the deal into the invoicing stage again.');
    const job = await e2e.relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'invoice_for_deal').executeTakeFirstOrThrow();
    expect(job).toMatchObject({ state: 'failed', last_error_code: 'contact_missing_email' });
    expect(s.books.invoices()).toEqual([]);

    // The manager adds the email and moves the deal out and back in.
    const emailField = [...s.kommo.state.contactFields.values()].find((f) => f.code === 'EMAIL')!;
    s.kommo.state.contacts.get(contactId)!.customFields.push({ fieldId: emailField.id, values: [{ value: 'bob@example.com', enumCode: 'WORK' }] });
    s.kommo.moveLeads([dealId], s.stages.proposal);
    s.moveToInvoice(dealId);
    await invoiced(e2e, dealId);
  });

  it('a deleted deal: failed with the reason, no accounting call', async () => {
    e2e = await startE2E({ accounting });
    const { scenario: s } = e2e;
    const { dealId } = s.addClientDeal();
    const afterStartup = s.books.callCount;
    s.moveToInvoice(dealId);
    s.kommo.deleteLead(dealId);
    await waitFor(async () => {
      const job = await e2e!.relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'invoice_for_deal').executeTakeFirst();
      return job?.state === 'failed' ? job : undefined;
    }, 'the job to fail');
    const job = await e2e.relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'invoice_for_deal').executeTakeFirstOrThrow();
    expect(job.last_error_code).toBe('deal_not_found');
    expect(apiCalls(s.books.calls(afterStartup))).toEqual([]);
  });

  it('no token or secret appears in any log line', async () => {
    e2e = await startE2E({ accounting });
    const { scenario: s } = e2e;
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    await invoiced(e2e, dealId);
    await request(e2e.relay.url).post(`/webhooks/kommo/wrong-${WEBHOOK_SECRET}`).send('x=1');
    const all = e2e.logs.join('\n');
    expect(e2e.logs.length).toBeGreaterThan(5);
    // Every token the system issued, as seen on the wire, its client secret and webhook key, and ours.
    const env = s.env();
    const tokens = [WEBHOOK_SECRET, 'kommo-long-lived-token', ...s.books.secrets(), ...[ENCRYPTION_KEY, ADMIN_TOKEN].filter((t) => Object.values(env).includes(t))];
    expect(tokens.length).toBeGreaterThan(4);
    for (const t of tokens) expect(all).not.toContain(t);
    expect(all).toContain('/webhooks/kommo/[redacted]');
  });
});
