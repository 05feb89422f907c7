// Invoice writes: create (with send and manual numbering), update, upsert by a unique custom field,
// email, mark sent, void and delete. Validation follows the reference: the customer must exist, the
// currency is the customer's, exchange_rate is required away from the base currency, numbers are unique.
import { randomBytes } from 'node:crypto';
import { getContact, termsLabel, type OrgContext } from './contacts.js';
import { assertUniqueValues, findCustomField, resolveCustomFields } from './custom-fields.js';
import { ZohoCode, ZohoError, invalidValue, notFound } from './errors.js';
import { bodyObject, optBool, optInt, optString, reqString, type Body } from './fields.js';
import { gatewaysOf } from './gateways.js';
import { balanceMinor } from './invoice-json.js';
import { computeTotals } from './line-items.js';
import { isNumeric } from './money.js';
import { baseCurrency, currencyById } from './settings.js';
import { counters, inOrg, newId, type Contact, type Currency, type Invoice } from './state.js';
import { addDays, isIsoDate, today } from './time.js';

export interface SentEmail {
  invoiceId: string;
  to: string[];
  cc: string[];
  subject: string;
  body: string;
  at: number;
}

export interface BooksContext extends OrgContext {
  emails: SentEmail[];
  /** Host of the customer portal for this data centre, e.g. books.zoho.eu. */
  portalHost: string;
}

export interface CreateOptions {
  send: boolean;
  ignoreAutoNumber: boolean;
  recurringInvoiceId?: string;
  /** Custom field values forced onto the new invoice (the upsert key). */
  extraCustomFields?: Array<{ api_name: string; value: unknown }>;
}

export function getInvoice({ state, org }: OrgContext, invoiceId: string): Invoice {
  const inv = state.invoices.get(invoiceId);
  if (!inv || inv.organizationId !== org.organizationId) throw notFound('Invoice');
  return inv;
}

export function createInvoice(ctx: BooksContext, rawBody: unknown, opts: CreateOptions): { invoice: Invoice; message: string } {
  const b = bodyObject(rawBody);
  const { state, org } = ctx;
  const customer = customerOf(ctx, b);
  const currency = invoiceCurrency(ctx, b, customer);
  const exchangeRate = exchangeRateFor(ctx, b, currency);
  const isInclusiveTax = optBool(b, 'is_inclusive_tax') ?? false;
  const totals = computeTotals(state, org.organizationId, b.line_items, currency.precision, isInclusiveTax);
  const invoiceNumber = opts.ignoreAutoNumber ? manualNumber(ctx, b) : nextInvoiceNumber(ctx);
  const sentFields = b.custom_fields ?? [];
  if (!Array.isArray(sentFields)) throw invalidValue('Invalid value passed for custom_fields');
  const customFields = resolveCustomFields(state, org.organizationId, 'invoice', [...sentFields, ...(opts.extraCustomFields ?? [])]);
  assertUniqueValues(state, customFields, invoicesAsRecords(ctx));
  const dates = datesAndTerms(b, customer);
  const now = Date.now();
  const invoice: Invoice = {
    ...totals,
    organizationId: org.organizationId,
    invoiceId: newId(state),
    invoiceNumber,
    status: 'draft',
    ...dates,
    customerId: customer.contactId,
    customerName: customer.name,
    contactPersonIds: contactPersonIds(b, customer),
    currencyId: currency.currencyId,
    currencyCode: currency.code,
    precision: currency.precision,
    exchangeRate,
    isInclusiveTax,
    referenceNumber: optString(b, 'reference_number', 100) ?? '',
    paidMinor: 0n,
    customFields,
    notes: optString(b, 'notes') ?? '',
    terms: optString(b, 'terms') ?? '',
    invoiceUrl: portalUrl(ctx),
    isEmailed: false,
    lastPaymentDate: '',
    recurringInvoiceId: opts.recurringInvoiceId ?? '',
    paymentGateways: gatewaysOf(b) ?? [],
    createdMs: now,
    lastModifiedMs: now,
  };
  state.invoices.set(invoice.invoiceId, invoice);
  if (!opts.send) return { invoice, message: 'The invoice has been created.' };
  const to = recipients(customer, invoice.contactPersonIds);
  if (to.length === 0)
    return {
      invoice,
      message: 'The invoice has been created. It could not be sent as none of the contact persons has an email address.',
    };
  recordEmail(ctx, invoice, { to, cc: [], subject: '', body: '' });
  return { invoice, message: 'The invoice has been created.' };
}

export function updateInvoice(ctx: BooksContext, inv: Invoice, rawBody: unknown): Invoice {
  const b = bodyObject(rawBody);
  const { state, org } = ctx;
  if (inv.status === 'void') throw invalidValue('A void invoice cannot be edited.');
  const customer = b.customer_id !== undefined ? customerOf(ctx, b) : getContact(ctx, inv.customerId);
  if (customer.contactId !== inv.customerId && inv.paidMinor > 0n)
    throw new ZohoError(400, ZohoCode.invoiceHasPayments, 'The customer of an invoice with payments cannot be changed.');
  const currency = b.currency_id !== undefined || customer.contactId !== inv.customerId ? invoiceCurrency(ctx, b, customer) : currencyOf(ctx, inv);
  const exchangeRate = b.exchange_rate !== undefined || currency.currencyId !== inv.currencyId ? exchangeRateFor(ctx, b, currency) : inv.exchangeRate;
  const isInclusiveTax = optBool(b, 'is_inclusive_tax') ?? inv.isInclusiveTax;
  const totals =
    b.line_items !== undefined || isInclusiveTax !== inv.isInclusiveTax || currency.currencyId !== inv.currencyId
      ? computeTotals(state, org.organizationId, b.line_items ?? lineItemsAsInput(inv), currency.precision, isInclusiveTax, inv.lineItems)
      : undefined;
  if (totals && totals.totalMinor < inv.paidMinor)
    throw new ZohoError(400, ZohoCode.invoiceHasPayments, 'The invoice total cannot be less than the payments received.');
  const invoiceNumber = b.invoice_number !== undefined ? manualNumber(ctx, b, inv.invoiceId) : inv.invoiceNumber;
  const customFields = resolveCustomFields(state, org.organizationId, 'invoice', b.custom_fields, inv.customFields);
  assertUniqueValues(state, customFields, invoicesAsRecords(ctx), inv.invoiceId);
  const paymentGateways = gatewaysOf(b);

  if (totals) Object.assign(inv, totals);
  const dates = datesAndTerms(b, customer, inv);
  Object.assign(inv, dates, {
    invoiceNumber,
    customerId: customer.contactId,
    customerName: customer.name,
    currencyId: currency.currencyId,
    currencyCode: currency.code,
    precision: currency.precision,
    exchangeRate,
    isInclusiveTax,
    customFields,
  });
  if (b.contact_persons !== undefined) inv.contactPersonIds = contactPersonIds(b, customer);
  if (b.reference_number !== undefined) inv.referenceNumber = optString(b, 'reference_number', 100) ?? '';
  if (b.notes !== undefined) inv.notes = optString(b, 'notes') ?? '';
  if (b.terms !== undefined) inv.terms = optString(b, 'terms') ?? '';
  if (paymentGateways !== undefined) inv.paymentGateways = paymentGateways;
  if (inv.paidMinor > 0n) inv.status = balanceMinor(inv) === 0n ? 'paid' : 'partially_paid';
  touch(inv);
  return inv;
}

/**
 * `PUT /invoices` with X-Unique-Identifier-Key/Value: update the invoice holding that value of a custom
 * field set to reject duplicates; with X-Upsert: true create it when none does.
 */
export function upsertInvoice(
  ctx: BooksContext,
  headers: { key?: string; value?: string; upsert: boolean },
  body: unknown,
  opts: Omit<CreateOptions, 'extraCustomFields'>,
): { invoice: Invoice; created: boolean; message: string } {
  if (!headers.key || headers.value === undefined)
    throw invalidValue('X-Unique-Identifier-Key and X-Unique-Identifier-Value headers are required');
  const def = findCustomField(ctx.state, ctx.org.organizationId, 'invoice', headers.key);
  if (!def || def.apiName !== headers.key || !def.unique)
    throw invalidValue(`Invalid value passed for X-Unique-Identifier-Key: ${headers.key} is not a custom field that rejects duplicate values`);
  const existing = inOrg(ctx.state.invoices, ctx.org.organizationId).find((inv) =>
    inv.customFields.some((v) => v.customfieldId === def.customfieldId && String(v.value) === headers.value),
  );
  if (existing) return { invoice: updateInvoice(ctx, existing, body), created: false, message: 'Invoice information has been updated.' };
  if (!headers.upsert) throw notFound('Invoice');
  const result = createInvoice(ctx, body, { ...opts, extraCustomFields: [{ api_name: def.apiName, value: headers.value }] });
  return { ...result, created: true };
}

export function emailInvoice(ctx: BooksContext, inv: Invoice, rawBody: unknown): void {
  const b = bodyObject(rawBody);
  const to = emailList(b, 'to_mail_ids');
  if (to.length === 0) throw invalidValue('to_mail_ids is required');
  if (inv.status === 'void') throw invalidValue('A void invoice cannot be emailed.');
  recordEmail(ctx, inv, {
    to,
    cc: emailList(b, 'cc_mail_ids'),
    subject: optString(b, 'subject') ?? '',
    body: optString(b, 'body') ?? '',
  });
}

export function markSent(inv: Invoice): void {
  if (inv.status === 'void') throw invalidValue('A void invoice cannot be marked as sent.');
  if (isDraft(inv)) {
    inv.status = 'sent';
    touch(inv);
  }
}

/** A draft, submitted for approval or approved: not yet sent. */
export function isDraft(inv: Pick<Invoice, 'status'>): boolean {
  return inv.status === 'draft' || inv.status === 'pending_approval' || inv.status === 'approved';
}

/** POST /invoices/{id}/submit: a draft goes for approval. */
export function submitInvoice(inv: Invoice): void {
  if (inv.status !== 'draft') throw invalidValue('Only a draft invoice can be submitted for approval.');
  inv.status = 'pending_approval';
  touch(inv);
}

/** POST /invoices/{id}/approve: a draft submitted for approval (or a draft, by an approver) is approved. */
export function approveInvoice(inv: Invoice): void {
  if (inv.status !== 'pending_approval' && inv.status !== 'draft') throw invalidValue('Only an invoice waiting for approval can be approved.');
  inv.status = 'approved';
  touch(inv);
}

/** Voiding unapplies payments: they stay with the customer as unused credit, as Zoho describes. */
export function voidInvoice(ctx: OrgContext, inv: Invoice): void {
  if (inv.status === 'void') return;
  for (const payment of ctx.state.payments.values()) {
    const applied = payment.applications.filter((a) => a.invoiceId === inv.invoiceId);
    for (const a of applied) payment.unusedMinor += a.amountMinor;
    if (applied.length) {
      payment.applications = payment.applications.filter((a) => a.invoiceId !== inv.invoiceId);
      payment.lastModifiedMs = Date.now();
    }
  }
  inv.paidMinor = 0n;
  inv.status = 'void';
  touch(inv);
}

export function deleteInvoice(ctx: OrgContext, inv: Invoice): void {
  if (inv.paidMinor > 0n)
    throw new ZohoError(400, ZohoCode.invoiceHasPayments, 'Invoices which have payments or credits applied cannot be deleted.');
  ctx.state.invoices.delete(inv.invoiceId);
}

export function touch(inv: { lastModifiedMs: number }): void {
  // Strictly increasing, so a record changed twice within one millisecond still sorts after itself.
  inv.lastModifiedMs = Math.max(Date.now(), inv.lastModifiedMs + 1);
}

export function recordEmail(ctx: BooksContext, inv: Invoice, mail: Omit<SentEmail, 'invoiceId' | 'at'>): void {
  ctx.emails.push({
    invoiceId: inv.invoiceId,
    ...mail,
    subject: mail.subject || `Invoice - ${inv.invoiceNumber} from ${ctx.org.name}`,
    at: Date.now(),
  });
  inv.isEmailed = true;
  if (isDraft(inv)) inv.status = 'sent';
  touch(inv);
}

function customerOf(ctx: OrgContext, b: Body): Contact {
  const id = optString(b, 'customer_id');
  if (!id) throw invalidValue('customer_id is required');
  const c = ctx.state.contacts.get(id);
  if (!c || c.organizationId !== ctx.org.organizationId || c.contactType !== 'customer')
    throw invalidValue(`Invalid value passed for customer_id: no customer with ID ${id} exists in this organization`);
  return c;
}

function currencyOf(ctx: OrgContext, inv: Invoice): Currency {
  return currencyById(ctx.state, ctx.org.organizationId, inv.currencyId);
}

/** A contact bills in one currency: the invoice takes it; a different currency_id is rejected. */
function invoiceCurrency(ctx: OrgContext, b: Body, customer: Contact): Currency {
  const currency = currencyById(ctx.state, ctx.org.organizationId, customer.currencyId);
  if (b.currency_id !== undefined && String(b.currency_id) !== currency.currencyId)
    throw invalidValue(`Invalid value passed for currency_id: the customer's currency is ${currency.code}`);
  return currency;
}

function exchangeRateFor(ctx: OrgContext, b: Body, currency: Currency): number {
  const raw = b.exchange_rate;
  if (raw !== undefined && raw !== null && (!isNumeric(raw) || Number(raw) <= 0)) throw invalidValue('Invalid value passed for exchange_rate');
  if (currency.isBase) return 1;
  if (raw === undefined || raw === null)
    throw invalidValue(
      `exchange_rate is required for an invoice in ${currency.code} (the base currency is ${baseCurrency(ctx.state, ctx.org).code})`,
    );
  return Number(raw);
}

function datesAndTerms(b: Body, customer: Contact, current?: Invoice) {
  const dateRaw = b.date ?? current?.date ?? today();
  if (!isIsoDate(dateRaw)) throw invalidValue('Invalid value passed for date: use yyyy-mm-dd');
  const terms = optInt(b, 'payment_terms', 0, 1000);
  const paymentTerms = terms ?? current?.paymentTerms ?? customer.paymentTerms;
  const dueRaw = b.due_date ?? (terms === undefined && b.date === undefined ? current?.dueDate : undefined) ?? addDays(dateRaw, paymentTerms);
  if (!isIsoDate(dueRaw)) throw invalidValue('Invalid value passed for due_date: use yyyy-mm-dd');
  if (dueRaw < dateRaw) throw invalidValue('The due date cannot be earlier than the invoice date.');
  const label =
    optString(b, 'payment_terms_label', 100) ??
    (terms !== undefined ? termsLabel(paymentTerms) : (current?.paymentTermsLabel ?? customer.paymentTermsLabel));
  return { date: dateRaw, dueDate: dueRaw, paymentTerms, paymentTermsLabel: label };
}

function manualNumber(ctx: OrgContext, b: Body, selfId?: string): string {
  const n = reqString(b, 'invoice_number', 100).trim();
  const key = n.toLowerCase();
  const clash = inOrg(ctx.state.invoices, ctx.org.organizationId).find((i) => i.invoiceId !== selfId && i.invoiceNumber.toLowerCase() === key);
  if (clash) throw new ZohoError(400, ZohoCode.invoiceNumberExists, 'Invoice number already exists');
  return n;
}

/** INV-000001, … skipping numbers someone already used by hand. */
function nextInvoiceNumber(ctx: OrgContext): string {
  const c = counters(ctx.state, ctx.org.organizationId);
  const used = new Set(inOrg(ctx.state.invoices, ctx.org.organizationId).map((i) => i.invoiceNumber.toLowerCase()));
  for (;;) {
    c.invoice += 1;
    const candidate = `INV-${String(c.invoice).padStart(6, '0')}`;
    if (!used.has(candidate.toLowerCase())) return candidate;
  }
}

function contactPersonIds(b: Body, customer: Contact): string[] {
  if (b.contact_persons === undefined || b.contact_persons === null) return customer.persons.filter((p) => p.email).map((p) => p.contactPersonId);
  if (!Array.isArray(b.contact_persons)) throw invalidValue('Invalid value passed for contact_persons');
  return b.contact_persons.map((raw) => {
    const id = String(raw);
    if (!customer.persons.some((p) => p.contactPersonId === id)) throw invalidValue(`Invalid value passed for contact_persons: ${id}`);
    return id;
  });
}

function recipients(customer: Contact, personIds: string[]): string[] {
  return customer.persons.filter((p) => p.email && personIds.includes(p.contactPersonId)).map((p) => p.email);
}

function emailList(b: Body, field: string): string[] {
  const v = b[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(x)))
    throw invalidValue(`Invalid value passed for ${field}`);
  return v as string[];
}

function lineItemsAsInput(inv: Invoice) {
  return inv.lineItems.map((l) => ({
    line_item_id: l.lineItemId,
    item_id: l.itemId,
    name: l.name,
    description: l.description,
    rate: l.rate,
    quantity: l.quantity,
    unit: l.unit,
    discount: l.discount,
    tax_id: l.taxId,
  }));
}

function invoicesAsRecords(ctx: OrgContext) {
  return inOrg(ctx.state.invoices, ctx.org.organizationId).map((i) => ({ id: i.invoiceId, customFields: i.customFields }));
}

/**
 * A customer-portal link shaped like Zoho's, with characters that break naive handling (`%2B`, `&`, `=`)
 * so tests can check it survives storage and rendering byte for byte.
 */
function portalUrl(ctx: BooksContext): string {
  const id = randomBytes(32).toString('hex');
  const token = `${randomBytes(6).toString('base64url')}%2B${randomBytes(6).toString('base64url')}%2F%3D`;
  return `https://${ctx.portalHost}/portal/${ctx.org.portalName}/secure?CInvoiceID=2-${id}&token=${token}`;
}
