// /readyz tells the truth about the intake: a database that answers reads but refuses writes (a read-only
// file or connection, a full disk) makes it 503 naming the write problem, on SQLite and PostgreSQL. The
// relay's own connection switched to read-only and back shows the probe's answer follows within seconds.
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createLogger } from '../../src/log.js';
import type { Relay } from '../../src/relay.js';
import { openStore, withSqlite, type Db } from '../../src/store/db.js';
import type { Schema } from '../../src/store/schema.js';
import { startScenario, type Scenario } from '../../sandbox/scenario.js';
import { startCapturedRelay } from '../support/connect.js';
import { databaseUrls, type DatabaseUrl } from '../support/database-urls.js';
import { waitFor } from '../support/e2e.js';
import { tempDir } from '../support/tmp.js';

/** The database behind `url` opened the way a relay would find it when writes fail. */
function readOnlyDb(database: DatabaseUrl): Db {
  if (database.url.startsWith('sqlite:')) {
    return new Kysely<Schema>({ dialect: new SqliteDialect({ database: new Database(database.url.slice('sqlite:'.length), { readonly: true, fileMustExist: true }) }) });
  }
  const pool = new pg.Pool({ connectionString: database.withOptions('-c default_transaction_read_only=on'), max: 2 });
  return new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
}

function appOn(db: Db) {
  const queue = new JobQueue(db, { maxAttempts: 3, leaseMs: 30_000, backoffBaseMs: 1000, backoffMaxMs: 60_000 });
  return createApp({ db, log: createLogger({ level: 'silent' }), accepting: () => true, webhooks: { route: { db, queue, secret: 'x'.repeat(16), bodyLimit: '1kb' }, sources: [] } });
}

describe.each(databaseUrls)('/readyz and writes on %s', (name, makeDatabase) => {
  let database: DatabaseUrl;

  beforeAll(async () => {
    database = await makeDatabase();
    const store = await openStore(name === 'sqlite' ? { dialect: 'sqlite', location: database.url.slice('sqlite:'.length) } : { dialect: 'postgres', location: database.url });
    await store.close();
  });
  afterAll(async () => database.cleanup());

  it('a read-only database: 503, not_writable, with the database\'s own reason; the same database writable: 200', async () => {
    const readOnly = readOnlyDb(database);
    try {
      const res = await request(appOn(readOnly)).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'unavailable', database: 'not_writable' });
      expect(res.body.message).toMatch(
        name === 'sqlite'
          ? /^The database cannot be written, so webhooks cannot be stored: attempt to write a readonly database$/
          : /^The database cannot be written, so webhooks cannot be stored: cannot execute INSERT in a read-only transaction$/,
      );
    } finally {
      await readOnly.destroy();
    }
    const store = await openStore(name === 'sqlite' ? { dialect: 'sqlite', location: database.url.slice('sqlite:'.length) } : { dialect: 'postgres', location: database.url });
    try {
      const res = await request(appOn(store.db)).get('/readyz');
      expect([res.status, res.body]).toEqual([200, { status: 'ready', database: 'ok' }]);
      // The probe is one small row, not a row per request.
      for (let i = 0; i < 20; i++) await request(appOn(store.db)).get('/readyz');
      expect(await store.db.selectFrom('kv').select('key').where('key', 'like', 'readyz%').execute()).toEqual([{ key: 'readyz:write_probe' }]);
    } finally {
      await store.close();
    }
  });
});

describe('a running relay whose database stops taking writes', () => {
  let dir: ReturnType<typeof tempDir>;
  let s: Scenario;
  let relay: Relay;

  beforeAll(async () => {
    dir = tempDir('relay-readyz-');
    s = await startScenario({ dir: dir.path });
    relay = await startCapturedRelay(s.env(), { logs: [] }, { worker: false });
  });
  afterAll(async () => {
    await withSqlite(relay.store.db, (sqlite) => sqlite.pragma('query_only = OFF'));
    await relay.stop();
    await s.close();
    dir.cleanup();
  });

  const readyz = async () => {
    const res = await fetch(`${relay.url}/readyz`);
    return { status: res.status, body: (await res.json()) as { database: string; message?: string } };
  };

  it('says so within two seconds, and ready again within two seconds of writes working', async () => {
    expect((await readyz()).status).toBe(200);
    await withSqlite(relay.store.db, (sqlite) => sqlite.pragma('query_only = ON'));
    const down = await waitFor(async () => ((await readyz()).status === 503 ? readyz() : undefined), '/readyz to say not writable', 2500);
    expect(down.body).toMatchObject({ database: 'not_writable', message: 'The database cannot be written, so webhooks cannot be stored: attempt to write a readonly database' });
    await withSqlite(relay.store.db, (sqlite) => sqlite.pragma('query_only = OFF'));
    await waitFor(async () => (await readyz()).status === 200, '/readyz to be ready again', 2500);
  });
});
