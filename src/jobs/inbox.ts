// The intake path shared by every webhook source: each item becomes an event stored once (deduplicated
// by a key derived from it) and, when it calls for work, a job enqueued in the same transaction. Only
// after the commit is the sender answered, so an acknowledged event is never lost.
import type { Db } from '../store/db.js';
import type { EnqueueInput, JobQueue } from './queue.js';

export interface InboxItem {
  source: 'kommo' | 'zoho' | 'reconciler' | 'admin';
  dedupKey: string;
  kind: string;
  dealId?: string | null;
  payload: unknown;
  job?: Omit<EnqueueInput, 'eventId' | 'dealId'>;
}

export interface InboxResult {
  stored: number;
  duplicates: number;
  jobIds: number[];
}

export async function acceptEvents(db: Db, queue: JobQueue, items: InboxItem[], now = Date.now()): Promise<InboxResult> {
  if (items.length === 0) return { stored: 0, duplicates: 0, jobIds: [] };
  const result = await db.transaction().execute(async (trx) => {
    const out: InboxResult = { stored: 0, duplicates: 0, jobIds: [] };
    for (const item of items) {
      const inserted = await trx
        .insertInto('events')
        .values({
          source: item.source,
          dedup_key: item.dedupKey,
          kind: item.kind,
          deal_id: item.dealId ?? null,
          payload: JSON.stringify(item.payload),
          received_at: now,
        })
        .onConflict((oc) => oc.column('dedup_key').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) {
        out.duplicates++;
        continue;
      }
      out.stored++;
      if (item.job) {
        out.jobIds.push(await queue.enqueue({ ...item.job, dealId: item.dealId ?? null, eventId: Number(inserted.id) }, trx));
      }
    }
    return out;
  });
  if (result.jobIds.length) queue.notify();
  return result;
}
