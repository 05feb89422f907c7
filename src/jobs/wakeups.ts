// On PostgreSQL, a job stored by one process wakes the idle workers of every other process at once, instead
// of at their next poll: the process that commits jobs sends NOTIFY, and each process LISTENs on a dedicated
// connection (a pooled one would drop the subscription when returned). A lost connection is opened again;
// the workers' poll covers the gap, and every reconnect wakes them once in case a notification was missed.
// NOTIFY is a statement of its own on the LISTEN connection, never part of the intake's insert: a transaction
// that notifies holds PostgreSQL's notification-queue lock through its commit, which would make the intakes of
// every process commit one at a time. It is coalesced: the first after a quiet spell goes at once, then at
// most one per NOTIFY_GAP_MS while commits keep adding jobs (a NOTIFY per commit cost the intake about a third
// of its database work in a burst, measured with --cpu-prof; a worker woken 20 ms later is busy by then anyway).
import type { Logger } from '../log.js';
import type { JobQueue } from './queue.js';

type PgClient = import('pg').Client;

/** At most one NOTIFY per this long from one process, while jobs keep coming. */
export const NOTIFY_GAP_MS = 20;

export class JobWakeups {
  private client: PgClient | undefined;
  /** One channel per schema: relays on other schemas of the same database are other installations. */
  private channel = 'relay_jobs';
  private stopped = false;
  private sending = false;
  /** Jobs were committed since the last NOTIFY went out. */
  private pending = false;
  private lastSentAt = 0;
  private gapTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly url: string,
    /** Our own notifications come back to us too; the payload says whose they are. */
    private readonly processId: string,
    private readonly queue: JobQueue,
    private readonly log: Logger,
  ) {}

  static async start(url: string, processId: string, queue: JobQueue, log: Logger): Promise<JobWakeups> {
    const wakeups = new JobWakeups(url, processId, queue, log);
    await wakeups.connect();
    queue.announceWith(() => wakeups.announce());
    return wakeups;
  }

  private async connect(): Promise<void> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (msg.channel === this.channel && msg.payload !== this.processId) this.queue.wake();
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    await client.connect();
    const schema = (await client.query<{ schema: string }>('select current_schema() as schema')).rows[0]?.schema ?? 'public';
    this.channel = `relay_jobs_${schema.replace(/[^a-z0-9_]/gi, '_')}`.slice(0, 63).toLowerCase();
    await client.query(`listen ${this.channel}`);
    this.client = client;
  }

  private lost(client: PgClient, err?: Error): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    this.log.warn({ err: err?.message }, 'the job wake-up connection was lost; workers poll until it is back');
    client.end().catch(() => undefined);
    const retry = (delay: number) => {
      this.reconnectTimer = setTimeout(() => {
        this.connect()
          .then(() => this.queue.wake())
          .catch(() => retry(Math.min(delay * 2, 30_000)));
      }, delay);
      this.reconnectTimer.unref();
    };
    retry(500);
  }

  /** NOTIFY after jobs were committed: one in flight at a time, at most one per NOTIFY_GAP_MS. */
  private announce(): void {
    this.pending = true;
    if (this.sending || this.gapTimer || this.stopped) return;
    const wait = this.lastSentAt + NOTIFY_GAP_MS - Date.now();
    if (wait > 0) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        if (this.pending) this.announce();
      }, wait);
      this.gapTimer.unref();
      return;
    }
    const client = this.client;
    if (!client) return; // meanwhile the other processes find the jobs at their next poll
    this.pending = false;
    this.sending = true;
    this.lastSentAt = Date.now();
    client
      .query('select pg_notify($1, $2)', [this.channel, this.processId])
      .catch((err: unknown) => this.log.debug({ err }, 'NOTIFY failed; the other processes find the job at their next poll'))
      .finally(() => {
        this.sending = false;
        if (this.pending) this.announce();
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.gapTimer);
    this.queue.announceWith(undefined);
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
