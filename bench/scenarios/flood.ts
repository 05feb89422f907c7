// Flood within the limits: N deals enter the invoicing stage at once (one status webhook each, all fired
// together), with the accounting system's real limit on a compressed clock shared by the fakes and the
// relay (Zoho: 100 requests per window; Xero: 60 a minute and 5 in flight per organisation; see TimeScale).
// The relay must never be answered 429, must finish close to the least time the limit allows for the calls
// it really made, and must invoice every deal exactly once. One code path whatever the system: it is read
// through the scenario's neutral view (sandbox/books). The relay runs as a child process so its memory is
// its own.
import { performance } from 'node:perf_hooks';
import type { SandboxAccounting } from '../../sandbox/scenario.js';
import { Resources } from '../temp.js';
import {
  addDeals,
  isIdentityCall,
  jobCounts,
  leastTimeMs,
  leastTimeWithBurstMs,
  ledger,
  scaleEnv,
  settle,
  startRelayProcess,
  startWorld,
  trackInvoiceLinks,
  until,
  type JobCounts,
  type Ledger,
  type TimeScale,
} from './world.js';

export interface FloodOptions {
  deals: number;
  scale: TimeScale;
  /** The accounting system the relay invoices in (default zoho). */
  accounting?: SandboxAccounting;
  /** Give up waiting after this long (the figures then show what was missing). Default: 3 x the minimum + 60 s. */
  timeoutMs?: number;
  /** Extra node flags for the relay child (e.g. --max-semi-space-size=8 to see what V8's sizing costs). */
  relayNodeArgs?: string[];
}

export interface FloodResult {
  accounting: SandboxAccounting;
  ledger: Ledger;
  jobs: JobCounts;
  /** First stage move to the last Invoice URL written on a deal. */
  elapsedMs: number;
  /** Accounting API calls answered 2xx by the last link ÷ the limit × its window: the least time the limit allows. */
  minimumMs: number;
  /** The same counting the first window's burst (leastTimeWithBurstMs): a true lower bound, however few windows. */
  minimumWithBurstMs: number;
  /** Accounting API calls answered 2xx that the flood set off (identity calls apart), the queue drained. */
  apiCalls: number;
  /** Of those, the ones made after the last deal had its link (Xero: reading the relay's own invoices back
   *  on the events about them); not in minimumMs, as the time measured ends before them. */
  apiCallsAfter: number;
  /** The same by what they did (e.g. { 'invoice.create': 100, 'invoice.read': 12 }). */
  apiCallsByOp: Record<string, number>;
  /** 429 answers from the accounting system (API and identity). */
  api429: number;
  /** Token and connection requests to the accounting system's identity service during the flood. */
  identityCalls: number;
  /** The same as apiCalls and api429, under the names test/chaos/flood.test.ts (a Zoho flood) reads. */
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
  const accounting = o.accounting ?? 'zoho';
  const res = new Resources();
  try {
    const w = await startWorld(res, { scale: o.scale, accounting });
    const { s } = w;
    const deals = addDeals(s, o.deals, 'flood');
    const relay = await startRelayProcess(w, s.env({ ...scaleEnv(o.scale, accounting), LOG_LEVEL: 'warn' }), { nodeArgs: o.relayNodeArgs ?? [] });
    res.add(() => relay.child.stop());
    s.connectRelay(relay.url);
    const links = trackInvoiceLinks(s);
    const since = { books: s.books.callCount, kommo: s.kommo.requests.length };

    // A new customer each: a search, a create, then what one invoice costs in this system.
    const callsNeeded = o.deals * (2 + s.books.facts.invoiceOps.length);
    const expectedMs = leastTimeMs(o.scale, accounting, callsNeeded);
    const started = performance.now();
    // "At once": every deal moves in the same tick, so every status webhook is in flight together.
    for (const id of deals) s.moveToInvoice(id);
    await until(() => deals.every((id) => links.has(id)), o.timeoutMs ?? 3 * expectedMs + 60_000, 50);
    const finished = Math.max(started, ...deals.map((id) => links.get(id) ?? 0));
    // The calls made by the time the last deal had its link (within the 50 ms poll) are what the time is
    // measured against; any after it were set off by the flood too and count in its cost per invoice.
    const atEnd = s.books.callCount;
    const memory = relay.child.memory();
    // Whatever the flood set off after the last link (Xero's events about the relay's own invoices) is its
    // doing too: counted below, once the queue is empty.
    await s.books.flushWebhooks();
    await settle(w);

    const calls = s.books.calls(since.books);
    const api = calls.filter((c) => !isIdentityCall(c));
    const inTime = s.books.calls(since.books).slice(0, atEnd - since.books).filter((c) => !isIdentityCall(c));
    const kommo = s.kommo.requests.slice(since.kommo).filter((r) => r.path.startsWith('/api/v4'));
    const ok = (r: { status?: number | undefined }) => r.status !== undefined && r.status >= 200 && r.status < 300;
    const answered = api.filter(ok);
    const byOp: Record<string, number> = {};
    for (const c of answered) byOp[c.op] = (byOp[c.op] ?? 0) + 1;
    const apiCalls = answered.length;
    const api429 = calls.filter((c) => c.status === 429).length;
    const kommoCalls = kommo.filter(ok).length;
    const statusHooks = s.kommo.deliveries.filter((d) => d.events.includes('status_lead'));
    return {
      accounting,
      ledger: ledger(s, deals),
      jobs: jobCounts(w.dbFile),
      elapsedMs: finished - started,
      minimumMs: leastTimeMs(o.scale, accounting, inTime.filter(ok).length),
      minimumWithBurstMs: leastTimeWithBurstMs(o.scale, accounting, inTime.filter(ok).length),
      apiCalls,
      apiCallsAfter: apiCalls - inTime.filter(ok).length,
      apiCallsByOp: byOp,
      api429,
      identityCalls: calls.filter(isIdentityCall).length,
      zohoCalls: apiCalls,
      zoho429: api429,
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
