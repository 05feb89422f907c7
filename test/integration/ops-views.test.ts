// The operator's read models and the retry action on a real store (SQLite, and PostgreSQL when reachable):
// queue figures, unsettled failures, recent deals, a deal's timeline, and what retrying a job or a deal does.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { permanent, retryable } from '../../src/errors.js';
import { acceptEvents } from '../../src/jobs/inbox.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { dealTimeline } from '../../src/ops/deal-timeline.js';
import { queueFigures } from '../../src/ops/queue-figures.js';
import { recentDeals, unsettledFailures } from '../../src/ops/recent-deals.js';
import { retryDeal, retryJob } from '../../src/ops/retry.js';
import type { Store } from '../../src/store/db.js';
import { DealInvoices } from '../../src/store/invoice-records.js';
import { backends, type SharedDatabase } from '../support/backends.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

describe.each(backends)('operator views on %s', (_name, shared) => {
  let db: SharedDatabase;
  let store: Store;
  let clock: number;
  let queue: JobQueue;

  beforeEach(async () => {
    db = await shared();
    store = await db.open();
    clock = T0;
    queue = new JobQueue(store.db, { maxAttempts: 2, leaseMs: 10_000, backoffBaseMs: 60_000, backoffMaxMs: 60_000, now: () => clock });
  });
  afterEach(async () => db.cleanup());

  /** A deal's webhook stored as the intake does, its job enqueued with it. */
  async function dealEntersStage(dealId: number): Promise<number> {
    const { jobIds } = await acceptEvents(
      store.db,
      queue,
      [{ source: 'kommo', dedupKey: `kommo:lead:${dealId}:v1`, kind: 'deal_entered_invoice_stage', dealId: String(dealId), payload: { leadId: dealId }, job: { kind: 'invoice_for_deal', lane: `deal:${dealId}`, payload: { dealId } } }],
      clock,
    );
    return jobIds[0]!;
  }

  async function claimAndFail(jobId: number, err = permanent('contact_missing_email', 'Invoice not created: the contact "Bob" has no email.')) {
    const job = await queue.claim('w');
    expect(job?.id).toBe(jobId);
    if (err.retryable) await queue.retryLater(job!, 'w', err);
    else await queue.fail(job!, 'w', err);
  }

  async function claimAndFinish(jobId: number, result: unknown) {
    const job = await queue.claim('w');
    expect(job?.id).toBe(jobId);
    await queue.succeed(job!, 'w', result);
  }

  it('queue figures, unsettled failures and recent deals, each in exact numbers', async () => {
    const failedJob = await dealEntersStage(1); // stays failed
    await claimAndFail(failedJob);
    clock += 1000;
    const settled = await dealEntersStage(2); // fails, then a later job for the same work succeeds
    await claimAndFail(settled);
    const later = await queue.enqueue({ kind: 'invoice_for_deal', lane: 'deal:2', dealId: '2', payload: { dealId: 2 } });
    await claimAndFinish(later, { outcome: 'invoiced' });
    await new DealInvoices(store.db, () => clock).start('2', 'KOMMO-2');
    await new DealInvoices(store.db, () => clock).update('2', { state: 'linked', invoice_id: '4600000000000000002', invoice_number: 'INV-000002', invoice_url: 'https://books.zoho.eu/portal/acme/2' });
    clock += 1000;
    const waiting = await dealEntersStage(3); // retryable failure: queued again, due in 30-60 s
    await claimAndFail(waiting, retryable('zoho_unavailable', 'Zoho Books answered 503.'));
    const orphan = await queue.enqueue({ kind: 'payment_to_deal', lane: 'invoice:99', payload: { invoiceId: '99' } }); // no deal known
    await claimAndFail(orphan, permanent('zoho_not_found', 'Zoho Books has no such record.'));
    clock += 1000;
    await dealEntersStage(4); // due now

    expect(await queueFigures(store.db, clock)).toEqual({ byState: { queued: 2, running: 0, done: 1, failed: 3, dead: 0 }, due: 1 });
    expect((await unsettledFailures(store.db)).map((j) => [j.id, j.lastErrorCode])).toEqual([
      [orphan, 'zoho_not_found'],
      [failedJob, 'contact_missing_email'],
    ]);
    const deals = await recentDeals(store.db);
    expect(deals.map((d) => [d.dealId, d.state.kind, d.state.label, d.invoice?.number ?? null])).toEqual([
      ['4', 'waiting', 'queued (invoice_for_deal)', null],
      ['3', 'waiting', 'waiting to retry (invoice_for_deal, attempt 1 of 2): Zoho Books answered 503.', null],
      ['2', 'invoiced', 'invoiced: INV-000002', 'INV-000002'],
      ['1', 'failed', 'failed (invoice_for_deal): Invoice not created: the contact "Bob" has no email.', null],
    ]);
  });

  it("a retried job runs again with fresh attempts, and the earlier attempt's record stays as it ended", async () => {
    const id = await dealEntersStage(5);
    await claimAndFail(id);
    clock += 60_000;
    const retried = await retryJob(queue, id);
    expect(retried).toMatchObject({ ok: true, message: 'Job ' + id + ' (invoice_for_deal, deal 5) is queued again and runs now.' });
    expect(retried.ok && [retried.job.state, retried.job.attempts]).toEqual(['queued', 0]);
    // The same worker takes it again: its attempt is number 1 again, as the first one was.
    await claimAndFinish(id, { outcome: 'invoiced', invoiceId: '46' });

    const t = (await dealTimeline(store.db, '5'))!;
    expect(t.jobs.map((j) => [j.state, j.attemptLog.map((a) => [a.attempt, a.outcome, a.error?.code ?? null])])).toEqual([
      [
        'done',
        [
          [1, 'failed', 'contact_missing_email'],
          [1, 'done', null],
        ],
      ],
    ]);
    expect(t.errors).toEqual([{ jobId: id, kind: 'invoice_for_deal', attempt: 1, at: new Date(T0).toISOString(), code: 'contact_missing_email', message: 'Invoice not created: the contact "Bob" has no email.' }]);
    expect(t.events.map((e) => [e.source, e.kind, e.receivedAt, e.payload])).toEqual([['kommo', 'deal_entered_invoice_stage', new Date(T0).toISOString(), { leadId: 5 }]]);
    expect(t.timeline.map((e) => [e.at, e.what, e.text])).toEqual([
      [new Date(T0).toISOString(), 'event', 'kommo: deal_entered_invoice_stage'],
      [new Date(T0).toISOString(), 'attempt', 'invoice_for_deal attempt 1: failed (contact_missing_email: Invoice not created: the contact "Bob" has no email.)'],
      [new Date(T0 + 60_000).toISOString(), 'attempt', 'invoice_for_deal attempt 1: done'],
    ]);
  });

  it('retrying refuses what cannot be retried, saying why', async () => {
    const done = await dealEntersStage(6);
    await claimAndFinish(done, { outcome: 'skipped', reason: 'deal is no longer in an invoicing stage (now status 5 in pipeline 9)' });
    expect(await retryJob(queue, done)).toEqual({
      ok: false,
      status: 409,
      error: 'job_not_retryable',
      message: `Job ${done} is done: only failed or dead jobs can be retried (it finished successfully).`,
    });
    expect(await retryJob(queue, 999_999)).toEqual({ ok: false, status: 404, error: 'job_not_found', message: 'There is no job 999999.' });
    expect(await retryDeal(store.db, queue, '6')).toEqual({
      ok: false,
      status: 409,
      error: 'nothing_to_retry',
      message:
        'Deal 6 has no failed job to retry: not invoiced: deal is no longer in an invoicing stage (now status 5 in pipeline 9). Retrying would skip it again: move the deal into the invoicing stage in Kommo and the relay invoices it.',
    });
    expect(await retryDeal(store.db, queue, '77')).toEqual({
      ok: false,
      status: 404,
      error: 'deal_not_found',
      message: 'The relay has no job for deal 77: it has not seen the deal enter a stage it acts on.',
    });
    expect(await dealTimeline(store.db, '77')).toBeUndefined();
  });

  it("a deal retry re-runs the deal's newest unsettled failure", async () => {
    const invoice = await dealEntersStage(8);
    await claimAndFail(invoice);
    const note = await queue.enqueue({ kind: 'deal_note', lane: 'deal:8', dealId: '8', payload: { dealId: 8, key: 'failure:1:1', text: 'x' } });
    await claimAndFinish(note, { added: true });
    const result = await retryDeal(store.db, queue, '8');
    expect(result.ok && [result.job.id, result.job.kind, result.job.state]).toEqual([invoice, 'invoice_for_deal', 'queued']);
    expect(await retryDeal(store.db, queue, '8')).toMatchObject({ ok: false, error: 'nothing_to_retry', message: 'Deal 8 has no failed job to retry: queued (invoice_for_deal). Its job is on its way already.' });
  });
});
