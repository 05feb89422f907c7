// `relay deal <id>`: "where is the invoice for deal 123?" — the deal's state, what was created in the accounting system,
// what Kommo refused (with its reason), each write to the deal, and its timeline: every webhook, job
// attempt (with its error), note and write, oldest first.
import { dealTimeline, type DealTimeline } from '../ops/deal-timeline.js';
import { UsageError, type Args } from './args.js';
import type { CliContext } from './context.js';
import { table, when } from './format.js';

export async function deal(ctx: CliContext, args: Args): Promise<number> {
  const id = args.positionals[0];
  if (!id || !/^\d{1,20}$/.test(id)) throw new UsageError('relay deal <deal id>: the deal ID is a number, as in the deal\'s Kommo address');
  const timeline = await dealTimeline((await ctx.db()).db, id);
  if (!timeline) {
    ctx.io.err(`The relay knows nothing about deal ${id}: no webhook, reconcile or job has concerned it.`);
    return 1;
  }
  ctx.io.out(args.flags.has('json') ? JSON.stringify(timeline, null, 2) : render(timeline, ctx.settings().accounting.backend.names.short).join('\n'));
  return 0;
}

function render(t: DealTimeline, short: string): string[] {
  const z = t.accounting;
  const facts: string[][] = [];
  if (z.invoiceId) facts.push(['Invoice', `${z.invoiceNumber ?? ''} (${short} id ${z.invoiceId})${z.invoiceStatus ? `, ${z.invoiceStatus}` : ''}${z.emailed ? ', emailed' : ''}`]);
  if (z.review) facts.push(['Review', REVIEW_WORDS[z.review] ?? z.review]);
  if (z.invoiceUrl) facts.push(['Link', z.invoiceUrl]);
  if (z.reference) facts.push(['Reference', z.reference]);
  if (z.customerId) facts.push(['Customer', `${short} id ${z.customerId}`]);
  if (z.recurring) facts.push(['Recurring', `${z.recurring.name} (${z.recurring.state}${z.recurring.recurrenceId ? `, ${short} id ${z.recurring.recurrenceId}` : ''})`]);
  if (z.lost) facts.push(['Lost', `${when(z.lost.at)} UTC: ${z.lost.state === 'done' ? (z.lost.detail ?? z.lost.action ?? '') : `${z.lost.state} invoice ${z.lost.invoiceId ?? ''} (under way)`}${z.lost.recurringStopped ? '; recurring invoice stopped' : ''}${z.lost.open ? ' — needs a person (see /admin)' : ''}`]);
  for (const i of z.invoices.filter((i) => i.paidAt)) facts.push(['Paid', `invoice ${i.invoiceId} on ${when(i.paidAt!)} UTC`]);
  for (const r of t.refused) facts.push(['Refused', `${r.what}: ${r.reason}`]);
  const lines = [`Deal ${t.dealId}: ${t.state.label}`, ...table(facts)];
  if (t.state.kind === 'failed' && t.state.jobId !== undefined) lines.push('', `Retry it once the cause is fixed: relay retry job ${t.state.jobId}`);
  if (t.writes.length) lines.push('', 'Writes to Kommo', ...table(t.writes.map((w) => [w.state, w.label, w.reason ?? ''])));
  lines.push('', 'Timeline (UTC)', ...table(t.timeline.map((e) => [when(e.at), e.jobId ? `job ${e.jobId}` : e.what, e.text])));
  lines.push('', 'Jobs', ...table(t.jobs.map((j) => [`#${j.id}`, j.kind, j.state, `${j.attempts}/${j.maxAttempts} attempts`, j.lastError ? `${j.lastError.code}: ${j.lastError.message}` : ''])));
  return lines;
}

const REVIEW_WORDS: Record<string, string> = { waiting: 'draft waiting for approval', approved: 'approved, being sent', sent: 'approved and sent' };
