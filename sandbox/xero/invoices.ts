// Invoices as Xero keeps them: create (PUT), update and status transitions (POST), email, online link and
// payments. Validation problems are collected per invoice, in Xero's words, and thrown as ElementInvalid.
import { randomBytes, randomUUID } from 'node:crypto';
import type { XeroContext } from './context.js';
import { ElementInvalid, refuse } from './errors.js';
import { buildLines, currencyOf, lineAmountTypesOf } from './lines.js';
import type { Contact, Invoice, InvoiceStatus, Payment, Tenant } from './state.js';
import { GUID, brandingThemeOf, round2 } from './state.js';
import { parseXeroDate, startOfDay } from './time.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which status an invoice may move to from which (developer.xero.com/documentation/api/invoices). */
const TRANSITIONS: Record<InvoiceStatus, InvoiceStatus[]> = {
  DRAFT: ['DRAFT', 'SUBMITTED', 'AUTHORISED', 'DELETED'],
  SUBMITTED: ['DRAFT', 'SUBMITTED', 'AUTHORISED', 'DELETED'],
  AUTHORISED: ['AUTHORISED', 'VOIDED'],
  PAID: ['PAID'],
  VOIDED: ['VOIDED'],
  DELETED: ['DELETED'],
};
const CREATE_STATUSES: InvoiceStatus[] = ['DRAFT', 'SUBMITTED', 'AUTHORISED'];

export function findContact(ctx: XeroContext, tenant: Tenant, ref: unknown): Contact | undefined {
  if (!isObject(ref)) return undefined;
  const all = [...ctx.state.contacts.values()].filter((c) => c.tenantId === tenant.tenantId);
  const id = ref.ContactID;
  if (typeof id === 'string') return all.find((c) => c.contactId === id.toLowerCase());
  if (typeof ref.ContactNumber === 'string') return all.find((c) => c.contactNumber === ref.ContactNumber);
  return undefined;
}

/** An invoice by InvoiceID or, as Xero also accepts in the path, by InvoiceNumber. */
export function findInvoice(ctx: XeroContext, tenant: Tenant, idOrNumber: string): Invoice | undefined {
  if (GUID.test(idOrNumber)) {
    const inv = ctx.state.invoices.get(idOrNumber.toLowerCase());
    return inv?.tenantId === tenant.tenantId ? inv : undefined;
  }
  return [...ctx.state.invoices.values()].find((i) => i.tenantId === tenant.tenantId && i.invoiceNumber === idOrNumber);
}

function nextNumber(ctx: XeroContext, tenant: Tenant): string {
  const taken = new Set([...ctx.state.invoices.values()].filter((i) => i.tenantId === tenant.tenantId).map((i) => i.invoiceNumber));
  let n: string;
  do n = `INV-${String(++tenant.invoiceSeq).padStart(4, '0')}`;
  while (taken.has(n));
  return n;
}

function dateField(input: Json, key: string, messages: string[]): number | undefined {
  if (input[key] === undefined || input[key] === null || input[key] === '') return undefined;
  const ms = parseXeroDate(input[key]);
  if (ms === undefined) messages.push(`${key} is not a valid date.`);
  return ms === undefined ? undefined : startOfDay(ms);
}

export function createInvoice(ctx: XeroContext, tenant: Tenant, input: Json, extra: Partial<Invoice> = {}): Invoice {
  return planCreateInvoice(ctx, tenant, input, extra)();
}

/** Checks a new invoice; the returned function stores it (so a batch can be refused as a whole first). */
export function planCreateInvoice(ctx: XeroContext, tenant: Tenant, input: Json, extra: Partial<Invoice> = {}): () => Invoice {
  const messages: string[] = [];
  const type = input.Type ?? 'ACCREC';
  if (type !== 'ACCREC' && type !== 'ACCPAY') messages.push('Invoice Type must be ACCREC or ACCPAY.');
  const contact = findContact(ctx, tenant, input.Contact);
  if (!contact) messages.push(isObject(input.Contact) ? 'The contact could not be found.' : 'A Contact must be specified for this type of transaction.');
  const status = (input.Status ?? 'DRAFT') as InvoiceStatus;
  if (!CREATE_STATUSES.includes(status)) messages.push(`Invoice Status must be one of ${CREATE_STATUSES.join(', ')} when it is created.`);
  const dateMs = dateField(input, 'Date', messages) ?? startOfDay(ctx.clock.now());
  const dueDateMs = dateField(input, 'DueDate', messages);
  if (status !== 'DRAFT' && dueDateMs === undefined) messages.push('Due Date is required for an invoice that is not a draft.');
  const currencyCode = currencyOf(tenant, input.CurrencyCode, messages);
  const lineAmountTypes = lineAmountTypesOf(input.LineAmountTypes, messages);
  const totals = buildLines(tenant, input.LineItems, lineAmountTypes, messages);
  if (status !== 'DRAFT' && totals.lineItems.length === 0) messages.push('At least one line item is required for an approved invoice.');
  const brandingThemeId = themeOf(tenant, input, messages);
  const invoiceNumber = typeof input.InvoiceNumber === 'string' && input.InvoiceNumber !== '' ? input.InvoiceNumber : undefined;
  if (invoiceNumber && [...ctx.state.invoices.values()].some((i) => i.tenantId === tenant.tenantId && i.type === type && i.invoiceNumber === invoiceNumber)) {
    messages.push('Invoice # must be unique.');
  }
  if (messages.length > 0) throw new ElementInvalid(messages);
  return () => {
    const inv: Invoice = {
      tenantId: tenant.tenantId,
      invoiceId: randomUUID(),
      type: type as Invoice['type'],
      contactId: contact!.contactId,
      invoiceNumber: invoiceNumber ?? nextNumber(ctx, tenant),
      ...(typeof input.Reference === 'string' && type === 'ACCREC' ? { reference: input.Reference } : {}),
      dateMs,
      ...(dueDateMs !== undefined ? { dueDateMs } : {}),
      status,
      lineAmountTypes,
      currencyCode,
      ...totals,
      amountPaid: 0,
      sentToContact: input.SentToContact === true && status === 'AUTHORISED',
      paymentIds: [],
      ...(brandingThemeId ? { brandingThemeId } : {}),
      createdByApp: true,
      updatedMs: ctx.clock.now(),
      ...extra,
    };
    ctx.state.invoices.set(inv.invoiceId, inv);
    ctx.invoiceChanged(inv, 'CREATE');
    return inv;
  };
}

/** Checks a change to an invoice; the returned function applies it. */
export function planUpdateInvoice(ctx: XeroContext, tenant: Tenant, inv: Invoice, input: Json): () => Invoice {
  const messages: string[] = [];
  const to = (input.Status ?? inv.status) as InvoiceStatus;
  if (!TRANSITIONS[inv.status].includes(to) || inv.status === 'VOIDED' || inv.status === 'DELETED') {
    throw new ElementInvalid([
      to !== inv.status && (to === 'VOIDED' || to === 'DELETED')
        ? `Invoice with status ${inv.status} cannot be ${to === 'VOIDED' ? 'voided' : 'deleted'}.`
        : 'Invoice not of valid status for modification',
    ]);
  }
  if (to === 'VOIDED' && inv.amountPaid > 0) messages.push('This document cannot be voided as it has a payment or credit note allocated to it.');
  const editable = inv.status === 'DRAFT' || inv.status === 'SUBMITTED' || (inv.status === 'AUTHORISED' && inv.amountPaid === 0);
  const edits = ['Contact', 'LineItems', 'CurrencyCode', 'LineAmountTypes', 'Date', 'DueDate'].filter((k) => input[k] !== undefined);
  if (edits.length > 0 && !editable) messages.push('Invoice not of valid status for modification');
  const contact = input.Contact === undefined ? undefined : findContact(ctx, tenant, input.Contact);
  if (input.Contact !== undefined && !contact) messages.push('The contact could not be found.');
  const lineAmountTypes = input.LineAmountTypes === undefined ? inv.lineAmountTypes : lineAmountTypesOf(input.LineAmountTypes, messages);
  const totals = input.LineItems === undefined && input.LineAmountTypes === undefined ? undefined : buildLines(tenant, input.LineItems ?? inv.lineItems.map(lineInput), lineAmountTypes, messages);
  const currencyCode = input.CurrencyCode === undefined ? inv.currencyCode : currencyOf(tenant, input.CurrencyCode, messages);
  const dateMs = dateField(input, 'Date', messages);
  const dueDateMs = dateField(input, 'DueDate', messages);
  if (to !== 'DRAFT' && to !== 'DELETED' && (dueDateMs ?? inv.dueDateMs) === undefined) messages.push('Due Date is required for an invoice that is not a draft.');
  if (input.SentToContact === true && to !== 'AUTHORISED') messages.push('SentToContact can only be set on an approved invoice.');
  const brandingThemeId = themeOf(tenant, input, messages);
  if (messages.length > 0) throw new ElementInvalid(messages);

  return () => {
    if (contact) inv.contactId = contact.contactId;
    if (totals) Object.assign(inv, totals, { lineAmountTypes });
    inv.currencyCode = currencyCode;
    if (dateMs !== undefined) inv.dateMs = dateMs;
    if (dueDateMs !== undefined) inv.dueDateMs = dueDateMs;
    if (typeof input.Reference === 'string') inv.reference = input.Reference;
    if (typeof input.InvoiceNumber === 'string' && input.InvoiceNumber !== '') inv.invoiceNumber = input.InvoiceNumber;
    if (input.SentToContact === true) inv.sentToContact = true;
    if (brandingThemeId) inv.brandingThemeId = brandingThemeId;
    inv.status = to;
    inv.updatedMs = ctx.clock.now();
    ctx.invoiceChanged(inv, 'UPDATE');
    return inv;
  };
}

/**
 * The BrandingThemeID an invoice or template asks for, when it is one of the organisation's themes; absent:
 * undefined (the default theme). Xero's words for an unknown one are unconfirmed.
 */
export function themeOf(tenant: Tenant, input: Json, messages: string[]): string | undefined {
  if (input.BrandingThemeID === undefined || input.BrandingThemeID === null || input.BrandingThemeID === '') return undefined;
  const theme = brandingThemeOf(tenant, input.BrandingThemeID);
  if (!theme) messages.push('Branding theme could not be found.');
  return theme?.brandingThemeId;
}

const lineInput = (l: Invoice['lineItems'][number]): Json => ({
  Description: l.description, Quantity: l.quantity, UnitAmount: l.unitAmount, AccountCode: l.accountCode, TaxType: l.taxType, ItemCode: l.itemCode,
});

/** POST /Invoices/{id}/Email: only approved sales invoices, to the contact's address. */
export function emailInvoice(ctx: XeroContext, inv: Invoice, via: 'api' | 'schedule' = 'api'): void {
  const element = { InvoiceID: inv.invoiceId };
  if (inv.type !== 'ACCREC' || !['SUBMITTED', 'AUTHORISED', 'PAID'].includes(inv.status)) {
    throw refuse('Invoice not of valid status for sending', element);
  }
  const contact = ctx.state.contacts.get(inv.contactId);
  if (!contact?.email) throw refuse('The contact does not have a valid email address', element);
  const today = startOfDay(ctx.clock.now());
  const sentToday = ctx.state.emails.filter((e) => e.tenantId === inv.tenantId && e.at >= today).length;
  if (ctx.emailDailyLimit !== undefined && sentToday >= ctx.emailDailyLimit) throw refuse('Daily email limit reached for this organisation', element);
  ctx.state.emails.push({ tenantId: inv.tenantId, invoiceId: inv.invoiceId, invoiceNumber: inv.invoiceNumber, to: contact.email, at: ctx.clock.now(), via });
  if (!inv.sentToContact) {
    inv.sentToContact = true;
    inv.updatedMs = ctx.clock.now();
    ctx.invoiceChanged(inv, 'UPDATE');
  }
}

/** The customer-facing link; not for invoices that are not approved (unconfirmed for DRAFT). */
export function onlineInvoiceUrl(inv: Invoice): string {
  if (!['AUTHORISED', 'PAID', 'VOIDED'].includes(inv.status)) {
    throw refuse('An online invoice is only available for an approved invoice', { InvoiceID: inv.invoiceId });
  }
  inv.onlineToken ??= randomBytes(30).toString('base64url').replace(/[-_]/g, 'x');
  return `https://in.xero.com/${inv.onlineToken}`;
}

export function recordPayment(ctx: XeroContext, inv: Invoice, p: { amount: number; dateMs?: number; reference?: string }): Payment {
  const due = round2(inv.total - inv.amountPaid);
  if (inv.status !== 'AUTHORISED') throw refuse('Payment can only be made against an approved invoice', { InvoiceID: inv.invoiceId });
  if (!(p.amount > 0) || round2(p.amount) > due) throw refuse(`Payment amount must be between 0.01 and the amount due (${due})`, { InvoiceID: inv.invoiceId });
  const now = ctx.clock.now();
  const payment: Payment = {
    tenantId: inv.tenantId,
    paymentId: randomUUID(),
    invoiceId: inv.invoiceId,
    dateMs: startOfDay(p.dateMs ?? now),
    amount: round2(p.amount),
    ...(p.reference !== undefined ? { reference: p.reference } : {}),
    status: 'AUTHORISED',
    updatedMs: now,
  };
  ctx.state.payments.set(payment.paymentId, payment);
  inv.paymentIds.push(payment.paymentId);
  inv.amountPaid = round2(inv.amountPaid + payment.amount);
  if (round2(inv.total - inv.amountPaid) === 0) {
    inv.status = 'PAID';
    inv.fullyPaidOnMs = payment.dateMs;
  }
  inv.updatedMs = now;
  ctx.invoiceChanged(inv, 'UPDATE');
  return payment;
}

/** A DELETED payment reopens its invoice. */
export function deletePayment(ctx: XeroContext, payment: Payment): void {
  if (payment.status === 'DELETED') throw refuse('The payment has already been deleted');
  const inv = ctx.state.invoices.get(payment.invoiceId)!;
  payment.status = 'DELETED';
  payment.updatedMs = ctx.clock.now();
  inv.amountPaid = round2(inv.amountPaid - payment.amount);
  if (inv.status === 'PAID') {
    inv.status = 'AUTHORISED';
    delete inv.fullyPaidOnMs;
  }
  inv.updatedMs = ctx.clock.now();
  ctx.invoiceChanged(inv, 'UPDATE');
}
