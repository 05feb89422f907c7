// Jobs that failed because a side was not connected wait out their backoff; once it is connected, they
// should not: make them due now.
import type { JobQueue } from '../jobs/queue.js';
import type { Db } from '../store/db.js';
import type { ConnectionSide } from '../store/schema.js';

const KOMMO_WAITING = ['kommo_not_connected', 'kommo_unauthorized', 'kommo_oauth_invalid_client'];

/** `codes`: the side's codes of "waiting for the connection" (Kommo's here; a backend declares its own). */
export async function wakeJobsWaitingFor(db: Db, queue: JobQueue, side: ConnectionSide, codes: string[] = side === 'kommo' ? KOMMO_WAITING : [], now = Date.now()): Promise<number> {
  const result = await db
    .updateTable('jobs')
    .set({ run_at: now, updated_at: now })
    .where('state', '=', 'queued')
    .where('run_at', '>', now)
    .where((eb) => eb.or([...(codes.length ? [eb('last_error_code', 'in', codes)] : []), eb('last_error_code', 'like', `${side}_auth_%`)]))
    .executeTakeFirst();
  const woken = Number(result.numUpdatedRows);
  if (woken > 0) queue.notify();
  return woken;
}
