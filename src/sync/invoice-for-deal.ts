// Use case "invoice for deal": read fresh state, decide, write — every step safe to run again. The
// deal_invoices row is the intent record: it is written before each remote write, so after a crash or an
// uncertain answer the next attempt looks in the accounting system before it creates anything.
import type { ResolvedField, ResolvedMapping } from '../config/resolve-mapping.js';
import { permanent, RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { DealInvoice, DealInvoices } from '../store/invoice-records.js';
import type { BillingParty } from './billing-party.js';
import { WriteProblems, type DealWriter, type DealWriteStep } from './deal-writer.js';
import type { NoteOnce } from './deal-notes.js';
import { buildInvoiceDraft, type Billing, type DraftSettings } from './invoice-draft.js';
import { dealBasis } from './invoice-review.js';
import type { AccountingInvoice, AccountingPort, CrmPort, Deal, DealStamp } from './ports.js';

export interface InvoiceForDealDeps {
  crm: CrmPort;
  accounting: AccountingPort;
  invoices: DealInvoices;
  party: BillingParty;
  writer: DealWriter;
  mapping: ResolvedMapping;
  /** Needed with invoice.review (the "waiting for approval" note). */
  notes?: NoteOnce;
}

export type InvoiceOutcome =
  | { outcome: 'invoiced'; invoiceId: string; invoiceNumber: string; customerId: string; remarks: string[] }
  | { outcome: 'already_invoiced'; invoiceId: string | null }
  | { outcome: 'skipped'; reason: string };

export class InvoiceForDeal {
  constructor(private readonly deps: InvoiceForDealDeps) {}

  /** `retried`: an operator asked for this job again (a field Kommo refused is then written again too). */
  async run(dealId: number, ctx: { jobId: number; log: Logger; retried?: boolean }): Promise<InvoiceOutcome> {
    const { crm, invoices, mapping } = this.deps;
    const key = String(dealId);
    let record = await invoices.get(key);
    const deal = await crm.getDeal(dealId);
    if (!deal) {
      if (record?.state === 'linked') return { outcome: 'already_invoiced', invoiceId: record.invoice_id };
      throw permanent('deal_not_found', `Invoice not created: deal ${dealId} no longer exists in Kommo (deleted or merged).`);
    }
    const inStage = mapping.invoiceStages.some((s) => s.statusId === deal.statusId && s.pipelineId === deal.pipelineId);
    if (record?.state === 'linked') {
      // Re-entering the stage (or our own write-back firing a webhook) never invoices twice — unless a
      // person cleared the deal's Invoice ID field and moved it into the stage again: that asks for a new one.
      const cleared = !deal.fields.get(mapping.dealFields.invoiceId.id)?.some((v) => v.trim() !== '');
      if (!(inStage && cleared)) return { outcome: 'already_invoiced', invoiceId: record.invoice_id };
      const generation = record.generation + 1;
      ctx.log.info({ generation, previous_invoice_id: record.invoice_id }, 'Invoice ID was cleared on the deal: invoicing it again');
      record = await invoices.restart(key, this.deps.accounting.stamp(dealId, generation).key, generation);
    }
    if (!record) {
      if (!inStage) {
        // The webhook is only a hint: by now the deal is elsewhere, and nobody asked for an invoice.
        return { outcome: 'skipped', reason: `deal is no longer in an invoicing stage (now status ${deal.statusId} in pipeline ${deal.pipelineId})` };
      }
      record = await invoices.start(key, this.deps.accounting.stamp(dealId, 1).key);
    }

    const party = await this.deps.party.of(deal);
    const { email, billing, settings } = party;
    let customerId = record.customer_id;
    if (!customerId) {
      customerId = (await this.deps.party.customer(party, dealId, ctx)).id;
      record = await invoices.update(key, { customer_id: customerId });
    }

    const remarks: string[] = [];
    record = await this.ensureInvoice(deal, record, customerId, billing, settings, remarks, ctx);
    // With invoice.review the invoice is a draft for the accountant: sent later (invoice-review.ts), never here.
    if (mapping.review) record = await this.ensureInReview(deal, record);
    else record = await this.ensureEmailed(record, email, ctx);

    await this.writeBack(dealId, record, ctx.retried === true);
    if (mapping.review && record.review === 'waiting') {
      await this.deps.notes!.add(dealId, `review:${dealId}:${record.generation}:waiting`, `Invoice draft ${record.invoice_number ?? record.invoice_id} waiting for approval in ${this.deps.accounting.names.system}: ${record.invoice_url}`);
    }
    record = await invoices.update(key, { state: 'linked' });
    ctx.log.info({ invoice_id: record.invoice_id, invoice_number: record.invoice_number }, 'deal invoiced and linked');
    return { outcome: 'invoiced', invoiceId: record.invoice_id!, invoiceNumber: record.invoice_number!, customerId, remarks };
  }

  /**
   * The invoice's ID, link and number into the deal's fields, each a recorded step (deal-writer.ts): a
   * field Kommo refuses is named with Kommo's reason while the others are still written. Until every one
   * is written the record stays unlinked, so a retry (or the deal entering the stage again) writes the
   * rest instead of invoicing again.
   */
  private async writeBack(dealId: number, record: DealInvoice, retryRefused: boolean): Promise<void> {
    const { dealFields } = this.deps.mapping;
    const generation = `${dealId}:${record.generation}`;
    const fields: Array<[string, ResolvedField | undefined, string | null]> = [
      ['invoiceId', dealFields.invoiceId, record.invoice_id],
      ['invoiceUrl', dealFields.invoiceUrl, record.invoice_url],
      ['invoiceNumber', dealFields.invoiceNumber, record.invoice_number],
    ];
    const steps: DealWriteStep[] = fields.flatMap(([name, field, value]) =>
      field && value !== null
        ? [{ key: `invoice_field:${generation}:${name}`, kind: 'invoice_field' as const, label: `invoice field '${field.name}' = ${JSON.stringify(value)}`, value: { fieldId: field.id, value } }]
        : [],
    );
    const problems = new WriteProblems();
    problems.add(await this.deps.writer.apply(dealId, steps, { retryRefused }));
    problems.throwIfAny(dealId, `Invoice ${record.invoice_number ?? record.invoice_id} was created in ${this.deps.accounting.names.system}${record.emailed === EMAILED ? ' and emailed' : record.review === 'waiting' ? ' as a draft waiting for approval' : ''} (${record.invoice_url}), and the other fields were written.`);
  }

  private async ensureInvoice(
    deal: Deal,
    record: DealInvoice,
    customerId: string,
    billing: Billing,
    settings: DraftSettings,
    remarks: string[],
    ctx: { log: Logger },
  ): Promise<DealInvoice> {
    const { accounting, invoices, mapping } = this.deps;
    const key = record.deal_id;
    if (record.invoice_id) return record;
    if (record.state === 'creating') {
      // A previous attempt may have reached the accounting system before it died or timed out: look before creating.
      const existing = await accounting.findDealInvoice(stampOf(record), customerId);
      if (existing) {
        ctx.log.warn({ invoice_id: existing.id }, 'adopted the invoice an earlier attempt created');
        return invoices.update(key, {
          state: 'created',
          invoice_id: existing.id,
          invoice_number: existing.number,
          invoice_url: existing.url,
          invoice_status: existing.status,
          // Sent with the create where the backend emails on create; a backend that emails in a separate
          // call says whether it went (the email step only ever follows a recorded invoice ID).
          emailed: wasSent(existing) ? EMAILED : 0,
        });
      }
    }
    const products = mapping.lines.sources.includes('products') && deal.products.length ? await this.deps.crm.dealProducts(deal) : [];
    const built = buildInvoiceDraft({ deal, products, customerId, stamp: stampOf(record), generation: record.generation, billing }, mapping, settings);
    remarks.push(...built.remarks);
    if (built.remarks.length) ctx.log.info({ remarks: built.remarks, lines_from: built.source }, 'invoice lines differ from the deal amount');
    const draft = built.draft;
    await invoices.update(key, { state: 'creating' });
    let created;
    try {
      created = await accounting.createInvoice(draft, { send: mapping.sendInvoice && !mapping.review, idempotencyKey: `invoice:${key}:${record.generation}` });
    } catch (err) {
      // Only an answer that may have been acted on keeps the 'creating' mark (and costs a lookup later).
      if (!(err instanceof RelayError && err.uncertain)) await invoices.update(key, { state: 'pending' });
      throw err;
    }
    return invoices.update(key, {
      state: 'created',
      invoice_id: created.id,
      invoice_number: created.number,
      invoice_url: created.url,
      invoice_status: created.status,
      emailed: created.emailed ? EMAILED : 0,
    });
  }

  /** The draft's version and what it was built from, so a change on the deal can update it and a person's edit is kept. */
  private async ensureInReview(deal: Deal, record: DealInvoice): Promise<DealInvoice> {
    if (record.review !== null) return record;
    const current = await this.deps.accounting.getInvoice(record.invoice_id!);
    // Adopted after a lost answer and already sent or approved by a person: nothing waits.
    const review = current.status === 'draft' && !current.approved ? 'waiting' : wasSent(current) ? 'sent' : 'approved';
    return this.deps.invoices.update(record.deal_id, { review, draft_version: current.version, draft_basis: JSON.stringify(dealBasis(deal)), invoice_status: current.status, ...(review === 'sent' ? { emailed: EMAILED } : {}) });
  }

  private async ensureEmailed(record: DealInvoice, email: string, ctx: { log: Logger }): Promise<DealInvoice> {
    const { accounting, invoices, mapping } = this.deps;
    if (!mapping.sendInvoice || record.emailed === EMAILED) return record;
    if (record.emailed === EMAIL_ATTEMPTED) {
      // An earlier send may have gone out before its answer was lost: a sent invoice is no longer a draft.
      const current = await accounting.getInvoice(record.invoice_id!);
      if (wasSent(current)) return invoices.update(record.deal_id, { emailed: EMAILED, invoice_status: current.status });
    }
    await invoices.update(record.deal_id, { emailed: EMAIL_ATTEMPTED });
    await accounting.emailInvoice(record.invoice_id!, [email], { idempotencyKey: `email:${record.deal_id}:${record.generation}` });
    ctx.log.info({ invoice_id: record.invoice_id }, 'invoice emailed');
    return invoices.update(record.deal_id, { emailed: EMAILED, invoice_status: 'open' });
  }
}

/** The stamp the intent record keeps (its `reference`): the same key every attempt of this generation. */
function stampOf(record: DealInvoice): DealStamp {
  return { key: record.reference, dealId: Number(record.deal_id) };
}

/** Whether the customer got the invoice: the backend's word, else (emailed on create) any invoice past draft. */
export function wasSent(invoice: Pick<AccountingInvoice, 'status' | 'sent'>): boolean {
  return invoice.sent ?? invoice.status !== 'draft';
}

/** deal_invoices.emailed: 0 not sent, 1 sent, 2 a send was attempted and its outcome is unknown. */
export const EMAILED = 1;
export const EMAIL_ATTEMPTED = 2;
