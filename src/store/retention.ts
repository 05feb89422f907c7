// The database must not grow forever: events, jobs and job attempts older than RETENTION_DAYS are deleted
// in the background, in small batches with a pause between them so webhooks keep being stored meanwhile.
//
// Only what is settled goes: a job that is done; a failed or dead job that a later job for the same work
// has replaced (see ops/deal-state.ts openFailures: an unsettled failure stays on /admin however old);
// an event no remaining job points at, except a parked Kommo webhook not replayed yet. Never touched: queued
// or running jobs, and the records exactly-once rests on (deal_invoices, customers, contact_links,
// deal_notes, invoice_links, deal_recurring), nor kv and connections. Age is counted from when a job
// settled (updated_at) and when an event arrived (received_at). Expired admin sessions and OAuth states
// go in the same sweep.
import { sql } from 'kysely';
import { toJob } from '../jobs/queue.js';
import type { Singletons, SingletonTask } from '../jobs/singleton.js';
import type { Logger } from '../log.js';
import { openFailures } from '../ops/deal-state.js';
import type { Db } from './db.js';
import { KeyValue } from './kv.js';

const DAY_MS = 86_400_000;
/** Kept in step with intake/kommo-parked.ts (which the store must not import). */
const PARKED_KIND = 'kommo_webhook_parked';
const PARKED_REPLAYED_THROUGH = 'kommo:parked:replayed_through';

export interface RetentionOptions {
  days: number;
  /** Rows per delete statement. */
  batchSize?: number;
  /** Pause between batches, so the intake's writes get the database in between. */
  pauseMs?: number;
  now?: () => number;
  log?: Logger;
}

export interface SweepResult {
  jobs: number;
  attempts: number;
  events: number;
  sessions: number;
  oauthStates: number;
}

export class RetentionSweep {
  private timer: NodeJS.Timeout | undefined;
  private task: SingletonTask | undefined;
  private running: Promise<SweepResult> | undefined;
  private stopped = false;
  private readonly batch: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    private readonly opts: RetentionOptions,
  ) {
    this.batch = opts.batchSize ?? 500;
    this.now = opts.now ?? Date.now;
  }

  /** Sweeps after `firstDelayMs`, then every `intervalMs`, until stop(); with `singletons` (the relay), in one
   *  process of all those on the database. */
  start(intervalMs: number, firstDelayMs = 60_000, singletons?: Singletons): void {
    if (this.opts.days <= 0) return;
    if (singletons) {
      this.task = singletons.every('retention', intervalMs, firstDelayMs, () => this.sweep());
      return;
    }
    const tick = (delay: number) => {
      this.timer = setTimeout(() => {
        void this.sweep()
          .catch((err: unknown) => this.opts.log?.error({ err }, 'retention sweep failed; it runs again later'))
          .finally(() => {
            if (!this.stopped) tick(intervalMs);
          });
      }, delay);
      this.timer.unref();
    };
    tick(firstDelayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.task?.stop();
    await this.running?.catch(() => undefined);
  }

  /** One full sweep (every batch); concurrent calls share it. */
  sweep(): Promise<SweepResult> {
    this.running ??= this.sweepAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweepAll(): Promise<SweepResult> {
    const result: SweepResult = { jobs: 0, attempts: 0, events: 0, sessions: 0, oauthStates: 0 };
    const now = this.now();
    if (this.opts.days > 0) {
      const cutoff = now - this.opts.days * DAY_MS;
      // Replaced failures first: deleting the job that replaced one would make it look unsettled again.
      await this.replacedFailures(cutoff, result);
      await this.batches(() => this.jobsDone(cutoff, result));
      await this.batches(() => this.oldEvents(cutoff, result));
    }
    result.sessions = Number((await this.db.deleteFrom('admin_sessions').where('expires_at', '<=', now).executeTakeFirst()).numDeletedRows);
    result.oauthStates = Number((await this.db.deleteFrom('oauth_states').where('expires_at', '<=', now).executeTakeFirst()).numDeletedRows);
    if (result.jobs + result.events > 0) this.opts.log?.info({ ...result, retention_days: this.opts.days }, 'old settled jobs and events deleted');
    return result;
  }

  /** Runs `step` (one batch, returning rows seen) until a batch comes back short or the sweep is stopped. */
  private async batches(step: () => Promise<number>): Promise<void> {
    while (!this.stopped) {
      const seen = await step();
      if (seen < this.batch) return;
      await new Promise((resolve) => setTimeout(resolve, this.opts.pauseMs ?? 20));
    }
  }

  private async replacedFailures(cutoff: number, result: SweepResult): Promise<void> {
    let after = 0;
    await this.batches(async () => {
      const candidates = await this.db
        .selectFrom('jobs')
        .select(['id', 'lane'])
        .where('state', 'in', ['failed', 'dead'])
        .where('updated_at', '<', cutoff)
        .where('id', '>', after)
        .orderBy('id')
        .limit(this.batch)
        .execute();
      if (candidates.length === 0) return 0;
      after = Number(candidates.at(-1)!.id);
      const lanes = [...new Set(candidates.map((c) => c.lane))];
      const rows = await this.db.selectFrom('jobs').selectAll().where('lane', 'in', lanes).execute();
      const open = new Set(lanes.flatMap((lane) => openFailures(rows.filter((r) => r.lane === lane).map(toJob))).map((j) => j.id));
      await this.deleteJobs(candidates.map((c) => Number(c.id)).filter((id) => !open.has(id)), result);
      return candidates.length;
    });
  }

  private async jobsDone(cutoff: number, result: SweepResult): Promise<number> {
    const rows = await this.db.selectFrom('jobs').select('id').where('state', '=', 'done').where('updated_at', '<', cutoff).orderBy('id').limit(this.batch).execute();
    await this.deleteJobs(rows.map((r) => Number(r.id)), result);
    return rows.length;
  }

  private async deleteJobs(ids: number[], result: SweepResult): Promise<void> {
    if (ids.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      // The state is checked again: an operator may have retried a failure since it was read.
      const deleted = await trx.deleteFrom('jobs').where('id', 'in', ids).where('state', 'in', ['done', 'failed', 'dead']).returning('id').execute();
      if (deleted.length === 0) return;
      result.jobs += deleted.length;
      const gone = deleted.map((d) => Number(d.id));
      result.attempts += Number((await trx.deleteFrom('job_attempts').where('job_id', 'in', gone).executeTakeFirst()).numDeletedRows);
    });
  }

  private async oldEvents(cutoff: number, result: SweepResult): Promise<number> {
    const replayedThrough = (await new KeyValue(this.db).get<number>(PARKED_REPLAYED_THROUGH)) ?? 0;
    const rows = await this.db
      .selectFrom('events')
      .select('id')
      .where('received_at', '<', cutoff)
      .where((eb) => eb.or([eb('kind', '!=', PARKED_KIND), eb('id', '<=', replayedThrough)]))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('jobs').select(sql`1`.as('one')).whereRef('jobs.event_id', '=', 'events.id'))))
      .orderBy('id')
      .limit(this.batch)
      .execute();
    if (rows.length === 0) return 0;
    const deleted = await this.db.deleteFrom('events').where('id', 'in', rows.map((r) => Number(r.id))).executeTakeFirst();
    result.events += Number(deleted.numDeletedRows);
    return rows.length;
  }
}
