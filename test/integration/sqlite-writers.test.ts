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

function otherProcessWrites(file: string): Promise<string> {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite)});
    const db = new Database(${JSON.stringify(file)}, { timeout: 5000 });
    db.prepare("insert into kv (key, value, updated_at) values ('theirs', '1', 2)").run();
    process.stdout.write('committed');`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
  });
}

describe('SQLite store with a second writer', () => {
  let dir: string;
  let store: Store;
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a transaction that read before another process's commit still writes after it", async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-writers-'));
    const file = join(dir, 'relay.db');
    store = await openStore({ dialect: 'sqlite', location: file });
    let other!: Promise<string>;
    const committedBeforeUs = await store.db.transaction().execute(async (trx) => {
      expect(await trx.selectFrom('kv').selectAll().execute()).toEqual([]);
      other = otherProcessWrites(file);
      // Long enough for the other process to start and commit, had it not been made to wait.
      const first = await Promise.race([other.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1500))]);
      await trx.insertInto('kv').values({ key: 'mine', value: '1', updated_at: 1 }).execute();
      return first;
    });
    expect(await other).toBe('committed');
    expect(committedBeforeUs).toBe(false);
    expect((await store.db.selectFrom('kv').select('key').orderBy('key').execute()).map((r) => r.key)).toEqual(['mine', 'theirs']);
  });
});
