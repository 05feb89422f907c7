// Faults: N deals while a share of every Zoho and Kommo API call fails — answered 500/503, or never answered
// (the relay's HTTP timeout fires) — plus a burst of 429s from both and every Zoho access token expired
// mid-run. Same promise as ever: each deal exactly one customer, invoice and email, nothing lost.
import { performance } from 'node:perf_hooks';
import type { FaultSettings, RecordedRequest } from '../../sandbox/common.js';
import { Resources } from '../temp.js';
import { addDeals, jobCounts, ledger, scaleEnv, settle, startRelayProcess, startWorld, trackInvoiceLinks, until, type JobCounts, type Ledger, type TimeScale } from './world.js';

export interface FaultOptions {
  deals: number;
  scale: TimeScale;
  /** Share of Zoho API calls that fail (default 0.3) and of Kommo API calls (default 0.2). */
  zohoFaultRate?: number;
  kommoFaultRate?: number;
  /** Of the failures, the share that are timeouts rather than 500/503 answers. Default 1/3. */
  timeoutShare?: number;
  /** The relay's HTTP_TIMEOUT_MS: short, so a hanging call costs little. Default 500. */
  httpTimeoutMs?: number;
  /** 429 answers in a row injected into each service once a third of the deals are invoiced. Default 10. */
  burst429?: number;
  timeoutMs?: number;
}

export interface ServiceFaults {
  /** API calls that reached the fake. */
  calls: number;
  answered5xx: number;
  /** Calls the fake never answered (the relay gave up on them). */
  timedOut: number;
  answered429: number;
  answered401: number;
}

export interface FaultResult {
  ledger: Ledger;
  jobs: JobCounts;
  zoho: ServiceFaults;
  kommo: ServiceFaults;
  /** Zoho access tokens minted during the run: one more after the expiry, no storm. */
  tokenMints: number;
  elapsedMs: number;
  settings: { zoho: FaultSettings; kommo: FaultSettings; httpTimeoutMs: number; burst429: number };
}

/** Error and timeout rates whose sum is exactly `rate` (the injector draws the timeout first). */
export function faultSettings(rate: number, timeoutShare: number): Partial<FaultSettings> {
  const timeoutRate = rate * timeoutShare;
  return { timeoutRate, errorRate: (rate - timeoutRate) / (1 - timeoutRate), statuses: [500, 503] };
}

export async function runFaults(o: FaultOptions): Promise<FaultResult> {
  const res = new Resources();
  try {
    const w = await startWorld(res, { scale: o.scale });
    const { s } = w;
    const deals = addDeals(s, o.deals, 'faults');
    const httpTimeoutMs = o.httpTimeoutMs ?? 500;
    const relay = await startRelayProcess(w, s.env({ ...scaleEnv(o.scale), HTTP_TIMEOUT_MS: String(httpTimeoutMs), LOG_LEVEL: 'error' }));
    res.add(() => relay.child.stop());
    s.connectRelay(relay.url);
    const links = trackInvoiceLinks(s);
    const since = { zoho: s.zoho.requests.length, kommo: s.kommo.requests.length, mints: s.zoho.state.tokenGrants };

    const share = o.timeoutShare ?? 1 / 3;
    s.zoho.faults.set(faultSettings(o.zohoFaultRate ?? 0.3, share));
    s.kommo.faults.set(faultSettings(o.kommoFaultRate ?? 0.2, share));
    const burst429 = o.burst429 ?? 10;
    const linked = () => deals.filter((id) => links.has(id)).length;

    const expectedMs = ((o.deals * 3) / o.scale.zohoRequests) * o.scale.zohoWindowMs;
    const timeoutMs = o.timeoutMs ?? 4 * expectedMs + 90_000;
    const started = performance.now();
    for (const id of deals) s.moveToInvoice(id);

    await until(() => linked() >= deals.length / 3, timeoutMs, 20);
    // Zoho says when to come back in seconds (X-Rate-Limit-Reset); Kommo says nothing.
    s.zoho.faults.failNext(burst429, { status: 429, headers: { 'X-Rate-Limit-Reset': '1' } });
    s.kommo.faults.failNext(burst429, { status: 429 });
    await until(() => linked() >= (2 * deals.length) / 3, timeoutMs, 20);
    s.zoho.expireAccessTokens();
    await until(() => deals.every((id) => links.has(id)), timeoutMs, 50);
    const elapsedMs = Math.max(...deals.map((id) => links.get(id) ?? performance.now())) - started;
    await settle(w);
    const settings = { zoho: { ...s.zoho.faults.settings }, kommo: { ...s.kommo.faults.settings }, httpTimeoutMs, burst429 };
    // Stop the faults before the fakes close, so nothing is left hanging.
    s.zoho.faults.reset();
    s.kommo.faults.reset();

    return {
      ledger: ledger(s, deals),
      jobs: jobCounts(w.dbFile),
      zoho: serviceFaults(s.zoho.requests.slice(since.zoho).filter((r) => r.path.startsWith('/books/v3'))),
      kommo: serviceFaults(s.kommo.requests.slice(since.kommo).filter((r) => r.path.startsWith('/api/v4'))),
      tokenMints: s.zoho.state.tokenGrants - since.mints,
      elapsedMs,
      settings,
    };
  } finally {
    await res.release();
  }
}

function serviceFaults(calls: RecordedRequest[]): ServiceFaults {
  const count = (p: (r: RecordedRequest) => boolean) => calls.filter(p).length;
  return {
    calls: calls.length,
    answered5xx: count((r) => r.status !== undefined && r.status >= 500),
    timedOut: count((r) => r.status === undefined),
    answered429: count((r) => r.status === 429),
    answered401: count((r) => r.status === 401),
  };
}
