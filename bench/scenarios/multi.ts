// Several relays on one PostgreSQL database, behind one address (bench/balancer.ts, as Caddy or nginx in
// docker-compose.yml), against the fakes with the real limits on a compressed clock. A flood of deals goes
// in through all of them; optionally the relay that runs the reconciler is SIGKILLed half-way. What must
// hold comes from the fakes' own records: every deal one invoice, no 429 from either side, and the reconcile
// sweep once per interval (Kommo's "deals in stage" query and Zoho's "invoices modified since" list, counted).
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { RecordedRequest } from '../../sandbox/common.js';
import { startBalancer } from '../balancer.js';
import { Resources } from '../temp.js';
import { addDeals, ledger, scaleEnv, sleep, startRelayProcess, startWorld, trackInvoiceLinks, until, type JobCounts, type Ledger, type RelayProcess, type TimeScale, type World } from './world.js';

export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema on the PostgreSQL server, dropped on release; its URL points the relays at it. */
export async function postgresSchema(res: Resources): Promise<string> {
  const schema = `bench_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  res.add(async () => {
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    await c.query(`drop schema ${schema} cascade`);
    await c.end();
  });
  return `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/** Runs `fn` with a client on the relays' database (the schema is in the URL). */
export async function onDatabase<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function pgJobCounts(url: string): Promise<JobCounts> {
  return onDatabase(url, async (c) => {
    const counts: JobCounts = { queued: 0, running: 0, done: 0, failed: 0, dead: 0, abandonedAttempts: 0, retriedAttempts: 0 };
    for (const r of (await c.query<{ state: keyof JobCounts; n: string }>('select state, count(*) as n from jobs group by state')).rows) counts[r.state] = Number(r.n);
    for (const r of (await c.query<{ outcome: string; n: string }>("select outcome, count(*) as n from job_attempts where outcome in ('abandoned', 'retry') group by outcome")).rows) {
      if (r.outcome === 'abandoned') counts.abandonedAttempts = Number(r.n);
      else counts.retriedAttempts = Number(r.n);
    }
    return counts;
  });
}

export async function leaseHolder(url: string, name: string): Promise<string | undefined> {
  return onDatabase(url, async (c) => (await c.query<{ holder: string }>('select holder from leases where name = $1 and expires_at > $2', [name, Date.now()])).rows[0]?.holder);
}

export interface Fleet {
  world: World;
  databaseUrl: string;
  relays: RelayProcess[];
  /** The one address Kommo and Zoho send webhooks to. */
  url: string;
  forwarded: Map<string, number>;
}

export interface FleetOptions {
  scale: TimeScale;
  processes: number;
  env?: Record<string, string>;
  /** The fakes to use; default: new ones. */
  world?: World;
  /** Node options of every relay child (--cpu-prof). */
  nodeArgs?: string[];
}

/** `processes` relays on one fresh PostgreSQL schema behind one balancer, webhooks pointed at it. */
export async function startFleet(res: Resources, o: FleetOptions): Promise<Fleet> {
  const world = o.world ?? (await startWorld(res, { scale: o.scale }));
  const databaseUrl = await postgresSchema(res);
  const env = world.s.env({ ...scaleEnv(o.scale), LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, ...o.env });
  const start = async () => {
    const relay = await startRelayProcess(world, env, { nodeArgs: o.nodeArgs ?? [] });
    res.add(() => relay.child.stop());
    return relay;
  };
  // The first one creates the tables; the others start together.
  const first = await start();
  const relays = [first, ...(await Promise.all(Array.from({ length: o.processes - 1 }, start)))];
  const balancer = await startBalancer(relays.map((r) => r.url));
  res.add(() => balancer.close());
  world.s.connectRelay(balancer.url);
  return { world, databaseUrl, relays, url: balancer.url, forwarded: balancer.forwarded };
}

export interface MultiFloodOptions {
  deals: number;
  scale: TimeScale;
  processes: number;
  /** The reconciler's interval (RECONCILE_INTERVAL_SECONDS); 0: off. */
  reconcileSeconds?: number;
  /** SIGKILL the relay holding the reconciler lease once this many deals are linked. */
  killAfterLinked?: number;
  jobLeaseSeconds?: number;
  singletonLeaseSeconds?: number;
  timeoutMs?: number;
}

export interface MultiFloodResult {
  ledger: Ledger;
  jobs: JobCounts;
  elapsedMs: number;
  /** Zoho calls answered 2xx during the flood ÷ the limit × the window. */
  minimumMs: number;
  zohoCalls: number;
  zoho429: number;
  kommoCalls: number;
  kommo429: number;
  /** Kommo webhooks each relay answered. */
  forwarded: number[];
  /** Status webhooks Kommo sent again because no 2xx came within its 2 s. */
  webhookRedeliveries: number;
  /** Reconcile sweeps seen on the fakes (Kommo's query, Zoho's list), over `sweepWindowMs`. */
  sweeps: { kommo: number; zoho: number; sweepWindowMs: number; intervalMs: number; largestGapMs: number };
  kill?: { killedHolder: string; holderAfter: string | undefined; killedAtLinked: number; takeoverMs: number; sweepsAfterTakeover: number };
}

const isSweepQuery = (r: RecordedRequest) => r.method === 'GET' && r.path === '/api/v4/leads' && typeof r.query.filter === 'object' && r.query.filter !== null && 'statuses' in r.query.filter;
const isSweepList = (r: RecordedRequest) => r.method === 'GET' && r.path === '/books/v3/invoices' && 'last_modified_time' in r.query;

export async function runMultiFlood(o: MultiFloodOptions): Promise<MultiFloodResult> {
  const res = new Resources();
  try {
    const reconcileSeconds = o.reconcileSeconds ?? 0;
    const fleet = await startFleet(res, {
      scale: o.scale,
      processes: o.processes,
      env: {
        RECONCILE_INTERVAL_SECONDS: String(reconcileSeconds),
        JOB_LEASE_SECONDS: String(o.jobLeaseSeconds ?? 60),
        SINGLETON_LEASE_SECONDS: String(o.singletonLeaseSeconds ?? 30),
      },
    });
    const { s } = fleet.world;
    const deals = addDeals(s, o.deals, 'multi');
    const links = trackInvoiceLinks(s);
    const since = { zoho: s.zoho.requests.length, kommo: s.kommo.requests.length };
    const sweepStart = performance.now();
    const expectedMs = ((o.deals * 3) / o.scale.zohoRequests) * o.scale.zohoWindowMs;
    const started = performance.now();
    for (const id of deals) s.moveToInvoice(id);

    let kill: Omit<NonNullable<MultiFloodResult['kill']>, 'sweepsAfterTakeover'> | undefined;
    let takenOverAt = Infinity;
    if (o.killAfterLinked !== undefined) {
      await until(() => links.size >= o.killAfterLinked!, o.timeoutMs ?? 3 * expectedMs + 60_000, 20);
      const holder = await leaseHolder(fleet.databaseUrl, 'reconciler');
      const victim = fleet.relays.find((r) => holder?.split('/')[1] === String(r.child.pid)) ?? fleet.relays[0]!;
      const killedAtLinked = links.size;
      const killedAt = Date.now();
      await victim.child.kill();
      // Within one singleton lease (and a look, a third of it), a survivor holds the reconciler.
      const leaseMs = (o.singletonLeaseSeconds ?? 30) * 1000;
      let holderAfter: string | undefined;
      await until(async () => {
        holderAfter = await leaseHolder(fleet.databaseUrl, 'reconciler');
        return holderAfter !== undefined && holderAfter !== holder;
      }, leaseMs * 2 + 2000, 100);
      takenOverAt = Date.now();
      kill = { killedHolder: holder ?? '(none)', holderAfter, killedAtLinked, takeoverMs: takenOverAt - killedAt };
    }

    await until(() => deals.every((id) => links.has(id)), o.timeoutMs ?? 3 * expectedMs + 60_000, 50);
    const finished = Math.max(started, ...deals.map((id) => links.get(id) ?? 0));
    await until(async () => {
      const c = await pgJobCounts(fleet.databaseUrl);
      return c.queued === 0 && c.running === 0;
    }, 30_000, 100);
    await s.kommo.flushWebhooks();
    await sleep(300);
    const sweepWindowMs = performance.now() - sweepStart;

    const books = s.zoho.requests.slice(since.zoho).filter((r) => r.path.startsWith('/books/v3'));
    const kommo = s.kommo.requests.slice(since.kommo).filter((r) => r.path.startsWith('/api/v4'));
    const ok = (r: RecordedRequest) => r.status !== undefined && r.status >= 200 && r.status < 300;
    const sweepTimes = kommo.filter(isSweepQuery).map((r) => r.at);
    const gaps = sweepTimes.slice(1).map((t, i) => t - sweepTimes[i]!);
    const zohoCalls = books.filter(ok).length;
    return {
      ledger: ledger(s, deals),
      jobs: await pgJobCounts(fleet.databaseUrl),
      elapsedMs: finished - started,
      minimumMs: (zohoCalls / o.scale.zohoRequests) * o.scale.zohoWindowMs,
      zohoCalls,
      zoho429: books.filter((r) => r.status === 429).length,
      kommoCalls: kommo.filter(ok).length,
      kommo429: kommo.filter((r) => r.status === 429).length,
      forwarded: fleet.relays.map((r) => fleet.forwarded.get(new URL(r.url).origin) ?? 0),
      webhookRedeliveries: s.kommo.deliveries.filter((d) => d.events.includes('status_lead') && d.attempt > 1).length,
      sweeps: { kommo: sweepTimes.length, zoho: books.filter(isSweepList).length, sweepWindowMs, intervalMs: reconcileSeconds * 1000, largestGapMs: Math.max(0, ...gaps) },
      ...(kill ? { kill: { ...kill, sweepsAfterTakeover: sweepTimes.filter((t) => t >= takenOverAt).length } } : {}),
    };
  } finally {
    await res.release();
  }
}
