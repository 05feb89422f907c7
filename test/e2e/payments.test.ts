// Payments close the loop, end to end through both sandboxes, for each accounting backend: the system's
// own webhook (Zoho's workflow webhook, Xero's signed INVOICE event) or, when it goes missing — or the
// system sends none the relay takes (Wave: polled, its webhooks refused) — the reconciler brings every
// payment to the deal once; a full payment marks the deal paid and moves it to
// "Payment Received" once. Every Kommo write goes through the fake Kommo, which refuses any body that does
// not have the shape in shared/reference/kommo.md; the tests also check the bodies.
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { WEBHOOK_SECRET } from '../../sandbox/scenario.js';
import { ACCOUNTING_BACKENDS, namesOf } from '../support/accounting-backends.js';
import { dealField, dealInvoices, notesOf as notesOn, polled, startE2E, waitFor, webhookAnswer, type E2E } from '../support/e2e.js';

let e2e: E2E | undefined;
afterEach(async () => {
  if (e2e) {
    expect(e2e.scenario.books.violations).toEqual([]);
    // Every Kommo write the relay made was accepted as well-formed.
    expect(e2e.scenario.kommo.requests.filter((r) => r.method !== 'GET' && (r.status ?? 0) >= 400)).toEqual([]);
    await e2e.close();
  }
  e2e = undefined;
});

const notesOf = (e: E2E, dealId: number) => notesOn(e.scenario, dealId);
const lead = (e: E2E, dealId: number) => e.scenario.kommo.state.leads.get(dealId)!;
const field = (e: E2E, dealId: number, fieldId: number) => dealField(e.scenario, dealId, fieldId);

async function invoicedDeal(e: E2E, price = 1234.5) {
  const { dealId } = e.scenario.addClientDeal({ price: Math.round(price) });
  e.scenario.moveToInvoice(dealId);
  await waitFor(() => field(e, dealId, e.scenario.fields.invoiceUrl), 'the invoice');
  return { dealId, invoice: dealInvoices(e.scenario, dealId)[0]! };
}

async function settled(e: E2E) {
  await e.scenario.books.flushWebhooks();
  await waitFor(async () => {
    const active = await e.relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute();
    return active.length === 0;
  }, 'the queue to drain');
}

describe.each(ACCOUNTING_BACKENDS)('%s: a payment recorded in the accounting system', (accounting) => {
  const names = namesOf(accounting);

  it('full payment: deal marked paid, moved to Payment Received of its pipeline, one note with amount, date and the payment', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const { dealId, invoice } = await invoicedDeal(e2e, 4800);
    const patchesBefore = s.kommo.requests.filter((r) => r.method === 'PATCH').length;
    const paymentId = s.books.pay(invoice.id, { amount: 4800, date: '2026-11-20' });
    await polled(e2e);
    await waitFor(() => lead(e2e!, dealId).statusId === s.stages.paymentReceived, 'the stage move');
    await settled(e2e);
    expect(field(e2e, dealId, s.fields.paid)).toBe(true);
    const [note, ...rest] = notesOf(e2e, dealId);
    expect(rest).toEqual([]);
    expect(paymentId).toMatch(s.books.facts.id);
    expect(note).toBe(`Payment received: 4,800.00 EUR on 2026-11-20 for invoice ${invoice.number}. (${names.short} payment ${paymentId})`);
    // The write is the shape kommo.md gives: one PATCH with status, pipeline and the field.
    const patch = s.kommo.requests.filter((r) => r.method === 'PATCH').slice(patchesBefore);
    expect(patch.map((r) => r.body)).toEqual([
      { status_id: s.stages.paymentReceived, pipeline_id: s.pipelineId, custom_fields_values: [{ field_id: s.fields.paid, values: [{ value: true }] }] },
    ]);
    const notePosts = s.kommo.requests.filter((r) => r.method === 'POST' && r.path === `/api/v4/leads/${dealId}/notes`);
    expect(notePosts.map((r) => r.body)).toEqual([[{ note_type: 'common', params: { text: note } }]]);
    // Our own stage move fired a status webhook; it triggered nothing.
    await s.kommo.flushWebhooks();
    expect(dealInvoices(s, dealId)).toHaveLength(1);
  });

  it('the same payment webhook three times, then another about the same invoice: one note', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const { dealId, invoice } = await invoicedDeal(e2e, 4800);
    s.books.pay(invoice.id, { amount: 4800 });
    await polled(e2e);
    await settled(e2e);
    // Where the system sends no webhook the relay takes (Wave), the same payment seen by three more sweeps.
    for (let i = 0; i < 3; i++) {
      if (s.books.facts.payments === 'reconciler') await polled(e2e);
      else expect((await s.books.replayLastWebhook()).status).toBe(200);
    }
    // A differently made notification about the same invoice is a new event (or refused), and still no new note.
    expect((await s.books.notify(invoice.id)).status).toBe(webhookAnswer(s));
    await settled(e2e);
    expect(notesOf(e2e, dealId)).toHaveLength(1);
    expect(s.kommo.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v4/leads/${dealId}`).length).toBe(2); // write-back + paid move
  });

  it('partial then full: two notes, one stage move', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const { dealId, invoice } = await invoicedDeal(e2e, 1000);
    const partial = s.books.pay(invoice.id, { amount: 400.25, date: '2026-11-20' });
    await polled(e2e);
    await waitFor(() => notesOf(e2e!, dealId).length === 1, 'the partial-payment note');
    expect(notesOf(e2e, dealId)[0]).toBe(`Partial payment received: 400.25 EUR on 2026-11-20 for invoice ${invoice.number}; 599.75 EUR still due. (${names.short} payment ${partial})`);
    expect(lead(e2e, dealId).statusId).toBe(s.stages.invoice);
    s.books.pay(invoice.id, { amount: 599.75, date: '2026-11-21' });
    await polled(e2e);
    await waitFor(() => lead(e2e!, dealId).statusId === s.stages.paymentReceived, 'the stage move');
    await settled(e2e);
    const notes = notesOf(e2e, dealId);
    expect(notes).toHaveLength(2);
    expect(notes[1]).toMatch(/^Payment received: 599\.75 EUR on 2026-11-21 for invoice /);
    expect(s.books.invoice(invoice.id)).toMatchObject({ status: 'paid', amountPaid: 1000, total: 1000 });
    const moves = s.kommo.requests.filter((r) => r.method === 'PATCH' && (r.body as { status_id?: number }).status_id === s.stages.paymentReceived);
    expect(moves).toHaveLength(1);
    // The manager moves the deal on; a late webhook (or sweep) about the same invoice does not drag it back.
    s.kommo.moveLeads([dealId], 142, s.pipelineId);
    expect((await s.books.notify(invoice.id)).status).toBe(webhookAnswer(s));
    await polled(e2e);
    await settled(e2e);
    expect(lead(e2e, dealId).statusId).toBe(142);
  });

  it('webhooks that never arrived: the reconciler invoices the deal and brings the payment within one interval', async () => {
    e2e = await startE2E({ accounting, env: { RECONCILE_INTERVAL_SECONDS: '1' } });
    const s = e2e.scenario;
    const paidFirst = await invoicedDeal(e2e, 700);
    await settled(e2e);
    // Kommo's status hook goes missing for this move, and the system's webhook for this payment.
    const { dealId } = s.addClientDeal();
    s.kommo.dropNextWebhooks(1, 'status_lead');
    s.moveToInvoice(dealId);
    s.books.dropNextWebhooks(1);
    s.books.pay(paidFirst.invoice.id, { amount: 700 });
    await waitFor(() => field(e2e!, dealId, s.fields.invoiceUrl), 'the reconciler to invoice the deal', 10_000);
    await waitFor(() => lead(e2e!, paidFirst.dealId).statusId === s.stages.paymentReceived, 'the reconciler to bring the payment', 10_000);
    await settled(e2e);
    expect(s.kommo.droppedWebhooks.length).toBeGreaterThanOrEqual(1);
    // (Wave sends the relay none to drop: the interval's sweep is its only way in.)
    expect(s.books.droppedWebhooks()).toBe(s.books.facts.payments === 'reconciler' ? 0 : 1);
    expect(dealInvoices(s, dealId)).toHaveLength(1);
    expect(notesOf(e2e, paidFirst.dealId)).toHaveLength(1);
    const sources = await e2e.relay.store.db.selectFrom('events').select(['source', 'kind']).where('source', '=', 'reconciler').execute();
    expect(sources.map((r) => r.kind).sort()).toEqual(['deal_entered_invoice_stage', `${accounting}_invoice_changed`]);
  });

  it('an idle sweep costs at most two API calls', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    await invoicedDeal(e2e, 100);
    await settled(e2e);
    await e2e.relay.reconciler.sweep(); // first sweep sets the checkpoint
    const [k0, a0] = [s.kommo.requests.length, s.books.callCount];
    const result = await e2e.relay.reconciler.sweep();
    expect(result.errors).toEqual([]);
    expect(result.invoiceJobs + result.paymentJobs).toBe(0);
    expect(s.kommo.requests.length - k0 + (s.books.callCount - a0)).toBeLessThanOrEqual(2);
  });

  it('a webhook for an invoice the relay never created: acknowledged and settled at intake, no API call at all', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const customer = s.books.addCustomer({ name: 'Walk-in Ltd', email: 'walkin@example.com' });
    const foreignId = await s.books.addForeignInvoice({ customerId: customer, reference: 'PO-7', amount: 100 });
    await settled(e2e);
    const [kommoBefore, booksBefore] = [s.kommo.requests.length, s.books.callCount];
    const eventsBefore = await e2e.relay.store.db.selectFrom('events').selectAll().execute();
    expect((await s.books.notify(foreignId)).status).toBe(webhookAnswer(s));
    await settled(e2e);
    expect(await e2e.relay.store.db.selectFrom('events').selectAll().execute()).toEqual(eventsBefore);
    expect(await e2e.relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'payment_to_deal').execute()).toEqual([]);
    expect([s.kommo.requests.length, s.books.callCount]).toEqual([kommoBefore, booksBefore]);
  });

  it('a voided invoice: one note on the deal', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const { dealId, invoice } = await invoicedDeal(e2e, 300);
    if (s.books.facts.voids === false) {
      // Wave has no void (a user can only delete an invoice, which no change list shows): the case does not arise.
      await expect(s.books.void(invoice.id)).rejects.toThrow(/no void/);
      return;
    }
    await s.books.void(invoice.id);
    for (let i = 0; i < 2; i++) expect((await s.books.notify(invoice.id)).status).toBe(200);
    await settled(e2e);
    expect(s.books.invoice(invoice.id)?.status).toBe('void');
    expect(notesOf(e2e, dealId)).toEqual([`Invoice ${invoice.number} was voided in ${names.system}.`]);
  });
});

// Zoho's workflow webhooks carry no signature of Zoho's own; the relay's optional one is Zoho-only.
describe('zoho: a signed workflow webhook', () => {
  it.each([
    ['a wrong secret', { secret: 'not-the-secret-0123456789', sign: true }, 403],
    ['a bad signature', { secret: WEBHOOK_SECRET, sign: false }, 401],
  ])('%s: refused, nothing stored', async (_name, { secret, sign }, status) => {
    e2e = await startE2E({ accounting: 'zoho', env: { ZOHO_WEBHOOK_SIGNING_SECRET: 'zoho-signing-secret-abc' } });
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

});
