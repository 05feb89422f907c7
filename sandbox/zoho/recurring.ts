// Recurring invoice profiles: create, list, stop/resume, delete, and the control that makes a profile
// produce its next invoice now (Zoho runs them on schedule; tests cannot wait a month).
import type { OrgContext } from './contacts.js';
import { getContact, termsLabel } from './contacts.js';
import { assertUniqueValues, customFieldsJson, resolveCustomFields } from './custom-fields.js';
import { ZohoCode, ZohoError, invalidValue, notFound } from './errors.js';
import { bodyObject, optBool, optInt, optString, reqString } from './fields.js';
import { gatewaysOf, paymentOptionsJson } from './gateways.js';
import { createInvoice, type BooksContext } from './invoices.js';
import { computeTotals } from './line-items.js';
import { matchesId, matchesText, paginate, sortRows } from './listing.js';
import { fromMinor, isNumeric } from './money.js';
import { currencyById } from './settings.js';
import { inOrg, newId, type Frequency, type Invoice, type RecurringInvoice } from './state.js';
import { addPeriod, isIsoDate, today } from './time.js';

const FREQUENCIES: Frequency[] = ['days', 'weeks', 'months', 'years'];

export function getRecurring({ state, org }: OrgContext, id: string): RecurringInvoice {
  const r = state.recurring.get(id);
  if (!r || r.organizationId !== org.organizationId) throw notFound('Recurring invoice');
  return r;
}

export function createRecurring(ctx: OrgContext, rawBody: unknown): RecurringInvoice {
  const b = bodyObject(rawBody);
  const { state, org } = ctx;
  const name = reqString(b, 'recurrence_name', 100).trim();
  const clash = inOrg(state.recurring, org.organizationId).find((r) => r.recurrenceName.toLowerCase() === name.toLowerCase());
  if (clash) throw new ZohoError(400, ZohoCode.recurrenceNameExists, 'The recurrence name already exists');

  const customerId = reqString(b, 'customer_id');
  const customer = state.contacts.get(customerId);
  if (!customer || customer.organizationId !== org.organizationId || customer.contactType !== 'customer')
    throw invalidValue(`Invalid value passed for customer_id: no customer with ID ${customerId} exists in this organization`);
  const currency = currencyById(state, org.organizationId, customer.currencyId);
  if (b.currency_id !== undefined && String(b.currency_id) !== currency.currencyId)
    throw invalidValue(`Invalid value passed for currency_id: the customer's currency is ${currency.code}`);
  const rate = b.exchange_rate;
  if (!currency.isBase && (!isNumeric(rate) || Number(rate) <= 0))
    throw invalidValue(`exchange_rate is required for a recurring invoice in ${currency.code}`);

  const frequency = reqString(b, 'recurrence_frequency') as Frequency;
  if (!FREQUENCIES.includes(frequency)) throw invalidValue('Invalid value passed for recurrence_frequency: use days, weeks, months or years');
  const repeatEvery = optInt(b, 'repeat_every', 1, 1000) ?? 1;
  const startDate = b.start_date ?? today();
  if (!isIsoDate(startDate)) throw invalidValue('Invalid value passed for start_date: use yyyy-mm-dd');
  const endDate = b.end_date ?? '';
  if (endDate !== '' && (!isIsoDate(endDate) || endDate < startDate)) throw invalidValue('Invalid value passed for end_date');

  const isInclusiveTax = optBool(b, 'is_inclusive_tax') ?? false;
  const totals = computeTotals(state, org.organizationId, b.line_items, currency.precision, isInclusiveTax);
  const customFields = resolveCustomFields(state, org.organizationId, 'recurring_invoice', b.custom_fields);
  assertUniqueValues(state, customFields, inOrg(state.recurring, org.organizationId).map((r) => ({ id: r.recurrenceId, customFields: r.customFields })));
  const paymentTerms = optInt(b, 'payment_terms', 0, 1000) ?? customer.paymentTerms;
  const now = Date.now();
  const profile: RecurringInvoice = {
    ...totals,
    organizationId: org.organizationId,
    recurrenceId: newId(state),
    recurrenceName: name,
    status: 'active',
    customerId: customer.contactId,
    customerName: customer.name,
    currencyId: currency.currencyId,
    currencyCode: currency.code,
    precision: currency.precision,
    exchangeRate: currency.isBase ? 1 : Number(rate),
    isInclusiveTax,
    frequency,
    repeatEvery,
    startDate,
    endDate,
    nextInvoiceDate: startDate,
    lastSentDate: '',
    paymentTerms,
    paymentTermsLabel: optString(b, 'payment_terms_label', 100) ?? (b.payment_terms !== undefined ? termsLabel(paymentTerms) : customer.paymentTermsLabel),
    referenceNumber: optString(b, 'reference_number', 100) ?? '',
    customFields,
    notes: optString(b, 'notes') ?? '',
    terms: optString(b, 'terms') ?? '',
    paymentGateways: gatewaysOf(b) ?? [],
    createdMs: now,
    lastModifiedMs: now,
  };
  state.recurring.set(profile.recurrenceId, profile);
  return profile;
}

export function setRecurringStatus(r: RecurringInvoice, status: 'active' | 'stopped'): void {
  if (r.status === status) return;
  r.status = status;
  r.lastModifiedMs = Date.now();
}

/** Active profiles past their end date read as `expired`, as Zoho shows them. */
export function recurringStatus(r: RecurringInvoice): 'active' | 'stopped' | 'expired' {
  return r.status === 'active' && r.endDate !== '' && r.endDate < today() ? 'expired' : r.status;
}

/** Produces the profile's next invoice now; `send` mirrors the profile's "create and send" mode. */
export function generateFromProfile(ctx: BooksContext, r: RecurringInvoice, send = true): Invoice {
  if (recurringStatus(r) !== 'active') throw invalidValue(`The recurring invoice is ${recurringStatus(r)}.`);
  getContact(ctx, r.customerId);
  const date = today();
  const { invoice } = createInvoice(
    ctx,
    {
      customer_id: r.customerId,
      date,
      payment_terms: r.paymentTerms,
      payment_terms_label: r.paymentTermsLabel,
      reference_number: r.referenceNumber,
      exchange_rate: r.exchangeRate,
      is_inclusive_tax: r.isInclusiveTax,
      notes: r.notes,
      terms: r.terms,
      line_items: r.lineItems.map((l) => ({
        item_id: l.itemId || undefined,
        name: l.name,
        description: l.description,
        rate: l.rate,
        quantity: l.quantity,
        unit: l.unit,
        discount: l.discount,
        tax_id: l.taxId || undefined,
      })),
      custom_fields: customFieldsJson(ctx.state, r.customFields).map((f) => ({ api_name: f.api_name, label: f.label, value: f.value })),
      ...(r.paymentGateways.length ? { payment_options: { payment_gateways: r.paymentGateways.map((gateway_name) => ({ gateway_name })) } } : {}),
    },
    { send, ignoreAutoNumber: false, recurringInvoiceId: r.recurrenceId },
  );
  r.lastSentDate = date;
  r.nextInvoiceDate = addPeriod(r.nextInvoiceDate > date ? r.nextInvoiceDate : date, r.frequency, r.repeatEvery);
  r.lastModifiedMs = Date.now();
  return invoice;
}

/**
 * A profile as Zoho's contract documents it, which differs by answer: the create answer carries line
 * items and custom fields, the read answer line items only, the list custom fields only. The contract
 * documents no status or schedule in any of them (the fake keeps both in its state).
 */
export function recurringJson(ctx: OrgContext, r: RecurringInvoice, answer: 'created' | 'read' | 'listed' = 'read') {
  const core = {
    recurring_invoice_id: r.recurrenceId,
    recurrence_name: r.recurrenceName,
    customer_id: r.customerId,
    customer_name: r.customerName,
    currency_id: r.currencyId,
    currency_code: r.currencyCode,
    start_date: r.startDate,
    end_date: r.endDate,
    next_invoice_date: recurringStatus(r) === 'active' ? r.nextInvoiceDate : '',
    last_sent_date: r.lastSentDate,
  };
  const lineItems = r.lineItems.map((l) => ({
    line_item_id: l.lineItemId,
    name: l.name,
    quantity: l.quantity,
    ...(l.taxId ? { tax_id: l.taxId } : {}),
    item_total: fromMinor(l.itemTotalMinor, r.precision),
  }));
  const customFields = customFieldsJson(ctx.state, r.customFields);
  if (answer === 'listed') return { ...core, custom_fields: customFields };
  // The create and read answers document payment_options; the fake answers it for a profile payable online.
  const options = r.paymentGateways.length ? { payment_options: paymentOptionsJson(ctx.org, r.paymentGateways) } : {};
  if (answer === 'read') return { ...core, reference_number: r.referenceNumber, line_items: lineItems, ...options };
  return { ...core, reference_number: r.referenceNumber, line_items: lineItems, custom_fields: customFields, ...options };
}

export function listRecurring(ctx: OrgContext, query: Record<string, unknown>) {
  const status = typeof query.status === 'string' && query.status !== '' ? query.status : undefined;
  const matching = inOrg(ctx.state.recurring, ctx.org.organizationId).filter(
    (r) =>
      matchesText(r.recurrenceName, query, 'recurrence_name') &&
      matchesText(r.customerName, query, 'customer_name') &&
      matchesId(r.customerId, query, 'customer_id') &&
      (status === undefined || recurringStatus(r) === status),
  );
  const sorted = sortRows(
    matching,
    query,
    {
      created_time: (r) => r.createdMs,
      last_modified_time: (r) => r.lastModifiedMs,
      recurrence_name: (r) => r.recurrenceName.toLowerCase(),
      customer_name: (r) => r.customerName.toLowerCase(),
    },
    { column: 'created_time', order: 'D' },
  );
  const { rows, page_context } = paginate(sorted.rows, query);
  return {
    recurring_invoices: rows.map((r) => recurringJson(ctx, r, 'listed')),
    page_context: { ...page_context, sort_column: sorted.sort_column, sort_order: sorted.sort_order },
  };
}
