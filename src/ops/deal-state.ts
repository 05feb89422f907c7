// Where a deal stands, in one word and one line, from what the store knows: its jobs, its invoice record,
// whether that invoice is paid, its recurring profile. Pure, so every case is tested as a table.
import type { Job } from '../jobs/queue.js';
import type { DealInvoice } from '../store/invoice-records.js';
import type { DealRecurring } from '../store/recurring-records.js';
import { INVOICE_JOB } from '../intake/triggers.js';

export type DealStateKind = 'failed' | 'running' | 'waiting' | 'paid' | 'invoiced' | 'recurring' | 'skipped' | 'received';

export interface DealState {
  kind: DealStateKind;
  /** One line for a person: "failed: …", "invoiced: INV-000123", … */
  label: string;
  /** The job the state is about (a failure to retry, the job running or waiting). */
  jobId?: number;
}

export interface DealFacts {
  /** Every job of the deal, in any order. */
  jobs: Job[];
  invoice?: Pick<DealInvoice, 'state' | 'invoice_id' | 'invoice_number'> & Partial<Pick<DealInvoice, 'review'>>;
  /** The deal's current invoice is fully paid. */
  paid: boolean;
  recurring?: Pick<DealRecurring, 'state'>;
}

/** The same piece of work asked for again: same kind, and same invoice (payments) or note. */
function workKey(job: Job): string {
  const p = job.payload;
  return `${job.kind}:${String(p.invoiceId ?? p.key ?? '')}`;
}

/**
 * Failed or dead jobs that nothing later replaced: a later job for the same work (the manager moved the
 * deal again, the reconciler found it, an operator retried) settles an earlier failure. Newest first.
 */
export function openFailures(jobs: Job[]): Job[] {
  const latest = new Map<string, Job>();
  for (const job of [...jobs].sort((a, b) => a.id - b.id)) latest.set(workKey(job), job);
  return [...latest.values()].filter((j) => j.state === 'failed' || j.state === 'dead').sort((a, b) => b.id - a.id);
}

export function dealState(facts: DealFacts): DealState {
  const byNewest = [...facts.jobs].sort((a, b) => b.id - a.id);
  const failure = openFailures(facts.jobs)[0];
  if (failure) {
    const why = failure.lastError ?? 'no reason recorded';
    return { kind: 'failed', label: `${failure.state === 'dead' ? 'gave up' : 'failed'} (${failure.kind}): ${why}`, jobId: failure.id };
  }
  const running = byNewest.find((j) => j.state === 'running');
  if (running) return { kind: 'running', label: `running (${running.kind})`, jobId: running.id };
  const queued = byNewest.find((j) => j.state === 'queued');
  if (queued) {
    // attempts is 0 again after an operator's retry: the old error is history, not what it waits for.
    const label = queued.lastError && queued.attempts > 0 ? `waiting to retry (${queued.kind}, attempt ${queued.attempts} of ${queued.maxAttempts}): ${queued.lastError}` : `queued (${queued.kind})`;
    return { kind: 'waiting', label, jobId: queued.id };
  }
  const invoice = facts.invoice?.invoice_id ? facts.invoice : undefined;
  const number = invoice ? (invoice.invoice_number ?? invoice.invoice_id) : undefined;
  if (invoice && facts.paid) return { kind: 'paid', label: `paid: ${number}` };
  // invoice.review: the draft's place in the review.
  if (invoice?.review === 'waiting') return { kind: 'invoiced', label: `draft waiting for approval: ${number}` };
  if (invoice?.review === 'approved') return { kind: 'invoiced', label: `approved, being sent: ${number}` };
  if (invoice?.review === 'sent') return { kind: 'invoiced', label: `invoiced (reviewed and sent): ${number}` };
  if (invoice) return { kind: 'invoiced', label: `invoiced: ${number}` };
  if (facts.recurring?.state === 'active') return { kind: 'recurring', label: 'recurring invoice active' };
  if (facts.recurring?.state === 'stopped') return { kind: 'recurring', label: 'recurring invoice stopped' };
  const lastInvoiceJob = byNewest.find((j) => j.kind === INVOICE_JOB);
  const result = lastInvoiceJob?.result as { outcome?: unknown; reason?: unknown } | null | undefined;
  if (result?.outcome === 'skipped') return { kind: 'skipped', label: `not invoiced: ${String(result.reason ?? 'skipped')}`, jobId: lastInvoiceJob!.id };
  return { kind: 'received', label: 'no invoice yet' };
}
