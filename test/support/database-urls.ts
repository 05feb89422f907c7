// DATABASE_URL values for a whole relay on each store: an SQLite file, and (when reachable, as in
// backends.ts) a fresh PostgreSQL schema. `extraOptions` adds PostgreSQL session settings (`-c name=value`).
import { join } from 'node:path';
import { tempDir } from './tmp.js';

export interface DatabaseUrl {
  url: string;
  /** The same database, with PostgreSQL session settings added (SQLite: the same file). */
  withOptions(options: string): string;
  cleanup(): Promise<void>;
}

export const databaseUrls: Array<[string, () => Promise<DatabaseUrl>]> = [
  [
    'sqlite',
    async () => {
      const dir = tempDir('relay-db-');
      const url = `sqlite:${join(dir.path, 'relay.db')}`;
      return { url, withOptions: () => url, cleanup: async () => dir.cleanup() };
    },
  ],
];

if (process.env.TEST_POSTGRES_URL !== 'off') {
  databaseUrls.push([
    'postgres',
    async () => {
      const base = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
      const { default: pg } = await import('pg');
      const schema = `t_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      await admin.end();
      const withOptions = (options: string) => `${base}?options=${encodeURIComponent(`-c search_path=${schema} ${options}`.trim())}`;
      return {
        url: withOptions(''),
        withOptions,
        cleanup: async () => {
          const c = new pg.Client({ connectionString: base });
          await c.connect();
          await c.query(`drop schema ${schema} cascade`);
          await c.end();
        },
      };
    },
  ]);
}
