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
  const [result] = await storeBatch(db, queue, [items], now);
  return result!;
}

/**
 * Group commit: the webhooks that arrive in the same turn of the event loop are stored in one
 * transaction, and each is answered only after that commit. One fsync then covers many webhooks, which
 * is where the time of a durable intake goes.
 */
export class InboxWriter {
  private pending: Array<{ items: InboxItem[]; resolve: (r: InboxResult) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly maxBatch = 200,
  ) {}

  accept(items: InboxItem[]): Promise<InboxResult> {
    if (items.length === 0) return Promise.resolve({ stored: 0, duplicates: 0, jobIds: [] });
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        const results = await storeBatch(this.db, this.queue, batch.map((b) => b.items), Date.now());
        batch.forEach((b, i) => b.resolve(results[i]!));
      } catch (err) {
        // Nothing of the batch was committed: every sender gets an error and delivers again.
        for (const b of batch) b.reject(err);
      }
    }
  }
}

async function storeBatch(db: Db, queue: JobQueue, batches: InboxItem[][], now: number): Promise<InboxResult[]> {
  const results = await db.transaction().execute(async (trx) => {
    const all: InboxResult[] = [];
    for (const items of batches) all.push(await storeItems(trx, queue, items, now));
    return all;
  });
  if (results.some((r) => r.jobIds.length)) queue.notify();
  return results;
}

async function storeItems(trx: Db, queue: JobQueue, items: InboxItem[], now: number): Promise<InboxResult> {
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
}
