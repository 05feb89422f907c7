// Payments close the loop, end to end through both sandboxes: Zoho's workflow webhook (or, when it goes
// missing, the reconciler) brings every payment to the deal once; a full payment marks the deal paid and
// moves it to "Payment Received" once. Every Kommo write goes through the fake Kommo, which refuses any
// body that does not have the shape in shared/reference/kommo.md; the tests also check the bodies.
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { WEBHOOK_SECRET } from '../../sandbox/scenario.js';
import { invoicesOf, startE2E, waitFor, type E2E } from '../support/e2e.js';

let e2e: E2E | undefined;
afterEach(async () => {
  if (e2e) {
    expect(e2e.scenario.zoho.violations).toEqual([]);
    // Every Kommo write the relay made was accepted as well-formed.
    expect(e2e.scenario.kommo.requests.filter((r) => r.method !== 'GET' && (r.status ?? 0) >= 400)).toEqual([]);
    await e2e.close();
  }
  e2e = undefined;
});

const notesOf = (e: E2E, dealId: number) =>
  [...e.scenario.kommo.state.notes.values()].filter((n) => n.entityId === dealId).map((n) => String(n.params.text));
const lead = (e: E2E, dealId: number) => e.scenario.kommo.state.leads.get(dealId)!;
const field = (e: E2E, dealId: number, fieldId: number) => lead(e, dealId).customFields.find((f) => f.fieldId === fieldId)?.values[0]?.value;

async function invoicedDeal(e: E2E, price = 1234.5) {
  const { dealId } = e.scenario.addClientDeal({ price: Math.round(price) });
  e.scenario.moveToInvoice(dealId);
  await waitFor(() => field(e, dealId, e.scenario.fields.invoiceUrl), 'the invoice');
  return { dealId, invoice: invoicesOf(e.scenario, dealId)[0]! };
}

async function settled(e: E2E) {
  await e.scenario.zoho.flushWebhooks();
  await waitFor(async () => {
    const active = await e.relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute();
    return active.length === 0;
  }, 'the queue to drain');
}

describe('a payment recorded in Zoho Books', () => {
  it('full payment: deal marked paid, moved to Payment Received of its pipeline, one note with amount and date', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const { dealId, invoice } = await invoicedDeal(e2e, 4800);
    const patchesBefore = s.kommo.requests.filter((r) => r.method === 'PATCH').length;
    s.zoho.recordPayment(invoice.invoiceId, { amount: 4800, date: '2026-11-20' });
    await waitFor(() => lead(e2e!, dealId).statusId === s.stages.paymentReceived, 'the stage move');
    await settled(e2e);
    expect(field(e2e, dealId, s.fields.paid)).toBe(true);
    const [note, ...rest] = notesOf(e2e, dealId);
    expect(rest).toEqual([]);
    expect(note).toMatch(new RegExp(`^Payment received: 4,800\\.00 EUR on 2026-11-20 for invoice ${invoice.invoiceNumber}\\. \\(Zoho payment \\d{19}\\)$`));
    // The write is the shape kommo.md gives: one PATCH with status, pipeline and the field.
    const patch = s.kommo.requests.filter((r) => r.method === 'PATCH').slice(patchesBefore);
    expect(patch.map((r) => r.body)).toEqual([
      { status_id: s.stages.paymentReceived, pipeline_id: s.pipelineId, custom_fields_values: [{ field_id: s.fields.paid, values: [{ value: true }] }] },
    ]);
    const notePosts = s.kommo.requests.filter((r) => r.method === 'POST' && r.path === `/api/v4/leads/${dealId}/notes`);
    expect(notePosts.map((r) => r.body)).toEqual([[{ note_type: 'common', params: { text: note } }]]);
    // Our own stage move fired a status webhook; it triggered nothing.
    await s.kommo.flushWebhooks();
    expect(invoicesOf(s, dealId)).toHaveLength(1);
  });

  it('the same payment webhook three times: one note', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const { dealId, invoice } = await invoicedDeal(e2e, 4800);
    s.zoho.recordPayment(invoice.invoiceId, { amount: 4800 });
    await settled(e2e);
    const delivery = s.zoho.webhookDeliveries.at(-1)!;
    for (let i = 0; i < 3; i++) {
      const res = await request(e2e.relay.url).post(`/webhooks/zoho/${WEBHOOK_SECRET}`).set('Content-Type', 'application/json').send(delivery.body);
      expect(res.status).toBe(200);
    }
    // A differently shaped body for the same invoice (form fields) is a new event, and still no new note.
    await request(e2e.relay.url).post(`/webhooks/zoho/${WEBHOOK_SECRET}`).type('form').send({ invoice_id: invoice.invoiceId, status: 'paid' });
    await settled(e2e);
    expect(notesOf(e2e, dealId)).toHaveLength(1);
    expect(s.kommo.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v4/leads/${dealId}`).length).toBe(2); // write-back + paid move
  });

  it('partial then full: two notes, one stage move', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const { dealId, invoice } = await invoicedDeal(e2e, 1000);
    s.zoho.recordPayment(invoice.invoiceId, { amount: 400.25, date: '2026-11-20' });
    await waitFor(() => notesOf(e2e!, dealId).length === 1, 'the partial-payment note');
    expect(notesOf(e2e, dealId)[0]).toMatch(new RegExp(`^Partial payment received: 400\\.25 EUR on 2026-11-20 for invoice ${invoice.invoiceNumber}; 599\\.75 EUR still due\\.`));
    expect(lead(e2e, dealId).statusId).toBe(s.stages.invoice);
    s.zoho.recordPayment(invoice.invoiceId, { amount: 599.75, date: '2026-11-21' });
    await waitFor(() => lead(e2e!, dealId).statusId === s.stages.paymentReceived, 'the stage move');
    await settled(e2e);
    const notes = notesOf(e2e, dealId);
    expect(notes).toHaveLength(2);
    expect(notes[1]).toMatch(/^Payment received: 599\.75 EUR on 2026-11-21 for invoice /);
    const moves = s.kommo.requests.filter((r) => r.method === 'PATCH' && (r.body as { status_id?: number }).status_id === s.stages.paymentReceived);
    expect(moves).toHaveLength(1);
    // The manager moves the deal on; a late webhook about the same invoice does not drag it back.
    s.kommo.moveLeads([dealId], 142, s.pipelineId);
    await request(e2e.relay.url).post(`/webhooks/zoho/${WEBHOOK_SECRET}`).send({ invoice_id: invoice.invoiceId, late: true });
    await settled(e2e);
    expect(lead(e2e, dealId).statusId).toBe(142);
  });

  it('webhooks that never arrived: the reconciler invoices the deal and brings the payment within one interval', async () => {
    e2e = await startE2E({ env: { RECONCILE_INTERVAL_SECONDS: '1' } });
    const s = e2e.scenario;
    const paidFirst = await invoicedDeal(e2e, 700);
    // Kommo's status hook goes missing for this move, and Zoho's payment webhook for this payment.
    const { dealId } = s.addClientDeal();
    s.kommo.dropNextWebhooks(1, 'status_lead');
    s.moveToInvoice(dealId);
    s.zoho.dropNextWebhooks(1);
    s.zoho.recordPayment(paidFirst.invoice.invoiceId, { amount: 700 });
    await waitFor(() => field(e2e!, dealId, s.fields.invoiceUrl), 'the reconciler to invoice the deal', 10_000);
    await waitFor(() => lead(e2e!, paidFirst.dealId).statusId === s.stages.paymentReceived, 'the reconciler to bring the payment', 10_000);
    await settled(e2e);
    expect(s.kommo.droppedWebhooks.length).toBeGreaterThanOrEqual(1);
    expect(s.zoho.webhookDeliveries.filter((d) => d.dropped)).toHaveLength(1);
    expect(invoicesOf(s, dealId)).toHaveLength(1);
    expect(notesOf(e2e, paidFirst.dealId)).toHaveLength(1);
    const sources = await e2e.relay.store.db.selectFrom('events').select(['source', 'kind']).where('source', '=', 'reconciler').execute();
    expect(sources.map((r) => r.kind).sort()).toEqual(['deal_entered_invoice_stage', 'zoho_invoice_changed']);
  });

  it('an idle sweep costs at most two API calls', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    await invoicedDeal(e2e, 100);
    await settled(e2e);
    await e2e.relay.reconciler.sweep(); // first sweep sets the checkpoint
    const [k0, z0] = [s.kommo.requests.length, s.zoho.requests.length];
    const result = await e2e.relay.reconciler.sweep();
    expect(result.errors).toEqual([]);
    expect(result.invoiceJobs + result.paymentJobs).toBe(0);
    expect(s.kommo.requests.length - k0 + (s.zoho.requests.length - z0)).toBeLessThanOrEqual(2);
  });

  it('a webhook for an invoice the relay never created: acknowledged and settled at intake, no API call at all', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const customer = s.zoho.addContact({ name: 'Walk-in Ltd', email: 'walkin@example.com' });
    const created = await request(s.zohoUrl)
      .post(`/books/v3/invoices?organization_id=${s.zoho.organizationId}`)
      .set('Authorization', `Zoho-oauthtoken ${s.zoho.mintAccessToken()}`)
      .send({ customer_id: customer, reference_number: 'PO-7', line_items: [{ name: 'Consulting', rate: 100, quantity: 1 }] });
    const foreignId = JSON.parse(created.text.replace(/"invoice_id":\s*"?(\d+)"?/, '"invoice_id":"$1"')).invoice.invoice_id as string;
    const [kommoBefore, zohoBefore] = [s.kommo.requests.length, s.zoho.requests.length];
    const res = await request(e2e.relay.url).post(`/webhooks/zoho/${WEBHOOK_SECRET}`).send({ invoice: { invoice_id: foreignId, last_modified_time: '2026-11-20T10:00:00+0000' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stored: 0, ignored: 1 });
    await settled(e2e);
    expect(await e2e.relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'payment_to_deal').execute()).toEqual([]);
    expect([s.kommo.requests.length, s.zoho.requests.length]).toEqual([kommoBefore, zohoBefore]);
  });

  it.each([
    ['a wrong secret', { secret: 'not-the-secret-0123456789', sign: true }, 403],
    ['a bad signature', { secret: WEBHOOK_SECRET, sign: false }, 401],
  ])('%s: refused, nothing stored', async (_name, { secret, sign }, status) => {
    e2e = await startE2E({ env: { ZOHO_WEBHOOK_SIGNING_SECRET: 'zoho-signing-secret-abc' } });
    const body = JSON.stringify({ invoice: { invoice_id: '9834000000123456789' } });
    const signature = sign ? createHmac('sha256', 'zoho-signing-secret-abc').update(body).digest('hex') : 'deadbeef'.repeat(8);
    const res = await request(e2e.relay.url).post(`/webhooks/zoho/${secret}`).set('Content-Type', 'application/json').set('X-Zoho-Webhook-Signature', signature).send(body);
    expect(res.status).toBe(status);
    expect(await e2e.relay.store.db.selectFrom('events').selectAll().execute()).toEqual([]);
    // The same body correctly signed is accepted.
    const good = createHmac('sha256', 'zoho-signing-secret-abc').update(body).digest('hex');
    const ok = await request(e2e.relay.url).post(`/webhooks/zoho/${WEBHOOK_SECRET}`).set('Content-Type', 'application/json').set('X-Zoho-Webhook-Signature', good).send(body);
    expect(ok.status).toBe(200);
  });

  it('a voided invoice: one note on the deal', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const { dealId, invoice } = await invoicedDeal(e2e, 300);
    await request(s.zohoUrl)
      .post(`/books/v3/invoices/${invoice.invoiceId}/status/void?organization_id=${s.zoho.organizationId}`)
      .set('Authorization', `Zoho-oauthtoken ${s.zoho.mintAccessToken()}`)
      .expect(200);
    for (let i = 0; i < 2; i++) await request(e2e.relay.url).post(`/webhooks/zoho/${WEBHOOK_SECRET}`).type('form').send({ invoice_id: invoice.invoiceId, n: String(i) });
    await settled(e2e);
    expect(notesOf(e2e, dealId)).toEqual([`Invoice ${invoice.invoiceNumber} was voided in Zoho Books.`]);
  });
});
