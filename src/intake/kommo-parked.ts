// Kommo webhooks that arrive before the mapping could be resolved (Kommo not connected yet, nothing cached):
// which stages trigger an invoice is unknown, so each request is checked, stored as it came ("parked") and
// acknowledged. Once the mapping is resolved, the parked requests go through the real source, in order;
// their dedup keys make a replay that runs twice, or overlaps a live delivery, harmless.
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { acceptEvents } from '../jobs/inbox.js';
import type { JobQueue } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import type { KeyValue } from '../store/kv.js';
import { kommoWebhookSource } from './kommo-source.js';
import { WebhookRejection, type WebhookSource } from './webhook-source.js';

export const PARKED_KIND = 'kommo_webhook_parked';
const REPLAYED_THROUGH = 'kommo:parked:replayed_through';

/** Delegates to the real source once there is one; parks requests until then. */
export function kommoSourceUntilMapped(real: () => WebhookSource | undefined, account: { id?: number }): WebhookSource {
  // Same parsing and account check as the real source, with no stage triggering yet.
  const check = kommoWebhookSource({ triggers: [], account });
  return {
    name: 'kommo',
    async parse(raw, req) {
      const source = real();
      if (source) return source.parse(raw, req);
      await check.parse(raw, req);
      return {
        items: [{ source: 'kommo', dedupKey: `kommo:parked:${createHash('sha256').update(raw).digest('hex')}`, kind: PARKED_KIND, payload: { raw } }],
        ignored: 0,
      };
    },
  };
}

/** Feeds every parked request not replayed yet through `source`; returns how many jobs that enqueued. */
export async function replayParked(deps: { db: Db; queue: JobQueue; kv: KeyValue; log: Logger }, source: WebhookSource): Promise<number> {
  const since = (await deps.kv.get<number>(REPLAYED_THROUGH)) ?? 0;
  const parked = await deps.db.selectFrom('events').select(['id', 'payload']).where('kind', '=', PARKED_KIND).where('id', '>', since).orderBy('id').execute();
  let jobs = 0;
  for (const event of parked) {
    const { raw } = JSON.parse(event.payload) as { raw: string };
    try {
      // Kommo's parser reads the body only.
      const { items } = await source.parse(raw, {} as Request);
      jobs += (await acceptEvents(deps.db, deps.queue, items)).jobIds.length;
    } catch (err) {
      if (!(err instanceof WebhookRejection)) throw err;
      deps.log.warn({ event_id: event.id, code: err.code, reason: err.message }, 'parked Kommo webhook refused on replay');
    }
    await deps.kv.set(REPLAYED_THROUGH, Number(event.id));
  }
  if (parked.length) deps.log.info({ parked: parked.length, jobs }, 'parked Kommo webhooks replayed');
  return jobs;
}
