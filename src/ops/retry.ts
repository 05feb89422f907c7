// What "retry" means, for the admin API, page and CLI alike.
// - A job: a failed or dead job runs again now with a fresh set of attempts (JobQueue.retryNow). Any other
//   state is refused with the reason: a queued or running job is already on its way; a done job is done.
// - A deal: its newest unsettled failure runs again (see openFailures). A deal without one is refused with
//   what the relay knows instead. In particular a deal whose invoice job finished as "skipped" (the deal had
//   left the invoicing stage by the time the job read it) is not re-run: the job would read the deal again
//   and skip it again, and invoicing a deal outside the stage would override the manager's decision. Moving
//   the deal into the invoicing stage is the way to ask for its invoice; the relay then acts at once.
import { toJob, type JobQueue } from '../jobs/queue.js';
import type { Db } from '../store/db.js';
import { dealState, openFailures } from './deal-state.js';
import { jobView, type JobView } from './job-view.js';

export type RetryResult =
  | { ok: true; job: JobView; message: string }
  | { ok: false; status: 404 | 409; error: 'job_not_found' | 'job_not_retryable' | 'deal_not_found' | 'nothing_to_retry'; message: string };

export async function retryJob(queue: JobQueue, jobId: number): Promise<RetryResult> {
  const retried = await queue.retryNow(jobId);
  if (retried) return { ok: true, job: jobView(retried), message: `Job ${jobId} (${retried.kind}${retried.dealId ? `, deal ${retried.dealId}` : ''}) is queued again and runs now.` };
  const job = await queue.get(jobId);
  if (!job) return { ok: false, status: 404, error: 'job_not_found', message: `There is no job ${jobId}.` };
  const why = job.state === 'done' ? 'it finished successfully' : job.state === 'running' ? 'it is running now' : 'it waits for its turn and runs without help';
  return { ok: false, status: 409, error: 'job_not_retryable', message: `Job ${jobId} is ${job.state}: only failed or dead jobs can be retried (${why}).` };
}

export async function retryDeal(db: Db, queue: JobQueue, dealId: string): Promise<RetryResult> {
  const jobs = (await db.selectFrom('jobs').selectAll().where('deal_id', '=', dealId).execute()).map(toJob);
  const failure = openFailures(jobs)[0];
  if (failure) return retryJob(queue, failure.id);
  if (jobs.length === 0) return { ok: false, status: 404, error: 'deal_not_found', message: `The relay has no job for deal ${dealId}: it has not seen the deal enter a stage it acts on.` };
  const invoice = await db.selectFrom('deal_invoices').select(['state', 'invoice_id', 'invoice_number']).where('deal_id', '=', dealId).executeTakeFirst();
  const paid = invoice?.invoice_id
    ? (await db.selectFrom('invoice_links').select('paid_at').where('invoice_id', '=', invoice.invoice_id).executeTakeFirst())?.paid_at != null
    : false;
  const state = dealState({ jobs, ...(invoice ? { invoice } : {}), paid });
  const advice =
    state.kind === 'skipped'
      ? ' Retrying would skip it again: move the deal into the invoicing stage in Kommo and the relay invoices it.'
      : state.kind === 'running' || state.kind === 'waiting'
        ? ' Its job is on its way already.'
        : '';
  return { ok: false, status: 409, error: 'nothing_to_retry', message: `Deal ${dealId} has no failed job to retry: ${state.label.replace(/\.$/, '')}.${advice}` };
}
