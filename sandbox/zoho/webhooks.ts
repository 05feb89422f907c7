// Workflow-rule webhooks (Zoho -> relay) fired when a payment is recorded: the default record JSON, form
// fields, or a user-defined raw body, optionally signed (X-Zoho-Webhook-Signature, hex HMAC-SHA256 of
// the raw body, as Zoho Billing does). Deliveries can be dropped on purpose, because real webhooks can
// go missing and the relay must reconcile.
import { createHmac } from 'node:crypto';
import { sleep } from '../common.js';

export interface WorkflowWebhook {
  url: string;
  format: 'json' | 'form' | 'raw';
  headers?: Record<string, string>;
  signingSecret?: string;
  /** Retries after a failed delivery (non-2xx or network error), per the workflow's retry policy. */
  retries?: number;
  retryDelayMs?: number;
}

export interface WebhookDelivery {
  at: number;
  url: string;
  event: string;
  invoiceId: string;
  body: string;
  headers: Record<string, string>;
  dropped: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

export class WorkflowWebhooks {
  readonly deliveries: WebhookDelivery[] = [];
  private config: WorkflowWebhook | undefined;
  private toDrop = 0;
  private pending = new Set<Promise<void>>();

  set(config: WorkflowWebhook | undefined): void {
    this.config = config;
  }

  dropNext(n: number): void {
    this.toDrop += n;
  }

  /** Resolves when every delivery started so far (with its retries) has finished. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  fire(event: string, invoice: Record<string, unknown> & { invoice_id: string }): void {
    const config = this.config;
    if (!config) return;
    const { body, contentType } = render(config.format, event, invoice);
    const headers: Record<string, string> = { 'content-type': contentType, ...config.headers };
    if (config.signingSecret)
      headers['x-zoho-webhook-signature'] = createHmac('sha256', config.signingSecret).update(body).digest('hex');
    const delivery: WebhookDelivery = {
      at: Date.now(),
      url: config.url,
      event,
      invoiceId: invoice.invoice_id,
      body,
      headers,
      dropped: this.toDrop > 0,
      attempts: 0,
    };
    this.deliveries.push(delivery);
    if (delivery.dropped) {
      this.toDrop -= 1;
      return;
    }
    const p = this.deliver(delivery, config.retries ?? 0, config.retryDelayMs ?? 100).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async deliver(d: WebhookDelivery, retries: number, delayMs: number): Promise<void> {
    for (;;) {
      d.attempts += 1;
      try {
        const res = await fetch(d.url, { method: 'POST', headers: d.headers, body: d.body, signal: AbortSignal.timeout(10_000) });
        d.status = res.status;
        delete d.error;
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
      } catch (err) {
        d.error = err instanceof Error ? err.message : String(err);
      }
      if (d.attempts > retries) return;
      await sleep(delayMs);
    }
  }
}

function render(format: WorkflowWebhook['format'], event: string, invoice: Record<string, unknown> & { invoice_id: string }) {
  switch (format) {
    case 'json':
      return { body: JSON.stringify({ invoice }), contentType: 'application/json' };
    case 'form': {
      const form = new URLSearchParams();
      for (const key of ['invoice_id', 'invoice_number', 'status', 'balance']) form.set(key, String(invoice[key] ?? ''));
      return { body: form.toString(), contentType: 'application/x-www-form-urlencoded' };
    }
    case 'raw':
      return { body: JSON.stringify({ invoice_id: invoice.invoice_id, event }), contentType: 'application/json' };
  }
}
