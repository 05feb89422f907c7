// Where a deal stands, from its jobs and records: one table of cases, and which failures count as
// unsettled (a later job for the same work settles an earlier failure).
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/queue.js';
import { dealState, openFailures, type DealFacts } from '../../src/ops/deal-state.js';

let nextId = 1;
function job(over: Partial<Job> & Pick<Job, 'kind' | 'state'>): Job {
  return {
    id: nextId++,
    lane: 'deal:7',
    dealId: '7',
    eventId: null,
    payload: { dealId: 7 },
    attempts: 1,
    maxAttempts: 12,
    runAt: 0,
    lastErrorCode: null,
    lastError: null,
    result: null,
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}

const invoiced = { state: 'linked' as const, invoice_id: '4600000000000000001', invoice_number: 'INV-000001' };

const cases: Array<[string, () => DealFacts, ReturnType<typeof dealState>['kind'], string]> = [
  ['no job at all', () => ({ jobs: [], paid: false }), 'received', 'no invoice yet'],
  ['a queued first job', () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'queued', attempts: 0 })], paid: false }), 'waiting', 'queued (invoice_for_deal)'],
  [
    'a job waiting for its retry',
    () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'queued', attempts: 3, lastError: 'Zoho Books answered 503.' })], paid: false }),
    'waiting',
    'waiting to retry (invoice_for_deal, attempt 3 of 12): Zoho Books answered 503.',
  ],
  [
    'queued again by an operator: the old error is history',
    () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'queued', attempts: 0, lastError: 'Invoice not created: no email.' })], paid: false }),
    'waiting',
    'queued (invoice_for_deal)',
  ],
  ['a running job', () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'running' })], paid: false }), 'running', 'running (invoice_for_deal)'],
  [
    'a permanent failure',
    () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'failed', lastError: 'Invoice not created: no email.' }), job({ kind: 'deal_note', state: 'done', payload: { key: 'failure:1:1' } })], paid: false }),
    'failed',
    'failed (invoice_for_deal): Invoice not created: no email.',
  ],
  ['out of attempts', () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'dead', lastError: 'Zoho Books answered 503.' })], paid: false }), 'failed', 'gave up (invoice_for_deal): Zoho Books answered 503.'],
  [
    'a failure settled by a later run of the same work',
    () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'failed', lastError: 'no email' }), job({ kind: 'invoice_for_deal', state: 'done' })], invoice: invoiced, paid: false }),
    'invoiced',
    'invoiced: INV-000001',
  ],
  ['invoiced and paid', () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'done' }), job({ kind: 'payment_to_deal', state: 'done', payload: { invoiceId: '46' } })], invoice: invoiced, paid: true }), 'paid', 'paid: INV-000001'],
  [
    'invoiced, but noting a payment failed',
    () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'done' }), job({ kind: 'payment_to_deal', state: 'failed', payload: { invoiceId: '46' }, lastError: 'Kommo rejected PATCH' })], invoice: invoiced, paid: false }),
    'failed',
    'failed (payment_to_deal): Kommo rejected PATCH',
  ],
  [
    'a failed payment of another invoice is not settled by this one',
    () => ({
      jobs: [job({ kind: 'payment_to_deal', state: 'dead', payload: { invoiceId: 'A' }, lastError: 'gone' }), job({ kind: 'payment_to_deal', state: 'done', payload: { invoiceId: 'B' } })],
      paid: false,
    }),
    'failed',
    'gave up (payment_to_deal): gone',
  ],
  [
    'skipped: the deal had left the stage',
    () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'done', result: { outcome: 'skipped', reason: 'deal is no longer in an invoicing stage (now status 5 in pipeline 9)' } })], paid: false }),
    'skipped',
    'not invoiced: deal is no longer in an invoicing stage (now status 5 in pipeline 9)',
  ],
  ['a recurring profile running', () => ({ jobs: [job({ kind: 'retainer_for_deal', state: 'done' })], recurring: { state: 'active' }, paid: false }), 'recurring', 'recurring invoice active'],
  ['a recurring profile stopped', () => ({ jobs: [job({ kind: 'retainer_for_deal', state: 'done' })], recurring: { state: 'stopped' }, paid: false }), 'recurring', 'recurring invoice stopped'],
  ['an invoice without a number shows its ID', () => ({ jobs: [job({ kind: 'invoice_for_deal', state: 'done' })], invoice: { ...invoiced, invoice_number: null }, paid: false }), 'invoiced', 'invoiced: 4600000000000000001'],
];

describe('dealState', () => {
  it.each(cases)('%s', (_name, facts, kind, label) => {
    const state = dealState(facts());
    expect([state.kind, state.label]).toEqual([kind, label]);
  });

  it('points at the job to retry: the newest unsettled failure', () => {
    const older = job({ kind: 'payment_to_deal', state: 'failed', payload: { invoiceId: 'A' }, lastError: 'a' });
    const newer = job({ kind: 'invoice_for_deal', state: 'dead', lastError: 'b' });
    expect(dealState({ jobs: [newer, older], paid: false }).jobId).toBe(newer.id);
    expect(openFailures([older, newer]).map((j) => j.id)).toEqual([newer.id, older.id]);
  });

  it('a later failure of the same work replaces the earlier one', () => {
    const first = job({ kind: 'invoice_for_deal', state: 'failed', lastError: 'first' });
    const second = job({ kind: 'invoice_for_deal', state: 'failed', lastError: 'second' });
    expect(openFailures([second, first]).map((j) => j.lastError)).toEqual(['second']);
  });
});
