// `relay status`: the queue at a glance — how many jobs are due, waiting to retry, running, done; the
// failures nobody has settled; and when the reconciler last swept and what it found.
import { relayStatus } from '../ops/relay-status.js';
import type { Args } from './args.js';
import type { CliContext } from './context.js';
import { table, when } from './format.js';

export async function status(ctx: CliContext, args: Args): Promise<number> {
  const s = await relayStatus((await ctx.db()).db);
  if (args.flags.has('json')) {
    ctx.io.out(JSON.stringify(s, null, 2));
    return 0;
  }
  const q = s.queue;
  const sweep = s.lastReconcile;
  const lines = [
    `Queue: ${q.due} due now, ${q.waitingToRetry} waiting to retry, ${q.byState.running} running`,
    `Jobs:  ${Object.entries(q.byState).map(([state, n]) => `${n} ${state}`).join(', ')}`,
    '',
    s.failures.count ? `Failures not yet settled: ${s.failures.count}${s.failures.count > s.failures.newest.length ? ` (newest ${s.failures.newest.length})` : ''}` : 'Failures not yet settled: none',
    ...table(s.failures.newest.map((j) => [`job ${j.id}`, j.dealId ? `deal ${j.dealId}` : '-', j.kind, j.state, j.lastError ? `${j.lastError.code}: ${j.lastError.message}` : ''])),
    '',
    sweep
      ? `Last reconcile: ${when(sweep.at)} UTC, ${sweep.dealsChecked} deals and ${sweep.invoicesChecked} invoices checked, ${sweep.invoiceJobs} invoice and ${sweep.paymentJobs} payment jobs added${sweep.errors.length ? `; errors: ${sweep.errors.join('; ')}` : ''}`
      : 'Last reconcile: none yet',
  ];
  if (s.failures.count) lines.push('', 'Retry one with: relay retry job <id>  (or: relay retry deal <id>)');
  ctx.io.out(lines.join('\n'));
  return 0;
}
