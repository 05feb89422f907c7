// Runs jobs from the queue with bounded concurrency. Retryable errors go back with backoff, permanent
// ones are recorded with their reason; neither stops the loop or the process.
import { randomUUID } from 'node:crypto';
import { toRelayError, type RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Job, JobQueue } from './queue.js';

export interface JobContext {
  log: Logger;
  /** Aborted when the worker is shutting down and the job ran out of grace time. */
  signal: AbortSignal;
}

export interface JobHandler {
  run(job: Job, ctx: JobContext): Promise<unknown>;
  /** Called once when the job ends failed (permanent) or dead (out of attempts): tell a person. */
  onFinalFailure?(job: Job, err: RelayError, ctx: JobContext): Promise<void>;
}

export interface WorkerOptions {
  concurrency: number;
  pollMs?: number;
  log: Logger;
  /** Observes every finished attempt (metrics). */
  onAttempt?: (job: Job, outcome: 'done' | 'retry' | 'failed' | 'dead', ms: number) => void;
}

export class Worker {
  readonly id = `worker-${randomUUID().slice(0, 8)}`;
  private running = new Map<number, { promise: Promise<void>; abort: AbortController }>();
  private stopping = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  /** The claiming pass in progress: stop() waits for it, so no job is claimed behind its back. */
  private pumping: Promise<void> | undefined;
  private repump = false;
  private unsubscribe: (() => void) | undefined;
  /** What this worker runs: the queue rotates its claims through these kinds. */
  private readonly kinds: readonly string[];

  constructor(
    private readonly queue: JobQueue,
    private readonly handlers: Record<string, JobHandler>,
    private readonly opts: WorkerOptions,
  ) {
    this.kinds = Object.keys(handlers);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.queue.onEnqueued(() => void this.pump());
    void this.pump();
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Stops claiming; waits for running jobs up to `timeoutMs`, then gives the rest back to the queue. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    await this.pumping;
    const all = Promise.all([...this.running.values()].map((r) => r.promise));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const timedOut = await Promise.race([all.then(() => false), deadline]);
    clearTimeout(timer);
    if (timedOut) {
      for (const [jobId, r] of this.running) {
        r.abort.abort();
        await this.queue.release(jobId, this.id).catch(() => undefined);
      }
    }
  }

  /** Claims jobs until the concurrency limit is reached or the queue has nothing due. */
  private pump(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.pumping) {
      this.repump = true;
      return this.pumping;
    }
    this.pumping = this.claimUntilFull().finally(() => {
      this.pumping = undefined;
      this.schedulePoll();
    });
    return this.pumping;
  }

  private async claimUntilFull(): Promise<void> {
    do {
      this.repump = false;
      while (!this.stopping && this.running.size < this.opts.concurrency) {
        let job: Job | undefined;
        try {
          job = await this.queue.claim(this.id, this.kinds);
        } catch (err) {
          this.opts.log.error({ err }, 'could not claim a job; will try again');
          break;
        }
        if (!job) break;
        if (this.stopping) {
          // Claimed while shutdown began: give it back untouched rather than start it unwatched.
          await this.queue.release(job.id, this.id).catch(() => undefined);
          break;
        }
        this.launch(job);
      }
    } while (this.repump && !this.stopping);
  }

  private schedulePoll(): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), this.opts.pollMs ?? 500);
    this.timer.unref();
  }

  private launch(job: Job): void {
    const abort = new AbortController();
    const promise = this.execute(job, abort.signal).finally(() => {
      this.running.delete(job.id);
      void this.pump();
    });
    this.running.set(job.id, { promise, abort });
  }

  private async execute(job: Job, signal: AbortSignal): Promise<void> {
    const log = this.opts.log.child({ job_id: job.id, job_kind: job.kind, deal_id: job.dealId == null ? undefined : Number(job.dealId), attempt: job.attempts });
    const ctx: JobContext = { log, signal };
    const started = Date.now();
    const heartbeat = setInterval(() => {
      void this.queue.heartbeat(job.id, this.id).catch(() => undefined);
    }, Math.max(100, this.queue.opts.leaseMs / 3));
    heartbeat.unref();
    try {
      const handler = this.handlers[job.kind];
      if (!handler) throw new Error(`no handler for job kind '${job.kind}'`);
      log.info('job started');
      const result = await handler.run(job, ctx);
      await this.queue.succeed(job, this.id, result);
      log.info({ ms: Date.now() - started }, 'job done');
      this.opts.onAttempt?.(job, 'done', Date.now() - started);
    } catch (thrown) {
      const err = toRelayError(thrown);
      await this.recordFailure(job, err, ctx, started).catch((e) => log.error({ err: e }, 'could not record the job failure'));
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async recordFailure(job: Job, err: RelayError, ctx: JobContext, started: number): Promise<void> {
    const fields = { code: err.code, reason: err.message, ms: Date.now() - started };
    let outcome: 'retry' | 'failed' | 'dead';
    if (err.retryable) {
      outcome = await this.queue.retryLater(job, this.id, err);
      if (outcome === 'retry') ctx.log.warn(fields, 'job failed, will retry');
    } else {
      await this.queue.fail(job, this.id, err);
      outcome = 'failed';
    }
    this.opts.onAttempt?.(job, outcome, Date.now() - started);
    if (outcome === 'retry') return;
    ctx.log.error({ ...fields, outcome }, outcome === 'dead' ? 'job gave up after its last attempt' : 'job failed permanently');
    const handler = this.handlers[job.kind];
    await handler?.onFinalFailure?.(job, err, ctx).catch((e) => ctx.log.error({ err: e }, 'failure hook failed'));
  }
}

