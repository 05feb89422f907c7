import type { Db } from './db.js';

/** Small persisted values: cached start-up resolutions, reconciler checkpoints. */
export class KeyValue {
  constructor(private readonly db: Db) {}

  async get<T>(key: string): Promise<T | undefined> {
    const row = await this.db.selectFrom('kv').select('value').where('key', '=', key).executeTakeFirst();
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  /** When the value was last written (epoch ms), without reading it. */
  async updatedAt(key: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('kv').select('updated_at').where('key', '=', key).executeTakeFirst();
    return row ? Number(row.updated_at) : undefined;
  }

  /** Writes the value; returns the time it was written as (what updatedAt then answers). */
  async set(key: string, value: unknown, executor: Db = this.db): Promise<number> {
    const now = Date.now();
    const text = JSON.stringify(value);
    await executor
      .insertInto('kv')
      .values({ key, value: text, updated_at: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: text, updated_at: now }))
      .execute();
    return now;
  }
}
