// The relay at a glance, for `relay status` and the top of the admin page: queue depth, jobs by state,
// the unsettled failures, and the reconciler's last sweep (it records each one in kv).
import type { Db } from '../store/db.js';
import { KeyValue } from '../store/kv.js';
import { LAST_SWEEP, type SweepResult } from '../sync/reconciler.js';
import { jobView, type JobView } from './job-view.js';
import { queueFigures, type QueueFigures } from './queue-figures.js';
import { unsettledFailures } from './recent-deals.js';

export interface RelayStatus {
  queue: QueueFigures & { waitingToRetry: number };
  failures: { count: number; newest: JobView[] };
  lastReconcile: SweepResult | null;
}

export async function relayStatus(db: Db, opts: { failures?: number } = {}): Promise<RelayStatus> {
  const figures = await queueFigures(db);
  const failures = await unsettledFailures(db, 500);
  return {
    queue: { ...figures, waitingToRetry: figures.byState.queued - figures.due },
    failures: { count: failures.length, newest: failures.slice(0, opts.failures ?? 10).map(jobView) },
    lastReconcile: (await new KeyValue(db).get<SweepResult>(LAST_SWEEP)) ?? null,
  };
}
