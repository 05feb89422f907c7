// How invoices look on the wire: status derived at read time (overdue), balance, money in the
// currency's precision, IDs as strings. Also the invoice list with its filters and sorting.
import { customFieldsJson } from './custom-fields.js';
import { paymentOptionsJson } from './gateways.js';
import { queryString } from './fields.js';
import { lineItemJson, taxesJson } from './line-items.js';
import { matchesDate, matchesId, matchesText, modifiedSince, paginate, sortRows } from './listing.js';
import { fromMinor } from './money.js';
import { inOrg, type Contact, type Invoice, type ZohoState } from './state.js';
import { today, zohoTimestamp } from './time.js';
import type { OrgContext } from './contacts.js';

export type InvoiceStatus = Invoice['status'] | 'overdue';

export function balanceMinor(inv: Invoice): bigint {
  if (inv.status === 'void') return 0n;
  const b = inv.totalMinor - inv.paidMinor;
  return b > 0n ? b : 0n;
}

/** Zoho turns unpaid invoices past their due date into `overdue` overnight; the fake derives it. */
export function effectiveStatus(inv: Invoice, on = today()): InvoiceStatus {
  const open = inv.status === 'sent' || inv.status === 'viewed' || inv.status === 'partially_paid';
  return open && inv.dueDate < on && balanceMinor(inv) > 0n ? 'overdue' : inv.status;
}

const UNPAID: InvoiceStatus[] = ['sent', 'viewed', 'overdue', 'partially_paid'];

export function invoiceJson(state: ZohoState, inv: Invoice) {
  const p = inv.precision;
  const customer = state.contacts.get(inv.customerId);
  return {
    invoice_id: inv.invoiceId,
    invoice_number: inv.invoiceNumber,
    status: effectiveStatus(inv),
    date: inv.date,
    due_date: inv.dueDate,
    payment_terms: inv.paymentTerms,
    payment_terms_label: inv.paymentTermsLabel,
    customer_id: inv.customerId,
    customer_name: inv.customerName,
    contact_persons_associated: inv.contactPersonIds.map((id) => contactPersonJson(customer, id)),
    currency_id: inv.currencyId,
    currency_code: inv.currencyCode,
    exchange_rate: inv.exchangeRate,
    price_precision: p,
    reference_number: inv.referenceNumber,
    is_inclusive_tax: inv.isInclusiveTax,
    line_items: inv.lineItems.map((l) => lineItemJson(l, p)),
    sub_total: fromMinor(inv.subTotalMinor, p),
    tax_total: fromMinor(inv.taxTotalMinor, p),
    total: fromMinor(inv.totalMinor, p),
    taxes: taxesJson(inv.taxes, p),
    payment_made: fromMinor(inv.paidMinor, p),
    credits_applied: 0,
    balance: fromMinor(balanceMinor(inv), p),
    last_payment_date: inv.lastPaymentDate,
    is_emailed: inv.isEmailed,
    billing_address: customer?.billingAddress ?? {},
    custom_fields: customFieldsJson(state, inv.customFields),
    notes: inv.notes,
    terms: inv.terms,
    invoice_url: inv.invoiceUrl,
    recurring_invoice_id: inv.recurringInvoiceId,
    // Only on an invoice made payable online (gateways.ts): other answers stay as they were.
    ...(inv.paymentGateways.length ? { payment_options: paymentOptionsJson(state.organizations.get(inv.organizationId), inv.paymentGateways) } : {}),
    created_time: zohoTimestamp(inv.createdMs),
    last_modified_time: zohoTimestamp(inv.lastModifiedMs),
  };
}

/** The invoice's recipients, as an invoice answer names them. */
function contactPersonJson(customer: Contact | undefined, contactPersonId: string) {
  const person = customer?.persons.find((p) => p.contactPersonId === contactPersonId);
  return {
    contact_person_id: contactPersonId,
    contact_person_email: person?.email ?? '',
    first_name: person?.firstName ?? '',
    last_name: person?.lastName ?? '',
  };
}

export function invoiceListJson(state: ZohoState, inv: Invoice) {
  const p = inv.precision;
  return {
    invoice_id: inv.invoiceId,
    invoice_number: inv.invoiceNumber,
    customer_id: inv.customerId,
    customer_name: inv.customerName,
    status: effectiveStatus(inv),
    reference_number: inv.referenceNumber,
    date: inv.date,
    due_date: inv.dueDate,
    currency_id: inv.currencyId,
    currency_code: inv.currencyCode,
    exchange_rate: inv.exchangeRate,
    total: fromMinor(inv.totalMinor, p),
    balance: fromMinor(balanceMinor(inv), p),
    is_emailed: inv.isEmailed,
    last_payment_date: inv.lastPaymentDate,
    custom_fields: customFieldsJson(state, inv.customFields),
    created_time: zohoTimestamp(inv.createdMs),
    last_modified_time: zohoTimestamp(inv.lastModifiedMs),
  };
}

function statusFilter(query: Record<string, unknown>): InvoiceStatus[] | undefined {
  const filterBy = queryString(query, 'filter_by');
  const raw = queryString(query, 'status') ?? (filterBy?.startsWith('Status.') ? filterBy.slice(7).toLowerCase() : undefined);
  if (raw === undefined || raw === '' || raw === 'all') return undefined;
  if (raw === 'unpaid') return UNPAID;
  if (raw === 'partiallypaid') return ['partially_paid'];
  return [raw as InvoiceStatus];
}

export function listInvoices({ state, org }: OrgContext, query: Record<string, unknown>) {
  const since = modifiedSince(query);
  const statuses = statusFilter(query);
  const referenceNumber = queryString(query, 'reference_number');
  const searchText = queryString(query, 'search_text')?.toLowerCase();
  const on = today();
  const matching = inOrg(state.invoices, org.organizationId).filter((inv) => {
    if (referenceNumber !== undefined && inv.referenceNumber.toLowerCase() !== referenceNumber.toLowerCase()) return false;
    if (!matchesId(inv.customerId, query, 'customer_id')) return false;
    if (!matchesId(inv.recurringInvoiceId, query, 'recurring_invoice_id')) return false;
    if (!matchesText(inv.invoiceNumber, query, 'invoice_number')) return false;
    if (!matchesText(inv.customerName, query, 'customer_name')) return false;
    if (!matchesDate(inv.date, query, 'date')) return false;
    if (!matchesDate(inv.dueDate, query, 'due_date')) return false;
    if (statuses && !statuses.includes(effectiveStatus(inv, on))) return false;
    if (since && !since(inv.lastModifiedMs)) return false;
    if (searchText && ![inv.invoiceNumber, inv.referenceNumber, inv.customerName].some((v) => v.toLowerCase().includes(searchText)))
      return false;
    return true;
  });
  const sorted = sortRows(
    matching,
    query,
    {
      created_time: (i) => i.createdMs,
      last_modified_time: (i) => i.lastModifiedMs,
      date: (i) => i.date,
      due_date: (i) => i.dueDate,
      invoice_number: (i) => i.invoiceNumber,
      customer_name: (i) => i.customerName.toLowerCase(),
      total: (i) => Number(i.totalMinor),
      balance: (i) => Number(balanceMinor(i)),
    },
    { column: 'created_time', order: 'D' },
  );
  const { rows, page_context } = paginate(sorted.rows, query);
  return {
    invoices: rows.map((i) => invoiceListJson(state, i)),
    page_context: { ...page_context, sort_column: sorted.sort_column, sort_order: sorted.sort_order },
  };
}
