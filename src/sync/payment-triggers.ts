export const PAYMENT_JOB = 'payment_to_deal';

/** A webhook delivered again is the same bytes and so the same key; a new payment changes the body. */
export function zohoWebhookDedupKey(invoiceId: string, bodyHash: string): string {
  return `zoho:invoice:${invoiceId}:body:${bodyHash}`;
}

/** One key per invoice version the reconciler finds (see invoiceVersion). */
export function zohoVersionDedupKey(invoiceId: string, version: string): string {
  return `zoho:invoice:${invoiceId}:version:${version}`;
}
