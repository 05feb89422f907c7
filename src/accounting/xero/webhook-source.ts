// Xero's webhooks into the intake route: the signature is checked over the exact bytes received (base64
// HMAC-SHA256 with XERO_WEBHOOK_KEY, constant time), every answer is a bare status with an empty body (Xero's
// intent-to-receive check wants 200 for a rightly signed body and 401 for any other), and the events, which
// carry IDs only, become jobs for the relay's own invoices of the organisation it works in. Which invoices
// are its own is decided from its records alone (invoice-owner.ts), so strangers' invoices cost no API call.
// An invoice Xero generates from a repeating template is not known by its ID and the event does not name the
// template: the reconciler, which reads the invoice and so its RepeatingInvoiceID, finds those.
import { createHash } from 'node:crypto';
import type { InboxItem } from '../../jobs/inbox.js';
import { registerSecret } from '../../log.js';
import type { InvoiceOwners } from '../../sync/invoice-owner.js';
import { invoiceChangedItem } from '../../sync/payment-triggers.js';
import { WebhookRejection, type WebhookSource } from '../../intake/webhook-source.js';
import { parseXeroWebhook, XeroWebhookError, xeroSignatureValid, type XeroEventRef } from './webhook.js';

export interface XeroWebhookOptions {
  /** XERO_WEBHOOK_KEY: the key Xero shows beside the webhook; without it every delivery is refused. */
  webhookKey?: string;
  owners: InvoiceOwners;
  /** The organisation the relay works in (chosen on /connect or XERO_TENANT_ID); undefined while none is. */
  tenantId: () => string | undefined;
}

export const XERO_WEBHOOK_KEY_MISSING =
  'A Xero webhook was refused (401): XERO_WEBHOOK_KEY is not set, so its signature cannot be checked. Copy the webhook key from developer.xero.com > My Apps > your app > Webhooks into XERO_WEBHOOK_KEY and restart the relay (see `relay webhooks`).';

export function xeroWebhookSource(opts: XeroWebhookOptions): WebhookSource {
  const key = opts.webhookKey;
  if (key) registerSecret(key);
  return {
    name: 'xero',
    body: 'bytes',
    answer: 'status',
    verify(raw, req, bytes) {
      if (!key) throw new WebhookRejection(401, 'xero_webhook_key_not_set', XERO_WEBHOOK_KEY_MISSING);
      if (!xeroSignatureValid(bytes ?? raw, req.headers['x-xero-signature'], key)) {
        // Xero's intent-to-receive check sends such a body on purpose and expects exactly this 401.
        throw new WebhookRejection(401, 'invalid_signature', 'x-xero-signature is missing or is not the signature of this body with XERO_WEBHOOK_KEY: refused (401).');
      }
    },
    async parse(raw, _req, bytes) {
      let batch;
      try {
        batch = parseXeroWebhook(bytes ?? raw);
      } catch (err) {
        if (err instanceof XeroWebhookError) throw new WebhookRejection(400, 'bad_xero_body', `Not a Xero webhook body: ${err.message}`);
        throw err;
      }
      const tenant = opts.tenantId()?.toLowerCase();
      // Events left out by the parser (fields missing or not in the contract) count as ignored too.
      let ignored = batch.ignored;
      // One entry per invoice of our organisation: its latest event in this body.
      const latest = new Map<string, XeroEventRef>();
      for (const event of batch.events) {
        if (event.eventCategory !== 'INVOICE' || tenant === undefined || event.tenantId !== tenant) {
          ignored++;
          continue;
        }
        const seen = latest.get(event.resourceId);
        if (seen) {
          ignored++;
          if (event.eventDateUtc > seen.eventDateUtc) latest.set(event.resourceId, event);
        } else latest.set(event.resourceId, event);
      }
      if (latest.size === 0) return { items: [], ignored };
      const owners = await opts.owners.ofAll(
        [...latest.keys()].map((invoiceId) => ({ invoiceId })),
        { clues: 'claimed' },
      );
      let bodyHash: string | undefined;
      const items: InboxItem[] = [];
      for (const [invoiceId, event] of latest) {
        const owner = owners.get(invoiceId);
        if (!owner) {
          ignored++; // not an invoice of ours: nothing to do, no call to make
          continue;
        }
        // The same event delivered again (Xero retries, or batches it anew) is the same key; without a date,
        // the same bytes are.
        const version = event.eventDateUtc
          ? digest(`${event.eventType}:${event.eventDateUtc}`)
          : (bodyHash ??= digest(bytes ?? raw));
        items.push(invoiceChangedItem('xero', { invoiceId, dealId: owner.dealId, source: 'webhook', version, lastModified: event.eventDateUtc || null }));
      }
      return { items, ignored };
    },
  };
}

const digest = (value: string | Buffer): string => createHash('sha256').update(value).digest('hex').slice(0, 32);
