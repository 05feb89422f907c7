// The mapping asks for things the configured accounting backend may not do: a retainer section needs
// recurring invoices, an invoice URL field needs an online link, invoice.payOnline needs a backend that can
// put online payment on its invoices. Checked when the mapping is read, so the
// relay refuses to start with a message naming the section and the backend, never fails on the first deal.
import type { AccountingBackend } from '../accounting/backend.js';

interface Asks {
  retainer?: { frequency?: 'days' | 'weeks' | 'months' | 'years'; every?: number } | undefined;
  dealFields: { invoiceUrl?: unknown };
  invoice?: { onLost?: 'note' | 'void' | undefined; review?: unknown; payOnline?: unknown };
}

export function checkCapabilities(backend: Pick<AccountingBackend, 'capabilities' | 'names'>, mapping: Asks): string[] {
  const { capabilities: can, names } = backend;
  const problems: string[] = [];
  if (mapping.retainer && !can.recurringInvoices) {
    problems.push(`retainer: ${names.system} has no recurring invoices, so deals cannot be billed on a schedule. Remove the retainer section (ACCOUNTING=${names.id}).`);
  }
  const unsupported = mapping.retainer && can.recurringInvoices ? can.recurrence?.(mapping.retainer.frequency ?? 'months', mapping.retainer.every ?? 1) : undefined;
  if (unsupported) {
    problems.push(`retainer.frequency: ${unsupported} Change retainer.frequency and retainer.every (ACCOUNTING=${names.id}).`);
  }
  if (mapping.dealFields.invoiceUrl !== undefined && !can.onlineLink) {
    problems.push(`dealFields.invoiceUrl: ${names.system} gives invoices no online link to write on the deal. Remove dealFields.invoiceUrl (ACCOUNTING=${names.id}).`);
  }
  if (mapping.invoice?.onLost === 'void' && !can.cancelInvoices) {
    problems.push(`invoice.onLost: ${names.system} invoices cannot be voided or deleted by the relay. Use "note" (a note on the deal and an item on /admin) (ACCOUNTING=${names.id}).`);
  }
  if (mapping.invoice?.review !== undefined && !can.reviewDrafts) {
    problems.push(`invoice.review: the relay cannot update or approve ${names.system} drafts, so invoices cannot wait for a review. Remove invoice.review (ACCOUNTING=${names.id}).`);
  }
  if (mapping.invoice?.payOnline !== undefined && !can.payOnline) {
    problems.push(`invoice.payOnline: the relay cannot make ${names.system} invoices payable online or read how the ${names.organization} takes online payments. Remove invoice.payOnline (ACCOUNTING=${names.id}).`);
  }
  return problems;
}

/** Without webhooks, the reconciler is the only way payments come back: it may not be turned off. */
export function checkSettingCapabilities(backend: Pick<AccountingBackend, 'capabilities' | 'names'>, reconcileIntervalSeconds: number): string[] {
  if (backend.capabilities.changes === 'polling' && reconcileIntervalSeconds === 0) {
    return [`RECONCILE_INTERVAL_SECONDS: may not be 0 with ACCOUNTING=${backend.names.id}: ${backend.names.system} sends no webhooks, so the reconciler is how payments reach the deals`];
  }
  return [];
}
