// How Wave invoices carry their deal: the invoice number. Wave has no idempotency key and no reference field
// the list can be filtered by, but `invoices(invoiceNumber:)` finds one: a create whose answer was lost is
// found by it. The number is the mapping's invoice.number.template when it is set (the operator numbers
// invoices by deal: that number is the invoice's and its stamp), else wave.invoiceNumberTemplate
// ("KOMMO-{deal_id}"); "-2", "-3" for a deal invoiced again. Invoices numbered by the other template (made
// before the mapping changed) are still read as the deal's.
// Wave has no recurring invoices, so the retainer stamp is never written (the port asks for one all the same).
import { dealIdFromTemplate, fillDealTemplate } from '../../sync/deal-template.js';
import type { DealStamp, InvoiceClue } from '../../sync/ports.js';
import type { WaveMappingSection } from './mapping.js';

/** Longer than any number the template makes: not one of ours (and not read further). */
const MAX_NUMBER = 120;
const RETAINER_NAME = 'Kommo deal {deal_id}';

export class WaveStamps {
  /** The template new invoices are numbered (and found) by. */
  readonly template: string;
  /** Whether the number is the mapping's invoice.number.template (the operator's numbering, unique in the books). */
  readonly byMapping: boolean;
  private readonly templates: string[];

  /** `numberTemplate`: the mapping's invoice.number.template, when set. */
  constructor(section: Pick<WaveMappingSection, 'invoiceNumberTemplate'>, numberTemplate?: string) {
    this.template = numberTemplate ?? section.invoiceNumberTemplate;
    this.byMapping = numberTemplate !== undefined;
    this.templates = [...new Set([this.template, section.invoiceNumberTemplate])];
  }

  stamp(dealId: number, generation: number): DealStamp {
    return { key: fillDealTemplate(this.template, dealId, generation), dealId };
  }

  retainerStamp(dealId: number): DealStamp {
    return { key: fillDealTemplate(RETAINER_NAME, dealId), dealId };
  }

  /** The deal an invoice's number names, if it is one of ours (by either template). */
  read(invoice: { invoiceNumber?: string | null | undefined }): InvoiceClue['stamped'] {
    const number = invoice.invoiceNumber;
    if (!number || number.length > MAX_NUMBER) return undefined;
    for (const template of this.templates) {
      const dealId = dealIdFromTemplate(number, template);
      if (dealId !== undefined) return { dealId: String(dealId), retainer: false };
    }
    return undefined;
  }
}
