// Use case "invoice review" (invoice.review): the deal's invoice was made as a draft for the accountant
// (invoice-for-deal.ts). This job converges it: sent once the deal is in an approval stage or a person approved
// it in the accounting system; marked sent when a person sent it there (the relay sends nothing then); while it
// waits, a change of the deal's amount or products rewrites the draft — unless a person edited the draft, which
// is never overwritten (a note says so). Runs on the approval-stage webhook, on the deal's update webhook, on
// an invoice webhook and on the reconciler's finding; every run reads the invoice first, and the send carries
// the same intent marks as a direct one (deal_invoices.emailed), so nothing is sent twice.
import type { ResolvedField, ResolvedMapping } from '../config/resolve-mapping.js';
import { RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { DealInvoice, DealInvoices } from '../store/invoice-records.js';
import type { BillingParty } from './billing-party.js';
import type { NoteOnce } from './deal-notes.js';
import { WriteProblems, type DealWriter } from './deal-writer.js';
import { buildInvoiceDraft } from './invoice-draft.js';
import { formatAmount } from './money.js';
import type { AccountingInvoiceDetail, AccountingPort, CrmPort, Deal } from './ports.js';

export interface InvoiceReviewDeps {
  crm: CrmPort;
  accounting: AccountingPort;
  invoices: DealInvoices;
  party: BillingParty;
  notes: NoteOnce;
  writer: DealWriter;
  mapping: ResolvedMapping;
}

/** What a draft is built from, as far as a change asks for a new draft: the deal's amount and its products. */
export interface DealBasis {
  price: number | null;
  products: Array<{ id: number; quantity: number; priceId?: number }>;
}

export function dealBasis(deal: Pick<Deal, 'price' | 'products'>): DealBasis {
  const products = deal.products
    .map((p) => ({ id: p.id, quantity: p.quantity, ...(p.priceId !== undefined ? { priceId: p.priceId } : {}) }))
    .sort((a, b) => a.id - b.id || a.quantity - b.quantity);
  return { price: deal.price, products };
}

/** "amount 1000 → 1500; products: 2 added, 1 removed, 1 quantity changed" */
export function basisChange(before: DealBasis, after: DealBasis, currency: string): string {
  const parts: string[] = [];
  const money = (v: number | null) => (v === null ? 'none' : formatAmount(v, currency));
  if (before.price !== after.price) parts.push(`amount ${money(before.price)} → ${money(after.price)}`);
  const was = new Map(before.products.map((p) => [p.id, p]));
  const now = new Map(after.products.map((p) => [p.id, p]));
  const added = [...now.keys()].filter((id) => !was.has(id)).length;
  const removed = [...was.keys()].filter((id) => !now.has(id)).length;
  const changed = [...now.values()].filter((p) => was.has(p.id) && (was.get(p.id)!.quantity !== p.quantity || was.get(p.id)!.priceId !== p.priceId)).length;
  const products = [added && `${added} added`, removed && `${removed} removed`, changed && `${changed} changed`].filter(Boolean);
  if (products.length) parts.push(`products ${products.join(', ')}`);
  return parts.join('; ') || 'the deal';
}

export type ReviewOutcome =
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'waiting' | 'updated' | 'kept_edit' | 'sent' | 'approved' | 'sent_by_person'; invoiceId: string };

const EMAILED = 1;
const EMAIL_ATTEMPTED = 2;

export class InvoiceReview {
  constructor(private readonly deps: InvoiceReviewDeps) {}

  async run(dealId: number, ctx: { log: Logger }): Promise<ReviewOutcome> {
    const { invoices, accounting, mapping } = this.deps;
    const review = mapping.review;
    if (!review) return { outcome: 'skipped', reason: 'invoice.review is not set' };
    const key = String(dealId);
    let record = await invoices.get(key);
    if (!record?.invoice_id || (record.review !== 'waiting' && record.review !== 'approved')) {
      return { outcome: 'skipped', reason: record?.review === 'sent' ? 'the invoice was sent already' : 'no invoice draft waits for this deal' };
    }
    const invoiceId = record.invoice_id;
    const invoice = await accounting.getInvoice(invoiceId).catch((err: unknown) => {
      if (err instanceof RelayError && err.code === 'accounting_not_found') return undefined;
      throw err;
    });
    if (!invoice || invoice.status === 'void') {
      // Deleted or voided by a person (or a lost deal, invoice.onLost): nothing is waiting any more.
      await invoices.update(key, { review: null, ...(invoice ? { invoice_status: 'void' } : {}) });
      return { outcome: 'skipped', reason: `invoice ${record.invoice_number ?? invoiceId} is ${invoice ? 'void' : 'gone'}` };
    }
    const number = record.invoice_number ?? invoice.number;
    const system = accounting.names.system;

    // A person sent it from the accounting system: record that, send nothing.
    if (record.emailed !== EMAIL_ATTEMPTED && (invoice.sent ?? invoice.status !== 'draft') && (invoice.sent === true || record.review === 'waiting')) {
      await invoices.update(key, { review: 'sent', emailed: EMAILED, invoice_status: invoice.status });
      await this.deps.notes.add(dealId, `review:${dealId}:${record.generation}:sent`, `Invoice ${number} was sent from ${system}.`);
      ctx.log.info({ invoice_id: invoiceId }, 'invoice draft sent by a person in the accounting system');
      return { outcome: 'sent_by_person', invoiceId };
    }

    const deal = await this.deps.crm.getDeal(dealId);
    const inApproval = !!deal && review.approvalStages.some((s) => s.statusId === deal.statusId && s.pipelineId === deal.pipelineId);
    const approvedThere = invoice.status !== 'draft' || invoice.approved === true;
    if (record.review === 'approved' || inApproval || approvedThere) return this.send(dealId, record, invoice, inApproval ? 'the approval stage' : `approval in ${system}`, ctx);

    // Still a draft nobody approved: follow the deal's changes, unless a person edited the draft.
    if (!deal) return { outcome: 'waiting', invoiceId };
    const basis = dealBasis(deal);
    const before = record.draft_basis ? (JSON.parse(record.draft_basis) as DealBasis) : basis;
    if (JSON.stringify(before) === JSON.stringify(basis)) return { outcome: 'waiting', invoiceId };
    const what = basisChange(before, basis, invoice.currencyCode);
    if (invoice.version !== record.draft_version) {
      // Edited by a person: theirs stands. Noted once per change of the deal.
      await this.deps.notes.add(dealId, `review:${dealId}:${record.generation}:kept:${hash(record.draft_basis)}:${hash(JSON.stringify(basis))}`, `The deal changed (${what}), but invoice draft ${number} was edited in ${system}, so the relay did not overwrite it. Update the draft there if needed.`);
      await invoices.update(key, { draft_basis: JSON.stringify(basis) });
      return { outcome: 'kept_edit', invoiceId };
    }
    const party = await this.deps.party.of(deal);
    const products = mapping.lines.sources.includes('products') && deal.products.length ? await this.deps.crm.dealProducts(deal) : [];
    const built = buildInvoiceDraft({ deal, products, customerId: invoice.customerId, stamp: { key: record.reference, dealId }, generation: record.generation, billing: party.billing }, mapping, party.settings);
    const basisText = JSON.stringify(basis);
    const { version } = await accounting.updateDraftInvoice!(invoiceId, built.draft, { idempotencyKey: `review:${dealId}:${record.generation}:update:${hash(basisText)}` });
    record = await invoices.update(key, { draft_version: version, draft_basis: basisText });
    await this.deps.notes.add(dealId, `review:${dealId}:${record.generation}:updated:${hash(basisText)}`, `Invoice draft ${number} updated from the deal (${what}); still waiting for approval.`);
    ctx.log.info({ invoice_id: invoiceId, change: what }, 'invoice draft updated from the deal');
    return { outcome: 'updated', invoiceId };
  }

  /** Approve (where the backend must before it emails) and email it, once: the marks of invoice-for-deal.ts. */
  private async send(dealId: number, record: DealInvoice, invoice: AccountingInvoiceDetail, because: string, ctx: { log: Logger }): Promise<ReviewOutcome> {
    const { accounting, invoices, mapping } = this.deps;
    const key = record.deal_id;
    const invoiceId = record.invoice_id!;
    const number = record.invoice_number ?? invoice.number;
    if (record.review !== 'approved') record = await invoices.update(key, { review: 'approved' });
    const approved = await accounting.approveInvoice!(invoiceId, { thenEmail: mapping.sendInvoice, idempotencyKey: `review:${dealId}:${record.generation}:approve` });
    // Approved, the invoice may have its online link now (the draft had the accountant's): on the deal too.
    if (approved.url && approved.url !== record.invoice_url) {
      record = await invoices.update(key, { invoice_url: approved.url });
      await this.writeUrl(dealId, record, mapping.dealFields.invoiceUrl);
    }
    if (!mapping.sendInvoice) {
      await invoices.update(key, { review: 'sent', invoice_status: approved.status });
      await this.deps.notes.add(dealId, `review:${dealId}:${record.generation}:approved`, `Invoice ${number} approved (${because}); not emailed (invoice.send is false).`);
      return { outcome: 'approved', invoiceId };
    }
    if (record.emailed === EMAIL_ATTEMPTED) {
      // An earlier send may have gone out before its answer was lost.
      const current = await accounting.getInvoice(invoiceId);
      if (current.sent ?? current.status !== 'draft') return this.sent(dealId, record, number, because, ctx);
    }
    if (record.emailed !== EMAILED) {
      const party = await this.deps.crm.getDeal(dealId).then((deal) => (deal ? this.deps.party.of(deal) : undefined));
      await invoices.update(key, { emailed: EMAIL_ATTEMPTED });
      await accounting.emailInvoice(invoiceId, party ? [party.email] : [], { idempotencyKey: `email:${key}:${record.generation}` });
    }
    return this.sent(dealId, record, number, because, ctx);
  }

  private async sent(dealId: number, record: DealInvoice, number: string, because: string, ctx: { log: Logger }): Promise<ReviewOutcome> {
    await this.deps.invoices.update(record.deal_id, { review: 'sent', emailed: EMAILED, invoice_status: 'open' });
    await this.deps.notes.add(dealId, `review:${dealId}:${record.generation}:sent`, `Invoice ${number} approved (${because}) and sent to the client.`);
    ctx.log.info({ invoice_id: record.invoice_id }, 'reviewed invoice sent');
    return { outcome: 'sent', invoiceId: record.invoice_id! };
  }

  private async writeUrl(dealId: number, record: DealInvoice, field: ResolvedField): Promise<void> {
    const problems = new WriteProblems();
    problems.add(await this.deps.writer.apply(dealId, [{ key: `invoice_field:${dealId}:${record.generation}:invoiceUrl:approved`, kind: 'invoice_field', label: `invoice field '${field.name}' = ${JSON.stringify(record.invoice_url)}`, value: { fieldId: field.id, value: record.invoice_url! } }]));
    problems.throwIfAny(dealId, `Invoice ${record.invoice_number ?? record.invoice_id} was approved in ${this.deps.accounting.names.system}.`);
  }
}

function hash(text: string | null): string {
  let h = 2166136261;
  for (let i = 0; i < (text ?? '').length; i++) h = Math.imul(h ^ text!.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16);
}
