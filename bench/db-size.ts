// How big the SQLite database gets per N deals (default 1,000), for the README: every deal goes the whole
// way — its stage-change webhook, a new customer, the invoice emailed and linked, Zoho's payment webhook, the
// payment note, the Paid field and the stage move — with the relay in-process on an SQLite file against the
// sandbox (limits raised so the run is quick; they do not change what is stored). Then the same rows are
// aged past RETENTION_DAYS and swept: what stays for good. Sizes are the file after a WAL checkpoint, and
// after VACUUM (what a fresh copy takes).
//   npm run build && node dist/bench/db-size.js [deals]
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseEnv } from '../src/config/env.js';
import { createLogger } from '../src/log.js';
import { startRelay } from '../src/relay.js';
import { startScenario } from '../sandbox/scenario.js';
import { RetentionSweep } from '../src/store/retention.js';
import { Resources } from './temp.js';
import { addDeals, until } from './scenarios/world.js';

const deals = Number(process.argv[2] ?? 1000);
const DAY = 86_400_000;

const res = new Resources();
try {
  const dir = res.tempDir('relay-db-size-');
  const file = join(dir, 'relay.db');
  const s = await startScenario({ dir, kommo: { rateLimitPerSecond: 1000, webhookRetries: 100, webhookRetryDelayMs: 100 }, zoho: { rateLimit: { limit: 1_000_000, windowMs: 60_000 } } });
  res.add(() => s.close());
  const env = parseEnv(
    s.env({ DATABASE_URL: `sqlite:${file}`, ZOHO_RATE_LIMIT_REQUESTS: '10000', ZOHO_RATE_LIMIT_WINDOW_SECONDS: '1', KOMMO_RATE_LIMIT_PER_SECOND: '50', RECONCILE_INTERVAL_SECONDS: '0', WORKER_CONCURRENCY: '8', LOG_LEVEL: 'error' }),
  );
  const relay = await startRelay(env, { log: createLogger({ level: 'error' }) });
  let stopped = false;
  res.add(() => (stopped ? undefined : relay.stop()));
  s.connectRelay(relay.url);
  const count = (q: string) => countOf(file, q);

  const started = Date.now();
  const ids = addDeals(s, deals, 'size');
  // In batches: here the fakes share the relay's event loop, and a thousand webhooks at once would time out
  // at Kommo's 2 s (the flood benchmark runs the relay as its own process for that).
  for (let i = 0; i < ids.length; i += 50) {
    s.moveToInvoice(...ids.slice(i, i + 50));
    await untilStalled(() => count("select count(*) n from events where kind = 'deal_entered_invoice_stage'"), Math.min(i + 50, ids.length));
  }
  const invoiced = await untilStalled(() => count("select count(*) n from deal_invoices where state = 'linked'"), deals);
  if (!invoiced) throw new Error(`not every deal was invoiced; Kommo's deliveries: ${JSON.stringify(deliveryOutcomes(s.kommo.deliveries))}`);
  for (const invoice of [...s.zoho.state.invoices.values()]) s.zoho.recordPayment(invoice.invoiceId, { amount: Number(invoice.totalMinor) / 100 });
  if (!(await untilStalled(() => count('select count(*) n from invoice_links where paid_at is not null'), deals))) throw new Error('not every payment reached its deal');
  await until(async () => (await count("select count(*) n from jobs where state in ('queued', 'running')")) === 0, 10 * 60_000, 500);
  const elapsed = Date.now() - started;
  const failed = await count("select count(*) n from jobs where state in ('failed', 'dead')");

  // Age everything past the retention period and sweep, as the relay would 90 days later.
  const sweep = new RetentionSweep(relay.store.db, { days: 90, now: () => Date.now() + 91 * DAY });
  const rows = tableRows(file);
  const swept = await sweep.sweep();
  await relay.stop();
  stopped = true;

  const kept = tableRows(file);
  const afterSweep = statSync(file).size;
  const sqlite = new Database(file);
  sqlite.exec('vacuum');
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
  const vacuumedAfterSweep = statSync(file).size;

  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MiB`;
  const perDeal = (b: number) => `${((b / deals) * 1000 / 1024 / 1024).toFixed(2)} MiB per 1,000 deals`;
  console.log(`${deals} deals invoiced, paid and noted in ${(elapsed / 1000).toFixed(0)} s (${failed} jobs failed)`);
  console.log(`rows with history:  ${JSON.stringify(rows)}`);
  console.log(`database with history (all of it within RETENTION_DAYS): file ${mib(rows.file)}, pages in use ${mib(rows.bytes)} -> ${perDeal(rows.file)}`);
  console.log(`retention sweep deleted: ${JSON.stringify(swept)}`);
  console.log(`rows kept for good: ${JSON.stringify(kept)}`);
  console.log(`file after the sweep: ${mib(afterSweep)} (free pages reused by new rows); after VACUUM: ${mib(vacuumedAfterSweep)} -> ${perDeal(vacuumedAfterSweep)}`);
} finally {
  await res.release();
}

/** Waits until `progress` reaches `target`; false once it has not moved for a minute. */
async function untilStalled(progress: () => Promise<number>, target: number): Promise<boolean> {
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const now = await progress();
    if (now >= target) return true;
    if (now !== last) [last, movedAt] = [now, Date.now()];
    if (Date.now() - movedAt > 60_000) return false;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function deliveryOutcomes(deliveries: Array<{ status?: number; error?: string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of deliveries) {
    const key = d.status !== undefined ? String(d.status) : (d.error ?? 'none').replace(/\d+/g, 'N');
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

async function countOf(file: string, q: string): Promise<number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return Number((db.prepare(q).get() as { n: number }).n);
  } finally {
    db.close();
  }
}

/** Rows per table, the bytes of the pages in use and the file's size, once its WAL is checkpointed into it. */
function tableRows(file: string): Record<string, number> & { bytes: number; file: number } {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const out: Record<string, number> = {};
    for (const t of ['events', 'jobs', 'job_attempts', 'deal_invoices', 'customers', 'contact_links', 'invoice_links', 'deal_notes', 'kv']) {
      out[t] = Number((db.prepare(`select count(*) n from ${t}`).get() as { n: number }).n);
    }
    const pages = Number(db.pragma('page_count', { simple: true })) - Number(db.pragma('freelist_count', { simple: true }));
    return { ...out, bytes: pages * Number(db.pragma('page_size', { simple: true })), file: statSync(file).size };
  } finally {
    db.close();
  }
}
