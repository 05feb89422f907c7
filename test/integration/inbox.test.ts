import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InboxWriter, type InboxItem } from '../../src/jobs/inbox.js';
import { JobQueue } from '../../src/jobs/queue.js';
import type { Store } from '../../src/store/db.js';
import { backends, type SharedDatabase } from '../support/backends.js';

// The intake's group commit. On SQLite it writes through prepared statements beside Kysely (the hot path),
// on PostgreSQL as one prepared statement on the pool: both must store the same rows, deduplicate the same
// way (also against another process's handle), store a batch's events and jobs all or nothing, and never let
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

  it('stores no event of a batch whose job cannot be stored', async () => {
    const inbox = new InboxWriter(store.db, queue);
    const badJob: InboxItem = { ...item(11), job: { kind: null as unknown as string, lane: 'deal:11' } };
    const results = await Promise.allSettled([inbox.accept([item(10)]), inbox.accept([badJob])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await store.db.selectFrom('events').selectAll().execute()).toEqual([]);
    expect(await store.db.selectFrom('jobs').selectAll().execute()).toEqual([]);
  });

  it('stores each delivery once when two processes take in the same webhooks at once, and counts later ones as duplicates', async () => {
    const other = await db.open();
    const queue2 = new JobQueue(other.db, queue.opts);
    const a = new InboxWriter(store.db, queue);
    const b = new InboxWriter(other.db, queue2);
    const deals = Array.from({ length: 300 }, (_, i) => i + 1);
    // More than one batch (200) in each process, the same deliveries in both, in opposite orders.
    const answers = await Promise.all([...deals.map((d) => a.accept([item(d)])), ...[...deals].reverse().map((d) => b.accept([item(d)]))]);
    expect(answers.reduce((n, r) => n + r.stored, 0)).toBe(300);
    expect(answers.reduce((n, r) => n + r.duplicates, 0)).toBe(300);
    const jobIds = answers.flatMap((r) => r.jobIds);
    const jobs = await store.db.selectFrom('jobs').select(['id', 'event_id', 'deal_id']).orderBy('id').execute();
    expect(jobs.map((j) => Number(j.id))).toEqual([...jobIds].sort((x, y) => x - y));
    expect(new Set(jobs.map((j) => j.deal_id)).size).toBe(300);
    const events = await store.db.selectFrom('events').select(['id', 'deal_id']).execute();
    expect(events).toHaveLength(300);
    // Each job points at its own deal's event.
    const eventDeal = new Map(events.map((e) => [Number(e.id), e.deal_id]));
    expect(jobs.every((j) => eventDeal.get(Number(j.event_id)) === j.deal_id)).toBe(true);
    expect(await b.accept([item(5), item(301)])).toMatchObject({ stored: 1, duplicates: 1 });
  });
});
