// Which accounting events call for the payment job, and their dedup keys: the webhook source of each
// backend and the reconciler build the same item for the same invoice version, so it is one job.
// Keys and event kinds begin with the backend's ID (e.g. "<id>:invoice:…", "<id>_invoice_changed"), as they
// did before there were several backends, so stored events still deduplicate after an upgrade.
import type { AccountingId } from '../accounting/registry.js';
import type { InboxItem } from '../jobs/inbox.js';
import { dealLane } from '../intake/triggers.js';

export const PAYMENT_JOB = 'payment_to_deal';

/** A webhook delivered again is the same bytes and so the same key; a new payment changes the body. */
export function webhookDedupKey(backendId: string, invoiceId: string, bodyHash: string): string {
  return `${backendId}:invoice:${invoiceId}:body:${bodyHash}`;
}

/** One key per invoice version the reconciler finds (the backend's `version`). */
export function versionDedupKey(backendId: string, invoiceId: string, version: string): string {
  return `${backendId}:invoice:${invoiceId}:version:${version}`;
}

export interface InvoiceChanged {
  invoiceId: string;
  dealId: string;
  source: 'webhook' | 'reconciler';
  /** Reconciler: the version found; webhook: the body's hash. */
  version: string;
  found?: string;
  lastModified?: string | null;
}

/** The event and payment job for a changed invoice of a deal, in the deal's lane (never racing its other jobs). */
export function invoiceChangedItem(backendId: AccountingId, c: InvoiceChanged): InboxItem {
  const fromWebhook = c.source === 'webhook';
  return {
    source: fromWebhook ? backendId : 'reconciler',
    dedupKey: fromWebhook ? webhookDedupKey(backendId, c.invoiceId, c.version) : versionDedupKey(backendId, c.invoiceId, c.version),
    kind: `${backendId}_invoice_changed`,
    dealId: c.dealId,
    payload: fromWebhook ? { invoiceId: c.invoiceId, lastModified: c.lastModified ?? null } : { invoiceId: c.invoiceId, version: c.version, found: c.found },
    job: { kind: PAYMENT_JOB, lane: dealLane(c.dealId), payload: { invoiceId: c.invoiceId } },
  };
}
