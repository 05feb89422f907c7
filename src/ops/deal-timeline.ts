// Everything the relay knows about one deal, for "where is the invoice for deal 123?": the webhooks and
// reconciler findings that concerned it, its jobs and every attempt, the IDs created in the accounting
// system, the notes
// and other writes made on the deal (and what Kommo refused, with its reason), the errors — and one
// merged, time-ordered timeline of all that.
import { toJob } from '../jobs/queue.js';
import type { Db } from '../store/db.js';
import { dealState, type DealState } from './deal-state.js';
import { attemptsOf, iso, jobView, type AttemptView, type ErrorView, type JobView } from './job-view.js';

export interface EventView {
  id: number;
  source: string;
  kind: string;
  receivedAt: string;
  payload: unknown;
}

/** What the relay created in the accounting system for the deal (its intent records). */
export interface AccountingView {
  reference: string | null;
  customerId: string | null;
  invoiceId: string | null;
  invoiceNumber: string | null;
  invoiceUrl: string | null;
  invoiceStatus: string | null;
  emailed: boolean;
  /** Invoices of this deal whose payments were noted, with when they were fully paid. */
  invoices: Array<{ invoiceId: string; paidAt: string | null }>;
  recurring: { name: string; state: string; recurrenceId: string | null } | null;
  /** invoice.review: 'waiting' (draft for the accountant), 'approved' (being sent), 'sent'; absent without review. */
  review?: string;
  /** What invoice.onLost did when the deal was lost (`state` 'voiding'/'deleting': under way). */
  lost?: { at: string; state: string; action: string | null; detail: string | null; invoiceId: string | null; open: boolean; recurringStopped: boolean };
}

/** One write to the deal in Kommo (stage move, field) or a note, with Kommo's reason when it was refused. */
export interface WriteView {
  key: string;
  kind: string;
  label: string;
  state: string;
  reason: string | null;
  attempts: number;
  updatedAt: string;
}

export interface TimelineEntry {
  at: string;
  what: 'event' | 'attempt' | 'note' | 'write';
  jobId?: number;
  text: string;
}

export interface DealTimeline {
  dealId: string;
  state: DealState;
  accounting: AccountingView;
  events: EventView[];
  jobs: Array<JobView & { attemptLog: AttemptView[] }>;
  notes: Array<{ key: string; state: string; text: string; reason: string | null; createdAt: string }>;
  /** Writes to the deal, each a recorded step (sync/deal-writer.ts). */
  writes: WriteView[];
  /** What Kommo would not take, writes and notes alike, with its reason. */
  refused: Array<{ what: string; reason: string; at: string }>;
  errors: Array<{ jobId: number; kind: string; attempt: number; at: string } & ErrorView>;
  timeline: TimelineEntry[];
}

/** undefined when the relay has never heard of the deal. */
export async function dealTimeline(db: Db, dealId: string): Promise<DealTimeline | undefined> {
  const [events, jobRows, invoice, links, notes, recurring, writes, lost] = await Promise.all([
    db.selectFrom('events').selectAll().where('deal_id', '=', dealId).orderBy('id').execute(),
    db.selectFrom('jobs').selectAll().where('deal_id', '=', dealId).orderBy('id').execute(),
    db.selectFrom('deal_invoices').selectAll().where('deal_id', '=', dealId).executeTakeFirst(),
    db.selectFrom('invoice_links').selectAll().where('deal_id', '=', dealId).orderBy('created_at').execute(),
    db.selectFrom('deal_notes').selectAll().where('deal_id', '=', dealId).orderBy('created_at').execute(),
    db.selectFrom('deal_recurring').selectAll().where('deal_id', '=', dealId).executeTakeFirst(),
    db.selectFrom('deal_writes').selectAll().where('deal_id', '=', dealId).orderBy('created_at').orderBy('write_key').execute(),
    db.selectFrom('deal_lost').selectAll().where('deal_id', '=', dealId).executeTakeFirst(),
  ]);
  if (!events.length && !jobRows.length && !invoice && !recurring) return undefined;
  const jobs = jobRows.map(toJob);
  const attempts = await attemptsOf(db, jobs.map((j) => j.id));
  const paid = links.some((l) => l.invoice_id === invoice?.invoice_id && l.paid_at !== null);

  const jobViews = jobs.map((j) => ({ ...jobView(j), attemptLog: attempts.get(j.id) ?? [] }));
  const errors = jobViews.flatMap((j) => j.attemptLog.filter((a) => a.error).map((a) => ({ jobId: j.id, kind: j.kind, attempt: a.attempt, at: a.finishedAt ?? a.startedAt, ...a.error! })));
  const timeline: TimelineEntry[] = [
    ...events.map((e) => ({ at: iso(e.received_at), what: 'event' as const, text: `${e.source}: ${e.kind}` })),
    ...jobViews.flatMap((j) =>
      j.attemptLog.map((a) => ({
        at: a.startedAt,
        what: 'attempt' as const,
        jobId: j.id,
        text: `${j.kind} attempt ${a.attempt}: ${a.outcome ?? 'unknown'}${a.error ? ` (${a.error.code}: ${a.error.message})` : ''}`,
      })),
    ),
    ...notes.map((n) => ({ at: iso(n.created_at), what: 'note' as const, text: `note on the deal (${n.state}): ${n.text}${n.reason ? ` — ${n.reason}` : ''}` })),
    ...writes.map((w) => ({ at: iso(w.updated_at), what: 'write' as const, text: `${w.label} (${w.state})${w.reason ? `: ${w.reason}` : ''}` })),
  ].sort((a, b) => a.at.localeCompare(b.at));

  return {
    dealId,
    state: dealState({ jobs, ...(invoice ? { invoice } : {}), paid, ...(recurring ? { recurring } : {}) }),
    accounting: {
      reference: invoice?.reference ?? null,
      customerId: invoice?.customer_id ?? recurring?.customer_id ?? null,
      invoiceId: invoice?.invoice_id ?? null,
      invoiceNumber: invoice?.invoice_number ?? null,
      invoiceUrl: invoice?.invoice_url ?? null,
      invoiceStatus: invoice?.invoice_status ?? null,
      emailed: invoice?.emailed === 1,
      ...(invoice?.review ? { review: invoice.review } : {}),
      invoices: links.map((l) => ({ invoiceId: l.invoice_id, paidAt: l.paid_at === null ? null : iso(l.paid_at) })),
      recurring: recurring ? { name: recurring.name, state: recurring.state, recurrenceId: recurring.recurrence_id } : null,
      // Present only where invoice.onLost acted: a deal without it reads as before.
      ...(lost ? { lost: { at: iso(lost.lost_at), state: lost.state, action: lost.action, detail: lost.detail, invoiceId: lost.invoice_id, open: lost.attention === 1, recurringStopped: lost.recurring_stopped === 1 } } : {}),
    },
    events: events.map((e) => ({ id: Number(e.id), source: e.source, kind: e.kind, receivedAt: iso(e.received_at), payload: parseJson(e.payload) })),
    jobs: jobViews,
    notes: notes.map((n) => ({ key: n.note_key, state: n.state, text: n.text, reason: n.reason ?? null, createdAt: iso(n.created_at) })),
    writes: writes.map((w) => ({ key: w.write_key, kind: w.kind, label: w.label, state: w.state, reason: w.reason, attempts: w.attempts, updatedAt: iso(w.updated_at) })),
    refused: [
      ...writes.filter((w) => w.state === 'refused').map((w) => ({ what: w.label, reason: w.reason ?? '', at: iso(w.updated_at) })),
      ...notes.filter((n) => n.state === 'refused').map((n) => ({ what: `note: ${n.text}`, reason: n.reason ?? '', at: iso(n.updated_at) })),
    ],
    errors,
    timeline,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
