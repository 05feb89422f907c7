// Flood within the limits: N deals enter the invoicing stage at once (one status webhook each, all fired
// together), with Zoho's real limit of 100 requests per window on a compressed clock shared by the fake and
// the relay. The relay must never be answered 429, must finish close to the least time the limit allows,
// and must invoice every deal exactly once. The relay runs as a child process so its memory is its own.
import { performance } from 'node:perf_hooks';
import type { RecordedRequest } from '../../sandbox/common.js';
import { Resources } from '../temp.js';
import { addDeals, ledger, scaleEnv, settle, startRelayProcess, startWorld, trackInvoiceLinks, until, jobCounts, type JobCounts, type Ledger, type TimeScale } from './world.js';

export interface FloodOptions {
  deals: number;
  scale: TimeScale;
  /** Give up waiting after this long (the figures then show what was missing). Default: 3 x the minimum + 60 s. */
  timeoutMs?: number;
  /** Extra node flags for the relay child (e.g. --max-semi-space-size=8 to see what V8's sizing costs). */
  relayNodeArgs?: string[];
}

export interface FloodResult {
  ledger: Ledger;
  jobs: JobCounts;
  /** First stage move to the last Invoice URL written on a deal. */
  elapsedMs: number;
  /** Zoho calls answered 2xx during the flood ÷ the limit × the window: the least time the limit allows. */
  minimumMs: number;
  zohoCalls: number;
  zoho429: number;
  kommoCalls: number;
  kommo429: number;
  /** Kommo calls ÷ its rate: the least time Kommo's limit allows (for comparison: which limit binds). */
  kommoMinimumMs: number;
  /** Status webhooks Kommo had to send again (not answered 2xx in time). */
  webhookRedeliveries: number;
  /** Relay RSS once every deal is invoiced, and its peak, in MiB (Linux /proc). */
  memory?: { rss: number; peak: number };
}

export async function runFlood(o: FloodOptions): Promise<FloodResult> {
  const res = new Resources();
  try {
    const w = await startWorld(res, { scale: o.scale });
    const { s } = w;
    const deals = addDeals(s, o.deals, 'flood');
    const relay = await startRelayProcess(w, s.env({ ...scaleEnv(o.scale), LOG_LEVEL: 'warn' }), { nodeArgs: o.relayNodeArgs ?? [] });
    res.add(() => relay.child.stop());
    s.connectRelay(relay.url);
    const links = trackInvoiceLinks(s);
    const since = { zoho: s.zoho.requests.length, kommo: s.kommo.requests.length };

    const zohoCallsNeeded = o.deals * 3;
    const expectedMs = (zohoCallsNeeded / o.scale.zohoRequests) * o.scale.zohoWindowMs;
    const started = performance.now();
    // "At once": every deal moves in the same tick, so every status webhook is in flight together.
    for (const id of deals) s.moveToInvoice(id);
    await until(() => deals.every((id) => links.has(id)), o.timeoutMs ?? 3 * expectedMs + 60_000, 50);
    const finished = Math.max(started, ...deals.map((id) => links.get(id) ?? 0));
    const memory = relay.child.memory();
    await settle(w);

    const books = s.zoho.requests.slice(since.zoho).filter((r) => r.path.startsWith('/books/v3'));
    const kommo = s.kommo.requests.slice(since.kommo).filter((r) => r.path.startsWith('/api/v4'));
    const ok = (r: RecordedRequest) => r.status !== undefined && r.status >= 200 && r.status < 300;
    const zohoCalls = books.filter(ok).length;
    const kommoCalls = kommo.filter(ok).length;
    const statusHooks = s.kommo.deliveries.filter((d) => d.events.includes('status_lead'));
    return {
      ledger: ledger(s, deals),
      jobs: jobCounts(w.dbFile),
      elapsedMs: finished - started,
      minimumMs: (zohoCalls / o.scale.zohoRequests) * o.scale.zohoWindowMs,
      zohoCalls,
      zoho429: books.filter((r) => r.status === 429).length,
      kommoCalls,
      kommo429: kommo.filter((r) => r.status === 429).length,
      kommoMinimumMs: (kommoCalls / o.scale.kommoPerSecond) * 1000,
      webhookRedeliveries: statusHooks.filter((d) => d.attempt > 1).length,
      ...(memory ? { memory } : {}),
    };
  } finally {
    await res.release();
  }
}
