import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';

// A second process writing to the relay's SQLite file (the CLI's `retry` does, while the relay runs). A
// transaction of the relay that reads and then writes must not fail because the other process committed
// in between: it holds the write lock from its start, and the other process waits (busy timeout).
const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

/** Another process inserts a row; `trying` resolves when it is about to write, `done` once it committed. */
function otherProcessWrites(file: string): { trying: Promise<void>; done: Promise<string> } {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite)});
    const db = new Database(${JSON.stringify(file)}, { timeout: 5000 });
    const insert = db.prepare("insert into kv (key, value, updated_at) values ('theirs', '1', 2)");
    process.stdout.write('trying;', () => {
      insert.run();
      process.stdout.write('committed');
    });`;
  let tried!: () => void;
  const trying = new Promise<void>((r) => (tried = r));
  const done = new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('trying;')) tried();
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
  });
  return { trying, done };
}

describe('SQLite store with a second writer', () => {
  let dir: string;
  let store: Store;
  afterEach(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a transaction that read before another process's commit still writes after it", async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-writers-'));
    const file = join(dir, 'relay.db');
    store = await openStore({ dialect: 'sqlite', location: file });
    let other!: ReturnType<typeof otherProcessWrites>;
    const committedBeforeUs = await store.db.transaction().execute(async (trx) => {
      expect(await trx.selectFrom('kv').selectAll().execute()).toEqual([]);
      other = otherProcessWrites(file);
      await other.trying;
      // Ample time for its insert to commit, had it not been made to wait for our lock.
      const first = await Promise.race([other.done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
      await trx.insertInto('kv').values({ key: 'mine', value: '1', updated_at: 1 }).execute();
      return first;
    });
    expect(await other.done).toBe('trying;committed');
    expect(committedBeforeUs).toBe(false);
    expect((await store.db.selectFrom('kv').select('key').orderBy('key').execute()).map((r) => r.key)).toEqual(['mine', 'theirs']);
  });
});
