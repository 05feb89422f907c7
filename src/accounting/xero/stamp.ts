// How Xero invoices carry their deal: the Reference (xero.referenceTemplate, "KOMMO-{deal_id}"). A retainer's
// repeating invoice carries the retainer's name (retainer.nameTemplate) as its Reference, and Xero copies it
// onto every invoice the template generates, so both are read back from the Reference.
import { dealIdFromTemplate, fillDealTemplate } from '../../sync/deal-template.js';
import type { DealStamp, InvoiceClue } from '../../sync/ports.js';
import type { XeroMappingSection } from './mapping.js';

/** Longer than any reference the templates make: not one of ours (and not read further). */
const MAX_REFERENCE = 255;
export const DEFAULT_RETAINER_NAME = 'Kommo deal {deal_id}';

export class XeroStamps {
  constructor(
    private readonly section: Pick<XeroMappingSection, 'referenceTemplate'>,
    private readonly retainerNameTemplate: string | undefined,
  ) {}

  stamp(dealId: number, generation: number): DealStamp {
    return { key: fillDealTemplate(this.section.referenceTemplate, dealId, generation), dealId };
  }

  retainerStamp(dealId: number): DealStamp {
    return { key: fillDealTemplate(this.retainerNameTemplate ?? DEFAULT_RETAINER_NAME, dealId), dealId };
  }

  /** The deal an invoice's Reference names: the invoices' template first, then a retainer's. */
  read(invoice: { reference?: string | undefined }): InvoiceClue['stamped'] {
    const reference = invoice.reference;
    if (!reference || reference.length > MAX_REFERENCE) return undefined;
    const fromInvoice = dealIdFromTemplate(reference, this.section.referenceTemplate);
    if (fromInvoice !== undefined) return { dealId: String(fromInvoice), retainer: false };
    const fromRetainer = this.retainerNameTemplate ? dealIdFromTemplate(reference, this.retainerNameTemplate) : undefined;
    return fromRetainer !== undefined ? { dealId: String(fromRetainer), retainer: true } : undefined;
  }
}
