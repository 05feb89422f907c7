// Xero's webhooks, sent by the fake: INVOICE CREATE/UPDATE events (ids only; the receiver re-reads the
// invoice), batched per tick, signed with `x-xero-signature` = base64(HMAC-SHA256(raw body, webhook key)).
// Only a 200 within 5 s counts as delivered; failures are retried with growing delays. The intent-to-
// receive check posts a correctly signed empty batch (expects 200) and a wrongly signed one (expects 401)
// (developer.xero.com/documentation/webhooks/configuring-your-server; shared/reference/xero.md "Webhooks").
import { createHmac, randomBytes } from 'node:crypto';
import { sleep } from '../common.js';

export interface WebhookConfig {
  url: string;
  /** The webhook key shown in Xero's developer portal. */
  key: string;
  /** Retries after a failed attempt (default 3), the first after retryDelayMs (default 1000), then doubling. */
  retries?: number;
  retryDelayMs?: number;
  /** Xero waits 5 s for the answer. */
  timeoutMs?: number;
}

export interface WebhookEvent {
  resourceUrl: string;
  resourceId: string;
  eventDateUtc: string;
  eventType: 'CREATE' | 'UPDATE';
  eventCategory: 'INVOICE';
  tenantId: string;
  tenantType: 'ORGANISATION';
}

export interface WebhookDelivery {
  at: number;
  url: string;
  kind: 'events' | 'intent-signed' | 'intent-bad-signature';
  body: string;
  signature: string;
  events: WebhookEvent[];
  dropped: boolean;
  /** 1 for the first try, 2 for the first retry…; 0 for a dropped one. */
  attempt: number;
  status?: number;
  error?: string;
  durationMs?: number;
}

export interface IntentCheck {
  at: number;
  url: string;
  /** What the receiver answered to the correctly signed request (must be 200). */
  signedStatus?: number;
  /** What it answered to the wrongly signed one (must be 401). */
  badSignatureStatus?: number;
  passed: boolean;
}

export const sign = (body: string, key: string): string => createHmac('sha256', key).update(body).digest('base64');
const entropy = () => randomBytes(15).toString('base64').replace(/[^A-Z]/gi, 'X').toUpperCase().slice(0, 20);

export class XeroWebhooks {
  readonly deliveries: WebhookDelivery[] = [];
  readonly intentChecks: IntentCheck[] = [];
  private config: WebhookConfig | undefined;
  private queue: WebhookEvent[] = [];
  private scheduled = false;
  private sequence = 0;
  private toDrop = 0;
  private pending = new Set<Promise<void>>();
  private closed = false;

  /** `check` validates a body against the contract's webhook schema before it is sent. */
  constructor(private readonly check: (body: unknown) => Promise<void>) {}

  set(config: WebhookConfig | undefined): void {
    this.config = config;
  }

  get configured(): WebhookConfig | undefined {
    return this.config;
  }

  dropNext(n: number): void {
    this.toDrop += n;
  }

  emit(event: WebhookEvent): void {
    if (!this.config || this.closed) return;
    this.queue.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    // Events of one tick (e.g. a PUT of several invoices) go out in one request, as Xero batches them.
    setImmediate(() => {
      this.scheduled = false;
      const events = this.queue.splice(0);
      if (events.length > 0) this.track(this.sendEvents(events));
    });
  }

  /** Resolves when every delivery started so far (with its retries) has finished. */
  async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  close(): void {
    this.closed = true;
  }

  async intentToReceive(): Promise<IntentCheck> {
    const config = this.config;
    if (!config) throw new Error('no webhook configured: call setWebhook first');
    const body = (e: string) => JSON.stringify({ events: [], firstEventSequence: 0, lastEventSequence: 0, entropy: e });
    const signed = body(entropy());
    const unsigned = body(entropy());
    await this.check(JSON.parse(signed));
    const good = await this.post(config, 'intent-signed', signed, sign(signed, config.key), []);
    const bad = await this.post(config, 'intent-bad-signature', unsigned, sign(unsigned, `${config.key}-wrong`), []);
    const check: IntentCheck = {
      at: Date.now(),
      url: config.url,
      ...(good.status !== undefined ? { signedStatus: good.status } : {}),
      ...(bad.status !== undefined ? { badSignatureStatus: bad.status } : {}),
      passed: good.status === 200 && bad.status === 401,
    };
    this.intentChecks.push(check);
    return check;
  }

  private track(p: Promise<void>): void {
    const tracked = p.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async sendEvents(events: WebhookEvent[]): Promise<void> {
    const config = this.config;
    if (!config) return;
    const first = this.sequence + 1;
    this.sequence += events.length;
    const payload = { events, firstEventSequence: first, lastEventSequence: this.sequence, entropy: entropy() };
    await this.check(payload);
    const body = JSON.stringify(payload);
    const signature = sign(body, config.key);
    if (this.toDrop > 0) {
      this.toDrop--;
      this.deliveries.push({ at: Date.now(), url: config.url, kind: 'events', body, signature, events, dropped: true, attempt: 0 });
      return;
    }
    const retries = config.retries ?? 3;
    let delay = config.retryDelayMs ?? 1000;
    for (let attempt = 1; !this.closed; attempt++) {
      const rec = await this.post(config, 'events', body, signature, events, attempt);
      if (rec.status === 200 || attempt > retries) return;
      await sleep(delay);
      delay *= 2;
    }
  }

  private async post(config: WebhookConfig, kind: WebhookDelivery['kind'], body: string, signature: string, events: WebhookEvent[], attempt = 1): Promise<WebhookDelivery> {
    const rec: WebhookDelivery = { at: Date.now(), url: config.url, kind, body, signature, events, dropped: false, attempt };
    this.deliveries.push(rec);
    const started = Date.now();
    try {
      const res = await fetch(config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-xero-signature': signature },
        body,
        signal: AbortSignal.timeout(config.timeoutMs ?? 5000),
      });
      rec.status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      rec.error = err instanceof Error ? err.message : String(err);
    }
    rec.durationMs = Date.now() - started;
    return rec;
  }
}
