// Clean-up that runs whatever happened: every resource registers how to release itself, and release()
// undoes them in reverse order, carrying on past failures so one stuck resource never leaks the others.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<Resources>();

export class Resources {
  private readonly undo: Array<() => unknown> = [];

  constructor() {
    live.add(this);
  }

  add(release: () => unknown): void {
    this.undo.push(release);
  }

  /** A fresh temp directory, removed on release. */
  tempDir(prefix: string): string {
    const path = mkdtempSync(join(tmpdir(), prefix));
    this.add(() => rmSync(path, { recursive: true, force: true }));
    return path;
  }

  async release(): Promise<void> {
    live.delete(this);
    for (const release of this.undo.splice(0).reverse()) {
      try {
        await release();
      } catch (err) {
        process.stderr.write(`bench clean-up: ${(err as Error).message}\n`);
      }
    }
  }
}

/** For an interrupted run (Ctrl-C): releases whatever is still held. */
export async function releaseAll(): Promise<void> {
  await Promise.all([...live].map((r) => r.release()));
}
