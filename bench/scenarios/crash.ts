// Crashes: while N deals flow in (in waves, so kills land during intake as well as mid-job), the relay is
// SIGKILLed at random moments K times and started again on the same database file and port. Kommo keeps
// re-delivering what was not answered 2xx. Every deal must end with exactly one customer, invoice and
// email, and every acknowledged webhook with its invoice on the deal.
//
// Zoho is connected on /connect here, the way an operator sets it up: the access token is stored in the
// database and reused by the next process. (With ZOHO_REFRESH_TOKEN in the environment every start mints
// a new token, and eleven starts within ten minutes run into Zoho's 10-tokens-per-10-minutes limit.)
import { performance } from 'node:perf_hooks';
import { Resources } from '../temp.js';
import {
  addDeals,
  connectedZohoEnv,
  connectZoho,
  jobCounts,
  ledger,
  newSeed,
  seededRandom,
  settle,
  sleep,
  startRelayProcess,
  startWorld,
  trackInvoiceLinks,
  until,
  type JobCounts,
  type Ledger,
  type RelayProcess,
  type TimeScale,
} from './world.js';

export interface CrashOptions {
  deals: number;
  kills: number;
  scale: TimeScale;
  seed?: number;
  /** Deals move in this many waves spread over the first half of the run. Default 20. */
  waves?: number;
  timeoutMs?: number;
}

export interface CrashResult {
  seed: number;
  ledger: Ledger;
  jobs: JobCounts;
  /** Kills that landed while deals were still waiting for their invoice (all of them, unless the run outpaced the schedule). */
  kills: number;
  /** ms after the first move at which each kill landed. */
  killAtMs: number[];
  /** Deals invoiced (Invoice URL on the deal) at the moment of each kill. */
  linkedAtKill: number[];
  elapsedMs: number;
  /** Zoho access tokens minted during the run (stored tokens are reused across restarts). */
  tokenMints: number;
  /** Restart time, SIGKILL to /healthz answering, worst case. */
  maxRestartMs: number;
  /** Webhook deliveries that failed (relay down) and were retried by Kommo. */
  failedDeliveries: number;
  /** 429s Zoho answered: a restarted process's limiter does not know its predecessor's calls. */
  zoho429: number;
}

export async function runCrash(o: CrashOptions): Promise<CrashResult> {
  const seed = o.seed ?? newSeed();
  const random = seededRandom(seed);
  const res = new Resources();
  let relay: RelayProcess | undefined;
  res.add(() => relay?.child.kill());
  try {
    // While the relay is down Kommo's deliveries fail and are retried (every 0.5 s for a minute here). Real
    // Kommo disables a hook after ~100 failures in 2 hours; that count is reported, not enforced.
    const w = await startWorld(res, { scale: o.scale, kommo: { webhookRetries: 120, webhookRetryDelayMs: 500, disableWebhookAfterFailures: 0 } });
    const { s } = w;
    const deals = addDeals(s, o.deals, 'crash');
    // Short leases: a killed process's jobs are taken up again a second after it died.
    const env = connectedZohoEnv(w, { JOB_LEASE_SECONDS: '1', JOB_BACKOFF_BASE_MS: '50', LOG_LEVEL: 'warn' });
    relay = await startRelayProcess(w, env);
    const port = relay.port;
    await connectZoho(relay.url);
    s.connectRelay(relay.url);
    const links = trackInvoiceLinks(s);
    const mintsBefore = s.zoho.state.tokenGrants;
    const zohoSince = s.zoho.requests.length;

    // The least time Zoho's limit allows: the first window's calls go at once, so about one window less
    // than calls ÷ limit × window. Kills are spread over (most of) it; deals arrive in waves over its first
    // half, faster than they can be invoiced, so jobs are in flight whenever a kill lands.
    const expectedMs = ((o.deals * 3) / o.scale.zohoRequests) * o.scale.zohoWindowMs;
    const spanMs = 0.9 * Math.max(expectedMs - o.scale.zohoWindowMs, o.scale.zohoWindowMs);
    const waves = Math.min(o.waves ?? 20, o.deals);
    const perWave = Math.ceil(o.deals / waves);
    const waveGapMs = spanMs / 2 / waves;
    const started = performance.now();
    const moving = (async () => {
      for (let i = 0; i < deals.length; i += perWave) {
        s.moveToInvoice(...deals.slice(i, i + perWave));
        await sleep(waveGapMs);
      }
    })();

    // K random moments over the span, in order; a kill never comes sooner than 100 ms after the last restart.
    const moments = Array.from({ length: o.kills }, () => 300 + random() * (spanMs - 300)).sort((a, b) => a - b);
    const killAtMs: number[] = [];
    const linkedAtKill: number[] = [];
    let maxRestartMs = 0;
    for (const at of moments) {
      const wait = Math.max(started + at - performance.now(), 100);
      await sleep(wait);
      const linked = deals.filter((id) => links.has(id)).length;
      if (linked === deals.length) break; // nothing left to interrupt
      const killed = performance.now();
      await relay.child.kill();
      killAtMs.push(Math.round(killed - started));
      linkedAtKill.push(linked);
      relay = await startRelayProcess(w, env, { port });
      maxRestartMs = Math.max(maxRestartMs, performance.now() - killed);
    }
    await moving;

    await until(() => deals.every((id) => links.has(id)), o.timeoutMs ?? 3 * expectedMs + 60_000, 50);
    const elapsedMs = Math.max(...deals.map((id) => links.get(id) ?? performance.now())) - started;
    await settle(w);
    return {
      seed,
      ledger: ledger(s, deals),
      jobs: jobCounts(w.dbFile),
      kills: killAtMs.length,
      killAtMs,
      linkedAtKill,
      elapsedMs,
      tokenMints: s.zoho.state.tokenGrants - mintsBefore,
      maxRestartMs,
      failedDeliveries: s.kommo.deliveries.filter((d) => d.status === undefined || d.status < 200 || d.status >= 300).length,
      zoho429: s.zoho.requests.slice(zohoSince).filter((r) => r.status === 429).length,
    };
  } finally {
    await res.release();
  }
}
