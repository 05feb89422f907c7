// LISTEN/NOTIFY on PostgreSQL: a job stored by one process starts at once in an idle worker of another,
// whose poll is set far beyond the test (an hour), so only the notification can have woken it.
import { afterEach, describe, expect, it } from 'vitest';
import { JobQueue } from '../../src/jobs/queue.js';
import { Worker } from '../../src/jobs/worker.js';
import { JobWakeups, NOTIFY_GAP_MS } from '../../src/jobs/wakeups.js';
import { acceptEvents } from '../../src/jobs/inbox.js';
import { createLogger } from '../../src/log.js';
import { openStore, type Store } from '../../src/store/db.js';
import { databaseUrls, type DatabaseUrl } from '../support/database-urls.js';

const postgres = databaseUrls.find(([name]) => name === 'postgres');
const log = createLogger({ level: 'silent' });
const queueOptions = { maxAttempts: 3, leaseMs: 30_000, backoffBaseMs: 100, backoffMaxMs: 1000 };

describe.skipIf(!postgres)('job wake-ups across processes (PostgreSQL)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  async function relayProcess(database: DatabaseUrl, id: string) {
    const store: Store = await openStore({ dialect: 'postgres', location: database.url });
    const queue = new JobQueue(store.db, queueOptions);
    const wakeups = await JobWakeups.start(database.url, id, queue, log);
    cleanups.push(() => store.close(), () => wakeups.stop());
    return { store, queue, wakeups };
  }

  it('a webhook stored by the intake process wakes the idle worker of another at once', async () => {
    const database = await postgres![1]();
    cleanups.push(() => database.cleanup());
    const intake = await relayProcess(database, 'intake');
    const worker = await relayProcess(database, 'worker');
    const started: number[] = [];
    const w = new Worker(worker.queue, { ping: { run: async () => void started.push(performance.now()) } }, { concurrency: 2, pollMs: 3600_000, log });
    w.start();
    cleanups.push(() => w.stop(1000));
    await new Promise((r) => setTimeout(r, 200)); // the worker's first look found nothing; now it sleeps

    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await acceptEvents(intake.store.db, intake.queue, [{ source: 'admin', dedupKey: `ping-${i}`, kind: 'ping', payload: {}, job: { kind: 'ping', lane: `lane-${i}` } }]);
      const deadline = Date.now() + 2000;
      while (started.length <= i && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      expect(started.length).toBe(i + 1);
      latencies.push(started[i]! - t0);
    }
    // Far below any poll: a NOTIFY and a claim.
    expect(Math.max(...latencies)).toBeLessThan(250);
  });

  it('a burst of commits sends a few coalesced NOTIFYs, the last after the last commit, and every job is started', async () => {
    const database = await postgres![1]();
    cleanups.push(() => database.cleanup());
    const intake = await relayProcess(database, 'intake');
    const worker = await relayProcess(database, 'worker');
    // A third listener on the same channel counts what goes over the wire.
    const { default: pg } = await import('pg');
    const listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    cleanups.push(() => listener.end());
    const schema = (await listener.query<{ s: string }>('select current_schema() as s')).rows[0]!.s;
    let notifications = 0;
    listener.on('notification', (m) => void (m.payload === 'intake' && notifications++));
    await listener.query(`listen relay_jobs_${schema.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`);

    let started = 0;
    const w = new Worker(worker.queue, { ping: { run: async () => void started++ } }, { concurrency: 4, pollMs: 3600_000, log });
    w.start();
    cleanups.push(() => w.stop(1000));
    await new Promise((r) => setTimeout(r, 200)); // the worker's first look found nothing; now it sleeps

    const commits = 60;
    const t0 = performance.now();
    for (let i = 0; i < commits; i++) {
      await acceptEvents(intake.store.db, intake.queue, [{ source: 'admin', dedupKey: `burst-${i}`, kind: 'ping', payload: {}, job: { kind: 'ping', lane: `lane-${i}` } }]);
    }
    const burstMs = performance.now() - t0;
    const deadline = Date.now() + 3000;
    while (started < commits && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(started).toBe(commits);
    await new Promise((r) => setTimeout(r, 3 * NOTIFY_GAP_MS));
    expect(notifications).toBeGreaterThanOrEqual(1);
    expect(notifications, `${notifications} NOTIFYs for ${commits} commits in ${burstMs.toFixed(0)} ms`).toBeLessThanOrEqual(Math.ceil(burstMs / NOTIFY_GAP_MS) + 2);
    expect(notifications).toBeLessThan(commits);
  });
});
