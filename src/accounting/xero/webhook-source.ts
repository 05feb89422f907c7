// Xero's webhooks into the intake route: the signature is checked over the exact bytes received (base64
// HMAC-SHA256 with XERO_WEBHOOK_KEY, constant time), every answer is a bare status with an empty body (Xero's
// intent-to-receive check wants 200 for a rightly signed body and 401 for any other), and the events, which
// carry IDs only, become jobs for the relay's own invoices of the organisation it works in. Which invoices
// are its own is decided from its records alone (invoice-owner.ts), so strangers' invoices cost no API call.
// An invoice Xero generates from a repeating template is not known by its ID and the event does not name the
// template: while a retainer is active, an event about an unknown invoice asks for an early reconcile sweep
// (debounced: one sweep for any number of them, src/jobs/singleton.ts), which reads the invoices changed since
// its cursor, and so their RepeatingInvoiceID, and finds those — no call per unknown ID.
// Xero also tells of the relay's own writes (the create, the email): such events start no job (see
// causedByRelay); a payment made in the moments of that window is brought by the reconciler, the safety net.
import { createHash } from 'node:crypto';
import type { InboxItem } from '../../jobs/inbox.js';
import { registerSecret } from '../../log.js';
import type { InvoiceOwners } from '../../sync/invoice-owner.js';
import { invoiceChangedItem } from '../../sync/payment-triggers.js';
import { WebhookRejection, type WebhookSource } from '../../intake/webhook-source.js';
import { parseXeroDate } from './dates.js';
import { parseXeroWebhook, XeroWebhookError, xeroSignatureValid, type XeroEventRef } from './webhook.js';

export interface XeroWebhookOptions {
  /** XERO_WEBHOOK_KEY: the key Xero shows beside the webhook; without it every delivery is refused. */
  webhookKey?: string;
  owners: InvoiceOwners;
  /** The organisation the relay works in (chosen on /connect or XERO_TENANT_ID); undefined while none is. */
  tenantId: () => string | undefined;
}

/**
 * How far Xero's clock (eventDateUtc) may run ahead of the relay's (its intent record's time) for an UPDATE
 * still to count as the relay's own write. The record is written after Xero's answer, so an own write's event
 * is never later than it by the relay's clock; 30 s covers a relay host whose clock lags Xero's by that much
 * (NTP keeps them within a second). A customer paying within 30 s of the relay's last write on the invoice
 * is rare, and the reconciler notes that payment at its next sweep.
 */
export const OWN_WRITE_SKEW_MS = 30_000;
/** A write in flight for longer than this is no longer taken as the cause of an event (its job died or gave up). */
const IN_FLIGHT_MAX_MS = 10 * 60_000;

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
          // The latest event; at the same moment an UPDATE says more than a CREATE.
          if (event.eventDateUtc > seen.eventDateUtc || (event.eventDateUtc === seen.eventDateUtc && event.eventType === 'UPDATE')) latest.set(event.resourceId, event);
        } else latest.set(event.resourceId, event);
      }
      if (latest.size === 0) return { items: [], ignored };
      const owners = await opts.owners.ofAll(
        [...latest.keys()].map((invoiceId) => ({ invoiceId })),
        { clues: 'claimed' },
      );
      let bodyHash: string | undefined;
      const items: InboxItem[] = [];
      let unknown = 0;
      const now = Date.now();
      for (const [invoiceId, event] of latest) {
        const owner = owners.get(invoiceId);
        if (!owner) {
          ignored++; // not an invoice the relay knows: no call to make for it
          unknown++;
          continue;
        }
        if (owner.ownWrite && causedByRelay(event, owner.ownWrite, now)) {
          ignored++; // the relay's own create or email: nothing to read back
          continue;
        }
        // The same event delivered again (Xero retries, or batches it anew) is the same key; without a date,
        // the same bytes are.
        const version = event.eventDateUtc
          ? digest(`${event.eventType}:${event.eventDateUtc}`)
          : (bodyHash ??= digest(bytes ?? raw));
        items.push(invoiceChangedItem('xero', { invoiceId, dealId: owner.dealId, source: 'webhook', version, lastModified: event.eventDateUtc || null }));
      }
      // Perhaps generated by a retainer's template: one early sweep finds them (debounced by whoever runs it).
      const sweep = unknown > 0 && (await opts.owners.retainersActive());
      return { items, ignored, ...(sweep ? { sweepSoon: true } : {}) };
    },
  };
}

/**
 * An event the relay's own write on its invoice caused. A CREATE of an invoice the relay created is that
 * create (a payment comes as an UPDATE of its own). An UPDATE while the relay's write on the invoice is in
 * flight, or dated no later than the relay's last recorded write (within OWN_WRITE_SKEW_MS), is its own
 * email or create; a payment made in that window is noted by the reconciler's next sweep instead.
 */
export function causedByRelay(event: Pick<XeroEventRef, 'eventType' | 'eventDateUtc'>, own: { at: number; inFlight: boolean }, now: number): boolean {
  if (event.eventType === 'CREATE') return true;
  if (own.inFlight && now - own.at < IN_FLIGHT_MAX_MS) return true;
  // eventDateUtc is UTC written without a zone ("2017-06-21T01:15:39.902"): read as UTC whatever the host's zone.
  const at = parseXeroDate(event.eventDateUtc);
  return at !== undefined && at <= own.at + OWN_WRITE_SKEW_MS;
}

const digest = (value: string | Buffer): string => createHash('sha256').update(value).digest('hex').slice(0, 32);
