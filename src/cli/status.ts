// `relay status`: the queue at a glance — how many jobs are due, waiting to retry, running, done; the
// failures nobody has settled; when the reconciler last swept and what it found; and the relays on the
// database: which are alive, which one runs the reconciler, the API budgets they share and the day quotas.
import { SEEN_WITHIN_MS } from '../jobs/cluster.js';
import { relayStatus } from '../ops/relay-status.js';
import { clusterStatus } from '../store/cluster-status.js';
import { dayBudgetStatus } from '../store/day-budgets.js';
import type { Args } from './args.js';
import { clusterLines, dayQuotaLines } from './cluster-lines.js';
import type { CliContext } from './context.js';
import { table, when } from './format.js';

export async function status(ctx: CliContext, args: Args): Promise<number> {
  const store = await ctx.db();
  const s = await relayStatus(store.db);
  const cluster = await clusterStatus(store.db, store.dialect, SEEN_WITHIN_MS);
  const dayQuotas = await dayBudgetStatus(store.db);
  if (args.flags.has('json')) {
    ctx.io.out(JSON.stringify({ ...s, cluster, dayQuotas }, null, 2));
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
    ...clusterLines(cluster, SEEN_WITHIN_MS),
    ...dayQuotaLines(dayQuotas),
    '',
    sweep
      ? `Last reconcile: ${when(sweep.at)} UTC, ${sweep.dealsChecked} deals and ${sweep.invoicesChecked} invoices checked, ${sweep.invoiceJobs} invoice and ${sweep.paymentJobs} payment jobs added${sweep.errors.length ? `; errors: ${sweep.errors.join('; ')}` : ''}`
      : 'Last reconcile: none yet',
  ];
  if (s.failures.count) lines.push('', 'Retry one with: relay retry job <id>  (or: relay retry deal <id>)');
  ctx.io.out(lines.join('\n'));
  return 0;
}
