// Prometheus metrics of one relay. Each relay owns its Registry (not prom-client's global one), so several
// relays in one process (tests, the demo) never share or clash over a metric. Counters are fed by hooks
// the relay already has (the HTTP clients' CallObserver, the worker's onAttempt, the webhook route's
// onOutcome); the queue's figures are read from the store when Prometheus scrapes, not by polling.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccountingQuota } from './accounting/backend.js';
import type { Job } from './jobs/queue.js';
import type { CallObserver } from './net/http.js';
import type { QueueFigures } from './ops/queue-figures.js';

export type AttemptOutcome = 'done' | 'retry' | 'failed' | 'dead';
export type WebhookOutcome = 'stored' | 'duplicate' | 'ignored' | 'rejected';

export class RelayMetrics {
  readonly registry = new Registry();
  private readonly webhooks: Counter<'source' | 'outcome'>;
  private readonly attempts: Counter<'kind' | 'outcome'>;
  private readonly jobSeconds: Histogram<'kind' | 'outcome'>;
  private readonly calls: Counter<'service' | 'status'>;
  private readonly callErrors: Counter<'service' | 'status'>;
  private readonly callSeconds: Histogram<'service'>;
  private readonly waits: Counter<'service'>;
  private readonly waitSeconds: Counter<'service'>;
  /** Read once per scrape and shared by both queue gauges. */
  private scraping: Promise<QueueFigures> | undefined;
  private readonly readFigures: () => Promise<QueueFigures>;
  /** Call budgets a service reports (the accounting backend's calls left today), read at scrape time. */
  private readonly quotaSources: Array<{ service: string; read: () => AccountingQuota[] }> = [];

  constructor(readFigures: () => Promise<QueueFigures>) {
    this.readFigures = readFigures;
    const figures = () => this.scraping ?? readFigures();
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.webhooks = new Counter({ name: 'relay_webhooks_received_total', help: 'Webhooks past the URL secret, by source and what became of them.', labelNames: ['source', 'outcome'], registers });
    this.attempts = new Counter({ name: 'relay_job_attempts_total', help: 'Finished job attempts by kind and outcome (done, retry, failed, dead).', labelNames: ['kind', 'outcome'], registers });
    this.jobSeconds = new Histogram({
      name: 'relay_job_duration_seconds',
      help: 'How long one job attempt took.',
      labelNames: ['kind', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.calls = new Counter({ name: 'relay_outbound_requests_total', help: 'Requests sent to Kommo and the accounting backend, by service and HTTP status (or network_error).', labelNames: ['service', 'status'], registers });
    this.callErrors = new Counter({ name: 'relay_outbound_errors_total', help: 'Outbound requests answered >= 400 or not answered at all.', labelNames: ['service', 'status'], registers });
    this.callSeconds = new Histogram({ name: 'relay_outbound_request_duration_seconds', help: 'Outbound request latency.', labelNames: ['service'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20], registers });
    this.waits = new Counter({ name: 'relay_rate_limit_waits_total', help: 'Times a request waited for the client-side rate limit (or a 429 pause).', labelNames: ['service'], registers });
    this.waitSeconds = new Counter({ name: 'relay_rate_limit_wait_seconds_total', help: 'Time spent waiting for the rate limit.', labelNames: ['service'], registers });
    new Gauge({
      name: 'relay_jobs',
      help: 'Jobs in the store by state.',
      labelNames: ['state'],
      registers,
      async collect() {
        const { byState } = await figures();
        for (const [state, n] of Object.entries(byState)) this.set({ state }, n);
      },
    });
    const quotas = () => this.quotaSources.flatMap(({ service, read }) => read().map((q) => ({ service, q })));
    new Gauge({
      name: 'relay_api_quota_remaining',
      help: 'Calls left in a vendor budget (e.g. the accounting backend\'s calls a day), as its last answer said.',
      labelNames: ['service', 'quota'],
      registers,
      collect() {
        this.reset();
        for (const { service, q } of quotas()) if (q.remaining !== undefined) this.set({ service, quota: q.name }, q.remaining);
      },
    });
    new Gauge({
      name: 'relay_api_quota_limit',
      help: 'The size of that budget, as configured.',
      labelNames: ['service', 'quota'],
      registers,
      collect() {
        this.reset();
        for (const { service, q } of quotas()) if (q.limit !== undefined) this.set({ service, quota: q.name }, q.limit);
      },
    });
    new Gauge({
      name: 'relay_api_quota_paused',
      help: '1 while the budget is used up and work that needs the service waits (paused, not failed).',
      labelNames: ['service', 'quota'],
      registers,
      collect() {
        this.reset();
        for (const { service, q } of quotas()) this.set({ service, quota: q.name }, q.pausedUntil && q.pausedUntil > Date.now() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'relay_queue_depth',
      help: 'Jobs due now and waiting for a worker (queued with run_at in the past).',
      registers,
      async collect() {
        this.set((await figures()).due);
      },
    });
  }

  readonly observer: CallObserver = {
    onCall: (service, status, ms) => {
      const labels = { service, status: String(status) };
      this.calls.inc(labels);
      if (status === 'network_error' || status >= 400) this.callErrors.inc(labels);
      this.callSeconds.observe({ service }, ms / 1000);
    },
    onRateLimitWait: (service, ms) => {
      this.waits.inc({ service });
      this.waitSeconds.inc({ service }, ms / 1000);
    },
  };

  /** Reports a service's call budgets on every scrape (the accounting side's quotas, when it has any). */
  watchQuotas(service: string, read: () => AccountingQuota[]): void {
    this.quotaSources.push({ service, read });
  }

  readonly webhook = (source: string, outcome: WebhookOutcome): void => {
    this.webhooks.inc({ source, outcome });
  };

  readonly jobAttempt = (job: Pick<Job, 'kind'>, outcome: AttemptOutcome, ms: number): void => {
    this.attempts.inc({ kind: job.kind, outcome });
    this.jobSeconds.observe({ kind: job.kind, outcome }, ms / 1000);
  };

  /** The exposition text and its content type, for GET /metrics. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    // A failed read rejects the collect() that awaits it; the catch keeps it from also being unhandled here.
    this.scraping = this.readFigures();
    this.scraping.catch(() => undefined);
    try {
      return { contentType: this.registry.contentType, text: await this.registry.metrics() };
    } finally {
      this.scraping = undefined;
    }
  }
}
