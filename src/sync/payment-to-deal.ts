// Use case "payment to deal": the accounting system says an invoice changed; re-read it and its payments,
// find the deal (invoice-owner.ts), note every payment exactly once (keyed by the backend's payment ID), and when the invoice is fully paid
// mark the deal paid and move it to the paid stage of its own pipeline, once. Each note, the paid field and
// the stage move are separate recorded steps (deal-writer.ts): Kommo refusing one never loses the others.
import type { ResolvedMapping } from '../config/resolve-mapping.js';
import { permanent } from '../errors.js';
import { withContext, type Logger } from '../log.js';
import type { InvoiceLinks } from '../store/payment-records.js';
import type { NoteOnce } from './deal-notes.js';
import { WriteProblems, type DealWriter, type DealWriteStep } from './deal-writer.js';
import { currencyDigits, formatMinor, toMinor } from './money.js';
import { describePaidFieldWrite, paidFieldValue, type PaidState } from './paid-field-value.js';
import type { InvoiceOwners } from './invoice-owner.js';
import type { AccountingInvoiceDetail, AccountingNames, AccountingPayment, AccountingPort, CrmPort } from './ports.js';

export interface PaymentToDealDeps {
  crm: CrmPort;
  accounting: AccountingPort;
  links: InvoiceLinks;
  owners: InvoiceOwners;
  notes: NoteOnce;
  writer: DealWriter;
  mapping: Pick<ResolvedMapping, 'payment' | 'retainer'>;
}

export type PaymentOutcome =
  | { outcome: 'not_ours'; invoiceId: string }
  | { outcome: 'noted'; dealId: number; notesAdded: number; paid: boolean; moved: boolean }
  | { outcome: 'voided'; dealId: number; noteAdded: boolean };

export class PaymentToDeal {
  constructor(private readonly deps: PaymentToDealDeps) {}

  /** `retried`: an operator asked for this job again (a write Kommo refused is then tried again too). */
  async run(invoiceId: string, ctx: { log: Logger; retried?: boolean }): Promise<PaymentOutcome> {
    const { accounting, links } = this.deps;
    const invoice = await accounting.getInvoice(invoiceId);
    const owner = await this.deps.owners.of(invoice, { clues: 'fresh' });
    if (!owner) {
      ctx.log.info({ invoice_id: invoiceId }, 'invoice is not linked to any Kommo deal; nothing to do');
      return { outcome: 'not_ours', invoiceId };
    }
    const dealId = Number(owner.dealId);
    const retainer = owner.retainer;
    const log = withContext(ctx.log, { deal_id: dealId, invoice_id: invoiceId });
    const problems = new WriteProblems();

    if (invoice.status === 'void') {
      const noteAdded = await this.note(dealId, `void:${invoice.id}`, `Invoice ${invoice.number} was voided in ${accounting.names.system}.`, problems);
      await links.upsert(invoice.id, String(dealId), { version: invoice.version });
      problems.throwIfAny(dealId, `Invoice ${invoice.number} is void.`);
      return { outcome: 'voided', dealId, noteAdded };
    }

    // The payments come with the invoice where the backend's read carries them (one call instead of two).
    const payments = invoice.status === 'draft' ? [] : (invoice.payments ?? (await accounting.invoicePayments(invoice.id)));
    let notesAdded = 0;
    for (const { payment, text } of paymentNotes(invoice, payments, accounting.names)) {
      if (await this.note(dealId, `payment:${payment.paymentId}`, text, problems)) notesAdded++;
    }

    const state = paidState(invoice, payments);
    let moved = false;
    // A retainer's invoices are noted; they mark and move the deal only when the mapping asks for it.
    // A write Kommo refused is tried again only when something changed: a payment new to the deal, or an operator's retry.
    const retryRefused = notesAdded > 0 || ctx.retried === true;
    if (state && (!retainer || this.deps.mapping.retainer?.moveOnPayment)) moved = await this.markPaid(dealId, invoice, state, problems, log, retryRefused);
    await links.upsert(invoice.id, String(dealId), { version: invoice.version });
    problems.throwIfAny(dealId, `Invoice ${invoice.number} (${state ? (state.state === 'full' ? 'paid' : 'partially paid') : invoice.status}): every other write to the deal was made.`);
    const paid = state?.state === 'full';
    log.info({ notes_added: notesAdded, paid, moved }, 'payments brought to the deal');
    return { outcome: 'noted', dealId, notesAdded, paid, moved };
  }

  /** One note; a failure is collected so the other writes still happen. */
  private async note(dealId: number, key: string, text: string, problems: WriteProblems): Promise<boolean> {
    try {
      return await this.deps.notes.add(dealId, key, text);
    } catch (err) {
      problems.addError(`note "${text.length > 60 ? `${text.slice(0, 57)}...` : text}"`, err);
      return false;
    }
  }

  /**
   * The paid field (after a full payment, and after a partial one for a numeric field or a select's
   * partial option) and the move to the paid stage of the deal's own pipeline: each a step done once per
   * invoice. True when this run moved the deal.
   */
  private async markPaid(dealId: number, invoice: AccountingInvoiceDetail, paid: PaidState, problems: WriteProblems, log: Logger, retryRefused: boolean): Promise<boolean> {
    const { stages, paidField } = this.deps.mapping.payment;
    const link = await this.deps.links.get(invoice.id);
    const full = paid.state === 'full';
    const value = paidField ? paidFieldValue(paidField, paid) : undefined;
    const fieldKey = `paid_field:${invoice.id}:${full ? 'full' : `partial:${paid.amountPaid}`}`;
    const stageKey = `paid_stage:${invoice.id}`;
    const recorded = await this.deps.writer.states([fieldKey, stageKey]);
    // Done steps are skipped; once the invoice counts as paid (paid_at) only a refused or pending step is
    // tried again — an invoice marked paid before steps were recorded is not marked a second time.
    const wanted = (key: string) => recorded.get(key) !== 'done' && (link?.paid_at == null || recorded.has(key));
    const steps: DealWriteStep[] = [];
    if (paidField && value !== undefined && wanted(fieldKey)) {
      steps.push({ key: fieldKey, kind: 'paid_field', label: describePaidFieldWrite(paidField, value), value: { fieldId: paidField.id, value } });
    }
    if (full && stages.length && wanted(stageKey)) steps.push(await this.stageStep(dealId, stageKey));
    const report = await this.deps.writer.apply(dealId, steps, { retryRefused });
    problems.add(report);
    if (full && !report.retry && link?.paid_at == null) await this.deps.links.upsert(invoice.id, String(dealId), { paidAt: Date.now() });
    const moved = report.done.includes(stageKey);
    if (moved) log.info({ steps: report.done }, 'deal marked paid and moved');
    return moved;
  }

  private async stageStep(dealId: number, key: string): Promise<DealWriteStep> {
    const { stages } = this.deps.mapping.payment;
    const deal = await this.deps.crm.getDeal(dealId);
    if (!deal) throw permanent('deal_not_found', `Payment not recorded on the deal: deal ${dealId} no longer exists in Kommo.`);
    const stage = stages.find((s) => s.pipelineId === deal.pipelineId);
    if (stage) return { key, kind: 'paid_stage', label: `move to ${stage.label}`, stage };
    return {
      key,
      kind: 'paid_stage',
      label: 'move to the paid stage',
      refusal: `its pipeline (${deal.pipelineId}) has no stage named in the mapping's payment.stage (${stages.map((s) => s.label).join(', ')}). Add the stage to that pipeline or to the mapping.`,
    };
  }
}

/** Full, partial or (undefined) no payment yet; the amount paid from the invoice's total and balance. */
export function paidState(invoice: Pick<AccountingInvoiceDetail, 'status' | 'total' | 'balance' | 'currencyCode'>, payments: AccountingPayment[]): PaidState | undefined {
  const full = invoice.status === 'paid' || (invoice.balance <= 0 && payments.length > 0);
  if (!full && (payments.length === 0 || invoice.balance <= 0)) return undefined;
  const digits = currencyDigits(invoice.currencyCode);
  const paidMinor = toMinor(invoice.total, digits) - toMinor(Math.max(invoice.balance, 0), digits);
  const date = payments.map((p) => p.date).sort().at(-1) ?? new Date().toISOString().slice(0, 10);
  return { state: full ? 'full' : 'partial', date, amountPaid: Number(paidMinor) / 10 ** digits };
}

/** One note per payment, in date order, each with the balance that was left after it. */
export function paymentNotes(invoice: Pick<AccountingInvoiceDetail, 'number' | 'total' | 'currencyCode'>, payments: AccountingPayment[], names: Pick<AccountingNames, 'short'>) {
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
        ? `Partial payment received: ${money(amount)} on ${payment.date} for invoice ${invoice.number}; ${money(due)} still due. (${names.short} payment ${payment.paymentId})`
        : `Payment received: ${money(amount)} on ${payment.date} for invoice ${invoice.number}. (${names.short} payment ${payment.paymentId})`;
    return { payment, text };
  });
}
