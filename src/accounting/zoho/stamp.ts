// How Zoho Books invoices carry their deal: the reference number (zoho.referenceTemplate, "KOMMO-{deal_id}";
// a retainer's invoices inherit their profile's name, retainer.nameTemplate) and, when the mapping names one,
// an invoice custom field holding the deal ID (zoho.dealIdField, e.g. cf_kommo_deal_id).
import { dealIdFromTemplate, fillDealTemplate } from '../../sync/deal-template.js';
import type { DealStamp, InvoiceClue } from '../../sync/ports.js';
import type { ZohoMappingSection } from './mapping.js';

/** Zoho caps reference_number at 100 characters; a longer one is not one of ours. */
const MAX_REFERENCE = 100;

export class ZohoStamps {
  constructor(
    private readonly section: ZohoMappingSection,
    private readonly retainerNameTemplate: string | undefined,
  ) {}

  stamp(dealId: number, generation: number): DealStamp {
    return { key: fillDealTemplate(this.section.referenceTemplate, dealId, generation), dealId };
  }

  retainerStamp(dealId: number): DealStamp {
    return { key: fillDealTemplate(this.retainerNameTemplate ?? 'Kommo deal {deal_id}', dealId), dealId };
  }

  /** The custom fields a stamp puts on the invoice (the deal ID, when the mapping names a field). */
  customFields(stamp: DealStamp): Array<{ api_name: string; value: string }> | undefined {
    return this.section.dealIdField ? [{ api_name: this.section.dealIdField, value: String(stamp.dealId) }] : undefined;
  }

  /** The deal an invoice names: its deal field first, then its reference (the invoices', then a retainer's). */
  read(invoice: { reference?: string | undefined; customFields: Record<string, string> }): InvoiceClue['stamped'] {
    const field = this.section.dealIdField ? invoice.customFields[this.section.dealIdField]?.trim() : undefined;
    if (field && /^\d{1,19}$/.test(field)) return { dealId: String(BigInt(field)), retainer: false };
    const reference = invoice.reference;
    if (!reference || reference.length > MAX_REFERENCE) return undefined;
    const fromInvoice = dealIdFromTemplate(reference, this.section.referenceTemplate);
    if (fromInvoice !== undefined) return { dealId: String(fromInvoice), retainer: false };
    const fromRetainer = this.retainerNameTemplate ? dealIdFromTemplate(reference, this.retainerNameTemplate) : undefined;
    return fromRetainer !== undefined ? { dealId: String(fromRetainer), retainer: true } : undefined;
  }
}
