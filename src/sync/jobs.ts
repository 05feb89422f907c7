// Job kinds and their handlers: the glue between the durable queue and the use cases.
import { retryable, type RelayError } from '../errors.js';
import type { JobHandler } from '../jobs/worker.js';
import type { Job, JobQueue } from '../jobs/queue.js';
import type { NoteOnce } from './deal-notes.js';
import { REFUSED_WRITE } from './deal-writer.js';
import type { InvoiceForDeal } from './invoice-for-deal.js';
import type { LostDeal } from './lost-deal.js';
import type { InvoiceReview } from './invoice-review.js';
import type { DealInvoices } from '../store/invoice-records.js';
import type { PaymentToDeal } from './payment-to-deal.js';
import { PAYMENT_JOB } from './payment-triggers.js';
import type { RetainerForDeal } from './retainer-for-deal.js';
import { dealLane, INVOICE_JOB, LOST_JOB, RETAINER_JOB, REVIEW_JOB } from '../intake/triggers.js';

export const DEAL_NOTE_JOB = 'deal_note';

export interface HandlerDeps {
  invoiceForDeal: InvoiceForDeal;
  paymentToDeal: PaymentToDeal;
  retainerForDeal: RetainerForDeal;
  /** Absent when invoice.onLost is not set (no such jobs are made then). */
  lostDeal?: LostDeal;
  /** With invoice.review: the review job, and the records an invoice webhook is checked against. */
  review?: { review: InvoiceReview; invoices: DealInvoices };
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
    [LOST_JOB]: {
      run: (job, ctx) => (deps.lostDeal ? deps.lostDeal.run(dealIdOf(job.payload), { log: ctx.log }) : Promise.resolve({ outcome: 'skipped', reason: 'invoice.onLost is not set' })),
      async onFinalFailure(job, err) {
        const dealId = dealIdOf(job.payload);
        const text = err.retryable ? `Deal lost: the relay gave up on its invoice after ${job.attempts} attempts. Last error: ${err.message}` : err.message.startsWith('Deal lost') ? err.message : `Deal lost: ${err.message}`;
        await deps.queue.enqueue({ kind: DEAL_NOTE_JOB, lane: dealLane(dealId), dealId: String(dealId), payload: { dealId, key: `failure:${job.id}:${job.attempts}`, text } });
      },
    },
    [PAYMENT_JOB]: {
      async run(job, ctx) {
        const invoiceId = String(job.payload.invoiceId);
        const result = await deps.paymentToDeal.run(invoiceId, { log: ctx.log, retried: operatorRetry(job) });
        // The invoice of a draft in review changed (approved or sent by a person, edited): its review job follows.
        const record = deps.review ? await deps.review.invoices.findByInvoiceId(invoiceId) : undefined;
        if (record && (record.review === 'waiting' || record.review === 'approved')) {
          const dealId = Number(record.deal_id);
          await deps.queue.enqueue({ kind: REVIEW_JOB, lane: dealLane(dealId), dealId: record.deal_id, payload: { dealId } });
        }
        return result;
      },
    },
    [REVIEW_JOB]: {
      run: (job, ctx) => (deps.review ? deps.review.review.run(dealIdOf(job.payload), { log: ctx.log }) : Promise.resolve({ outcome: 'skipped', reason: 'invoice.review is not set' })),
      async onFinalFailure(job, err) {
        const dealId = dealIdOf(job.payload);
        const text = err.retryable ? `Invoice draft not sent yet: the relay gave up after ${job.attempts} attempts. Last error: ${err.message}` : err.message.startsWith('Invoice') ? err.message : `Invoice draft: ${err.message}`;
        await deps.queue.enqueue({ kind: DEAL_NOTE_JOB, lane: dealLane(dealId), dealId: String(dealId), payload: { dealId, key: `failure:${job.id}:${job.attempts}`, text } });
      },
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
