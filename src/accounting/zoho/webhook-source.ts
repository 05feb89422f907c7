// Zoho Books workflow webhooks: URL secret, optional HMAC signature, invoice IDs out of any body format.
// Only the relay's own invoices become jobs (invoice-owner.ts, with the body's stamps as mere claims); the
// rest are settled here, without an API call.
import { createHash } from 'node:crypto';
import type { InboxItem } from '../../jobs/inbox.js';
import type { InvoiceOwners } from '../../sync/invoice-owner.js';
import { invoiceChangedItem } from '../../sync/payment-triggers.js';
import type { InvoiceClue } from '../../sync/ports.js';
import { WebhookRejection, type WebhookSource } from '../../intake/webhook-source.js';
import type { ZohoStamps } from './stamp.js';
import { parseZohoWebhook, ZohoWebhookError, zohoSignatureValid } from './webhook.js';

export interface ZohoWebhookOptions {
  /** ZOHO_WEBHOOK_SIGNING_SECRET: when set, every body must carry a valid X-Zoho-Webhook-Signature. */
  signingSecret?: string;
  owners: InvoiceOwners;
  stamps: ZohoStamps;
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
      const clues = event.invoices.map((i): InvoiceClue => {
        const stamped = opts.stamps.read({ reference: i.referenceNumber, customFields: i.customFields });
        return { invoiceId: i.invoiceId, ...(i.recurringInvoiceId ? { recurringId: i.recurringInvoiceId } : {}), ...(stamped ? { stamped } : {}) };
      });
      const owners = await opts.owners.ofAll(clues, { clues: 'claimed' });
      const bodyHash = createHash('sha256').update(raw).digest('hex').slice(0, 32);
      const items: InboxItem[] = [];
      for (const invoiceId of event.invoiceIds) {
        const owner = owners.get(invoiceId);
        if (!owner) continue; // not an invoice of ours: nothing to do, no call to make
        items.push(invoiceChangedItem('zoho', { invoiceId, dealId: owner.dealId, source: 'webhook', version: bodyHash, lastModified: event.lastModified ?? null }));
      }
      return { items, ignored: event.invoiceIds.length - items.length };
    },
  };
}
