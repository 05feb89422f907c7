import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { permanent, retryable } from '../../src/errors.js';
import { JobQueue } from '../../src/jobs/queue.js';
import type { Store } from '../../src/store/db.js';
import { backends, type SharedDatabase } from '../support/backends.js';

// The queue runs against a real SQLite file, and against PostgreSQL when one is reachable (the planned
// backend for several instances), so the SQL stays portable.
describe.each(backends)('job queue on %s', (_name, shared) => {
  let db: SharedDatabase;
  let store: Store;
  let clock: number;
  let queue: JobQueue;

  beforeEach(async () => {
    db = await shared();
    store = await db.open();
    clock = 1_000_000;
    queue = new JobQueue(store.db, { maxAttempts: 3, leaseMs: 10_000, backoffBaseMs: 1000, backoffMaxMs: 60_000, now: () => clock });
  });
  afterEach(async () => db.cleanup());

  it('claims due jobs in order, once each', async () => {
    const a = await queue.enqueue({ kind: 'k', lane: 'deal:1', payload: { n: 1 } });
    const b = await queue.enqueue({ kind: 'k', lane: 'deal:2', payload: { n: 2 } });
    const first = await queue.claim('w1');
    const second = await queue.claim('w2');
    expect([first?.id, second?.id]).toEqual([a, b]);
    expect(first?.payload).toEqual({ n: 1 });
    expect(first?.attempts).toBe(1);
    expect(await queue.claim('w3')).toBeUndefined();
  });

  it('never runs two jobs of the same lane at once', async () => {
    await queue.enqueue({ kind: 'k', lane: 'deal:1' });
    await queue.enqueue({ kind: 'k', lane: 'deal:1' });
    const first = await queue.claim('w1');
    expect(first).toBeDefined();
    expect(await queue.claim('w2')).toBeUndefined();
    await queue.succeed(first!, 'w1', { ok: true });
    expect((await queue.claim('w2'))?.lane).toBe('deal:1');
  });

  it('retries with growing, jittered backoff and then dead-letters', async () => {
    const id = await queue.enqueue({ kind: 'k', lane: 'l' });
    const delays: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const job = await queue.claim('w');
      expect(job?.id).toBe(id);
      const outcome = await queue.retryLater(job!, 'w', retryable('zoho_unavailable', 'down'));
      const after = await queue.get(id);
      if (i < 3) {
        expect(outcome).toBe('retry');
        delays.push(after!.runAt - clock);
        expect(await queue.claim('w')).toBeUndefined(); // not due yet
        clock = after!.runAt;
      } else {
        expect(outcome).toBe('dead');
        expect(after?.state).toBe('dead');
        expect(after?.lastErrorCode).toBe('zoho_unavailable');
      }
    }
    expect(delays[0]).toBeGreaterThanOrEqual(500);
    expect(delays[0]).toBeLessThanOrEqual(1000);
    expect(delays[1]).toBeGreaterThanOrEqual(1000);
    expect(delays[1]).toBeLessThanOrEqual(2000);
  });

  it('honours a server-given retry time over a shorter backoff', async () => {
    const id = await queue.enqueue({ kind: 'k', lane: 'l' });
    const job = await queue.claim('w');
    await queue.retryLater(job!, 'w', retryable('zoho_rate_limited', '429', { retryAfterMs: 30_000 }));
    expect((await queue.get(id))!.runAt - clock).toBe(30_000);
  });

  it('a pause (a day quota used up) waits until the quota is back and spends none of the attempts, however many days it lasts', async () => {
    const id = await queue.enqueue({ kind: 'k', lane: 'l' });
    const day = 24 * 3600_000;
    for (let i = 0; i < 5; i++) {
      const job = await queue.claim('w');
      expect(job?.attempts).toBe(1);
      expect(await queue.retryLater(job!, 'w', retryable('zoho_day_limit', 'paused until tomorrow', { retryAfterMs: day, paused: true }))).toBe('retry');
      const after = await queue.get(id);
      expect(after).toMatchObject({ state: 'queued', attempts: 0, runAt: clock + day, lastErrorCode: 'zoho_day_limit' });
      expect(await queue.claim('w')).toBeUndefined();
      clock += day;
    }
    // Its attempts are all still there for real failures.
    for (let i = 1; i <= 3; i++) {
      const job = await queue.claim('w');
      expect(job?.attempts).toBe(i);
      const outcome = await queue.retryLater(job!, 'w', retryable('zoho_unavailable', 'down'));
      expect(outcome).toBe(i < 3 ? 'retry' : 'dead');
      clock = (await queue.get(id))!.runAt;
    }
  });

  it('records a permanent failure with its reason, and an operator retry runs it again', async () => {
    const id = await queue.enqueue({ kind: 'k', lane: 'l' });
    const job = await queue.claim('w');
    await queue.fail(job!, 'w', permanent('contact_missing_email', 'the contact has no email'));
    const failed = await queue.get(id);
    expect(failed).toMatchObject({ state: 'failed', lastErrorCode: 'contact_missing_email', lastError: 'the contact has no email' });
    expect(await queue.claim('w')).toBeUndefined();
    expect((await queue.retryNow(id))?.state).toBe('queued');
    expect((await queue.claim('w'))?.attempts).toBe(1);
  });

  it('takes up a job whose worker died once its lease expires, and marks the lost attempt', async () => {
    const id = await queue.enqueue({ kind: 'k', lane: 'l' });
    await queue.claim('dead-worker');
    expect(await queue.claim('w2')).toBeUndefined();
    clock += 10_001;
    const again = await queue.claim('w2');
    expect(again?.id).toBe(id);
    expect(again?.attempts).toBe(2);
    const attempts = await store.db.selectFrom('job_attempts').selectAll().where('job_id', '=', id).orderBy('attempt').execute();
    expect(attempts.map((a) => a.outcome)).toEqual(['abandoned', 'running']);
    // The dead worker's late answer cannot overwrite the new owner's state.
    await queue.succeed({ ...again!, attempts: 1 }, 'dead-worker', null);
    expect((await queue.get(id))?.state).toBe('running');
  });

  it('a heartbeat keeps the lease alive', async () => {
    await queue.enqueue({ kind: 'k', lane: 'l' });
    const job = await queue.claim('w1');
    clock += 9_000;
    expect(await queue.heartbeat(job!.id, 'w1')).toBe(true);
    clock += 9_000;
    expect(await queue.claim('w2')).toBeUndefined();
  });

  describe('fair across kinds', () => {
    const KINDS = ['invoice_for_deal', 'payment_to_deal', 'deal_note'];
    /** Many jobs in one INSERT, built as enqueue builds them. */
    const backlog = async (kind: string, n: number, lane: (i: number) => string) => {
      const rows = Array.from({ length: n }, (_, i) => queue.newJobRow({ kind, lane: lane(i), payload: { i } }));
      for (let i = 0; i < rows.length; i += 500) await store.db.insertInto('jobs').values(rows.slice(i, i + 500)).execute();
    };

    it('a deal moved after a backlog of 5,000 payment checks is claimed next, not after them', async () => {
      await backlog('payment_to_deal', 5_000, (i) => `invoice:${i}`);
      const first = await queue.claim('w1', KINDS);
      expect(first?.kind).toBe('payment_to_deal');
      clock += 1;
      const invoice = await queue.enqueue({ kind: 'invoice_for_deal', lane: 'deal:7', dealId: '7', payload: { dealId: 7 } });
      const started = performance.now();
      const next = await queue.claim('w2', KINDS);
      const claimMs = performance.now() - started;
      expect(next?.id).toBe(invoice);
      // One claim over the backlog stays cheap (it reads the oldest job of each kind, not the backlog).
      expect(claimMs).toBeLessThan(1_000);
      expect((await queue.claim('w3', KINDS))?.kind).toBe('payment_to_deal');
    });

    it('two backlogs are claimed in turn, each in its own order', async () => {
      await backlog('payment_to_deal', 6, (i) => `invoice:${i}`);
      clock += 1;
      await backlog('invoice_for_deal', 3, (i) => `deal:${i}`);
      const claimed: string[] = [];
      for (let job = await queue.claim('w', KINDS); job; job = await queue.claim('w', KINDS)) claimed.push(`${job.kind}#${String(job.payload.i)}`);
      expect(claimed).toEqual([
        'invoice_for_deal#0',
        'payment_to_deal#0',
        'invoice_for_deal#1',
        'payment_to_deal#1',
        'invoice_for_deal#2',
        'payment_to_deal#2',
        'payment_to_deal#3',
        'payment_to_deal#4',
        'payment_to_deal#5',
      ]);
    });

    it('another process, knowing only its own kinds, is fair too and still takes kinds it has not heard of', async () => {
      const other = new JobQueue((await db.open()).db, { ...queue.opts, now: () => clock });
      await backlog('payment_to_deal', 3, (i) => `invoice:${i}`);
      await backlog('something_else', 1, () => 'x');
      clock += 1;
      await backlog('invoice_for_deal', 1, () => 'deal:1');
      const kinds = [];
      for (let job = await other.claim('w', KINDS); job; job = await other.claim('w', KINDS)) kinds.push(job.kind);
      expect(kinds).toEqual(['invoice_for_deal', 'payment_to_deal', 'payment_to_deal', 'payment_to_deal', 'something_else']);
    });

    it('a kind whose jobs wait for their lane does not hold up the others', async () => {
      await backlog('payment_to_deal', 2, () => 'deal:1');
      await backlog('invoice_for_deal', 1, () => 'deal:2');
      expect((await queue.claim('w1', KINDS))?.kind).toBe('invoice_for_deal');
      expect((await queue.claim('w2', KINDS))?.lane).toBe('deal:1');
      expect(await queue.claim('w3', KINDS)).toBeUndefined(); // the second payment waits for deal:1
    });
  });
});
