// Jobs and their attempts as the operator sees them (admin API, page and CLI): times as ISO strings, the
// error as code + message. Built from the store only; nothing here holds a token or a secret (job payloads
// carry IDs and note texts, results carry accounting IDs and outcomes).
import type { Selectable } from 'kysely';
import { toJob, type Job } from '../jobs/queue.js';
import type { Db } from '../store/db.js';
import type { JobAttemptsTable, JobState } from '../store/schema.js';

export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed', 'dead'];

export interface ErrorView {
  code: string;
  message: string;
}

export interface AttemptView {
  attempt: number;
  worker: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: string | null;
  error: ErrorView | null;
}

export interface JobView {
  id: number;
  kind: string;
  state: JobState;
  dealId: string | null;
  attempts: number;
  maxAttempts: number;
  runAt: string;
  createdAt: string;
  updatedAt: string;
  lastError: ErrorView | null;
  payload: Record<string, unknown>;
  result: unknown;
}

export const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

export function jobView(job: Job): JobView {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    dealId: job.dealId,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    runAt: iso(job.runAt),
    createdAt: iso(job.createdAt),
    updatedAt: iso(job.updatedAt),
    lastError: job.lastErrorCode || job.lastError ? { code: job.lastErrorCode ?? 'unknown', message: job.lastError ?? '' } : null,
    payload: job.payload,
    result: job.result,
  };
}

export function attemptView(row: Selectable<JobAttemptsTable>): AttemptView {
  return {
    attempt: row.attempt,
    worker: row.worker,
    startedAt: iso(row.started_at),
    finishedAt: row.finished_at === null ? null : iso(row.finished_at),
    outcome: row.outcome,
    error: row.error_code || row.error ? { code: row.error_code ?? 'unknown', message: row.error ?? '' } : null,
  };
}

export interface JobFilter {
  state?: JobState;
  kind?: string;
  limit: number;
}

/** Newest first. */
export async function listJobs(db: Db, filter: JobFilter): Promise<Job[]> {
  let q = db.selectFrom('jobs').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  return (await q.execute()).map(toJob);
}

/** Every attempt of these jobs, oldest first, grouped by job. */
export async function attemptsOf(db: Db, jobIds: number[]): Promise<Map<number, AttemptView[]>> {
  const out = new Map<number, AttemptView[]>();
  if (jobIds.length === 0) return out;
  const rows = await db.selectFrom('job_attempts').selectAll().where('job_id', 'in', jobIds).orderBy('id').execute();
  for (const r of rows) {
    const id = Number(r.job_id);
    out.set(id, [...(out.get(id) ?? []), attemptView(r)]);
  }
  return out;
}
