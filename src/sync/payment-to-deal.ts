// Use case "payment to deal": Zoho says an invoice changed; re-read it and its payments, find the deal,
// note every payment exactly once (keyed by the Zoho payment ID), and when the invoice is fully paid
// mark the deal paid and move it to the paid stage of its own pipeline, once.
import type { ResolvedMapping } from '../config/resolve-mapping.js';
import { permanent } from '../errors.js';
import { withContext, type Logger } from '../log.js';
import type { DealInvoices } from '../store/invoice-records.js';
import type { InvoiceLinks } from '../store/payment-records.js';
import type { DealRecurringProfiles } from '../store/recurring-records.js';
import type { NoteOnce } from './deal-notes.js';
import { currencyDigits, formatMinor, toMinor } from './money.js';
import type { AccountingInvoiceDetail, AccountingPayment, AccountingPort, CrmPort, FieldValue } from './ports.js';

export interface PaymentToDealDeps {
  crm: CrmPort;
  accounting: AccountingPort;
  invoices: DealInvoices;
  links: InvoiceLinks;
  profiles: DealRecurringProfiles;
  notes: NoteOnce;
  mapping: Pick<ResolvedMapping, 'payment' | 'zoho' | 'retainer'>;
}

export type PaymentOutcome =
  | { outcome: 'not_ours'; invoiceId: string }
  | { outcome: 'noted'; dealId: number; notesAdded: number; paid: boolean; moved: boolean }
  | { outcome: 'voided'; dealId: number; noteAdded: boolean };

export class PaymentToDeal {
  constructor(private readonly deps: PaymentToDealDeps) {}

  async run(invoiceId: string, ctx: { log: Logger }): Promise<PaymentOutcome> {
    const { accounting, links } = this.deps;
    const invoice = await accounting.getInvoice(invoiceId);
    const { dealId, retainer } = await this.findDeal(invoice);
    if (dealId === undefined) {
      ctx.log.info({ invoice_id: invoiceId }, 'invoice is not linked to any Kommo deal; nothing to do');
      return { outcome: 'not_ours', invoiceId };
    }
    const log = withContext(ctx.log, { deal_id: dealId, invoice_id: invoiceId });

    if (invoice.status === 'void') {
      const noteAdded = await this.deps.notes.add(dealId, `void:${invoice.id}`, `Invoice ${invoice.number} was voided in Zoho Books.`);
      await links.upsert(invoice.id, String(dealId), { version: invoiceVersion(invoice) });
      return { outcome: 'voided', dealId, noteAdded };
    }

    const payments = invoice.status === 'draft' ? [] : await accounting.invoicePayments(invoice.id);
    let notesAdded = 0;
    for (const { payment, text } of paymentNotes(invoice, payments)) {
      if (await this.deps.notes.add(dealId, `payment:${payment.paymentId}`, text)) notesAdded++;
    }

    const paid = invoice.status === 'paid' || (invoice.balance <= 0 && payments.length > 0);
    let moved = false;
    // A retainer's invoices are noted; they move the deal only when the mapping asks for it.
    if (paid && (!retainer || this.deps.mapping.retainer?.moveOnPayment)) moved = await this.markPaid(dealId, invoice, payments, log);
    await links.upsert(invoice.id, String(dealId), { version: invoiceVersion(invoice) });
    log.info({ notes_added: notesAdded, paid, moved }, 'payments brought to the deal');
    return { outcome: 'noted', dealId, notesAdded, paid, moved };
  }

  /** The relay's own records first (invoices it created, retainer profiles), then the invoice's deal
   *  custom field, then the reference number. */
  private async findDeal(invoice: AccountingInvoiceDetail): Promise<{ dealId?: number; retainer: boolean }> {
    if (invoice.recurringInvoiceId) {
      const profile = await this.deps.profiles.findByRecurrenceId(invoice.recurringInvoiceId);
      if (profile) return { dealId: Number(profile.deal_id), retainer: true };
    }
    const known = (await this.deps.links.get(invoice.id))?.deal_id ?? (await this.deps.invoices.findByInvoiceId(invoice.id))?.deal_id;
    if (known) return { dealId: Number(known), retainer: false };
    const field = this.deps.mapping.zoho.dealIdField;
    const fromField = field ? invoice.customFields.find((f) => f.apiName === field)?.value : undefined;
    if (fromField && /^\d+$/.test(fromField.trim())) return { dealId: Number(fromField.trim()), retainer: invoice.recurringInvoiceId !== undefined };
    const fromReference = dealIdFromReference(invoice.reference, this.deps.mapping.zoho.referenceTemplate);
    return { ...(fromReference !== undefined ? { dealId: fromReference } : {}), retainer: invoice.recurringInvoiceId !== undefined };
  }

  /** Once per invoice: the paid field and the move to the paid stage of the deal's own pipeline. */
  private async markPaid(dealId: number, invoice: AccountingInvoiceDetail, payments: AccountingPayment[], log: Logger): Promise<boolean> {
    const link = await this.deps.links.get(invoice.id);
    if (link?.paid_at) return false;
    const { stages, paidField } = this.deps.mapping.payment;
    const lastDate = payments.map((p) => p.date).sort().at(-1) ?? new Date().toISOString().slice(0, 10);
    const values: Array<{ fieldId: number; value: FieldValue }> = paidField ? [{ fieldId: paidField.id, value: paidFieldValue(paidField.type, lastDate) }] : [];
    if (stages.length) {
      const deal = await this.deps.crm.getDeal(dealId);
      if (!deal) throw permanent('deal_not_found', `Payment not recorded on the deal: deal ${dealId} no longer exists in Kommo.`);
      const stage = stages.find((s) => s.pipelineId === deal.pipelineId);
      if (!stage) {
        throw permanent('no_paid_stage_in_pipeline', `Deal ${dealId} is paid, but its pipeline (${deal.pipelineId}) has no stage named in the mapping's payment.stage (${stages.map((s) => s.label).join(', ')}). Add the stage to that pipeline or to the mapping.`);
      }
      await this.deps.crm.moveDeal(dealId, stage, values);
      log.info({ stage: stage.label }, 'deal marked paid and moved');
    } else if (values.length) {
      await this.deps.crm.writeDealFields(dealId, values);
    }
    await this.deps.links.upsert(invoice.id, String(dealId), { paidAt: Date.now() });
    return stages.length > 0;
  }
}

/** One note per payment, in date order, each with the balance that was left after it. */
export function paymentNotes(invoice: Pick<AccountingInvoiceDetail, 'number' | 'total' | 'currencyCode'>, payments: AccountingPayment[]) {
  const digits = currencyDigits(invoice.currencyCode);
  const total = toMinor(invoice.total, digits);
  const sorted = [...payments].sort((a, b) => a.date.localeCompare(b.date) || a.paymentId.localeCompare(b.paymentId));
  let paidSoFar = 0n;
  return sorted.map((payment) => {
    const amount = toMinor(payment.amount, digits);
    paidSoFar += amount;
    const due = total - paidSoFar;
    const money = (m: bigint) => formatMinor(m, digits, invoice.currencyCode);
    const text =
      due > 0n
        ? `Partial payment received: ${money(amount)} on ${payment.date} for invoice ${invoice.number}; ${money(due)} still due. (Zoho payment ${payment.paymentId})`
        : `Payment received: ${money(amount)} on ${payment.date} for invoice ${invoice.number}. (Zoho payment ${payment.paymentId})`;
    return { payment, text };
  });
}

export function dealIdFromReference(reference: string, template: string): number | undefined {
  const [before, after] = template.split('{deal_id}') as [string, string];
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${escape(before)}(\\d+)${escape(after)}(?:-\\d+)?$`).exec(reference.trim());
  return m ? Number(m[1]) : undefined;
}

function paidFieldValue(type: string, date: string): FieldValue {
  if (type === 'checkbox') return true;
  if (type === 'date' || type === 'date_time') return Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000);
  return `Paid ${date}`;
}

/** Two payments within one second share last_modified_time; the balance tells them apart. */
export function invoiceVersion(i: { lastModified: string; balance: number }): string {
  return `${i.lastModified}|${i.balance}`;
}
