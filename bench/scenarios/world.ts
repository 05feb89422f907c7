// What every chaos scenario shares: both fakes with their rate limits on one compressed clock, the relay as
// a child process on an SQLite file, deals, and the ledger that says whether the promise held ("exactly one
// invoice per deal, nothing lost"), counted from the fakes' own state, never from the relay's word. The
// accounting side is Zoho Books unless a scenario asks for another (the flood runs Xero too); the ledger
// reads it through the scenario's neutral view (sandbox/books).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { BooksCall } from '../../sandbox/books/view.js';
import type { FakeKommoOptions } from '../../sandbox/kommo/server.js';
import type { Lead } from '../../sandbox/kommo/types.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY, RELAY_PUBLIC_URL, startScenario, type SandboxAccounting, type Scenario } from '../../sandbox/scenario.js';
import type { FakeXeroOptions } from '../../sandbox/xero/server.js';
import type { FakeZohoOptions } from '../../sandbox/zoho/server.js';
import { freePort, relayNodeArgs, startChild, type Child } from '../child.js';
import type { Resources } from '../temp.js';

/** The limits as the real services set them (Xero's per organisation). */
export const REAL_LIMITS = { zohoRequests: 100, zohoWindowMs: 60_000, kommoPerSecond: 7, xeroPerMinute: 60, xeroConcurrent: 5, xeroPerDay: 5000 } as const;

/** Xero counts its limit over a minute, in the fake and in the relay alike (neither has a setting for it). */
export const XERO_WINDOW_MS = 60_000;

/**
 * Time compressed by `factor` for every side at once: Zoho's window shrinks (100 requests per 60 s / factor,
 * set in the fake and in ZOHO_RATE_LIMIT_WINDOW_SECONDS alike) and Kommo's rate grows by the same factor
 * (its window is one second in both, so the rate is what scales; KOMMO_RATE_LIMIT_PER_SECOND allows 50 at
 * most, hence factor <= 7). Xero's window is a fixed minute in both too, so its rate scales like Kommo's:
 * 60 x factor per minute (the fake's limit and XERO_RATE_LIMIT_PER_MINUTE), and its day quota with it; the
 * 5 calls in flight stay 5 (what they bound is the latency of a call, which no clock compresses). The
 * ratio of the limits stays the real one: the accounting system remains the bottleneck.
 */
export interface TimeScale {
  factor: number;
  zohoRequests: number;
  zohoWindowMs: number;
  kommoPerSecond: number;
  xeroPerMinute: number;
  xeroPerDay: number;
  xeroConcurrent: number;
}

export function timeScale(factor: number): TimeScale {
  const kommoPerSecond = REAL_LIMITS.kommoPerSecond * factor;
  if (!Number.isInteger(kommoPerSecond) || kommoPerSecond < 1 || kommoPerSecond > 50) {
    throw new Error(`time scale ${factor}: Kommo's ${REAL_LIMITS.kommoPerSecond}/s x ${factor} must be a whole rate of 1..50/s (KOMMO_RATE_LIMIT_PER_SECOND)`);
  }
  return {
    factor,
    zohoRequests: REAL_LIMITS.zohoRequests,
    zohoWindowMs: REAL_LIMITS.zohoWindowMs / factor,
    kommoPerSecond,
    xeroPerMinute: REAL_LIMITS.xeroPerMinute * factor,
    xeroPerDay: REAL_LIMITS.xeroPerDay * factor,
    xeroConcurrent: REAL_LIMITS.xeroConcurrent,
  };
}

/** The accounting system's rate limit on the scale: `requests` per `windowMs`. */
export function accountingLimit(t: TimeScale, accounting: SandboxAccounting): { requests: number; windowMs: number } {
  return accounting === 'xero' ? { requests: t.xeroPerMinute, windowMs: XERO_WINDOW_MS } : { requests: t.zohoRequests, windowMs: t.zohoWindowMs };
}

/** The least time `calls` take under the accounting system's limit on the scale, at its steady rate. */
export function leastTimeMs(t: TimeScale, accounting: SandboxAccounting, calls: number): number {
  const l = accountingLimit(t, accounting);
  return (calls / l.requests) * l.windowMs;
}

/**
 * The same counting the first window's burst: with the window empty at the start, `requests` calls may go at
 * once and the n-th call no earlier than floor((n - 1) / requests) windows later. Below leastTimeMs by up
 * to one window: what matters when a run spans few windows (--quick, Xero's minute).
 */
export function leastTimeWithBurstMs(t: TimeScale, accounting: SandboxAccounting, calls: number): number {
  const l = accountingLimit(t, accounting);
  return calls > 0 ? Math.floor((calls - 1) / l.requests) * l.windowMs : 0;
}

export function describeScale(t: TimeScale, accounting: SandboxAccounting = 'zoho'): string {
  if (accounting === 'xero') {
    return `time x${t.factor}: Xero ${t.xeroPerMinute} req / 60 s (its ${REAL_LIMITS.xeroPerMinute}/min x${t.factor}), ${t.xeroConcurrent} in flight, Kommo ${t.kommoPerSecond} req/s`;
  }
  return `time x${t.factor}: Zoho ${t.zohoRequests} req / ${(t.zohoWindowMs / 1000).toFixed(2)} s, Kommo ${t.kommoPerSecond} req/s`;
}

/** The relay's settings for a scale: the same limits the fakes use, and no reconciler (see README). */
export function scaleEnv(t: TimeScale, accounting: SandboxAccounting = 'zoho'): Record<string, string> {
  const limits: Record<string, string> =
    accounting === 'xero'
      ? { XERO_RATE_LIMIT_PER_MINUTE: String(t.xeroPerMinute), XERO_CONCURRENT_CALLS: String(t.xeroConcurrent), XERO_DAY_LIMIT: String(t.xeroPerDay) }
      : { ZOHO_RATE_LIMIT_REQUESTS: String(t.zohoRequests), ZOHO_RATE_LIMIT_WINDOW_SECONDS: String(t.zohoWindowMs / 1000) };
  return {
    ...limits,
    KOMMO_RATE_LIMIT_PER_SECOND: String(t.kommoPerSecond),
    // Only webhooks and the durable queue deliver deals here: a sweep would hide an event the intake lost.
    RECONCILE_INTERVAL_SECONDS: '0',
  };
}

/** Calls to the accounting system's identity service (tokens, Xero's connections), kept apart from API calls. */
export const isIdentityCall = (c: BooksCall): boolean => c.op === 'token' || c.op === 'connections';

export interface World {
  s: Scenario;
  dir: string;
  dbFile: string;
  scale: TimeScale;
}

export interface WorldOptions {
  scale: TimeScale;
  /** The accounting system (default zoho). */
  accounting?: SandboxAccounting;
  kommo?: FakeKommoOptions;
  zoho?: FakeZohoOptions;
  xero?: FakeXeroOptions;
}

export async function startWorld(res: Resources, o: WorldOptions): Promise<World> {
  const dir = res.tempDir('relay-chaos-');
  const s = await startScenario({
    dir,
    // Kommo re-delivers a webhook that was not answered 2xx; generous here so that a relay that is down
    // for a restart gets every event again (the ledger counts what was acknowledged, not what was sent).
    kommo: { rateLimitPerSecond: o.scale.kommoPerSecond, webhookRetries: 100, webhookRetryDelayMs: 100, ...o.kommo },
    accounting: o.accounting ?? 'zoho',
    zoho: { rateLimit: { limit: o.scale.zohoRequests, windowMs: o.scale.zohoWindowMs }, ...o.zoho },
    xero: { ...o.xero, limits: { perMinute: o.scale.xeroPerMinute, perDay: o.scale.xeroPerDay, concurrent: o.scale.xeroConcurrent, ...o.xero?.limits } },
  });
  res.add(() => s.close());
  return { s, dir, dbFile: join(dir, 'relay.db'), scale: o.scale };
}

/** `n` deals in the Incoming stage, each of a client of its own (a new customer: Zoho 3 calls, Xero 5). */
export function addDeals(s: Scenario, n: number, tag: string): number[] {
  return Array.from({ length: n }, (_, i) => s.addClientDeal({ email: `${tag}-${i}@example.com`, contactName: `${tag} client ${i}` }).dealId);
}

/** dist/src/main.js, whether this module runs compiled (bench) or as TypeScript (vitest). */
export function relayMain(): URL {
  const here = import.meta.url;
  const main = new URL(here.endsWith('.ts') ? '../../dist/src/main.js' : '../../src/main.js', here);
  if (!existsSync(fileURLToPath(main))) throw new Error(`${fileURLToPath(main)} is missing: run \`npm run build\` first (npm test and npm run bench do).`);
  return main;
}

export interface RelayProcess {
  child: Child;
  url: string;
  port: number;
}

/** The relay as a child process with the given environment; `port` to start it again where it was. */
export async function startRelayProcess(w: World, env: Record<string, string>, opts: { port?: number; nodeArgs?: string[] } = {}): Promise<RelayProcess> {
  const p = opts.port ?? (await freePort());
  const child = await startChild({ script: relayMain(), env: { ...env, PORT: String(p) }, cwd: w.dir, port: p, readyTimeoutMs: 30_000, nodeArgs: [...relayNodeArgs(), ...(opts.nodeArgs ?? [])] });
  return { child, url: `http://127.0.0.1:${p}`, port: p };
}

/** The relay's environment with Zoho connected on /connect (tokens stored in the database, encrypted). */
export function connectedZohoEnv(w: World, overrides: Record<string, string> = {}): Record<string, string> {
  return w.s.env({
    ZOHO_REFRESH_TOKEN: '',
    ZOHO_ORGANIZATION_ID: '',
    ZOHO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/zoho/callback`,
    ENCRYPTION_KEY,
    ADMIN_TOKEN,
    ...scaleEnv(w.scale),
    ...overrides,
  });
}

/** An administrator connects Zoho on the relay's /connect page; the fake consents at once. */
export async function connectZoho(relayUrl: string): Promise<void> {
  const start = await fetch(`${relayUrl}/connect/zoho`, { redirect: 'manual', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const consentAt = start.headers.get('location');
  if (start.status !== 302 || !consentAt) throw new Error(`/connect/zoho answered ${start.status}, not a redirect to Zoho`);
  const consent = await fetch(consentAt, { redirect: 'manual' });
  const back = consent.headers.get('location');
  if (consent.status !== 302 || !back?.startsWith(`${RELAY_PUBLIC_URL}/`)) throw new Error(`the fake Zoho consent answered ${consent.status} (${back})`);
  const url = new URL(back);
  const callback = await fetch(`${relayUrl}${url.pathname}${url.search}`, { redirect: 'manual' });
  const page = await callback.text();
  if (callback.status !== 200 || !/connected/i.test(page)) throw new Error(`the Zoho callback answered ${callback.status}: ${page.slice(0, 300)}`);
}

export function invoiceUrlOf(s: Scenario, lead: Lead | undefined): unknown {
  return lead?.customFields.find((f) => f.fieldId === s.fields.invoiceUrl)?.values[0]?.value;
}

/**
 * When each deal got its Invoice URL: the fake Kommo announces every applied PATCH synchronously, so this is
 * the moment the write-back took effect (after the fake's latency), to the sub-millisecond.
 */
export function trackInvoiceLinks(s: Scenario): Map<number, number> {
  const linked = new Map<number, number>();
  const announce = s.kommo.state.onChange;
  s.kommo.state.onChange = (batch) => {
    for (const c of batch.update ?? []) {
      if (!linked.has(c.lead.id) && invoiceUrlOf(s, c.lead)) linked.set(c.lead.id, performance.now());
    }
    announce(batch);
  };
  return linked;
}

/** Deal IDs whose `leads[status]` webhook the relay acknowledged with a 2xx, at least once. */
export function acknowledgedDeals(s: Scenario): Set<number> {
  const acked = new Set<number>();
  for (const d of s.kommo.deliveries) {
    if (!d.events.includes('status_lead') || d.status === undefined || d.status < 200 || d.status >= 300) continue;
    for (const [key, value] of new URLSearchParams(d.body)) if (/^leads\[status\]\[\d+\]\[id\]$/.test(key)) acked.add(Number(value));
  }
  return acked;
}

/** Outcome of a run for the deals it moved, from the fakes' state alone. */
export interface Ledger {
  deals: number;
  /** Deals whose status webhook was answered 2xx at least once. */
  acknowledged: number;
  /** Exactly one invoice with the deal's reference, emailed once, and its ID and URL on the deal. */
  invoicedOnce: number;
  /** Invoices beyond the first, over all deals (same reference KOMMO-<id>). */
  duplicateInvoices: number;
  /** Customers beyond the first, per email. */
  duplicateCustomers: number;
  /** Emails beyond the first, per invoice. */
  duplicateEmails: number;
  /** Acknowledged deals that did not end with their invoice on the deal. */
  lost: number;
  /** Deals Kommo never got a 2xx for (it gave up re-delivering): not the relay's to lose, but reported. */
  neverAcknowledged: number;
  /** Requests and answers outside the accounting system's published contract (Zoho's OpenAPI documents,
   *  Xero's contract/xero), as the fake checked them. */
  oasViolations: number;
}

export function ledger(s: Scenario, deals: number[]): Ledger {
  const books = s.books;
  const invoicesByRef = new Map<string, Array<{ id: string; url: string | undefined }>>();
  for (const inv of books.invoices()) {
    if (inv.reference === undefined) continue;
    const list = invoicesByRef.get(inv.reference) ?? [];
    list.push(inv);
    invoicesByRef.set(inv.reference, list);
  }
  const emailsPer = new Map<string, number>();
  for (const e of books.emails()) emailsPer.set(e.invoiceId, (emailsPer.get(e.invoiceId) ?? 0) + 1);
  const customersPer = new Map<string, number>();
  for (const c of books.customers()) {
    const email = c.email?.toLowerCase() ?? `(no email) ${c.id}`;
    customersPer.set(email, (customersPer.get(email) ?? 0) + 1);
  }
  const acked = acknowledgedDeals(s);
  const excess = (counts: Iterable<number>) => [...counts].reduce((sum, n) => sum + Math.max(0, n - 1), 0);

  let invoicedOnce = 0;
  let duplicateInvoices = 0;
  let lost = 0;
  for (const id of deals) {
    const invoices = invoicesByRef.get(`KOMMO-${id}`) ?? [];
    duplicateInvoices += Math.max(0, invoices.length - 1);
    const lead = s.kommo.state.leads.get(id);
    const onDeal = lead?.customFields.find((f) => f.fieldId === s.fields.invoiceId)?.values[0]?.value;
    const inv = invoices[0];
    const complete = invoices.length === 1 && inv !== undefined && onDeal === inv.id && inv.url !== undefined && invoiceUrlOf(s, lead) === inv.url && emailsPer.get(inv.id) === 1;
    if (complete) invoicedOnce++;
    if (acked.has(id) && !(inv && onDeal === inv.id)) lost++;
  }
  return {
    deals: deals.length,
    acknowledged: deals.filter((id) => acked.has(id)).length,
    invoicedOnce,
    duplicateInvoices,
    duplicateCustomers: excess(customersPer.values()),
    duplicateEmails: excess(emailsPer.values()),
    lost,
    neverAcknowledged: deals.filter((id) => !acked.has(id)).length,
    oasViolations: books.violations.length,
  };
}

/** True when the ledger keeps the promise: every deal invoiced exactly once, nothing duplicated or lost. */
export function promiseKept(l: Ledger): boolean {
  return l.invoicedOnce === l.deals && l.duplicateInvoices === 0 && l.duplicateCustomers === 0 && l.duplicateEmails === 0 && l.lost === 0 && l.neverAcknowledged === 0;
}

export interface JobCounts {
  queued: number;
  running: number;
  done: number;
  failed: number;
  dead: number;
  /** Attempts cut off by a kill (the next claim found them still 'running'). */
  abandonedAttempts: number;
  /** Attempts that ended in 'retry' (a retryable error). */
  retriedAttempts: number;
}

/** Reads the relay's database file (read-only; WAL lets it while the relay writes). */
export function jobCounts(dbFile: string): JobCounts {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const counts: JobCounts = { queued: 0, running: 0, done: 0, failed: 0, dead: 0, abandonedAttempts: 0, retriedAttempts: 0 };
    for (const r of db.prepare('select state, count(*) as n from jobs group by state').all() as Array<{ state: keyof JobCounts; n: number }>) counts[r.state] = r.n;
    for (const r of db.prepare("select outcome, count(*) as n from job_attempts where outcome in ('abandoned', 'retry') group by outcome").all() as Array<{ outcome: string; n: number }>) {
      if (r.outcome === 'abandoned') counts.abandonedAttempts = r.n;
      else counts.retriedAttempts = r.n;
    }
    return counts;
  } finally {
    db.close();
  }
}

/** Polls `check` until it is truthy or `timeoutMs` passes; false on timeout (the figures tell the rest). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** Waits until the relay has no job queued or running, then a little longer for stragglers to show. */
export async function settle(w: World, timeoutMs = 30_000): Promise<void> {
  await until(() => {
    const c = jobCounts(w.dbFile);
    return c.queued === 0 && c.running === 0;
  }, timeoutMs, 100);
  await w.s.kommo.flushWebhooks();
  await sleep(300);
}

/** Small seeded PRNG (mulberry32): a run's random moments can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/** Nearest-rank percentile. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
