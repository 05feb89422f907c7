import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InboxWriter, type InboxItem } from '../../src/jobs/inbox.js';
import { JobQueue } from '../../src/jobs/queue.js';
import type { Store } from '../../src/store/db.js';
import { backends, type SharedDatabase } from '../support/backends.js';

// The intake's group commit. On SQLite it writes through prepared statements beside Kysely (the hot path),
// on PostgreSQL through Kysely: both must store the same rows, deduplicate the same way, and never let
// another caller's open transaction take the intake's writes with it.
describe.each(backends)('inbox on %s', (_name, shared) => {
  let db: SharedDatabase;
  let store: Store;
  let queue: JobQueue;

  beforeEach(async () => {
    db = await shared();
    store = await db.open();
    queue = new JobQueue(store.db, { maxAttempts: 4, leaseMs: 10_000, backoffBaseMs: 1000, backoffMaxMs: 60_000, now: () => 5_000 });
  });
  afterEach(async () => db.cleanup());

  const item = (deal: number, version = 1, job = true): InboxItem => ({
    source: 'kommo',
    dedupKey: `kommo:lead:${deal}:in-stage:1:2:${version}`,
    kind: 'deal_entered_invoice_stage',
    dealId: String(deal),
    payload: { leadId: deal, name: `Сделка №${deal}` },
    ...(job ? { job: { kind: 'invoice_for_deal', lane: `deal:${deal}`, payload: { dealId: deal } } } : {}),
  });

  it('stores webhooks arriving together in one commit, each answered with its own counts', async () => {
    const inbox = new InboxWriter(store.db, queue);
    let notified = 0;
    queue.onEnqueued(() => notified++);
    const answers = await Promise.all([
      inbox.accept([item(1), item(2)]),
      inbox.accept([item(1)]), // the same delivery again, in the same batch
      inbox.accept([item(3, 1, false)]),
    ]);
    expect(answers.map((a) => [a.stored, a.duplicates, a.jobIds.length])).toEqual([
      [2, 0, 2],
      [0, 1, 0],
      [1, 0, 0],
    ]);
    expect(notified).toBe(1);

    const events = await store.db.selectFrom('events').selectAll().orderBy('id').execute();
    expect(events.map((e) => [e.dedup_key, e.deal_id, JSON.parse(e.payload).name])).toEqual([
      ['kommo:lead:1:in-stage:1:2:1', '1', 'Сделка №1'],
      ['kommo:lead:2:in-stage:1:2:1', '2', 'Сделка №2'],
      ['kommo:lead:3:in-stage:1:2:1', '3', 'Сделка №3'],
    ]);
    const jobs = await store.db.selectFrom('jobs').selectAll().orderBy('id').execute();
    expect(jobs.map((j) => Number(j.id))).toEqual(answers[0]!.jobIds);
    expect(jobs[0]).toMatchObject({
      kind: 'invoice_for_deal',
      lane: 'deal:1',
      deal_id: '1',
      event_id: Number(events[0]!.id),
      state: 'queued',
      attempts: 0,
      max_attempts: 4,
      run_at: 5_000,
      locked_by: null,
      created_at: 5_000,
    });
    expect(JSON.parse(jobs[0]!.payload)).toEqual({ dealId: 1 });
    // What the worker claims is what the intake stored.
    const claimed = await queue.claim('w1');
    expect(claimed).toMatchObject({ id: answers[0]!.jobIds[0], dealId: '1', payload: { dealId: 1 } });
  });

  it('commits even while another caller holds a transaction open, and that rollback takes none of it', async () => {
    const inbox = new InboxWriter(store.db, queue);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let accepted: Promise<unknown> | undefined;
    const other = store.db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('kv').values({ key: 'other', value: 'x', updated_at: 1 }).execute();
        accepted = inbox.accept([item(7)]); // a webhook arrives while the transaction is open
        await new Promise((r) => setTimeout(r, 20));
        release();
        throw new Error('roll back');
      })
      .catch((e: Error) => e.message);
    await held;
    expect(await other).toBe('roll back');
    expect(await accepted).toMatchObject({ stored: 1, duplicates: 0 });
    expect(await store.db.selectFrom('events').select('dedup_key').execute()).toEqual([{ dedup_key: 'kommo:lead:7:in-stage:1:2:1' }]);
    expect(await store.db.selectFrom('kv').selectAll().execute()).toEqual([]);
  });

  it('fails the whole batch and stores nothing of it when a write fails', async () => {
    const inbox = new InboxWriter(store.db, queue);
    const bad = { ...item(9), kind: null as unknown as string }; // NOT NULL column
    const results = await Promise.allSettled([inbox.accept([item(8)]), inbox.accept([bad])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await store.db.selectFrom('events').selectAll().execute()).toEqual([]);
    expect(await store.db.selectFrom('jobs').selectAll().execute()).toEqual([]);
    // The next delivery of the good one is stored.
    expect(await inbox.accept([item(8)])).toMatchObject({ stored: 1 });
  });
});
