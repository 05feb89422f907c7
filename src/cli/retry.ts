// `relay retry job <id>` / `relay retry deal <id>`: re-run a failed or dead job (see ops/retry.ts for
// what a deal retry means). The relay's worker picks it up within its poll interval; --wait follows the
// job until it ends and prints how.
import { JobQueue, type Job } from '../jobs/queue.js';
import { retryDeal, retryJob } from '../ops/retry.js';
import { UsageError, type Args } from './args.js';
import type { CliContext } from './context.js';

export async function retry(ctx: CliContext, args: Args): Promise<number> {
  const [what, id] = args.positionals;
  if ((what !== 'job' && what !== 'deal') || !id || !/^\d{1,20}$/.test(id)) throw new UsageError('say what to retry: relay retry job <job id>, or relay retry deal <deal id>');
  const env = ctx.settings();
  const { db } = await ctx.db();
  const queue = new JobQueue(db, { maxAttempts: env.JOB_MAX_ATTEMPTS, leaseMs: env.JOB_LEASE_SECONDS * 1000, backoffBaseMs: env.JOB_BACKOFF_BASE_MS, backoffMaxMs: env.JOB_BACKOFF_MAX_MS });
  const result = what === 'job' ? await retryJob(queue, Number(id)) : await retryDeal(db, queue, id);
  if (!result.ok) {
    if (args.flags.has('json')) ctx.io.out(JSON.stringify({ retried: null, error: result.error, message: result.message }, null, 2));
    else ctx.io.err(result.message);
    return 1;
  }
  const waitSeconds = args.flags.has('wait') ? Number(args.options.get('timeout') ?? 60) : 0;
  const ended = waitSeconds > 0 ? await waitForEnd(queue, result.job.id, waitSeconds * 1000) : undefined;
  if (args.flags.has('json')) {
    ctx.io.out(JSON.stringify({ retried: result.job, message: result.message, ...(ended ? { ended: { state: ended.state, lastError: ended.lastError, result: ended.result } } : {}) }, null, 2));
  } else {
    ctx.io.out(result.message.replace('runs now', 'runs as soon as the relay\'s worker picks it up'));
    if (waitSeconds > 0) ctx.io.out(ended ? describeEnd(ended) : `It has not finished after ${waitSeconds} s; follow it with: relay deal ${result.job.dealId ?? ''}`.trimEnd());
    else if (result.job.dealId) ctx.io.out(`Follow it with: relay deal ${result.job.dealId}`);
  }
  return ended && ended.state !== 'done' ? 1 : 0;
}

async function waitForEnd(queue: JobQueue, jobId: number, timeoutMs: number): Promise<Job | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = await queue.get(jobId);
    // Queued with an error again means the attempt failed and waits for its next try: that is an end too.
    if (job && (job.state === 'done' || job.state === 'failed' || job.state === 'dead' || (job.state === 'queued' && job.attempts > 0))) return job;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

function describeEnd(job: Job): string {
  if (job.state === 'done') return `Job ${job.id} is done.`;
  const why = job.lastError ? `${job.lastErrorCode}: ${job.lastError}` : 'no reason recorded';
  return job.state === 'queued' ? `Job ${job.id} failed again and will retry (${why}).` : `Job ${job.id} ${job.state === 'dead' ? 'gave up' : 'failed'} again: ${why}`;
}
