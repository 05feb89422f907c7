import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/db.js';

/** A fresh directory removed after the test file. */
export function tempDir(prefix = 'relay-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A real SQLite database file in a temp directory. */
export async function tempStore(): Promise<Store & { file: string; cleanup: () => Promise<void> }> {
  const dir = tempDir();
  const file = join(dir.path, 'relay.db');
  const store = await openStore({ dialect: 'sqlite', location: file });
  return {
    ...store,
    file,
    cleanup: async () => {
      await store.close();
      dir.cleanup();
    },
  };
}
