// The admin page's two lists: the deals the relay worked on most recently with where each stands, and the
// failures nobody has settled yet (a failed or dead job that no later job for the same work replaced).
import { toJob, type Job } from '../jobs/queue.js';
import type { Db } from '../store/db.js';
import { dealState, openFailures, type DealState } from './deal-state.js';
import { iso } from './job-view.js';

export interface DealSummary {
  dealId: string;
  state: DealState;
  invoice: { id: string; number: string | null; url: string | null } | null;
  lastActivity: string;
}

export async function recentDeals(db: Db, limit = 30): Promise<DealSummary[]> {
  const recent = await db
    .selectFrom('jobs')
    .select(['deal_id', (eb) => eb.fn.max('updated_at').as('last')])
    .where('deal_id', 'is not', null)
    .groupBy('deal_id')
    .orderBy('last', 'desc')
    .limit(limit)
    .execute();
  const ids = recent.map((r) => r.deal_id!);
  if (ids.length === 0) return [];
  const [jobRows, invoices, links, profiles] = await Promise.all([
    db.selectFrom('jobs').selectAll().where('deal_id', 'in', ids).execute(),
    db.selectFrom('deal_invoices').selectAll().where('deal_id', 'in', ids).execute(),
    db.selectFrom('invoice_links').select(['invoice_id', 'paid_at']).where('deal_id', 'in', ids).where('paid_at', 'is not', null).execute(),
    db.selectFrom('deal_recurring').select(['deal_id', 'state']).where('deal_id', 'in', ids).execute(),
  ]);
  const jobsOf = groupBy(jobRows.map(toJob), (j) => j.dealId!);
  const paidInvoices = new Set(links.map((l) => l.invoice_id));
  return recent.map((r) => {
    const dealId = r.deal_id!;
    const invoice = invoices.find((i) => i.deal_id === dealId);
    const recurring = profiles.find((p) => p.deal_id === dealId);
    const paid = invoice?.invoice_id ? paidInvoices.has(invoice.invoice_id) : false;
    return {
      dealId,
      state: dealState({ jobs: jobsOf.get(dealId) ?? [], ...(invoice ? { invoice } : {}), paid, ...(recurring ? { recurring } : {}) }),
      invoice: invoice?.invoice_id ? { id: invoice.invoice_id, number: invoice.invoice_number, url: invoice.invoice_url } : null,
      lastActivity: iso(r.last as number),
    };
  });
}

/** Unsettled failures, newest first: read per lane, since a later job in the same lane may settle one. */
export async function unsettledFailures(db: Db, limit = 100): Promise<Job[]> {
  const failed = await db.selectFrom('jobs').select('lane').where('state', 'in', ['failed', 'dead']).groupBy('lane').orderBy((eb) => eb.fn.max('id'), 'desc').limit(limit).execute();
  if (failed.length === 0) return [];
  const rows = await db.selectFrom('jobs').selectAll().where('lane', 'in', failed.map((f) => f.lane)).execute();
  const byLane = groupBy(rows.map(toJob), (j) => j.lane);
  return [...byLane.values()]
    .flatMap((jobs) => openFailures(jobs))
    .sort((a, b) => b.id - a.id)
    .slice(0, limit);
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}
