// Opens the store: SQLite (embedded, the default) or PostgreSQL, behind one Kysely query layer so that
// callers never know which. Migrations run on open.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { DatabaseTarget } from '../config/env.js';
import { migrateToLatest } from './migrations.js';
import type { Schema } from './schema.js';

export type Dialect = DatabaseTarget['dialect'];
export type Db = Kysely<Schema>;
type SqliteDatabase = import('better-sqlite3').Database;

type PgPool = import('pg').Pool;

/** The better-sqlite3 handle behind a SQLite store's Kysely instance, for the one hot path that needs it. */
const sqliteHandles = new WeakMap<Db, SqliteDatabase>();
/** The pg pool behind a PostgreSQL store's Kysely instance, for the same hot path (named prepared statements). */
const pgPools = new WeakMap<Db, PgPool>();

/**
 * Runs `fn` with the raw SQLite handle while holding the store's only connection, so no Kysely
 * transaction is open around it (one would otherwise swallow `fn`'s writes into its own). `undefined`
 * when `db` is not a SQLite store (PostgreSQL, or a transaction): the caller then uses Kysely.
 */
export function withSqlite<T>(db: Db, fn: (sqlite: SqliteDatabase) => T): Promise<T> | undefined {
  const sqlite = sqliteHandles.get(db);
  if (!sqlite) return undefined;
  return db.connection().execute(async () => fn(sqlite));
}

/**
 * The pg pool behind a PostgreSQL store, for a statement Kysely cannot send (a named, prepared one).
 * `undefined` for SQLite and for a transaction: the caller then uses Kysely. A query on the pool runs on its
 * own connection, outside any transaction the caller may have open on another.
 */
export function postgresPool(db: Db): PgPool | undefined {
  return pgPools.get(db);
}

export interface Store {
  db: Db;
  dialect: Dialect;
  close(): Promise<void>;
}

export async function openStore(target: DatabaseTarget): Promise<Store> {
  const db = target.dialect === 'postgres' ? await openPostgres(target.location) : await openSqlite(target.location);
  await migrateToLatest(db as Kysely<any>, target.dialect);
  return { db, dialect: target.dialect, close: () => db.destroy() };
}

async function openSqlite(path: string): Promise<Db> {
  const { default: Database } = await import('better-sqlite3');
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  // WAL lets the admin views read while the worker writes; synchronous=FULL makes each commit durable
  // (fsync) before the webhook is acknowledged; busy_timeout covers a second process (CLI) on the file.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // Kysely prepares every query anew; the relay runs a handful of distinct statements, so keep them
  // prepared (measured: 60-150 µs saved per webhook).
  const statements = new Map<string, ReturnType<typeof sqlite.prepare>>();
  const database = {
    close: () => sqlite.close(),
    prepare: (query: string) => {
      // Every transaction takes the write lock when it begins. Another process may write to the file
      // (the CLI's `retry`); a deferred transaction that read before its commit could not write after it
      // (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out). Ours all write, and none waits on I/O.
      const sql = query === 'begin' ? 'begin immediate' : query;
      let stmt = statements.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql);
        if (statements.size < 500) statements.set(sql, stmt);
      }
      return stmt;
    },
  };
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database }) });
  sqliteHandles.set(db, sqlite);
  return db;
}

async function openPostgres(url: string): Promise<Db> {
  const pg = await import('pg');
  const { Pool, types } = pg.default;
  // BIGINT columns hold epoch milliseconds and row IDs, all far below 2^53: read them as numbers.
  const typeParser = (oid: number, format?: string) =>
    oid === 20 ? (v: string) => Number(v) : types.getTypeParser(oid, format as 'text');
  const pool = new Pool({ connectionString: url, max: 10, types: { getTypeParser: typeParser } as never });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  pgPools.set(db, pool);
  return db;
}
