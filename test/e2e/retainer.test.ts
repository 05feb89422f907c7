// Retainer billing through both sandboxes, for each accounting backend: a recurring invoice starts, stops
// and resumes with the deal's stage (where the system cannot resume one, as Xero cannot, a new one takes
// its place and the deal shows its ID), duplicates never make a second one, and payments of the invoices it
// generates reach the deal as notes (no stage move). A system without recurring invoices (Wave) refuses the
// retainer section at start-up instead. Every request and answer is validated against the system's contract
// by its fake (E2E.close() checks).
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { startRelay } from '../../src/relay.js';
import { RETAINER_SECTION, SANDBOX_FACTS, startScenario, WEBHOOK_SECRET, type Scenario } from '../../sandbox/scenario.js';
import { tempDir } from '../support/tmp.js';
import { EARLY_SWEEP_DELAY_MS } from '../../src/sync/reconciler.js';
import { ACCOUNTING_BACKENDS, namesOf } from '../support/accounting-backends.js';
import { dealField, notesOf, startE2E, waitFor, type E2E } from '../support/e2e.js';

let e2e: E2E | undefined;
afterEach(async () => {
  // close() also fails the test on any contract violation or unreadable log line.
  await e2e?.close();
  e2e = undefined;
});

const profiles = (s: Scenario) => s.books.recurring();
const active = (s: Scenario) => profiles(s).filter((p) => p.active);
const move = (s: Scenario, dealId: number, statusId: number) => s.kommo.moveLeads([dealId], statusId, s.pipelineId);
const recurringIdOf = (s: Scenario, dealId: number) => dealField(s, dealId, s.fields.recurringId) as string | undefined;

async function settled(e: E2E) {
  await e.scenario.kommo.flushWebhooks();
  await e.scenario.books.flushWebhooks();
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

describe.each(ACCOUNTING_BACKENDS)('%s: retainer deals', (accounting) => {
  const names = namesOf(accounting);

  if (SANDBOX_FACTS[accounting].recurringInvoices === false) {
    it('the mapping\'s retainer section stops start-up with a message that names what to do', async () => {
      const dir = tempDir('relay-retainer-');
      const s = await startScenario({ accounting, dir: dir.path });
      try {
        const mapping = JSON.parse(readFileSync(s.mappingFile, 'utf8')) as Record<string, unknown>;
        writeFileSync(s.mappingFile, JSON.stringify({ ...mapping, retainer: RETAINER_SECTION }));
        const err = await Promise.resolve()
          .then(() => startRelay(parseEnv(s.env()), { log: createLogger({ level: 'silent' }) }))
          .then(
            async (relay) => (await relay.stop(), undefined),
            (e: unknown) => e as Error,
          );
        expect(err?.message).toContain(`retainer: ${names.system} has no recurring invoices, so deals cannot be billed on a schedule. Remove the retainer section (ACCOUNTING=${accounting}).`);
        expect(s.books.recurring()).toEqual([]);
        expect(s.books.violations).toEqual([]);
      } finally {
        await s.close();
        dir.cleanup();
      }
    });
    return;
  }

  it("start, stop and resume with the stage: one running profile throughout, the deal showing the system's ID", async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const dealId = retainerDeal(s);
    move(s, dealId, s.stages.retainerActive);
    await waitFor(() => recurringIdOf(s, dealId), 'the recurring ID on the deal');
    const [profile, ...others] = profiles(s);
    expect(others).toEqual([]);
    expect(profile).toMatchObject({ name: `Kommo deal ${dealId}`, reference: `Kommo deal ${dealId}`, active: true, unit: 'month', every: 3, startDate: new Date().toISOString().slice(0, 10) });
    const first = recurringIdOf(s, dealId);
    expect(first).toBe(profile!.id);
    expect(first).toMatch(s.books.facts.id); // the system's ID, not the text 'undefined'
    const mark = s.books.callCount;

    move(s, dealId, s.stages.completed);
    await waitFor(() => active(s).length === 0, 'the profile to stop');
    move(s, dealId, s.stages.retainerActive);
    await waitFor(() => active(s).length === 1 && recurringIdOf(s, dealId) === active(s)[0]!.id, 'the retainer to run again, its ID on the deal');
    await settled(e2e);
    const resumed = active(s)[0]!;
    // Zoho resumes the same profile; Xero cannot resume a template: a new one runs, the stopped one stays deleted.
    expect(resumed.id === first).toBe(!s.books.facts.resumeMakesNewProfile);
    expect(profiles(s)).toHaveLength(s.books.facts.resumeMakesNewProfile ? 2 : 1);
    expect(resumed).toMatchObject({ reference: `Kommo deal ${dealId}`, unit: 'month', every: 3 });
    // Lost (143) stops it too.
    move(s, dealId, 143);
    await waitFor(() => active(s).length === 0, 'Closed - lost to stop the profile');
    const changes = s.books.calls(mark).filter((c) => ['recurring.create', 'recurring.stop', 'recurring.resume'].includes(c.op));
    const named = (id: string) => (c: { path: string; body: unknown }) => JSON.stringify([c.path, c.body]).includes(id);
    expect(changes.map((c) => [c.op, (c.status ?? 0) >= 200 && (c.status ?? 0) < 300])).toEqual([
      ['recurring.stop', true],
      [s.books.facts.resumeMakesNewProfile ? 'recurring.create' : 'recurring.resume', true],
      ['recurring.stop', true],
    ]);
    expect([named(first!)(changes[0]!), named(resumed.id)(changes[2]!)]).toEqual([true, true]);
  });

  it('duplicate, concurrent and replayed events: one profile', async () => {
    e2e = await startE2E({ accounting });
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
    expect(profiles(s)[0]).toMatchObject({ active: true, unit: 'month', every: 1 });
  });

  it('the create reaches the system but its answer is lost: found again, not created twice', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    s.books.loseNextAnswer('recurring.create');
    const dealId = retainerDeal(s);
    move(s, dealId, s.stages.retainerActive);
    await waitFor(() => recurringIdOf(s, dealId), 'the recurring ID on the deal');
    expect(s.books.lostAnswers()).toBe(1);
    expect(profiles(s)).toHaveLength(1);
    expect(recurringIdOf(s, dealId)).toBe(profiles(s)[0]!.id);
  });

  it('a payment on an invoice the profile generated: a note on the deal within seconds (by its webhook, or an early sweep it asks for where the system says too little), no stage move', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const dealId = retainerDeal(s);
    move(s, dealId, s.stages.retainerActive);
    const recurrenceId = await waitFor(() => recurringIdOf(s, dealId), 'the recurring ID');
    const invoiceId = s.books.runRecurring(recurrenceId);
    const invoice = s.books.invoice(invoiceId)!;
    expect(invoice).toMatchObject({ recurringId: recurrenceId, reference: `Kommo deal ${dealId}`, total: 900, status: 'open' });
    const sweepsBefore = s.books.calls().filter((c) => c.op === 'invoice.list').length;
    const paymentId = s.books.pay(invoiceId, { amount: 900, date: '2026-12-01' });
    // No sweep asked by the test: the system's own webhooks bring the note, within seconds (RECONCILE_INTERVAL_SECONDS is 300).
    const paidAt = Date.now();
    await waitFor(() => notesOf(s, dealId).length > 0, 'the payment note');
    expect(Date.now() - paidAt).toBeLessThan(8000);
    const sweeps = s.books.calls().filter((c) => c.op === 'invoice.list').length - sweepsBefore;
    // Xero's events name only the invoice: the relay swept early (once or twice: the invoice's generation and its payment).
    if (s.books.facts.generatedInvoicePayments === 'early sweep') expect(sweeps).toBeGreaterThanOrEqual(1);
    else expect(sweeps).toBe(0);
    expect(notesOf(s, dealId)).toEqual([`Payment received: 900.00 EUR on 2026-12-01 for invoice ${invoice.number}. (${names.short} payment ${paymentId})`]);
    await settled(e2e);
    expect(s.kommo.state.leads.get(dealId)!.statusId).toBe(s.stages.retainerActive);
    expect(dealField(s, dealId, s.fields.paid)).toBeUndefined();
  });

  it('a flood of signed notifications about unknown invoices while a retainer runs: no call per invoice, at most one sweep per window (none where webhooks name the profile)', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const dealId = retainerDeal(s);
    move(s, dealId, s.stages.retainerActive);
    await waitFor(() => recurringIdOf(s, dealId), 'the recurring ID');
    await settled(e2e);
    const post = (n: { path: string; headers: Record<string, string>; body: string }) => request(e2e!.relay.url).post(n.path).set(n.headers).send(n.body);
    const sweeps = () => s.books.calls().filter((c) => c.op === 'invoice.list').length;
    const mark = s.books.callCount;
    const before = sweeps();
    const started = Date.now();
    // 50 notifications of 100 unknown IDs each, over five seconds or so.
    for (let i = 0; i < 50; i++) {
      expect((await post(s.books.notification(s.books.unknownIds(100)))).status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
    }
    const flood = Date.now() - started;
    await new Promise((r) => setTimeout(r, EARLY_SWEEP_DELAY_MS + 1000));
    await settled(e2e);
    const swept = sweeps() - before;
    if (s.books.facts.generatedInvoicePayments === 'early sweep') {
      expect(swept).toBeGreaterThanOrEqual(1);
      // Sweeps are at least a window apart: never more than the windows the flood and the last delay span.
      expect(swept).toBeLessThanOrEqual(Math.ceil(flood / EARLY_SWEEP_DELAY_MS) + 1);
    } else expect(swept).toBe(0);
    // Nothing read for any of the 5,000: the sweeps' lists (and Kommo's deals) are all the work.
    expect(s.books.calls(mark).filter((c) => c.op !== 'invoice.list' && c.op !== 'token')).toEqual([]);
    expect(await e2e.relay.store.db.selectFrom('jobs').select('id').where('kind', '=', 'payment_to_deal').execute()).toEqual([]);
  });

  // An invoice a profile generated is known by its reference, which the profile gives every invoice it makes
  // (the retainer's name): the reconciler finds the deal from it.
  it('a missed payment webhook for a generated invoice: the reconciler still brings it to the deal', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const dealId = retainerDeal(s);
    move(s, dealId, s.stages.retainerActive);
    const recurrenceId = await waitFor(() => recurringIdOf(s, dealId), 'the recurring ID');
    await settled(e2e);
    await e2e.relay.reconciler.sweep(); // sets the checkpoint
    s.books.dropNextWebhooks(1);
    const invoiceId = s.books.runRecurring(recurrenceId);
    s.books.pay(invoiceId, { amount: 900, date: '2026-12-01' });
    await s.books.flushWebhooks();
    expect(s.books.droppedWebhooks()).toBe(1);
    const result = await e2e.relay.reconciler.sweep();
    expect(result.paymentJobs).toBe(1);
    const note = await waitFor(() => notesOf(s, dealId)[0], 'the payment note');
    expect(note).toMatch(new RegExp(`^Payment received: 900\\.00 EUR on 2026-12-01 for invoice ${s.books.invoice(invoiceId)!.number}\\.`));
  });
});
