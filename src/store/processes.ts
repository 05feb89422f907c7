// Every relay process writes a heartbeat row every few seconds, so /readyz and `relay status` can say which
// processes share the database and which of them hold the singleton leases. Rows of processes gone for a
// day are deleted by the heartbeat itself.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { RelayProcessesTable } from './schema.js';

export type ProcessRow = Selectable<RelayProcessesTable>;

const FORGET_AFTER_MS = 86_400_000;

/** A name for this process that is unique on the database and tells an operator where it runs. */
export function newProcessId(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 6)}`;
}

export class ProcessHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt: number;

  constructor(
    private readonly db: Db,
    readonly id: string,
    private readonly role: string,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** Beats now and every `everyMs` until stop(). */
  async start(everyMs: number, onError?: (err: unknown) => void): Promise<void> {
    await this.beat();
    await this.db.deleteFrom('relay_processes').where('seen_at', '<', this.now() - FORGET_AFTER_MS).execute();
    this.timer = setInterval(() => void this.beat().catch((err: unknown) => onError?.(err)), everyMs);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    const now = this.now();
    const row = { id: this.id, host: hostname(), pid: process.pid, role: this.role, started_at: this.startedAt, seen_at: now };
    await this.db
      .insertInto('relay_processes')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ seen_at: now, role: this.role }))
      .execute();
  }

  /** A process that stops cleanly leaves at once rather than after a while without heartbeats. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.db.deleteFrom('relay_processes').where('id', '=', this.id).execute();
  }
}

/** Processes seen within `withinMs`, newest first. */
export async function recentProcesses(db: Db, withinMs: number, now = Date.now()): Promise<ProcessRow[]> {
  return db.selectFrom('relay_processes').selectAll().where('seen_at', '>=', now - withinMs).orderBy('started_at').execute();
}
