// Use case "lost deal" (invoice.onLost): a deal moved to Kommo's "Closed - lost". Its recurring invoice is
// stopped (as a retainer stop stage does); its one-off invoice is, by the mapping, left open with a note on the
// deal and an item on /admin (`note`), or voided — deleted if still a draft — when nothing was paid (`void`).
// A partly paid invoice is never voided. The intent (deal_lost row) is written before a void or a delete, and
// the invoice is read again first on every run, so a retry after a lost answer never acts twice.
import { KOMMO_LOST_STATUS, type ResolvedMapping } from '../config/resolve-mapping.js';
import { permanent, RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { DealInvoices } from '../store/invoice-records.js';
import type { DealLostRecords } from '../store/lost-records.js';
import type { DealLostAction } from '../store/schema.js';
import type { NoteOnce } from './deal-notes.js';
import { formatAmount } from './money.js';
import type { AccountingInvoiceDetail, AccountingPort, CrmPort } from './ports.js';
import type { RetainerForDeal } from './retainer-for-deal.js';

export interface LostDealDeps {
  crm: CrmPort;
  accounting: AccountingPort;
  invoices: DealInvoices;
  lost: DealLostRecords;
  notes: NoteOnce;
  retainer: RetainerForDeal;
  mapping: Pick<ResolvedMapping, 'onLost' | 'retainer'>;
}

export type LostOutcome = { outcome: 'skipped'; reason: string } | { outcome: DealLostAction; invoiceId: string | null; recurringStopped: boolean };

export class LostDeal {
  constructor(private readonly deps: LostDealDeps) {}

  async run(dealId: number, ctx: { log: Logger }): Promise<LostOutcome> {
    const { crm, invoices, lost, mapping, accounting } = this.deps;
    const onLost = mapping.onLost;
    if (!onLost) return { outcome: 'skipped', reason: 'invoice.onLost is not set' };
    const key = String(dealId);
    const deal = await crm.getDeal(dealId);
    if (!deal) return { outcome: 'skipped', reason: `deal ${dealId} no longer exists in Kommo` };
    if (deal.statusId !== KOMMO_LOST_STATUS) {
      // Reopened before the job ran: nothing to undo, and nothing left to look at on /admin.
      await lost.clearAttention(key);
      return { outcome: 'skipped', reason: `the deal is no longer lost (now status ${deal.statusId})` };
    }

    const prior = await lost.get(key);
    let recurringStopped = prior?.recurring_stopped === 1;
    if (mapping.retainer) {
      const stopped = await this.deps.retainer.stop(dealId, ctx);
      if (stopped.outcome === 'stopped') recurringStopped = true;
    }
    const recurringLine = recurringStopped ? ' Its recurring invoice was stopped.' : '';
    const record = await invoices.get(key);
    if (!record?.invoice_id) {
      await lost.put(key, { invoice_id: null, invoice_number: null, state: 'done', action: 'no_invoice', detail: `no invoice to act on${recurringStopped ? '; recurring invoice stopped' : ''}`, attention: 0, recurring_stopped: recurringStopped ? 1 : 0 });
      if (recurringStopped) await this.deps.notes.add(dealId, `lost:${dealId}:recurring`, `Deal lost: its recurring invoice was stopped in ${accounting.names.system}.`);
      return { outcome: 'no_invoice', invoiceId: null, recurringStopped };
    }

    const invoiceId = record.invoice_id;
    const system = accounting.names.system;
    // What cancelling a final invoice is there: voided (kept, marked void) or deleted (a system without void).
    const cancel = accounting.names.cancelVerb ?? 'void';
    const cancelled = cancel === 'void' ? 'voided' : 'deleted';
    const invoice = await this.read(invoiceId, prior?.invoice_id === invoiceId ? prior.state : undefined);
    const number = invoice?.number ?? record.invoice_number ?? invoiceId;
    const base = { invoice_id: invoiceId, invoice_number: number, recurring_stopped: recurringStopped ? 1 : 0 };
    const finish = async (action: DealLostAction, detail: string, attention: boolean, note: string) => {
      await lost.put(key, { ...base, state: 'done', action, detail, attention: attention ? 1 : 0 });
      // A void or delete shares its key with the note a payment job makes on seeing the invoice void
      // (payment-to-deal.ts), so the deal is told once, in the lost deal's words.
      const noteKey = action === 'voided' || action === 'deleted' ? `void:${invoiceId}` : `lost:${dealId}:${invoiceId}:${action}`;
      await this.deps.notes.add(dealId, noteKey, `${note}${recurringLine}`);
      ctx.log.info({ invoice_id: invoiceId, action }, 'lost deal handled');
      return { outcome: action, invoiceId, recurringStopped } as const;
    };

    // Gone (a delete whose answer was lost, or a person deleted it) or void already.
    if (!invoice || invoice.status === 'void') {
      if (prior?.invoice_id === invoiceId && prior.state === 'deleting') return finish('deleted', `draft ${number} deleted`, false, `Deal lost: the draft invoice ${number} was deleted in ${system}.`);
      if (prior?.invoice_id === invoiceId && prior.state === 'voiding') {
        await invoices.update(key, { invoice_status: 'void' });
        return finish('voided', `invoice ${number} ${cancelled}`, false, `Deal lost: invoice ${number} was ${cancelled} in ${system} (nothing had been paid).`);
      }
      return finish('already_void', `invoice ${number} was already void`, false, `Deal lost: invoice ${number} was already void in ${system}; nothing changed.`);
    }
    const due = formatAmount(invoice.balance, invoice.currencyCode);
    if (invoice.status === 'paid') {
      return finish('kept_paid', `invoice ${number} is paid in full: kept`, false, `Deal lost, but invoice ${number} is paid in full in ${system}; the relay changed nothing.`);
    }
    const partlyPaid = invoice.status === 'partially_paid' || (invoice.balance > 0 && invoice.balance < invoice.total);
    if (partlyPaid) {
      return finish(
        'kept_partly_paid',
        `invoice ${number} is partly paid (${due} still due): not ${cancelled}`,
        true,
        `Deal lost: invoice ${number} is partly paid (${due} still due), so the relay did not ${cancel} it. Settle it in ${system} (a credit note or a refund).`,
      );
    }
    if (onLost.action === 'note') {
      const what = invoice.status === 'draft' ? `the draft invoice ${number}` : `invoice ${number} (${due} due)`;
      return finish('noted', `${invoice.status === 'draft' ? 'draft' : 'invoice'} ${number} still open`, true, `Deal lost: ${what} is still open in ${system}. ${cancel === 'void' ? 'Void' : 'Delete'} it there if it should not be paid.`);
    }

    // void: nothing was paid. A draft is deleted, a final invoice voided; the intent first.
    const draft = invoice.status === 'draft';
    await lost.put(key, { ...base, state: draft ? 'deleting' : 'voiding', action: null, detail: null, attention: 0 });
    const idempotencyKey = `lost:${dealId}:${invoiceId}:${draft ? 'delete' : 'void'}`;
    try {
      if (draft) await accounting.deleteDraftInvoice!(invoiceId, { idempotencyKey });
      else await accounting.voidInvoice!(invoiceId, { idempotencyKey });
    } catch (err) {
      if (err instanceof RelayError && !err.retryable && !err.uncertain) {
        // Refused: say so where a person looks, and fail the job with the reason (the failure note follows).
        await lost.put(key, { ...base, state: 'done', action: 'noted', detail: `${system} refused to ${draft ? 'delete' : cancel} it: ${err.message}`, attention: 1 });
        throw permanent(err.code, `Deal lost: invoice ${number} was not ${draft ? 'deleted' : cancelled}: ${err.message} It is still open in ${system}.`, { cause: err });
      }
      throw err;
    }
    // Nothing waits for a review any more (invoice.review).
    await invoices.update(key, { review: null, ...(draft ? {} : { invoice_status: 'void' }) });
    return draft
      ? finish('deleted', `draft ${number} deleted`, false, `Deal lost: the draft invoice ${number} was deleted in ${system}.`)
      : finish('voided', `invoice ${number} ${cancelled}`, false, `Deal lost: invoice ${number} was ${cancelled} in ${system} (nothing had been paid).`);
  }

  /** The invoice now; undefined when it is gone after our own delete (a backend that removes drafts for good). */
  private async read(invoiceId: string, intent: string | undefined): Promise<AccountingInvoiceDetail | undefined> {
    try {
      return await this.deps.accounting.getInvoice(invoiceId);
    } catch (err) {
      if (intent === 'deleting' && err instanceof RelayError && err.code === 'accounting_not_found') return undefined;
      throw err;
    }
  }
}
