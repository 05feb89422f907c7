// How Wave invoices carry their deal: the invoice number (wave.invoiceNumberTemplate, "KOMMO-{deal_id}";
// "-2", "-3" for a deal invoiced again). Wave has no idempotency key and no reference field the list can be
// filtered by, but `invoices(invoiceNumber:)` finds one: a create whose answer was lost is found by it.
// Wave has no recurring invoices, so the retainer stamp is never written (the port asks for one all the same).
import { dealIdFromTemplate, fillDealTemplate } from '../../sync/deal-template.js';
import type { DealStamp, InvoiceClue } from '../../sync/ports.js';
import type { WaveMappingSection } from './mapping.js';

/** Longer than any number the template makes: not one of ours (and not read further). */
const MAX_NUMBER = 120;
const RETAINER_NAME = 'Kommo deal {deal_id}';

export class WaveStamps {
  constructor(private readonly section: Pick<WaveMappingSection, 'invoiceNumberTemplate'>) {}

  stamp(dealId: number, generation: number): DealStamp {
    return { key: fillDealTemplate(this.section.invoiceNumberTemplate, dealId, generation), dealId };
  }

  retainerStamp(dealId: number): DealStamp {
    return { key: fillDealTemplate(RETAINER_NAME, dealId), dealId };
  }

  /** The deal an invoice's number names, if it is one of ours. */
  read(invoice: { invoiceNumber?: string | null | undefined }): InvoiceClue['stamped'] {
    const number = invoice.invoiceNumber;
    if (!number || number.length > MAX_NUMBER) return undefined;
    const dealId = dealIdFromTemplate(number, this.section.invoiceNumberTemplate);
    return dealId !== undefined ? { dealId: String(dealId), retainer: false } : undefined;
  }
}
