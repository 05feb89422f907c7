// Two relays (or a relay and a test) in two schemas of one PostgreSQL database: each gets its own tables.
// Kysely's migrator looks for its bookkeeping tables by name across all schemas unless told which one, so the
// second schema used to skip creating them and fail ("relation schema_migrations_lock does not exist").
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';

const url = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe.skipIf(process.env.TEST_POSTGRES_URL === 'off')('stores in two schemas of one PostgreSQL database', () => {
  it('migrates the second schema although the first already has every table', async () => {
    const { default: pg } = await import('pg');
    const schemas = [1, 2].map((n) => `t_schemas_${Date.now()}_${n}_${Math.floor(Math.random() * 1e6)}`);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      for (const s of schemas) await admin.query(`create schema ${s}`);
      for (const s of schemas) {
        const store = await openStore({ dialect: 'postgres', location: `${url}?options=-c%20search_path%3D${s}` });
        await store.close();
      }
      const { rows } = await admin.query<{ table_schema: string }>(
        `select table_schema from information_schema.tables where table_name = 'schema_migrations_lock' and table_schema = any($1)`,
        [schemas],
      );
      expect(rows.map((r) => r.table_schema).sort()).toEqual([...schemas].sort());
    } finally {
      for (const s of schemas) await admin.query(`drop schema if exists ${s} cascade`);
      await admin.end();
    }
  });
});
