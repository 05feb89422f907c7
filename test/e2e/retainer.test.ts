// Retainer billing through both sandboxes: a recurring invoice starts, stops and resumes with the deal's
// stage, duplicates never make a second profile, and payments of the invoices it generates reach the
// deal as notes (no stage move). Every recurring-invoice request and every answer of the fake is validated
// against Zoho's contract (contract/zoho-books) by the fake, answers strictly: no undocumented property.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { WEBHOOK_SECRET, type Scenario } from '../../sandbox/scenario.js';
import { startE2E, waitFor, type E2E } from '../support/e2e.js';
import { startLossyProxy } from '../support/lossy-proxy.js';

let e2e: E2E | undefined;
afterEach(async () => {
  // close() also fails the test on any contract violation or unreadable log line.
  await e2e?.close();
  e2e = undefined;
});

const profiles = (s: Scenario) => [...s.zoho.state.recurring.values()];
const fieldOf = (s: Scenario, dealId: number, fieldId: number) => s.kommo.state.leads.get(dealId)?.customFields.find((f) => f.fieldId === fieldId)?.values[0]?.value;
const move = (s: Scenario, dealId: number, statusId: number) => s.kommo.moveLeads([dealId], statusId, s.pipelineId);

async function settled(e: E2E) {
  await e.scenario.kommo.flushWebhooks();
  await e.scenario.zoho.flushWebhooks();
  await waitFor(async () => (await e.relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain');
}

function retainerDeal(s: Scenario, frequency = 'Quarterly') {
  const { dealId } = s.addClientDeal({ name: 'SEO retainer', price: 900 });
  const lead = s.kommo.state.leads.get(dealId)!;
  const def = s.kommo.state.leadFields.get(s.fields.billingFrequency)!;
  const option = def.enums!.find((e) => e.value === frequency)!;
  lead.customFields.push({ fieldId: s.fields.billingFrequency, values: [{ value: frequency, enumId: option.id }] });
  return dealId;
}

describe('retainer deals', () => {
  it("start, stop and resume with the stage: one profile throughout, named by Zoho's recurring_invoice_id", async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const dealId = retainerDeal(s);
    move(s, dealId, s.stages.retainerActive);
    await waitFor(() => fieldOf(s, dealId, s.fields.recurringId), 'the recurring ID on the deal');
    const [profile, ...others] = profiles(s);
    expect(others).toEqual([]);
    expect(profile).toMatchObject({ recurrenceName: `Kommo deal ${dealId}`, status: 'active', frequency: 'months', repeatEvery: 3, startDate: new Date().toISOString().slice(0, 10), referenceNumber: `Kommo deal ${dealId}` });
    // The fake's create answer carried the profile's ID only as recurring_invoice_id (its answers are
    // validated strictly against Zoho's contract: afterEach asserts no violation, requests or responses).
    const created = s.zoho.snapshot().recurring_invoices as Array<Record<string, unknown>>;
    expect(created.map((r) => r.recurring_invoice_id)).toEqual([profile!.recurrenceId]);
    expect(created[0]).not.toHaveProperty('recurrence_id');
    const recurringId = fieldOf(s, dealId, s.fields.recurringId);
    expect(recurringId).toBe(profile!.recurrenceId);
    expect(recurringId).toMatch(/^\d{19}$/); // Zoho's ID, not the text 'undefined'

    move(s, dealId, s.stages.completed);
    await waitFor(() => profile!.status === 'stopped', 'the profile to stop');
    move(s, dealId, s.stages.retainerActive);
    await waitFor(() => profile!.status === 'active', 'the profile to resume');
    await settled(e2e);
    expect(profiles(s)).toHaveLength(1);
    // Lost (143) stops it too.
    move(s, dealId, 143);
    await waitFor(() => profile!.status === 'stopped', 'Closed - lost to stop the profile');
    const statusCalls = s.zoho.requests.filter((r) => r.method === 'POST' && r.path.includes('/recurringinvoices/') && r.path.includes('/status/'));
    expect(statusCalls.map((r) => [r.path, r.status])).toEqual([
      [`/books/v3/recurringinvoices/${recurringId}/status/stop`, 201],
      [`/books/v3/recurringinvoices/${recurringId}/status/resume`, 201],
      [`/books/v3/recurringinvoices/${recurringId}/status/stop`, 201],
    ]);
    expect(s.zoho.violations).toEqual([]);
  });

  it('duplicate, concurrent and replayed events: one profile', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const dealId = retainerDeal(s, 'Monthly');
    move(s, dealId, s.stages.retainerActive);
    await s.kommo.flushWebhooks();
    const body = s.kommo.deliveries.find((d) => d.events.includes('status_lead') && d.body.includes(String(dealId)))!.body;
    const post = () => request(e2e!.relay.url).post(`/webhooks/kommo/${WEBHOOK_SECRET}`).type('form').send(body);
    await Promise.all([post(), post(), post(), post(), post()]);
    await e2e.relay.reconciler.sweep();
    await settled(e2e);
    expect(profiles(s)).toHaveLength(1);
    expect(profiles(s)[0]).toMatchObject({ frequency: 'months', repeatEvery: 1 });
  });

  it('the create reaches Zoho but its answer is lost: found by name, not created twice', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    let drop = true;
    const proxy = await startLossyProxy(s.zohoUrl, (method, path) => {
      if (drop && method === 'POST' && path === '/books/v3/recurringinvoices') {
        drop = false;
        return true;
      }
      return false;
    });
    await e2e.restart({ ZOHO_API_URL: proxy.url });
    const dealId = retainerDeal(s);
    move(s, dealId, s.stages.retainerActive);
    await waitFor(() => fieldOf(s, dealId, s.fields.recurringId), 'the recurring ID on the deal');
    expect(proxy.dropped).toBe(1);
    expect(profiles(s)).toHaveLength(1);
    await proxy.close();
  });

  it("a payment on an invoice the profile generated: a note on the deal, no stage move", async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const dealId = retainerDeal(s);
    move(s, dealId, s.stages.retainerActive);
    const recurrenceId = await waitFor(() => fieldOf(s, dealId, s.fields.recurringId), 'the recurring ID');
    const invoiceId = s.zoho.generateRecurringInvoice(String(recurrenceId));
    s.zoho.recordPayment(invoiceId, { amount: 900, date: '2026-12-01' });
    const note = await waitFor(() => [...s.kommo.state.notes.values()].find((n) => n.entityId === dealId), 'the payment note');
    expect(String(note.params.text)).toMatch(/^Payment received: 900\.00 EUR on 2026-12-01 for invoice INV-\d+\. \(Zoho payment \d{19}\)$/);
    await settled(e2e);
    expect(s.kommo.state.leads.get(dealId)!.statusId).toBe(s.stages.retainerActive);
    expect(fieldOf(s, dealId, s.fields.paid)).toBeUndefined();
  });

  // GET /invoices rows carry no recurring_invoice_id in Zoho's contract: the reconciler knows a generated
  // invoice by its reference, which the profile gives every invoice it makes (the retainer's name).
  it("a missed payment webhook for a generated invoice: the reconciler still brings it to the deal", async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const dealId = retainerDeal(s);
    move(s, dealId, s.stages.retainerActive);
    const recurrenceId = await waitFor(() => fieldOf(s, dealId, s.fields.recurringId), 'the recurring ID');
    await settled(e2e);
    await e2e.relay.reconciler.sweep(); // sets the checkpoint
    const invoiceId = s.zoho.generateRecurringInvoice(String(recurrenceId));
    s.zoho.dropNextWebhooks(1);
    s.zoho.recordPayment(invoiceId, { amount: 900, date: '2026-12-01' });
    await s.zoho.flushWebhooks();
    expect(s.zoho.webhookDeliveries.filter((d) => d.dropped)).toHaveLength(1);
    const result = await e2e.relay.reconciler.sweep();
    expect(result.paymentJobs).toBe(1);
    const note = await waitFor(() => [...s.kommo.state.notes.values()].find((n) => n.entityId === dealId), 'the payment note');
    expect(String(note.params.text)).toMatch(/^Payment received: 900\.00 EUR on 2026-12-01 for invoice INV-\d+\./);
  });
});
