// Zoho Books workflow webhooks: URL secret, optional HMAC signature, invoice IDs out of any body format.
import { createHash } from 'node:crypto';
import type { DealInvoices } from '../store/invoice-records.js';
import { dealLane } from '../sync/triggers.js';
import { PAYMENT_JOB, zohoWebhookDedupKey } from '../sync/payment-triggers.js';
import { parseZohoWebhook, ZohoWebhookError, zohoSignatureValid } from '../zoho/webhook.js';
import { WebhookRejection, type WebhookSource } from './webhook-route.js';

export interface ZohoWebhookOptions {
  /** ZOHO_WEBHOOK_SIGNING_SECRET: when set, every body must carry a valid X-Zoho-Webhook-Signature. */
  signingSecret?: string;
  invoices: DealInvoices;
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
        if (err instanceof ZohoWebhookError) throw new WebhookRejection(400, 'bad_zoho_body', err.message);
        throw err;
      }
      const bodyHash = createHash('sha256').update(raw).digest('hex').slice(0, 32);
      const items = await Promise.all(
        event.invoiceIds.map(async (invoiceId) => {
          // Route the job into its deal's lane when we know the deal, so it never races the deal's other jobs.
          const dealId = (await opts.invoices.findByInvoiceId(invoiceId))?.deal_id ?? null;
          return {
            source: 'zoho' as const,
            dedupKey: zohoWebhookDedupKey(invoiceId, bodyHash),
            kind: 'zoho_invoice_changed',
            dealId,
            payload: { invoiceId, lastModified: event.lastModified ?? null },
            job: { kind: PAYMENT_JOB, lane: dealId ? dealLane(dealId) : `invoice:${invoiceId}`, payload: { invoiceId } },
          };
        }),
      );
      return { items, ignored: 0 };
    },
  };
}
