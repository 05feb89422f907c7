// Both stores, each openable twice on the same database (two handles stand for two relay processes).
// PostgreSQL runs when reachable (TEST_POSTGRES_URL, default 127.0.0.1:5432/test; 'off' skips it).
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/db.js';
import { tempDir } from './tmp.js';

export interface SharedDatabase {
  /** Opens one more handle on the same database. */
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

export const backends: Array<[string, () => Promise<SharedDatabase>]> = [
  [
    'sqlite',
    async () => {
      const dir = tempDir();
      const handles: Store[] = [];
      return {
        open: async () => {
          const store = await openStore({ dialect: 'sqlite', location: join(dir.path, 'relay.db') });
          handles.push(store);
          return store;
        },
        cleanup: async () => {
          for (const h of handles) await h.close().catch(() => undefined);
          dir.cleanup();
        },
      };
    },
  ],
];

if (process.env.TEST_POSTGRES_URL !== 'off') {
  backends.push([
    'postgres',
    async () => {
      const url = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
      const { default: pg } = await import('pg');
      const schema = `t_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      await admin.end();
      const handles: Store[] = [];
      return {
        open: async () => {
          const store = await openStore({ dialect: 'postgres', location: `${url}?options=-c%20search_path%3D${schema}` });
          handles.push(store);
          return store;
        },
        cleanup: async () => {
          for (const h of handles) await h.close().catch(() => undefined);
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          await c.query(`drop schema ${schema} cascade`);
          await c.end();
        },
      };
    },
  ]);
}
