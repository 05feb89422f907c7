// Durable job queue on the store. A job is claimed with a lease; a process that dies leaves the lease to
// expire and the job is taken up again. Jobs in the same lane (one deal) never run concurrently.
import type { Db } from '../store/db.js';
import type { JobState, JobsTable } from '../store/schema.js';
import type { Insertable, Selectable } from 'kysely';
import { backoffDelay } from './backoff.js';
import type { RelayError } from '../errors.js';

export interface Job {
  id: number;
  kind: string;
  lane: string;
  dealId: string | null;
  eventId: number | null;
  payload: Record<string, unknown>;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  runAt: number;
  lastErrorCode: string | null;
  lastError: string | null;
  result: unknown;
  createdAt: number;
  updatedAt: number;
}

export interface EnqueueInput {
  kind: string;
  lane: string;
  dealId?: string | null;
  eventId?: number | null;
  payload?: Record<string, unknown>;
  runAt?: number;
  maxAttempts?: number;
}

export interface QueueOptions {
  maxAttempts: number;
  leaseMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  now?: () => number;
}

export function toJob(row: Selectable<JobsTable>): Job {
  return {
    id: Number(row.id),
    kind: row.kind,
    lane: row.lane,
    dealId: row.deal_id,
    eventId: row.event_id === null ? null : Number(row.event_id),
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: Number(row.run_at),
    lastErrorCode: row.last_error_code,
    lastError: row.last_error,
    result: row.result === null ? null : JSON.parse(row.result),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export class JobQueue {
  private readonly now: () => number;
  private listeners = new Set<() => void>();
  private announce: (() => void) | undefined;
  /** Job kinds this process has seen, in the order claims rotate through them. */
  private readonly kinds = new Set<string>();
  private lastKind: string | undefined;

  constructor(
    private readonly db: Db,
    readonly opts: QueueOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Called after a commit that added jobs, so an idle worker starts at once instead of at its next poll. */
  onEnqueued(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Jobs were added: wake this process's workers, and tell the other processes on the database. */
  notify(): void {
    this.wake();
    this.announce?.();
  }

  /** Wakes this process's workers only (another process announced jobs). */
  wake(): void {
    for (const l of this.listeners) l();
  }

  /** How this process tells the others that jobs were added (PostgreSQL: NOTIFY, see wakeups.ts). */
  announceWith(announce: (() => void) | undefined): void {
    this.announce = announce;
  }

  /** Adds a job using `executor` (pass a transaction to enqueue atomically with other writes). */
  async enqueue(input: EnqueueInput, executor: Db = this.db): Promise<number> {
    const row = await executor.insertInto('jobs').values(this.newJobRow(input)).returning('id').executeTakeFirstOrThrow();
    if (executor === this.db) this.notify();
    return Number(row.id);
  }

  /** The row a new job is stored as (also used by the intake's raw SQLite path, so the two never differ). */
  newJobRow(input: EnqueueInput): Insertable<JobsTable> {
    const now = this.now();
    this.kinds.add(input.kind);
    return {
      kind: input.kind,
      lane: input.lane,
      deal_id: input.dealId ?? null,
      event_id: input.eventId ?? null,
      payload: JSON.stringify(input.payload ?? {}),
      state: 'queued',
      attempts: 0,
      max_attempts: input.maxAttempts ?? this.opts.maxAttempts,
      run_at: input.runAt ?? now,
      locked_by: null,
      locked_until: null,
      last_error_code: null,
      last_error: null,
      result: null,
      created_at: now,
      updated_at: now,
    };
  }

  /**
   * Claims the next runnable job: queued and due, or running with an expired lease (its process died).
   * A job whose lane has another live running job waits. One UPDATE ... RETURNING, so two workers (or two
   * processes) can never claim the same job.
   *
   * Fair across kinds: each claim tries the kinds in turn, starting after the kind claimed last, and takes
   * the oldest runnable job of the first kind that has one. A backlog of thousands of payment checks then
   * delays a deal's invoice by one claim, not by the whole backlog. `kinds` are the kinds the caller runs
   * (the worker's handlers), in the order a first claim tries them; kinds seen in this process follow, and
   * a last pass takes any kind at all.
   */
  async claim(workerId: string, kinds: readonly string[] = []): Promise<Job | undefined> {
    const now = this.now();
    const known = [...new Set([...kinds, ...this.kinds])];
    const start = this.lastKind === undefined ? 0 : known.indexOf(this.lastKind) + 1;
    const order = [...known.slice(start), ...known.slice(0, start)];
    return this.db.transaction().execute(async (trx) => {
      // A job whose process died first (it was claimed before: its turn came), then each kind in turn.
      let row = await this.claimOne(trx, workerId, now, { expired: true });
      for (const kind of [...order, undefined]) {
        if (row) break;
        row = await this.claimOne(trx, workerId, now, { kind });
      }
      if (!row) return undefined;
      this.kinds.add(row.kind);
      this.lastKind = row.kind;
      // An attempt left 'running' belongs to a process that died holding the lease.
      await trx
        .updateTable('job_attempts')
        .set({ outcome: 'abandoned', finished_at: now, error_code: 'lease_expired', error: 'The process running this job stopped before it finished.' })
        .where('job_id', '=', row.id)
        .where('outcome', '=', 'running')
        .execute();
      await trx
        .insertInto('job_attempts')
        .values({ job_id: row.id, attempt: row.attempts, worker: workerId, started_at: now, finished_at: null, outcome: 'running', error_code: null, error: null })
        .execute();
      return toJob(row);
    });
  }

  /** The oldest runnable job — queued and due (of `kind`, when given), or running with an expired lease —
   *  claimed; undefined when there is none. Each shape is one index range (jobs_kind_ready, jobs_ready). */
  private async claimOne(trx: Db, workerId: string, now: number, which: { kind?: string; expired?: true }): Promise<Selectable<JobsTable> | undefined> {
    const claimable = (eb: any) =>
      which.expired ? eb.and([eb('j.state', '=', 'running'), eb('j.locked_until', '<', now)]) : eb.and([eb('j.state', '=', 'queued'), eb('j.run_at', '<=', now)]);
    let next = trx.selectFrom('jobs as j').select('j.id').where(claimable);
    if (which.kind !== undefined) next = next.where('j.kind', '=', which.kind);
    next = next
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('jobs as r')
              .select('r.id')
              .whereRef('r.lane', '=', 'j.lane')
              .whereRef('r.id', '<>', 'j.id')
              .where('r.state', '=', 'running')
              .where('r.locked_until', '>=', now),
          ),
        ),
      )
      .orderBy('j.run_at')
      .orderBy('j.id')
      .limit(1);
    return trx
      .updateTable('jobs')
      .set((eb) => ({
        state: 'running',
        locked_by: workerId,
        locked_until: now + this.opts.leaseMs,
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where('id', '=', next)
      .where((eb) =>
        eb.or([
          eb('state', '=', 'queued'),
          eb.and([eb('state', '=', 'running'), eb('locked_until', '<', now)]),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
  }

  /** Extends the lease of a job this worker is still running. False if the lease was lost. */
  async heartbeat(jobId: number, workerId: string): Promise<boolean> {
    const now = this.now();
    const res = await this.db
      .updateTable('jobs')
      .set({ locked_until: now + this.opts.leaseMs })
      .where('id', '=', jobId)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async succeed(job: Job, workerId: string, result: unknown): Promise<void> {
    await this.finish(job, workerId, { state: 'done', result: JSON.stringify(result ?? null) }, 'done');
  }

  /**
   * Retryable failure: back to the queue with backoff, or dead once the attempts are used up. A pause (a quota
   * of the remote side used up, err.paused) waits until the quota is back and gives its attempt back: a day
   * without quota must not use up a job's attempts.
   */
  async retryLater(job: Job, workerId: string, err: RelayError): Promise<'retry' | 'dead'> {
    if (job.attempts >= job.maxAttempts && !err.paused) {
      await this.finish(job, workerId, { state: 'dead', ...errorColumns(err) }, 'dead', err);
      return 'dead';
    }
    const delay = err.paused ? Math.max(err.retryAfterMs ?? 0, 1000) : Math.max(err.retryAfterMs ?? 0, backoffDelay(job.attempts, this.opts.backoffBaseMs, this.opts.backoffMaxMs));
    const attempts = err.paused ? { attempts: Math.max(0, job.attempts - 1) } : {};
    await this.finish(job, workerId, { state: 'queued', run_at: this.now() + delay, ...attempts, ...errorColumns(err) }, 'retry', err);
    return 'retry';
  }

  async fail(job: Job, workerId: string, err: RelayError): Promise<void> {
    await this.finish(job, workerId, { state: 'failed', ...errorColumns(err) }, 'failed', err);
  }

  /** Gives a running job back to the queue untouched (graceful shutdown ran out of time). */
  async release(jobId: number, workerId: string): Promise<void> {
    const now = this.now();
    await this.db
      .updateTable('jobs')
      .set({ state: 'queued', locked_by: null, locked_until: null, run_at: now, updated_at: now })
      .where('id', '=', jobId)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .execute();
  }

  /** Operator action: run a failed or dead job again now, with a fresh set of attempts. */
  async retryNow(jobId: number): Promise<Job | undefined> {
    const now = this.now();
    const row = await this.db
      .updateTable('jobs')
      .set({ state: 'queued', run_at: now, attempts: 0, locked_by: null, locked_until: null, updated_at: now })
      .where('id', '=', jobId)
      .where('state', 'in', ['failed', 'dead'])
      .returningAll()
      .executeTakeFirst();
    if (row) this.notify();
    return row ? toJob(row) : undefined;
  }

  async get(jobId: number): Promise<Job | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  async countByState(): Promise<Record<JobState, number>> {
    const rows = await this.db.selectFrom('jobs').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
    const counts: Record<JobState, number> = { queued: 0, running: 0, done: 0, failed: 0, dead: 0 };
    for (const r of rows) counts[r.state] = Number(r.n);
    return counts;
  }

  /** True when a job of this kind for this deal is waiting or running (the reconciler must not add another). */
  async hasActive(kind: string, dealId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('kind', '=', kind)
      .where('deal_id', '=', dealId)
      .where('state', 'in', ['queued', 'running'])
      .executeTakeFirst();
    return row !== undefined;
  }

  private async finish(
    job: Job,
    workerId: string,
    columns: Partial<{ state: JobState; run_at: number; attempts: number; result: string; last_error_code: string; last_error: string }>,
    outcome: 'done' | 'retry' | 'failed' | 'dead',
    err?: RelayError,
  ): Promise<void> {
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('jobs')
        .set({ ...columns, locked_by: null, locked_until: null, updated_at: now })
        .where('id', '=', job.id)
        .where('locked_by', '=', workerId)
        .execute();
      await trx
        .updateTable('job_attempts')
        .set({ outcome, finished_at: now, error_code: err?.code ?? null, error: err?.message ?? null })
        // The row this claim inserted: after an operator's retry (attempts count from 1 again) the earlier
        // rows with the same number stay as they ended.
        .where('id', '=', (eb) =>
          eb.selectFrom('job_attempts').select((s) => s.fn.max('id').as('id')).where('job_id', '=', job.id).where('attempt', '=', job.attempts).where('worker', '=', workerId),
        )
        .execute();
    });
  }
}

function errorColumns(err: RelayError) {
  return { last_error_code: err.code, last_error: err.message };
}
