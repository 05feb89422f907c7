// Graceful shutdown of the worker on a real SQLite queue: running jobs may finish within the timeout; a
// job still running after it is given back to the queue; a job claimed at the very moment stop() began is
// given back untouched instead of being started behind the shutdown's back.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobQueue, type Job } from '../../src/jobs/queue.js';
import { Worker } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/log.js';
import { tempStore } from '../support/tmp.js';
import { waitFor } from '../support/e2e.js';

const log = createLogger({ level: 'silent' });
const OPTS = { maxAttempts: 3, leaseMs: 30_000, backoffBaseMs: 1000, backoffMaxMs: 1000 };

/** A queue whose claim() waits at a gate after taking the job, to hold a claim in flight. */
class GatedQueue extends JobQueue {
  gate: Promise<void> | undefined;
  claimed = 0;
  override async claim(workerId: string): Promise<Job | undefined> {
    const job = await super.claim(workerId);
    if (job) this.claimed++;
    if (job && this.gate) await this.gate;
    return job;
  }
}

describe('Worker.stop', () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  beforeEach(async () => {
    store = await tempStore();
  });
  afterEach(async () => store.cleanup());

  const state = async (id: number) => (await store.db.selectFrom('jobs').select(['state', 'locked_by']).where('id', '=', id).executeTakeFirstOrThrow());

  it('lets running jobs finish within the timeout; the rest stay queued', async () => {
    const queue = new JobQueue(store.db, OPTS);
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const ran: number[] = [];
    const worker = new Worker(queue, { k: { run: async (job) => { ran.push(job.id); await slow; return 'ok'; } } }, { concurrency: 1, log });
    const a = await queue.enqueue({ kind: 'k', lane: 'a' });
    const b = await queue.enqueue({ kind: 'k', lane: 'b' });
    worker.start();
    await waitFor(() => ran.length === 1, 'the first job to start');
    const stopped = worker.stop(5000);
    setTimeout(release, 200);
    await stopped;
    expect(await state(a)).toEqual({ state: 'done', locked_by: null });
    expect(await state(b)).toEqual({ state: 'queued', locked_by: null });
    expect(ran).toEqual([a]);
  });

  it('gives a job still running at the timeout back to the queue', async () => {
    const queue = new JobQueue(store.db, OPTS);
    let started = false;
    const worker = new Worker(queue, { k: { run: () => ((started = true), new Promise(() => undefined)) } }, { concurrency: 1, log });
    const a = await queue.enqueue({ kind: 'k', lane: 'a' });
    worker.start();
    await waitFor(() => started, 'the job to start');
    await worker.stop(100);
    expect(await state(a)).toEqual({ state: 'queued', locked_by: null });
  });

  it('a job claimed while stop() begins is given back, never started', async () => {
    const queue = new GatedQueue(store.db, OPTS);
    let open!: () => void;
    queue.gate = new Promise<void>((r) => (open = r));
    const ran: number[] = [];
    const worker = new Worker(queue, { k: { run: async (job) => void ran.push(job.id) } }, { concurrency: 1, log });
    const a = await queue.enqueue({ kind: 'k', lane: 'a' });
    worker.start();
    await waitFor(() => queue.claimed === 1, 'the claim to take the job');
    expect(await state(a)).toMatchObject({ state: 'running' });
    const stopped = worker.stop(5000);
    open();
    await stopped;
    expect(ran).toEqual([]);
    expect(await state(a)).toEqual({ state: 'queued', locked_by: null });
  });
});
