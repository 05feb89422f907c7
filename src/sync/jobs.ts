// Job kinds and their handlers: the glue between the durable queue and the use cases.
import { retryable, type RelayError } from '../errors.js';
import type { JobHandler } from '../jobs/worker.js';
import type { Job, JobQueue } from '../jobs/queue.js';
import type { NoteOnce } from './deal-notes.js';
import { REFUSED_WRITE } from './deal-writer.js';
import type { InvoiceForDeal } from './invoice-for-deal.js';
import type { PaymentToDeal } from './payment-to-deal.js';
import { PAYMENT_JOB } from './payment-triggers.js';
import type { RetainerForDeal } from './retainer-for-deal.js';
import { dealLane, INVOICE_JOB, RETAINER_JOB } from '../intake/triggers.js';

export const DEAL_NOTE_JOB = 'deal_note';

export interface HandlerDeps {
  invoiceForDeal: InvoiceForDeal;
  paymentToDeal: PaymentToDeal;
  retainerForDeal: RetainerForDeal;
  notes: NoteOnce;
  queue: JobQueue;
}

function dealIdOf(payload: Record<string, unknown>): number {
  const id = Number(payload.dealId);
  if (!Number.isSafeInteger(id) || id <= 0) throw retryable('bad_job_payload', `job payload has no valid dealId (${JSON.stringify(payload)})`);
  return id;
}

export function createJobHandlers(deps: HandlerDeps): Record<string, JobHandler> {
  return {
    [INVOICE_JOB]: {
      run: (job, ctx) => deps.invoiceForDeal.run(dealIdOf(job.payload), { jobId: job.id, log: ctx.log, retried: operatorRetry(job) }),
      // The manager must learn what to fix without asking anyone: a note on the deal, sent as its own
      // job so that a Kommo hiccup cannot lose it.
      async onFinalFailure(job, err) {
        const dealId = dealIdOf(job.payload);
        await deps.queue.enqueue({
          kind: DEAL_NOTE_JOB,
          lane: dealLane(dealId),
          dealId: String(dealId),
          payload: { dealId, key: `failure:${job.id}:${job.attempts}`, text: failureNote(err, job.attempts) },
        });
      },
    },
    [RETAINER_JOB]: {
      run: (job, ctx) => deps.retainerForDeal.run(dealIdOf(job.payload), { log: ctx.log }),
      async onFinalFailure(job, err) {
        const dealId = dealIdOf(job.payload);
        const text = err.retryable
          ? `Recurring invoice not changed yet: the relay gave up after ${job.attempts} attempts. Last error: ${err.message}`
          : err.message.replace(/^Invoice not created/, 'Recurring invoice not created');
        await deps.queue.enqueue({ kind: DEAL_NOTE_JOB, lane: dealLane(dealId), dealId: String(dealId), payload: { dealId, key: `failure:${job.id}:${job.attempts}`, text } });
      },
    },
    [PAYMENT_JOB]: {
      run: (job, ctx) => deps.paymentToDeal.run(String(job.payload.invoiceId), { log: ctx.log, retried: operatorRetry(job) }),
    },
    [DEAL_NOTE_JOB]: {
      async run(job) {
        const added = await deps.notes.add(dealIdOf(job.payload), String(job.payload.key ?? `job:${job.id}`), String(job.payload.text));
        return { added };
      },
    },
  };
}

/**
 * A job an operator ran again (`relay retry`, /admin): its attempts start from 1 again while it keeps the
 * error it ended with; a new job has none, an automatic retry is past its first attempt.
 */
export const operatorRetry = (job: Pick<Job, 'attempts' | 'lastErrorCode'>): boolean => job.attempts === 1 && job.lastErrorCode !== null;

export function failureNote(err: RelayError, attempts: number): string {
  // The invoice exists: the message says so, and which field Kommo would not take.
  if (err.code === REFUSED_WRITE) return err.message;
  if (err.retryable) {
    return `Invoice not created yet: the relay gave up after ${attempts} attempts. Last error: ${err.message} An administrator can retry it from the relay's admin page once the cause is fixed.`;
  }
  return err.message.startsWith('Invoice not created') ? err.message : `Invoice not created: ${err.message}`;
}
