// From the embedded SQLite file to PostgreSQL with `relay copy-database`: a relay invoices two deals on
// SQLite and stops; the command copies its database into an empty PostgreSQL schema; the relay started on
// PostgreSQL knows both deals (the same webhook again creates no second invoice), and new rows get new IDs.
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { runCli } from '../support/cli.js';
import { databaseUrls, type DatabaseUrl } from '../support/database-urls.js';
import { invoicesOf, startE2E, waitFor, type E2E } from '../support/e2e.js';

const postgres = databaseUrls.find(([name]) => name === 'postgres');

describe.skipIf(!postgres)('relay copy-database: SQLite to PostgreSQL', () => {
  let e2e: E2E | undefined;
  let target: DatabaseUrl | undefined;
  afterAll(async () => {
    await e2e?.close();
    await target?.cleanup();
  });

  it('copies every record, refuses a running relay and a non-empty target, and the relay carries on on PostgreSQL', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const deals = [s.addClientDeal().dealId, s.addClientDeal().dealId];
    for (const id of deals) s.moveToInvoice(id);
    const db = e2e.relay.store.db;
    await waitFor(async () => deals.every((id) => invoicesOf(s, id).length === 1) && (await db.selectFrom('jobs').select('id').where('state', '!=', 'done').execute()).length === 0, 'both deals invoiced');
    const before = {
      jobs: await db.selectFrom('jobs').selectAll().orderBy('id').execute(),
      events: await db.selectFrom('events').selectAll().orderBy('id').execute(),
      invoices: await db.selectFrom('deal_invoices').selectAll().orderBy('deal_id').execute(),
      customers: await db.selectFrom('customers').selectAll().orderBy('email_key').execute(),
      kv: await db.selectFrom('kv').select(['key', 'value']).where('key', 'not like', 'readyz%').orderBy('key').execute(),
    };
    target = await postgres![1]();
    const env = s.env({ DATABASE_URL: `sqlite:${e2e.dir}/relay.db` });

    // The relay still runs: its heartbeat says so, and nothing is copied.
    const refused = await runCli(['copy-database', '--to', target.url], env);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/^A relay is running on this file \(.+\): stop it first/)]);

    await e2e.relay.stop();
    const copied = await runCli(['copy-database', '--to', target.url, '--json'], env);
    expect([copied.code, copied.stderr]).toEqual([0, '']);
    const report = JSON.parse(copied.stdout) as { copied: Array<{ table: string; rows: number }> };
    expect(report.copied).toEqual(expect.arrayContaining([{ table: 'jobs', rows: before.jobs.length }, { table: 'events', rows: before.events.length }, { table: 'deal_invoices', rows: 2 }]));
    expect(report.copied.map((t) => t.table)).not.toContain('relay_processes');

    const pg = await openStore({ dialect: 'postgres', location: target.url });
    try {
      expect(await pg.db.selectFrom('jobs').selectAll().orderBy('id').execute()).toEqual(before.jobs);
      expect(await pg.db.selectFrom('events').selectAll().orderBy('id').execute()).toEqual(before.events);
      expect(await pg.db.selectFrom('deal_invoices').selectAll().orderBy('deal_id').execute()).toEqual(before.invoices);
      expect(await pg.db.selectFrom('customers').selectAll().orderBy('email_key').execute()).toEqual(before.customers);
      expect(await pg.db.selectFrom('kv').select(['key', 'value']).where('key', 'not like', 'readyz%').orderBy('key').execute()).toEqual(before.kv);
    } finally {
      await pg.close();
    }

    // Twice: the target is no longer empty.
    const again = await runCli(['copy-database', '--to', target.url], env);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/^The PostgreSQL database already holds data \(.*jobs.*\): copy into an empty one/)]);

    // The relay on PostgreSQL: the same stage change again finds the invoice; a new deal gets the next IDs.
    const relay = await e2e.restart({ DATABASE_URL: target.url });
    const delivery = s.kommo.deliveries.find((d) => d.status === 200 && d.body.includes(String(deals[0])))!;
    const redelivered = await fetch(`${relay.url}${new URL(delivery.destination).pathname}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: delivery.body });
    expect(await redelivered.json()).toMatchObject({ duplicates: 1 });
    const third = s.addClientDeal().dealId;
    s.moveToInvoice(third);
    await waitFor(() => invoicesOf(s, third).length === 1, 'the third deal invoiced on PostgreSQL');
    const newJobs = await relay.store.db.selectFrom('jobs').select('id').where('deal_id', '=', String(third)).execute();
    expect(Math.min(...newJobs.map((j) => Number(j.id)))).toBeGreaterThan(Math.max(...before.jobs.map((j) => Number(j.id))));
    for (const id of deals) expect(invoicesOf(s, id)).toHaveLength(1);
  }, 60_000);
});
