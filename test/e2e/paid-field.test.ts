// The paid field of every usual Kommo type, end to end through both sandboxes, for each accounting backend
// (payments recorded in the fake Zoho or Xero, told to the relay as that system does): the fake Kommo checks each
// value against the field's type (a select takes only one of its options), so what lands here is what
// Kommo would take. Then the failure modes: a select option that does not exist stops start-up and
// `relay check` with the field's options; Kommo refusing the field still moves and notes the deal, the
// refusal visible with Kommo's reason on /admin and in `relay deal`; a note that fails is retried alone.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { startRelay } from '../../src/relay.js';
import type { FieldSeed } from '../../sandbox/kommo/state.js';
import { ADMIN_TOKEN, type Scenario } from '../../sandbox/scenario.js';
import { runCli } from '../support/cli.js';
import { get } from '../support/connect.js';
import { ACCOUNTING_BACKENDS } from '../support/accounting-backends.js';
import { dealInvoices, polled, startE2E, waitFor, type E2E } from '../support/e2e.js';
import type { SandboxAccounting } from '../../sandbox/scenario.js';

let e2e: E2E | undefined;
afterEach(async () => {
  // close() also fails the test on any contract violation or unreadable log line.
  await e2e?.close();
  e2e = undefined;
});

const lead = (e: E2E, dealId: number) => e.scenario.kommo.state.leads.get(dealId)!;
const stored = (e: E2E, dealId: number, fieldId: number) => lead(e, dealId).customFields.find((f) => f.fieldId === fieldId)?.values[0]?.value;
const notesOf = (e: E2E, dealId: number) => [...e.scenario.kommo.state.notes.values()].filter((n) => n.entityId === dealId).map((n) => String(n.params.text));
const refusedWrites = (e: E2E) => e.scenario.kommo.requests.filter((r) => r.method !== 'GET' && (r.status ?? 0) >= 400);
const paidStageMoves = (e: E2E, dealId: number) =>
  e.scenario.kommo.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v4/leads/${dealId}` && (r.body as { status_id?: number }).status_id === e.scenario.stages.paymentReceived && (r.status ?? 0) < 300);

/** The relay with `payment.paidField` set to what `paidField(fieldId)` gives, for a lead field seeded first. */
async function relayWithPaidField(accounting: SandboxAccounting, seed: FieldSeed | undefined, paidField: (fieldId: number) => unknown, env: Record<string, string> = {}) {
  let fieldId = 0;
  e2e = await startE2E({
    accounting,
    env: { ADMIN_TOKEN, ...env },
    prepare: (s: Scenario) => {
      fieldId = seed ? s.kommo.addLeadField(seed) : s.fields.paid;
      const mapping = JSON.parse(readFileSync(s.mappingFile, 'utf8'));
      mapping.payment.paidField = paidField(fieldId);
      writeFileSync(s.mappingFile, JSON.stringify(mapping));
    },
  });
  return { e: e2e, fieldId };
}

async function invoicedDeal(e: E2E, price: number) {
  const { dealId } = e.scenario.addClientDeal({ price });
  e.scenario.moveToInvoice(dealId);
  await waitFor(() => stored(e, dealId, e.scenario.fields.invoiceUrl), 'the invoice');
  return { dealId, invoice: dealInvoices(e.scenario, dealId)[0]! };
}

async function settled(e: E2E) {
  await e.scenario.books.flushWebhooks();
  await waitFor(async () => (await e.relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain');
}

const optionId = (e: E2E, fieldId: number, name: string) => e.scenario.kommo.state.leadFields.get(fieldId)!.enums!.find((o) => o.value === name)!.id;
const noon = (day: string) => Date.parse(`${day}T12:00:00Z`) / 1000;
const STATUS_OPTIONS = ['Unpaid', 'Partially paid', 'Paid'];

describe.each(ACCOUNTING_BACKENDS)('%s', (accounting) => {
  describe('the paid field of each type, after a partial and then the full payment', () => {
    type Case = [string, FieldSeed | undefined, (id: number) => unknown, { partial: unknown; full: unknown; wire: (e: E2E, id: number) => unknown }];
    const cases: Case[] = [
      ['checkbox: ticked', undefined, () => 'Paid', { partial: undefined, full: true, wire: () => ({ value: true }) }],
      ['date: the payment date', { name: 'Paid on', type: 'date' }, () => 'Paid on', { partial: undefined, full: noon('2026-11-21'), wire: () => ({ value: '2026-11-21T12:00:00+00:00' }) }],
      ['date_time: the payment date', { name: 'Paid at', type: 'date_time' }, (id) => id, { partial: undefined, full: noon('2026-11-21'), wire: () => ({ value: '2026-11-21T12:00:00+00:00' }) }],
      ['text: "Paid <date>"', { name: 'Payment', type: 'text' }, () => ({ field: 'Payment' }), { partial: undefined, full: 'Paid 2026-11-21', wire: () => ({ value: 'Paid 2026-11-21' }) }],
      ['textarea: "Paid <date>"', { name: 'Payment memo', type: 'textarea' }, () => 'Payment memo', { partial: undefined, full: 'Paid 2026-11-21', wire: () => ({ value: 'Paid 2026-11-21' }) }],
      ['numeric: the amount paid so far', { name: 'Amount paid', type: 'numeric' }, () => 'Amount paid', { partial: 400.25, full: 1000, wire: () => ({ value: 1000 }) }],
      [
        'select: the options chosen by name for a partial and a full payment',
        { name: 'Payment status', type: 'select', enums: STATUS_OPTIONS },
        () => ({ field: 'Payment status', value: 'paid', partialValue: 'Partially Paid' }),
        { partial: 'Partially paid', full: 'Paid', wire: (e, id) => ({ enum_id: optionId(e, id, 'Paid') }) },
      ],
      ['select without a partial option', { name: 'Payment status', type: 'select', enums: STATUS_OPTIONS }, () => ({ field: 'Payment status', value: 'Paid' }), { partial: undefined, full: 'Paid', wire: (e, id) => ({ enum_id: optionId(e, id, 'Paid') }) }],
      ['radiobutton: the option chosen by name', { name: 'Settled', type: 'radiobutton', enums: ['No', 'Yes'] }, () => ({ field: 'Settled', value: 'Yes' }), { partial: undefined, full: 'Yes', wire: (e, id) => ({ enum_id: optionId(e, id, 'Yes') }) }],
    ];

    it.each(cases)('%s', async (_name, seed, paidField, want) => {
      const { e, fieldId } = await relayWithPaidField(accounting, seed, paidField);
      const s = e.scenario;
      const { dealId, invoice } = await invoicedDeal(e, 1000);
      s.books.pay(invoice.id, { amount: 400.25, date: '2026-11-20' });
      await polled(e);
      await waitFor(() => notesOf(e, dealId).length === 1, 'the partial-payment note');
      await settled(e);
      expect(stored(e, dealId, fieldId)).toEqual(want.partial);
      expect(lead(e, dealId).statusId).toBe(s.stages.invoice);

      s.books.pay(invoice.id, { amount: 599.75, date: '2026-11-21' });
      await polled(e);
      await waitFor(() => lead(e, dealId).statusId === s.stages.paymentReceived, 'the stage move');
      await settled(e);
      expect(stored(e, dealId, fieldId)).toEqual(want.full);
      expect(notesOf(e, dealId)).toHaveLength(2);
      // The field and the move went to Kommo in one PATCH, the field as kommo.md says (enum_id for a list).
      const [move, ...more] = paidStageMoves(e, dealId);
      expect(more).toEqual([]);
      expect(move!.body).toEqual({ status_id: s.stages.paymentReceived, pipeline_id: s.pipelineId, custom_fields_values: [{ field_id: fieldId, values: [want.wire(e, fieldId)] }] });
      expect(refusedWrites(e)).toEqual([]);
    });
  });

  describe('a select option the mapping names but Kommo does not have', () => {
    it('stops start-up and fails `relay check`, both listing the options', async () => {
      const { e, fieldId } = await relayWithPaidField(accounting, { name: 'Payment status', type: 'select', enums: STATUS_OPTIONS }, () => 'Paid');
      const s = e.scenario;
      const bad = JSON.parse(readFileSync(s.mappingFile, 'utf8'));
      bad.payment.paidField = { field: 'Payment status', value: 'Payed', partialValue: 'Partly paid' };
      const file = join(e.dir, 'bad-option.json');
      writeFileSync(file, JSON.stringify(bad));
      const options = STATUS_OPTIONS.map((o) => `'${o}' (${optionId(e, fieldId, o)})`).join(', ');
      const expected = [
        `MAPPING_FILE payment.paidField.value: the select field 'Payment status' has no option "Payed". Options: ${options}`,
        `MAPPING_FILE payment.paidField.partialValue: the select field 'Payment status' has no option "Partly paid". Options: ${options}`,
      ];

      const err = await startRelay(parseEnv(s.env({ MAPPING_FILE: file, DATABASE_URL: `sqlite:${e.dir}/bad.db` })), { log: createLogger({ level: 'silent' }) }).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual(expected);

      const run = await runCli(['check'], s.env({ MAPPING_FILE: file }));
      expect(run.code).toBe(1);
      const lines = run.stdout.split('\n');
      const at = lines.indexOf('  FAIL  Mapping against Kommo');
      expect(lines.slice(at, at + 3)).toEqual(['  FAIL  Mapping against Kommo', ...expected.map((p) => `          - ${p}`)]);
    });
  });

  describe('Kommo refusing one write', () => {
    it('the paid field refused: the deal is still moved and noted, the refusal is on /admin and in `relay deal` with Kommo\'s reason; a retry writes only the field', async () => {
      const { e, fieldId } = await relayWithPaidField(accounting, { name: 'Payment status', type: 'select', enums: STATUS_OPTIONS }, () => ({ field: 'Payment status', value: 'Paid' }));
      const s = e.scenario;
      const { dealId, invoice } = await invoicedDeal(e, 1000);
      await settled(e); // what the system's own webhooks about the new invoice start (Xero's) is done first
      // An admin renames the option in Kommo's settings after the relay resolved it: its ID is gone.
      s.kommo.setLeadFieldOptions(fieldId, ['Unpaid', 'Partially paid', 'Settled']);
      s.books.pay(invoice.id, { amount: 1000, date: '2026-11-20' });
      await polled(e);
      await waitFor(() => lead(e, dealId).statusId === s.stages.paymentReceived, 'the stage move');
      await settled(e);

      expect(notesOf(e, dealId)).toEqual([expect.stringMatching(/^Payment received: 1,000\.00 EUR on 2026-11-20 for invoice /)]);
      expect(stored(e, dealId, fieldId)).toBeUndefined();
      // Kommo refused the PATCH with both, with its validation-errors; then took the move alone.
      expect(refusedWrites(e).map((r) => [r.method, r.status, r.body])).toEqual([
        ['PATCH', 400, { status_id: s.stages.paymentReceived, pipeline_id: s.pipelineId, custom_fields_values: [{ field_id: fieldId, values: [{ enum_id: expect.any(Number) }] }] }],
        ['PATCH', 400, { custom_fields_values: [{ field_id: fieldId, values: [{ enum_id: expect.any(Number) }] }] }],
      ]);
      const kommoReason = 'custom_fields_values.0.values.0.enum_id: The value you selected is not a valid choice.';
      const job = await e.relay.store.db.selectFrom('jobs').selectAll().where('deal_id', '=', String(dealId)).where('kind', '=', 'payment_to_deal').where('state', '=', 'failed').executeTakeFirstOrThrow();
      expect(job.last_error_code).toBe('deal_write_refused');
      expect(job.last_error).toContain(`paid field 'Payment status' = "Paid": Kommo rejected PATCH /leads/${dealId} (400`);
      expect(job.last_error).toContain(kommoReason);

      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const record: any = await (await get(e.relay, `/admin/deals/${dealId}`, auth)).json();
      expect(record.writes.map((w: { kind: string; state: string }) => [w.kind, w.state])).toEqual([
        ['invoice_field', 'done'],
        ['invoice_field', 'done'],
        ['paid_field', 'refused'],
        ['paid_stage', 'done'],
      ]);
      expect(record.refused).toEqual([{ what: `paid field 'Payment status' = "Paid"`, reason: expect.stringContaining(kommoReason), at: expect.any(String) }]);
      expect(record.state).toMatchObject({ kind: 'failed', jobId: Number(job.id) });
      const failures: any = await (await get(e.relay, '/admin/jobs?state=failed', auth)).json();
      expect(failures.jobs.map((j: { id: number; lastError: { code: string } }) => [j.id, j.lastError.code])).toEqual([[Number(job.id), 'deal_write_refused']]);
      const page = await (await get(e.relay, `/admin/deals/${dealId}`, { ...auth, accept: 'text/html' })).text();
      expect(page).toContain('<section id="writes"><h2>Writes to Kommo</h2>');
      expect(page).toContain('The value you selected is not a valid choice.');

      const env = s.env({ ADMIN_TOKEN });
      const shown = await runCli(['deal', String(dealId)], env);
      expect(shown.code).toBe(0);
      const lines = shown.stdout.split('\n');
      expect(lines[0]).toMatch(new RegExp(`^Deal ${dealId}: failed \\(payment_to_deal\\): `));
      expect(lines.find((l) => l.startsWith('  Refused'))).toContain(`paid field 'Payment status' = "Paid": Kommo rejected PATCH /leads/${dealId} (400`);
      const writes = lines.slice(lines.indexOf('Writes to Kommo') + 1, lines.indexOf('Timeline (UTC)') - 1).map((l) => l.trim().split(/ {2,}/));
      expect(writes).toEqual([
        ['done', expect.stringMatching(/^invoice field 'Invoice ID' = /)],
        ['done', expect.stringMatching(/^invoice field 'Invoice URL' = /)],
        ['refused', `paid field 'Payment status' = "Paid"`, record.writes[2].reason],
        ['done', 'move to Sales / Payment Received'],
      ]);

      // The system tells of the invoice again with nothing new (its webhook about the same invoice): the job
      // reads it and ends with the same refusal, but sends Kommo no refused PATCH again.
      const kommoWrites = () => s.kommo.requests.filter((r) => r.method === 'PATCH').length;
      const patchesBefore = kommoWrites();
      const jobsBefore = (await e.relay.store.db.selectFrom('jobs').select('id').where('kind', '=', 'payment_to_deal').execute()).length;
      expect((await s.books.notify(invoice.id)).status).toBe(200);
      const paymentJobs = async () => (await e.relay.store.db.selectFrom('jobs').select('id').where('kind', '=', 'payment_to_deal').execute()).length;
      if (s.books.facts.webhooks === 'wake-up') {
        // The system's webhook only wakes the reconciler (Wave's): an invoice with nothing new makes no job at all.
        await polled(e);
        await settled(e);
        expect(await paymentJobs()).toBe(jobsBefore);
      } else {
        await waitFor(async () => (await paymentJobs()) > jobsBefore, 'the job of the repeated event');
        await settled(e);
      }
      expect(kommoWrites()).toBe(patchesBefore);
      const again = await e.relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'payment_to_deal').orderBy('id', 'desc').executeTakeFirstOrThrow();
      expect([again.state, again.last_error_code]).toEqual(['failed', 'deal_write_refused']);
      expect(again.last_error).toContain(kommoReason);
      const writeRecord = await e.relay.store.db.selectFrom('deal_writes').select(['state', 'attempts']).where('kind', '=', 'paid_field').executeTakeFirstOrThrow();
      expect(writeRecord).toEqual({ state: 'refused', attempts: 1 });

      // The admin puts the option back (a new ID); a restart resolves it, and an operator's retry writes the field only.
      s.kommo.setLeadFieldOptions(fieldId, ['Unpaid', 'Partially paid', 'Paid']);
      await e.restart();
      const retried = await runCli(['retry', 'job', String(again.id), '--wait'], env);
      expect([retried.code, retried.stderr]).toEqual([0, '']);
      expect(stored(e, dealId, fieldId)).toBe('Paid');
      expect(paidStageMoves(e, dealId)).toHaveLength(1);
      expect(notesOf(e, dealId)).toHaveLength(1);
      const after: any = await (await get(e.relay, `/admin/deals/${dealId}`, auth)).json();
      expect(after.refused).toEqual([]);
      expect(after.state.kind).toBe('paid');
    });

    it('a note Kommo does not answer (503) is retried alone: the field and the move are made once', async () => {
      const { e, fieldId } = await relayWithPaidField(accounting, { name: 'Payment status', type: 'select', enums: STATUS_OPTIONS }, () => ({ field: 'Payment status', value: 'Paid' }));
      const s = e.scenario;
      const { dealId, invoice } = await invoicedDeal(e, 1000);
      await settled(e);
      const polling = s.books.facts.payments === 'reconciler';
      if (!polling) s.kommo.faults.failNext(1, { status: 503 }); // the payment job's first Kommo call: the note's POST
      const lastJob = await e.relay.store.db.selectFrom('jobs').select((eb) => eb.fn.max('id').as('id')).executeTakeFirstOrThrow();
      s.books.pay(invoice.id, { amount: 1000, date: '2026-11-20' });
      if (polling) {
        // The sweep reads Kommo first: the fault is armed once it is done, while the payment job waits on the
        // system's (slowed) answer, so the note's POST is still the first Kommo call it meets.
        s.books.setLatency(300);
        await polled(e);
        s.kommo.faults.failNext(1, { status: 503 });
        s.books.setLatency(0);
      }
      await waitFor(() => notesOf(e, dealId).length === 1, 'the note, on the second attempt');
      await settled(e);
      expect(stored(e, dealId, fieldId)).toBe('Paid');
      expect(paidStageMoves(e, dealId)).toHaveLength(1);
      expect(s.kommo.requests.filter((r) => r.method === 'POST' && r.path === `/api/v4/leads/${dealId}/notes`).map((r) => r.status)).toEqual([503, 200]);
      // The payment's job (not one the system's earlier webhooks about the invoice started, as Xero's do).
      const jobs = await e.relay.store.db.selectFrom('jobs').selectAll().where('deal_id', '=', String(dealId)).where('kind', '=', 'payment_to_deal').where('id', '>', Number(lastJob.id)).execute();
      expect(jobs.map((j) => [j.state, j.attempts])).toEqual([['done', 2]]);
    });
  });
});
