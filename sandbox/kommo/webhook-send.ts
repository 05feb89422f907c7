// Delivery of webhooks to subscribers, Kommo-style: ~2 s to answer, only 2xx counts, failed requests are
// retried, a destination is disabled after too many failures. Everything is recorded in `deliveries`; drops
// (simulated "the hook never arrived") go to `dropped` instead, since no attempt was made.
import http from 'node:http';
import https from 'node:https';
import type { ChangeBatch, KommoStore } from './state.js';
import type { WebhookSub } from './types.js';
import { ACTION_SETTING, accountPairs, actionPairs, actionsIn, encodeForm } from './webhook-encode.js';

export interface Delivery {
  destination: string;
  body: string;
  /** Subscription settings this request carries, e.g. ['status_lead']. */
  events: string[];
  attempt: number;
  at: number;
  status?: number;
  error?: string;
  durationMs?: number;
}

export interface DroppedWebhook {
  destination: string;
  body: string;
  events: string[];
  at: number;
  reason: 'dropNextWebhooks' | 'dropWebhookRate';
}

export interface SenderOptions {
  timeoutMs: number;
  /** Retries after the first attempt (so `retries + 1` attempts at most). */
  retries: number;
  retryDelayMs: number;
  /** Wait before the first attempt; 0 lets the hook race the API response that caused it (a real hazard). */
  delayMs: number;
  dropRate: number;
  /** Failed attempts within 2 hours after which the subscription is disabled; 0 = never. */
  disableAfterFailures: number;
}

const FAILURE_WINDOW_MS = 2 * 3600_000;

export class WebhookSender {
  readonly deliveries: Delivery[] = [];
  readonly dropped: DroppedWebhook[] = [];
  private dropQueue: Array<string | undefined> = [];
  private pending = new Set<Promise<void>>();
  private timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private inflight = new Set<AbortController>();
  private closed = false;

  constructor(public opts: SenderOptions) {}

  /** The next `n` requests (only those carrying `event`, when given) are silently not sent. */
  dropNext(n: number, event?: string): void {
    for (let i = 0; i < n; i++) this.dropQueue.push(event);
  }

  send(sub: WebhookSub, body: string, events: string[]): void {
    if (this.closed) return;
    const at = Date.now();
    const i = this.dropQueue.findIndex((e) => e === undefined || events.includes(e));
    if (i >= 0) {
      this.dropQueue.splice(i, 1);
      this.dropped.push({ destination: sub.destination, body, events, at, reason: 'dropNextWebhooks' });
      return;
    }
    if (this.opts.dropRate > 0 && Math.random() < this.opts.dropRate) {
      this.dropped.push({ destination: sub.destination, body, events, at, reason: 'dropWebhookRate' });
      return;
    }
    const p: Promise<void> = this.deliver(sub, body, events).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves once no delivery or retry is pending (including ones started while waiting). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** Stops retries and aborts requests in flight; later sends are ignored. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.timers.clear();
    for (const ac of this.inflight) ac.abort();
  }

  private async deliver(sub: WebhookSub, body: string, events: string[]): Promise<void> {
    if (this.opts.delayMs > 0) await this.delay(this.opts.delayMs);
    for (let attempt = 1; !this.closed; attempt++) {
      const rec: Delivery = { destination: sub.destination, body, events, attempt, at: Date.now() };
      this.deliveries.push(rec);
      if (await this.post(sub.destination, body, rec)) return;
      this.noteFailure(sub);
      if (attempt > this.opts.retries || sub.disabled || this.closed) return;
      await this.delay(this.opts.retryDelayMs);
    }
  }

  private noteFailure(sub: WebhookSub): void {
    const now = Date.now();
    sub.failures = sub.failures.filter((t) => now - t < FAILURE_WINDOW_MS);
    sub.failures.push(now);
    if (this.opts.disableAfterFailures > 0 && sub.failures.length > this.opts.disableAfterFailures) sub.disabled = true;
  }

  private post(destination: string, body: string, rec: Delivery): Promise<boolean> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(destination);
      } catch {
        rec.error = 'invalid destination URL';
        return resolve(false);
      }
      const started = Date.now();
      const ac = new AbortController();
      this.inflight.add(ac);
      let settled = false;
      const done = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inflight.delete(ac);
        rec.durationMs = Date.now() - started;
        resolve(ok);
      };
      // Kommo gives up after about 2 s: a late 200 still counts as a failure.
      const timer = setTimeout(() => {
        rec.error = `timeout after ${this.opts.timeoutMs} ms`;
        ac.abort();
        done(false);
      }, this.opts.timeoutMs);
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request(
        url,
        {
          method: 'POST',
          agent: false,
          signal: ac.signal,
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': Buffer.byteLength(body),
            'User-Agent': 'amoCRM-Webhooks/3.0',
            Accept: '*/*',
          },
        },
        (res) => {
          rec.status = res.statusCode;
          res.resume();
          done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
        },
      );
      req.on('error', (e) => {
        if (!rec.error) rec.error = e.message;
        done(false);
      });
      req.end(body);
    });
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const t = {
        timer: setTimeout(() => {
          this.timers.delete(t);
          resolve();
        }, ms),
        resolve,
      };
      this.timers.add(t);
    });
  }
}

/**
 * Sends a change to every enabled subscriber whose settings include its actions: one request per action by
 * default (so a test can lose the status hook while the update hook arrives), or all actions in one request.
 */
export function dispatchBatch(store: KommoStore, sender: WebhookSender, batch: ChangeBatch, combineActions: boolean): void {
  const actions = actionsIn(batch);
  for (const sub of store.webhooks.values()) {
    if (sub.disabled) continue;
    const mine = actions.filter((a) => sub.settings.includes(ACTION_SETTING[a]));
    if (!mine.length) continue;
    for (const group of combineActions ? [mine] : mine.map((a) => [a])) {
      const body = encodeForm([...group.flatMap((a) => actionPairs(store, batch, a)), ...accountPairs(store)]);
      sender.send(sub, body, group.map((a) => ACTION_SETTING[a]));
    }
  }
}
