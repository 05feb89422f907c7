// Zoho Books workflow webhooks: URL secret, optional HMAC signature, invoice IDs out of any body format.
// Only the relay's own invoices become jobs; the rest are settled here, without an API call.
import { createHash } from 'node:crypto';
import type { InboxItem } from '../jobs/inbox.js';
import type { InvoiceOwnership } from '../sync/invoice-ownership.js';
import { dealLane } from '../intake/triggers.js';
import { PAYMENT_JOB, zohoWebhookDedupKey } from '../sync/payment-triggers.js';
import { parseZohoWebhook, ZohoWebhookError, zohoSignatureValid } from '../zoho/webhook.js';
import { WebhookRejection, type WebhookSource } from '../intake/webhook-source.js';

export interface ZohoWebhookOptions {
  /** ZOHO_WEBHOOK_SIGNING_SECRET: when set, every body must carry a valid X-Zoho-Webhook-Signature. */
  signingSecret?: string;
  ownership: InvoiceOwnership;
}

export function zohoWebhookSource(opts: ZohoWebhookOptions): WebhookSource {
  return {
    name: 'zoho',
    verify(raw, req) {
      if (!opts.signingSecret) return;
      const header = req.headers['x-zoho-webhook-signature'];
      if (!zohoSignatureValid(raw, Array.isArray(header) ? header[0] : header, opts.signingSecret)) {
        throw new WebhookRejection(401, 'invalid_signature', 'X-Zoho-Webhook-Signature is missing or does not match the body (ZOHO_WEBHOOK_SIGNING_SECRET).');
      }
    },
    async parse(raw, req) {
      let event;
      try {
        event = parseZohoWebhook(raw, req.headers['content-type']);
      } catch (err) {
        if (err instanceof ZohoWebhookError) throw new WebhookRejection(err.status, err.status === 422 ? 'too_many_invoices' : 'bad_zoho_body', err.message);
        throw err;
      }
      const deals = await opts.ownership.dealsOf(event.invoices);
      const bodyHash = createHash('sha256').update(raw).digest('hex').slice(0, 32);
      const items: InboxItem[] = [];
      for (const invoiceId of event.invoiceIds) {
        const dealId = deals.get(invoiceId);
        if (dealId === undefined) continue; // not an invoice of ours: nothing to do, no call to make
        items.push({
          source: 'zoho',
          dedupKey: zohoWebhookDedupKey(invoiceId, bodyHash),
          kind: 'zoho_invoice_changed',
          dealId,
          payload: { invoiceId, lastModified: event.lastModified ?? null },
          // In its deal's lane, so it never races the deal's other jobs.
          job: { kind: PAYMENT_JOB, lane: dealLane(dealId), payload: { invoiceId } },
        });
      }
      return { items, ignored: event.invoiceIds.length - items.length };
    },
  };
}
