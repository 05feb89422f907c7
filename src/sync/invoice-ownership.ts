// Which invoices a Zoho webhook names are the relay's own, decided from its records alone: an invoice
// of someone else's costs no API call (a webhook listing 10,000 of them would otherwise be 10,000 reads).
// The body's hints (recurring profile, deal stamp, reference) count only when they lead to a profile or a
// deal the relay itself created; an invoice they miss is still found by the reconciler, which lists the
// paid invoices.
import type { Db } from '../store/db.js';
import type { ZohoWebhookInvoice } from '../accounting/zoho/webhook.js';
import { dealIdFromReference } from './payment-to-deal.js';

export interface OwnershipRules {
  /** The invoice custom field holding the Kommo deal ID (mapping zoho.dealIdField). */
  dealIdField?: string;
  /** Reference templates with {deal_id}: invoices' (zoho.referenceTemplate) and retainer profiles' names. */
  referenceTemplates: string[];
}

/** Zoho caps reference_number at 100 characters; a longer one is not one of ours. */
const MAX_REFERENCE = 100;

export class InvoiceOwnership {
  constructor(
    private readonly db: Db,
    private readonly rules: OwnershipRules,
  ) {}

  /** The deal of each invoice that is the relay's own; invoices missing from the map are not. A few
   *  queries per webhook, whatever the number of invoices. */
  async dealsOf(invoices: ZohoWebhookInvoice[]): Promise<Map<string, string>> {
    const deals = new Map<string, string>();
    if (invoices.length === 0) return deals;
    const ids = invoices.map((i) => i.invoiceId);
    const created = await this.db.selectFrom('deal_invoices').select(['invoice_id', 'deal_id']).where('invoice_id', 'in', ids).execute();
    const linked = await this.db.selectFrom('invoice_links').select(['invoice_id', 'deal_id']).where('invoice_id', 'in', ids).execute();
    for (const row of [...linked, ...created]) if (row.invoice_id) deals.set(row.invoice_id, row.deal_id);

    const rest = invoices.filter((i) => !deals.has(i.invoiceId));
    const recurrenceIds = [...new Set(rest.flatMap((i) => (i.recurringInvoiceId ? [i.recurringInvoiceId] : [])))];
    const profiles = recurrenceIds.length
      ? await this.db.selectFrom('deal_recurring').select(['recurrence_id', 'deal_id']).where('recurrence_id', 'in', recurrenceIds).execute()
      : [];
    const dealOfProfile = new Map(profiles.map((p) => [p.recurrence_id, p.deal_id]));

    const claimed = new Map<string, string>();
    for (const invoice of rest) {
      const fromProfile = invoice.recurringInvoiceId ? dealOfProfile.get(invoice.recurringInvoiceId) : undefined;
      if (fromProfile) deals.set(invoice.invoiceId, fromProfile);
      else {
        const claim = this.claimedDeal(invoice);
        if (claim) claimed.set(invoice.invoiceId, claim);
      }
    }
    if (claimed.size === 0) return deals;
    const claimedDeals = [...new Set(claimed.values())];
    const withInvoice = await this.db.selectFrom('deal_invoices').select('deal_id').where('deal_id', 'in', claimedDeals).execute();
    const withProfile = await this.db.selectFrom('deal_recurring').select('deal_id').where('deal_id', 'in', claimedDeals).execute();
    const known = new Set([...withInvoice, ...withProfile].map((r) => r.deal_id));
    for (const [invoiceId, dealId] of claimed) if (known.has(dealId)) deals.set(invoiceId, dealId);
    return deals;
  }

  /** The deal the body says the invoice belongs to (deal stamp, or a reference of ours), if any. */
  private claimedDeal(invoice: ZohoWebhookInvoice): string | undefined {
    const stamp = this.rules.dealIdField ? invoice.customFields[this.rules.dealIdField]?.trim() : undefined;
    if (stamp && /^\d{1,19}$/.test(stamp)) return String(BigInt(stamp));
    const reference = invoice.referenceNumber;
    if (!reference || reference.length > MAX_REFERENCE) return undefined;
    for (const template of this.rules.referenceTemplates) {
      const dealId = dealIdFromReference(reference, template);
      if (dealId !== undefined) return String(dealId);
    }
    return undefined;
  }
}
