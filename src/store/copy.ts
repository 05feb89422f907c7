// Copies a relay's SQLite database into an empty PostgreSQL one (`relay copy-database`): every table the
// relay keeps, row for row with the same IDs, in one PostgreSQL transaction (a failure leaves the target as
// it was), then the ID sequences moved past the copied IDs so new rows never collide. What belongs to the
// running processes (heartbeats, leases, the shared API budgets) is not copied: it is rebuilt as they start.
import { sql } from 'kysely';
import type { Db } from './db.js';

const PER_PROCESS = new Set(['relay_processes', 'leases', 'rate_budgets', 'rate_calls']);
const BATCH = 500;

export interface CopyResult {
  tables: Array<{ table: string; rows: number }>;
}

export class CopyRefused extends Error {}

/** The relay's tables in an SQLite database (migrations' bookkeeping and per-process tables left out). */
export async function sqliteTables(db: Db): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'schema_migrations%' order by name`.execute(db);
  return rows.rows.map((r) => r.name).filter((t) => !PER_PROCESS.has(t));
}

export async function copySqliteToPostgres(from: Db, to: Db, onTable?: (table: string, rows: number) => void): Promise<CopyResult> {
  const tables = await sqliteTables(from);
  const targetTables = new Set((await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(to)).rows.map((r) => r.name));
  const missing = tables.filter((t) => !targetTables.has(t));
  // Both sides ran the same migrations when they were opened: a table only the source has is from a newer relay.
  if (missing.length) throw new CopyRefused(`The PostgreSQL database has no table ${missing.join(', ')}: run the same relay version on both.`);
  const nonEmpty: string[] = [];
  for (const t of tables) if ((await sql`select 1 from ${sql.table(t)} limit 1`.execute(to)).rows.length) nonEmpty.push(t);
  if (nonEmpty.length) throw new CopyRefused(`The PostgreSQL database already holds data (${nonEmpty.join(', ')}): copy into an empty one, so no deal's records are mixed with another's.`);

  const serial = new Set(
    (await sql<{ name: string }>`select table_name as name from information_schema.columns where table_schema = current_schema() and column_name = 'id' and column_default like 'nextval%'`.execute(to)).rows.map((r) => r.name),
  );
  const result: CopyResult = { tables: [] };
  await to.transaction().execute(async (trx) => {
    for (const table of tables) {
      let rows = 0;
      let after = 0;
      for (;;) {
        const batch = (await sql<Record<string, unknown>>`select rowid as "__rowid", * from ${sql.table(table)} where rowid > ${after} order by rowid limit ${BATCH}`.execute(from)).rows;
        if (batch.length === 0) break;
        after = Number(batch.at(-1)!.__rowid);
        const values = batch.map(({ __rowid, ...row }) => row);
        await trx.insertInto(table as never).values(values as never).execute();
        rows += batch.length;
      }
      // A bigserial ID column continues after the highest copied ID.
      if (serial.has(table) && rows > 0) await sql`select setval(pg_get_serial_sequence(${table}, 'id'), (select max(id) from ${sql.table(table)}))`.execute(trx);
      result.tables.push({ table, rows });
      onTable?.(table, rows);
    }
  });
  // What arrived is what was read: counted again on both sides after the commit.
  for (const { table, rows } of result.tables) {
    const count = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(to);
    if (Number(count.rows[0]!.n) !== rows) throw new Error(`Copy of ${table} is incomplete: ${rows} rows read, ${count.rows[0]!.n} in PostgreSQL.`);
  }
  return result;
}
