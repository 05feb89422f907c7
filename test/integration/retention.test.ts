// Retention on SQLite and PostgreSQL: settled jobs, their attempts and the events behind them older than
// RETENTION_DAYS go, in batches; unsettled failures, queued and running jobs, parked webhooks not replayed
// yet and every record exactly-once rests on stay. Then through the whole relay: a deal invoiced long ago
// loses its history, keeps its records, and a webhook about it delivered again creates no second invoice.
import type { Insertable } from 'kysely';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetentionSweep } from '../../src/store/retention.js';
import type { Store } from '../../src/store/db.js';
import type { JobsTable, JobState } from '../../src/store/schema.js';
import { ADMIN_TOKEN } from '../../sandbox/scenario.js';
import { backends, type SharedDatabase } from '../support/backends.js';
import { asAdmin, get } from '../support/connect.js';
import { databaseUrls, type DatabaseUrl } from '../support/database-urls.js';
import { invoicesOf, startE2E, waitFor, type E2E } from '../support/e2e.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 6, 12);
const OLD = NOW - 91 * DAY;
const RECENT = NOW - 89 * DAY;

describe.each(backends)('the retention sweep on %s', (_name, makeDatabase) => {
  let shared: SharedDatabase;
  let store: Store;

  beforeEach(async () => {
    shared = await makeDatabase();
    store = await shared.open();
  });
  afterEach(async () => shared.cleanup());

  const event = async (at: number, kind = 'deal_entered_invoice_stage') =>
    Number((await store.db.insertInto('events').values({ source: 'kommo', dedup_key: `k-${Math.random()}`, kind, deal_id: '1', payload: '{}', received_at: at }).returning('id').executeTakeFirstOrThrow()).id);
  const job = async (state: JobState, at: number, o: Partial<Insertable<JobsTable>> = {}) => {
    const id = Number(
      (
        await store.db
          .insertInto('jobs')
          .values({ kind: 'invoice_for_deal', lane: 'deal:1', deal_id: '1', event_id: null, payload: '{"dealId":1}', state, attempts: 1, max_attempts: 12, run_at: at, created_at: at, updated_at: at, ...o })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );
    await store.db.insertInto('job_attempts').values({ job_id: id, attempt: 1, worker: 'w', started_at: at, finished_at: at, outcome: state === 'done' ? 'done' : 'failed', error_code: null, error: null }).execute();
    return id;
  };
  const ids = async (table: 'jobs' | 'events') => (await store.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => Number(r.id));
  const attemptsOf = async () => [...new Set((await store.db.selectFrom('job_attempts').select('job_id').execute()).map((r) => Number(r.job_id)))].sort((a, b) => a - b);
  const sweep = (days = 90, batchSize = 500) => new RetentionSweep(store.db, { days, batchSize, pauseMs: 1, now: () => NOW }).sweep();

  it('deletes settled work older than the setting, and nothing else', async () => {
    const eDone = await event(OLD);
    const done = await job('done', OLD, { event_id: eDone });
    const eQueued = await event(OLD);
    const queued = await job('queued', OLD, { event_id: eQueued });
    const running = await job('running', OLD);
    const recentDone = await job('done', RECENT, { event_id: await event(RECENT) });
    const ignoredEvent = await event(OLD);
    // A failure replaced by a later run of the same work goes; one nothing replaced stays on /admin.
    const replaced = await job('failed', OLD - DAY, { lane: 'deal:7', deal_id: '7', payload: '{"dealId":7}' });
    const replacing = await job('done', OLD, { lane: 'deal:7', deal_id: '7', payload: '{"dealId":7}' });
    const dead = await job('dead', OLD, { lane: 'deal:8', deal_id: '8', payload: '{"dealId":8}' });
    const replacedByQueued = await job('failed', OLD, { lane: 'deal:9', deal_id: '9', payload: '{"dealId":9}' });
    const laterQueued = await job('queued', RECENT, { lane: 'deal:9', deal_id: '9', payload: '{"dealId":9}' });
    // A payment for another invoice is other work: it does not replace this one.
    const paymentFailed = await job('failed', OLD, { kind: 'payment_to_deal', lane: 'deal:10', deal_id: '10', payload: '{"invoiceId":"A"}' });
    const otherPayment = await job('done', RECENT, { kind: 'payment_to_deal', lane: 'deal:10', deal_id: '10', payload: '{"invoiceId":"B"}' });
    // Parked Kommo webhooks: replayed ones may go, one not replayed yet stays.
    const parkedReplayed = await event(OLD, 'kommo_webhook_parked');
    const parkedWaiting = await event(OLD, 'kommo_webhook_parked');
    await store.db.insertInto('kv').values({ key: 'kommo:parked:replayed_through', value: String(parkedReplayed), updated_at: OLD }).execute();
    // What exactly-once rests on, however old.
    await store.db.insertInto('deal_invoices').values({ deal_id: '1', generation: 1, state: 'linked', reference: 'KOMMO-1', customer_id: 'c', invoice_id: 'i', invoice_number: 'INV-1', invoice_url: 'u', invoice_status: 'sent', emailed: 1, created_at: OLD, updated_at: OLD }).execute();
    await store.db.insertInto('customers').values({ email_key: 'a@example.com', customer_id: 'c', currency_code: 'EUR', claimed_by: null, claimed_at: null, updated_at: OLD }).execute();
    await store.db.insertInto('deal_notes').values({ note_key: 'n', deal_id: '1', state: 'sent', text: 't', created_at: OLD, updated_at: OLD }).execute();
    await store.db.insertInto('invoice_links').values({ invoice_id: 'i', deal_id: '1', version: 'v', paid_at: OLD, created_at: OLD, updated_at: OLD }).execute();
    await store.db.insertInto('deal_recurring').values({ deal_id: '2', state: 'active', name: 'r', customer_id: 'c', recurrence_id: 'rec', created_at: OLD, updated_at: OLD }).execute();
    await store.db.insertInto('admin_sessions').values([{ id_hash: 'expired', expires_at: NOW - 1, created_at: OLD }, { id_hash: 'live', expires_at: NOW + DAY, created_at: NOW }]).execute();
    await store.db.insertInto('oauth_states').values({ state_hash: 'old', side: 'zoho', expires_at: NOW - 1, created_at: OLD }).execute();

    const result = await sweep();

    const keptJobs = [queued, running, recentDone, dead, laterQueued, paymentFailed, otherPayment].sort((a, b) => a - b);
    expect(await ids('jobs')).toEqual(keptJobs);
    expect(await attemptsOf()).toEqual(keptJobs);
    expect(await ids('events')).toEqual([eQueued, (await store.db.selectFrom('jobs').select('event_id').where('id', '=', recentDone).executeTakeFirstOrThrow()).event_id, parkedWaiting].map(Number).sort((a, b) => a - b));
    expect(result).toEqual({ jobs: 4, attempts: 4, events: 3, sessions: 1, oauthStates: 1 });
    expect((await ids('jobs')).filter((id) => [done, replaced, replacing, replacedByQueued].includes(id))).toEqual([]);
    expect((await ids('events')).filter((id) => [eDone, ignoredEvent, parkedReplayed].includes(id))).toEqual([]);
    for (const table of ['deal_invoices', 'customers', 'deal_notes', 'invoice_links', 'deal_recurring'] as const) {
      expect([table, (await store.db.selectFrom(table).selectAll().execute()).length]).toEqual([table, 1]);
    }
    expect((await store.db.selectFrom('admin_sessions').select('id_hash').execute()).map((r) => r.id_hash)).toEqual(['live']);

    // Nothing more is old enough; a second sweep deletes nothing.
    expect(await sweep()).toEqual({ jobs: 0, attempts: 0, events: 0, sessions: 0, oauthStates: 0 });
    // RETENTION_DAYS=0 keeps everything.
    expect(await sweep(0)).toMatchObject({ jobs: 0, events: 0 });
  });

  it('works through any backlog in bounded batches, on its timer', async () => {
    // Failures that a later run of the same work replaced, then that later work, done.
    for (let i = 0; i < 7; i++) await job('failed', OLD - DAY, { lane: `deal:${i}` });
    for (let i = 0; i < 23; i++) await job('done', OLD, { event_id: await event(OLD), lane: `deal:${i}` });
    const keep = await job('failed', OLD, { lane: 'deal:99' });
    const statements: string[] = [];
    const counting = store.db.withPlugin({
      transformQuery: (args) => {
        if (args.node.kind === 'DeleteQueryNode') statements.push('delete');
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const retention = new RetentionSweep(counting, { days: 90, batchSize: 5, pauseMs: 1, now: () => NOW });
    retention.start(3600_000, 10);
    await waitFor(async () => (await ids('jobs')).length === 1 && (await ids('events')).length === 0, 'the backlog to be deleted');
    await retention.stop();
    expect(await ids('jobs')).toEqual([keep]);
    expect(await ids('events')).toEqual([]);
    // 30 jobs and 23 events, at most 5 rows each statement: many statements, never one big delete.
    expect(statements.length).toBeGreaterThanOrEqual(Math.ceil(30 / 5) * 2 + Math.ceil(23 / 5));
  });
});

describe.each(databaseUrls)('retention through the relay on %s', (_name, makeDatabase) => {
  let database: DatabaseUrl;
  let e2e: E2E;
  afterAll(async () => {
    await e2e?.close();
    await database?.cleanup();
  });

  it('a deal invoiced long ago loses its history but not its records: the same webhook again creates no second invoice', async () => {
    database = await makeDatabase();
    e2e = await startE2E({ env: { ADMIN_TOKEN, DATABASE_URL: database.url } });
    const s = e2e.scenario;
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    await waitFor(async () => invoicesOf(s, dealId).length === 1 && (await e2e.relay.store.db.selectFrom('jobs').select('id').where('state', '!=', 'done').execute()).length === 0, 'the deal to be invoiced');
    expect((await get(e2e.relay, `/admin/deals/${dealId}`, asAdmin)).status).toBe(200);

    const longAgo = Date.now() - 91 * DAY;
    await e2e.relay.store.db.updateTable('events').set({ received_at: longAgo }).execute();
    await e2e.relay.store.db.updateTable('jobs').set({ updated_at: longAgo, created_at: longAgo }).execute();
    const result = await e2e.relay.retention.sweep();
    expect(result.jobs).toBeGreaterThan(0);
    expect(result.events).toBeGreaterThan(0);
    const record = (await (await get(e2e.relay, `/admin/deals/${dealId}`, asAdmin)).json()) as { events: unknown[]; jobs: unknown[]; accounting: { invoiceId: string | null } };
    expect([record.events, record.jobs]).toEqual([[], []]);
    expect(record.accounting.invoiceId).toBe(invoicesOf(s, dealId)[0]!.invoiceId);
    expect(await e2e.relay.store.db.selectFrom('deal_invoices').select('state').where('deal_id', '=', String(dealId)).execute()).toEqual([{ state: 'linked' }]);

    // Kommo delivers the same stage change again: its dedup key went with the event, so a job runs, and finds the invoice.
    const delivery = s.kommo.deliveries.find((d) => d.status === 200 && d.body.includes(String(dealId)))!;
    const again = await fetch(delivery.destination, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: delivery.body });
    expect(await again.json()).toMatchObject({ stored: 1, duplicates: 0 });
    await waitFor(async () => {
      const jobs = await e2e.relay.store.db.selectFrom('jobs').select('state').where('deal_id', '=', String(dealId)).execute();
      return jobs.length > 0 && jobs.every((j) => j.state === 'done');
    }, 'the repeated webhook to be handled');
    expect(invoicesOf(s, dealId)).toHaveLength(1);
  });
});
