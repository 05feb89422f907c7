// The part of `relay status` about the relays sharing the database: processes seen recently, who runs the
// periodic tasks, and the API budgets they spend together.
import type { ClusterStatus } from '../store/cluster-status.js';
import type { DayBudgetStatus } from '../store/day-budgets.js';
import { table, when } from './format.js';

const TASKS: Record<string, string> = { reconciler: 'Reconciler', retention: 'Retention sweep', reference: 'Reference data refresh (currencies, taxes, items)' };

export function clusterLines(c: ClusterStatus, seenWithinMs: number): string[] {
  const lines = [`Relays on this database (seen within ${seenWithinMs / 1000} s): ${c.processes.length || 'none'}`];
  lines.push(...table(c.processes.map((p) => [p.id, p.role, `up since ${when(p.startedAt)} UTC`, `seen ${(p.seenMsAgo / 1000).toFixed(1)} s ago`])));
  for (const [name, label] of Object.entries(TASKS)) {
    const lease = c.leases[name];
    const last = lease?.lastRunAt ? `, last run ${when(lease.lastRunAt)} UTC` : '';
    if (!lease) lines.push(`${label}: not started by any relay yet`);
    else if (lease.holder) lines.push(`${label}: run by ${lease.holder} (lease for ${(lease.expiresInMs / 1000).toFixed(1)} s more${last})`);
    else lines.push(`${label}: no relay holds it now (its holder stopped; another takes it within its lease)${last}`);
  }
  if (!c.budgets) {
    lines.push('API limits: kept in memory by the relay process (SQLite: one relay per file)');
  } else {
    lines.push('API budgets shared by every relay on this database:');
    lines.push(
      ...table(
        Object.entries(c.budgets).map(([name, b]) => [
          name,
          `${b.used} of ${b.limit} per ${(b.windowMs / 1000).toFixed(2)} s`,
          `${b.inFlight} on their way`,
          b.pausedForMs > 0 ? `paused ${(b.pausedForMs / 1000).toFixed(1)} s more (429)` : '',
        ]),
      ),
    );
  }
  return lines;
}

/** The API day quotas, counted in the database by every relay (both stores). */
export function dayQuotaLines(quotas: Record<string, DayBudgetStatus>): string[] {
  const rows = Object.entries(quotas);
  if (!rows.length) return ['API day quotas: no call counted yet'];
  return [
    'API day quotas (counted by every relay on this database):',
    ...table(
      rows.map(([name, d]) => [
        name,
        d.limit === null ? `${d.used} calls today (no limit set)` : `${d.used} of ${d.limit} today, ${d.remaining} left`,
        `day ${d.day} ends ${when(d.resetsAt)} UTC`,
        d.pausedForMs > 0 ? `paused ${Math.ceil(d.pausedForMs / 60_000)} min more (the server said used up)` : d.remaining === 0 ? 'used up: work paused until the day ends' : '',
      ]),
    ),
  ];
}
