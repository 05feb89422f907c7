// How full the queue is, in one query: jobs by state, and how many of the queued ones are due now (the
// backlog a worker has yet to pick up) as opposed to waiting for their retry time.
import { sql } from 'kysely';
import type { Db } from '../store/db.js';
import type { JobState } from '../store/schema.js';

export interface QueueFigures {
  byState: Record<JobState, number>;
  /** Queued and due: waiting only for a free worker. */
  due: number;
}

export async function queueFigures(db: Db, now = Date.now()): Promise<QueueFigures> {
  const rows = await db
    .selectFrom('jobs')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n'), sql<number>`sum(case when state = 'queued' and run_at <= ${now} then 1 else 0 end)`.as('due')])
    .groupBy('state')
    .execute();
  const byState: Record<JobState, number> = { queued: 0, running: 0, done: 0, failed: 0, dead: 0 };
  let due = 0;
  for (const r of rows) {
    byState[r.state] = Number(r.n);
    due += Number(r.due ?? 0);
  }
  return { byState, due };
}
