// What Wave does with a mutation's input, apart from GraphQL: checks (a refusal is `inputErrors`, or "no
// inputErrors" for an ID of another business — reference "Auth"), then the change, with modifiedAt moved on
// every change. Invoices: DRAFT or SAVED at creation (default DRAFT), number default highest + 1, lines need a
// sellable product, line taxes omitted = the product's defaults and [] = none, one discount at most, approve
// DRAFT → SAVED, send needs an approved invoice and Business.emailSendEnabled, payments move amountPaid /
// amountDue and the status (PARTIAL, PAID, OVERPAID) (reference "Invoices", "Payments").
import { applyRate, currencyInfo, divRound, isDecimal, productMinor, scaled, toMinor } from './money.js';
import { isDate, isDateTime } from './schema.js';
import { childId, type Address, type Business, type Customer, type Invoice, type InvoiceItem, type Payment, type Product, type WaveState } from './state.js';

export interface InputErrorOut {
  path: string[];
  message: string;
  code: string;
}

/** A refusal: `inputErrors` (may be empty: Wave's answer for an ID of another business). */
export class Refusal {
  constructor(readonly inputErrors: InputErrorOut[]) {}
}

export interface RecordsContext {
  state: WaveState;
  now: () => number;
  rejectDuplicateInvoiceNumbers: boolean;
}

type Obj = Record<string, unknown>;

const DAY_MS = 86_400_000;
export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const addDays = (day: string, days: number): string => isoDay(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const trimmed = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

class Checks {
  readonly errors: InputErrorOut[] = [];
  add(path: Array<string | number>, message: string, code = 'INVALID'): void {
    if (this.errors.length < 50) this.errors.push({ path: path.map(String), message, code });
  }
  done(): void {
    if (this.errors.length) throw new Refusal(this.errors);
  }
}

/** An ID of another business (or of nothing): Wave answers didSucceed false without inputErrors. */
const foreign = (): never => {
  throw new Refusal([]);
};

// ---- Customers ----

const PROVINCE = /^[A-Z]{2}-[A-Z0-9]{1,3}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

function address(input: unknown, path: string[], c: Checks): Address | null {
  if (input === undefined || input === null) return null;
  const a = input as Obj;
  const fields = ['addressLine1', 'addressLine2', 'city', 'provinceCode', 'countryCode', 'postalCode'] as const;
  if (fields.every((f) => a[f] === undefined || a[f] === null || a[f] === '')) {
    c.add(path, 'Address has no values: omit it instead.', 'INVALID');
    return null;
  }
  const province = str(a.provinceCode);
  if (province !== null && province !== '' && !PROVINCE.test(province)) c.add([...path, 'provinceCode'], `"${province.slice(0, 20)}" is not an ISO 3166-2 code (e.g. CA-QC).`);
  else if (province && str(a.countryCode) && !province.startsWith(`${a.countryCode}-`)) c.add([...path, 'provinceCode'], 'Province is not in the country.');
  return {
    addressLine1: str(a.addressLine1),
    addressLine2: str(a.addressLine2),
    city: str(a.city),
    provinceCode: province,
    countryCode: str(a.countryCode),
    postalCode: str(a.postalCode),
  };
}

export function createCustomer(ctx: RecordsContext, b: Business, input: Obj): Customer {
  const c = new Checks();
  const name = trimmed(input.name);
  if (!name) c.add(['input', 'name'], 'Name is required.', 'REQUIRED');
  const email = trimmed(input.email);
  if (email && !EMAIL.test(email)) c.add(['input', 'email'], 'Enter a valid email address.');
  const addr = address(input.address, ['input', 'address'], c);
  const ship = input.shippingDetails as Obj | undefined | null;
  const shipAddress = ship ? address(ship.address, ['input', 'shippingDetails', 'address'], c) : null;
  c.done();
  const now = ctx.now();
  const customer: Customer = {
    id: childId(b, 'Customer'),
    businessId: b.id,
    name: name!,
    firstName: str(input.firstName),
    lastName: str(input.lastName),
    displayId: str(input.displayId),
    email,
    mobile: str(input.mobile),
    phone: str(input.phone),
    website: str(input.website),
    internalNotes: str(input.internalNotes),
    currency: str(input.currency) ?? b.currency,
    address: addr,
    shippingDetails: ship ? { name: str(ship.name), address: shipAddress, phone: str(ship.phone), instructions: str(ship.instructions) } : null,
    isArchived: false,
    createdMs: now,
    modifiedMs: now,
  };
  ctx.state.customers.set(customer.id, customer);
  return customer;
}

// ---- Products ----

const SELLABLE_SUBTYPES = new Set(['INCOME', 'DISCOUNTS', 'OTHER_INCOME']);

export function createProduct(ctx: RecordsContext, b: Business, input: Obj): Product {
  const c = new Checks();
  const name = trimmed(input.name);
  if (!name) c.add(['input', 'name'], 'Name is required.', 'REQUIRED');
  const unitPrice = scaled(input.unitPrice as string);
  if (unitPrice < 0n) c.add(['input', 'unitPrice'], 'Price cannot be negative.');
  let incomeAccountId: string | null = null;
  if (typeof input.incomeAccountId === 'string') {
    const account = ctx.state.accounts.get(input.incomeAccountId);
    if (!account || account.businessId !== b.id) foreign();
    else if (!SELLABLE_SUBTYPES.has(account.subtype)) c.add(['input', 'incomeAccountId'], 'Account must be one of subtypes: INCOME, DISCOUNTS, OTHER_INCOME.');
    else if (account.isArchived) c.add(['input', 'incomeAccountId'], 'Account is archived.');
    incomeAccountId = input.incomeAccountId;
  }
  const taxIds = Array.isArray(input.defaultSalesTaxIds) ? (input.defaultSalesTaxIds as string[]) : [];
  for (const id of taxIds) {
    const t = ctx.state.salesTaxes.get(id);
    if (!t || t.businessId !== b.id) foreign();
  }
  c.done();
  const now = ctx.now();
  const product: Product = {
    id: childId(b, 'Product'),
    businessId: b.id,
    name: name!,
    description: str(input.description),
    unitPrice,
    incomeAccountId,
    defaultSalesTaxIds: [...new Set(taxIds)],
    isArchived: false,
    createdMs: now,
    modifiedMs: now,
  };
  ctx.state.products.set(product.id, product);
  return product;
}

// ---- Invoices ----

/** Rate of a sales tax on a day (the latest rate effective on or before it). */
export function rateOn(rates: Array<{ effective: string; rate: bigint }>, day: string): bigint {
  let rate = rates[0]?.rate ?? 0n;
  for (const r of rates) if (r.effective <= day) rate = r.rate;
  return rate;
}

interface Draft {
  customerId: string;
  currency: string;
  exchangeRate: bigint;
  invoiceNumber: string | null;
  invoiceDate: string;
  dueDate: string | null;
  items: InvoiceItem[];
  discount: { type: string; value: bigint } | null;
}

const MAX_ITEMS = 500;

/** The lines of an invoice input, checked; taxes omitted = the product's defaults, [] = none. */
function readItems(ctx: RecordsContext, b: Business, raw: unknown, day: string, c: Checks): InvoiceItem[] {
  const list = Array.isArray(raw) ? (raw as Obj[]) : [];
  if (list.length > MAX_ITEMS) c.add(['input', 'items'], `At most ${MAX_ITEMS} items.`);
  const items: InvoiceItem[] = [];
  list.slice(0, MAX_ITEMS).forEach((it, i) => {
    const path = ['input', 'items', String(i)];
    const product = ctx.state.products.get(String(it.productId));
    if (!product || product.businessId !== b.id) return foreign();
    if (product.isArchived) c.add([...path, 'productId'], 'Product is archived.');
    if (!product.incomeAccountId) c.add([...path, 'productId'], 'Product is not sold: it has no income account.');
    const quantity = it.quantity === undefined || it.quantity === null ? scaled('1') : scaled(it.quantity as string);
    if (quantity < 0n) c.add([...path, 'quantity'], 'Quantity cannot be negative.');
    const unitPrice = it.unitPrice === undefined || it.unitPrice === null ? product.unitPrice : scaled(it.unitPrice as string);
    let salesTaxIds: string[];
    if (it.taxes === undefined || it.taxes === null) salesTaxIds = product.defaultSalesTaxIds;
    else {
      salesTaxIds = [];
      (it.taxes as Obj[]).forEach((t, j) => {
        const tax = ctx.state.salesTaxes.get(String(t.salesTaxId));
        if (!tax || tax.businessId !== b.id) return foreign();
        if (tax.isArchived) c.add([...path, 'taxes', String(j), 'salesTaxId'], `Sales tax ${tax.name} is archived.`);
        if (salesTaxIds.includes(tax.id)) c.add([...path, 'taxes', String(j), 'salesTaxId'], 'The same sales tax twice on one item.');
        salesTaxIds.push(tax.id);
      });
    }
    items.push({
      productId: product.id,
      description: it.description === undefined ? product.description : str(it.description),
      quantity,
      unitPrice,
      salesTaxIds,
      subtotalMinor: 0n,
      taxes: salesTaxIds.map((id) => ({ salesTaxId: id, rate: rateOn(ctx.state.salesTaxes.get(id)!.rates, day), amountMinor: 0n })),
    });
  });
  return items;
}

function readDiscount(raw: unknown, c: Checks): Draft['discount'] {
  const list = Array.isArray(raw) ? (raw as Obj[]) : [];
  if (list.length === 0) return null;
  if (list.length > 1) c.add(['input', 'discounts'], 'At most one discount.');
  const d = list[0]!;
  if (d.discountType === 'FIXED') {
    if (!isDecimal(d.amount) || scaled(d.amount) <= 0n) c.add(['input', 'discounts', '0', 'amount'], 'A FIXED discount needs a positive amount.');
    else return { type: 'FIXED', value: scaled(d.amount) };
  } else {
    if (!isDecimal(d.percentage) || scaled(d.percentage) <= 0n || scaled(d.percentage) > scaled('100')) c.add(['input', 'discounts', '0', 'percentage'], 'A PERCENTAGE discount needs a percentage above 0 and at most 100.');
    else return { type: 'PERCENTAGE', value: scaled(d.percentage) };
  }
  return null;
}

/** Line subtotals, the discount spread over the lines in proportion, taxes on what is left (compound last). */
function computeTotals(ctx: RecordsContext, inv: Pick<Invoice, 'items' | 'currency'>, discount: Draft['discount'], c: Checks): { discountMinor: bigint; subtotalMinor: bigint; taxTotalMinor: bigint; totalMinor: bigint } {
  const exp = currencyInfo(inv.currency).exponent;
  let subtotal = 0n;
  for (const item of inv.items) {
    item.subtotalMinor = productMinor(item.quantity, item.unitPrice, exp);
    subtotal += item.subtotalMinor;
  }
  let discountMinor = 0n;
  if (discount) discountMinor = discount.type === 'FIXED' ? toMinor(discount.value, exp) : divRound(subtotal * discount.value, scaled('100'));
  if (discountMinor > subtotal) c.add(['input', 'discounts', '0'], 'The discount is more than the subtotal.');
  let taxTotal = 0n;
  let spread = 0n;
  inv.items.forEach((item, i) => {
    const share = i === inv.items.length - 1 ? discountMinor - spread : subtotal === 0n ? 0n : divRound(discountMinor * item.subtotalMinor, subtotal);
    spread += share;
    const base = item.subtotalMinor - share;
    let simple = 0n;
    for (const t of item.taxes) {
      if (ctx.state.salesTaxes.get(t.salesTaxId)?.isCompound) continue;
      t.amountMinor = applyRate(base, t.rate);
      simple += t.amountMinor;
    }
    for (const t of item.taxes) if (ctx.state.salesTaxes.get(t.salesTaxId)?.isCompound) t.amountMinor = applyRate(base + simple, t.rate);
    taxTotal += item.taxes.reduce((s, t) => s + t.amountMinor, 0n);
  });
  const total = subtotal - discountMinor + taxTotal;
  if (total < 0n) c.add(['input', 'items'], 'The invoice total cannot be negative.');
  return { discountMinor, subtotalMinor: subtotal, taxTotalMinor: taxTotal, totalMinor: total };
}

/** The business's highest all-digit invoice number plus one ("1" for the first). */
export function nextInvoiceNumber(state: WaveState, b: Business): string {
  let max = 0n;
  for (const inv of state.invoices.values()) if (inv.businessId === b.id && /^\d{1,30}$/.test(inv.invoiceNumber) && BigInt(inv.invoiceNumber) > max) max = BigInt(inv.invoiceNumber);
  return String(max + 1n);
}

function numberTaken(state: WaveState, b: Business, number: string, except?: string): boolean {
  for (const inv of state.invoices.values()) if (inv.businessId === b.id && inv.id !== except && inv.invoiceNumber === number) return true;
  return false;
}

function checkCustomer(ctx: RecordsContext, b: Business, id: unknown): Customer {
  const customer = ctx.state.customers.get(String(id));
  if (!customer || customer.businessId !== b.id) return foreign();
  return customer;
}

function readCurrency(b: Business, input: Obj, c: Checks, current?: { currency: string; exchangeRate: bigint }): { currency: string; exchangeRate: bigint } {
  const currency = str(input.currency) ?? current?.currency ?? b.currency;
  let exchangeRate = input.exchangeRate !== undefined && input.exchangeRate !== null ? scaled(input.exchangeRate as string) : currency === current?.currency ? current.exchangeRate : undefined;
  if (currency === b.currency) exchangeRate ??= scaled('1');
  if (exchangeRate === undefined) c.add(['input', 'exchangeRate'], `An exchange rate to ${b.currency} is required for an invoice in ${currency}.`, 'REQUIRED');
  else if (exchangeRate <= 0n) c.add(['input', 'exchangeRate'], 'The exchange rate must be positive.');
  return { currency, exchangeRate: exchangeRate ?? scaled('1') };
}

export function createInvoice(ctx: RecordsContext, b: Business, input: Obj, opts: { sourceId?: string } = {}): Invoice {
  const c = new Checks();
  if (b.isClassicInvoicing) c.add(['input', 'businessId'], 'This business uses classic invoicing: invoices cannot be created through the API.', 'NOT_ALLOWED');
  checkCustomer(ctx, b, input.customerId);
  const now = ctx.now();
  const invoiceDate = str(input.invoiceDate) ?? isoDay(now);
  const dueDate = str(input.dueDate) ?? addDays(invoiceDate, b.paymentTermsDays);
  if (dueDate < invoiceDate) c.add(['input', 'dueDate'], 'The due date is before the invoice date.');
  const { currency, exchangeRate } = readCurrency(b, input, c);
  let invoiceNumber = input.invoiceNumber === undefined || input.invoiceNumber === null ? nextInvoiceNumber(ctx.state, b) : String(input.invoiceNumber).trim();
  if (invoiceNumber === '') c.add(['input', 'invoiceNumber'], 'The invoice number cannot be empty.');
  if (invoiceNumber.length > 100) {
    c.add(['input', 'invoiceNumber'], 'The invoice number is longer than 100 characters.');
    invoiceNumber = invoiceNumber.slice(0, 100);
  }
  if (ctx.rejectDuplicateInvoiceNumbers && numberTaken(ctx.state, b, invoiceNumber)) c.add(['input', 'invoiceNumber'], `Invoice number ${invoiceNumber} is already used.`, 'DUPLICATE');
  const items = readItems(ctx, b, input.items, invoiceDate, c);
  const discount = readDiscount(input.discounts, c);
  const totals = computeTotals(ctx, { items, currency }, discount, c);
  c.done();
  ctx.state.invoiceSeq += 1;
  const inv: Invoice = {
    id: childId(b, 'Invoice'),
    businessId: b.id,
    customerId: String(input.customerId),
    baseStatus: input.status === 'SAVED' ? 'SAVED' : 'DRAFT',
    invoiceNumber,
    title: str(input.title) ?? 'Invoice',
    subhead: str(input.subhead),
    poNumber: str(input.poNumber),
    invoiceDate,
    dueDate,
    currency,
    exchangeRate,
    memo: str(input.memo),
    footer: str(input.footer),
    // Not given: the business's default invoice settings (the fake's: payable by whatever it accepts).
    disableCreditCardPayments: input.disableCreditCardPayments === true,
    disableBankPayments: input.disableBankPayments === true,
    disableAmexPayments: input.disableAmexPayments === true,
    items,
    ...totals,
    paymentIds: [],
    lastSentMs: null,
    lastSentVia: null,
    lastViewedMs: null,
    sourceId: opts.sourceId ?? null,
    createdMs: now,
    modifiedMs: now,
    seq: ctx.state.invoiceSeq,
  };
  ctx.state.invoices.set(inv.id, inv);
  return inv;
}

export function paidMinor(state: WaveState, inv: Invoice): bigint {
  const exp = currencyInfo(inv.currency).exponent;
  let paid = 0n;
  for (const id of inv.paymentIds) {
    const p = state.payments.get(id);
    if (p) paid += toMinor(p.amount, exp);
  }
  return paid;
}

/** Only the fields given change; `items` replaces every line. Not once a payment is recorded. */
export function patchInvoice(ctx: RecordsContext, b: Business, inv: Invoice, input: Obj): Invoice {
  const c = new Checks();
  if (inv.paymentIds.length > 0) c.add(['input', 'id'], 'An invoice with payments cannot be edited.', 'NOT_ALLOWED');
  if (input.customerId !== undefined && input.customerId !== null) checkCustomer(ctx, b, input.customerId);
  if (input.status === 'DRAFT' && inv.baseStatus !== 'DRAFT') c.add(['input', 'status'], 'An approved invoice cannot go back to draft.', 'NOT_ALLOWED');
  const invoiceDate = str(input.invoiceDate) ?? inv.invoiceDate;
  const dueDate = str(input.dueDate) ?? inv.dueDate;
  if (dueDate < invoiceDate) c.add(['input', 'dueDate'], 'The due date is before the invoice date.');
  const { currency, exchangeRate } = readCurrency(b, input, c, inv);
  const invoiceNumber = typeof input.invoiceNumber === 'string' ? input.invoiceNumber.trim() : inv.invoiceNumber;
  if (invoiceNumber === '' || invoiceNumber.length > 100) c.add(['input', 'invoiceNumber'], 'The invoice number must have 1 to 100 characters.');
  if (ctx.rejectDuplicateInvoiceNumbers && invoiceNumber !== inv.invoiceNumber && numberTaken(ctx.state, b, invoiceNumber, inv.id)) c.add(['input', 'invoiceNumber'], `Invoice number ${invoiceNumber} is already used.`, 'DUPLICATE');
  const items = Array.isArray(input.items) ? readItems(ctx, b, input.items, invoiceDate, c) : inv.items.map((i) => ({ ...i, taxes: i.taxes.map((t) => ({ ...t })) }));
  const discount = Array.isArray(input.discounts) ? readDiscount(input.discounts, c) : inv.discountMinor > 0n ? { type: 'FIXED', value: scaled(`${inv.discountMinor}`) / 10n ** BigInt(currencyInfo(inv.currency).exponent) } : null;
  const totals = computeTotals(ctx, { items, currency }, discount, c);
  c.done();
  Object.assign(inv, {
    customerId: input.customerId ? String(input.customerId) : inv.customerId,
    baseStatus: input.status === 'SAVED' && inv.baseStatus === 'DRAFT' ? 'SAVED' : inv.baseStatus,
    invoiceNumber,
    title: str(input.title) ?? inv.title,
    subhead: input.subhead !== undefined ? str(input.subhead) : inv.subhead,
    poNumber: input.poNumber !== undefined ? str(input.poNumber) : inv.poNumber,
    invoiceDate,
    dueDate,
    currency,
    exchangeRate,
    memo: input.memo !== undefined ? str(input.memo) : inv.memo,
    footer: input.footer !== undefined ? str(input.footer) : inv.footer,
    disableCreditCardPayments: flag(input.disableCreditCardPayments, inv.disableCreditCardPayments),
    disableBankPayments: flag(input.disableBankPayments, inv.disableBankPayments),
    disableAmexPayments: flag(input.disableAmexPayments, inv.disableAmexPayments),
    items,
    ...totals,
    modifiedMs: later(ctx, inv),
  });
  return inv;
}

const flag = (given: unknown, current: boolean): boolean => (typeof given === 'boolean' ? given : current);

/** A change's modifiedAt: now, and never the one it had (two changes in one millisecond stay two versions). */
export const later = (ctx: Pick<RecordsContext, 'now'>, inv: Pick<Invoice, 'modifiedMs'>): number => Math.max(ctx.now(), inv.modifiedMs + 1);

export function approveInvoice(ctx: RecordsContext, inv: Invoice): Invoice {
  const c = new Checks();
  if (inv.baseStatus !== 'DRAFT') c.add(['input', 'invoiceId'], 'The invoice is already approved.', 'NOT_ALLOWED');
  c.done();
  inv.baseStatus = 'SAVED';
  inv.modifiedMs = later(ctx, inv);
  return inv;
}

export function sendInvoice(ctx: RecordsContext, b: Business, inv: Invoice, input: Obj): void {
  const c = new Checks();
  if (!b.emailSendEnabled) c.add(['input', 'invoiceId'], 'This business cannot send email: verify its email address in Wave first.', 'NOT_ALLOWED');
  if (inv.baseStatus === 'DRAFT') c.add(['input', 'invoiceId'], 'Approve the invoice before sending it.', 'NOT_ALLOWED');
  const to = Array.isArray(input.to) ? (input.to as string[]) : [];
  if (to.length === 0) c.add(['input', 'to'], 'At least one recipient is required.', 'REQUIRED');
  if (to.length > 20) c.add(['input', 'to'], 'At most 20 recipients.');
  to.slice(0, 20).forEach((address, i) => {
    if (!EMAIL.test(address)) c.add(['input', 'to', String(i)], `"${address.slice(0, 60)}" is not an email address.`);
  });
  c.done();
  const now = ctx.now();
  ctx.state.emails.push({
    at: new Date(now).toISOString(),
    businessId: b.id,
    invoiceId: inv.id,
    invoiceNumber: inv.invoiceNumber,
    to: [...to],
    subject: str(input.subject),
    message: str(input.message),
    attachPDF: input.attachPDF === true,
    fromAddress: str(input.fromAddress),
    ccMyself: input.ccMyself === true,
  });
  inv.lastSentMs = now;
  inv.lastSentVia = 'WAVE';
  if (inv.baseStatus === 'SAVED') inv.baseStatus = 'SENT';
  inv.modifiedMs = later(ctx, inv);
}

export function markInvoiceSent(ctx: RecordsContext, inv: Invoice, input: Obj): Invoice {
  const c = new Checks();
  if (inv.baseStatus === 'DRAFT') c.add(['input', 'invoiceId'], 'Approve the invoice before marking it sent.', 'NOT_ALLOWED');
  c.done();
  const now = ctx.now();
  inv.lastSentMs = typeof input.sentAt === 'string' && isDateTime(input.sentAt) ? Date.parse(input.sentAt) : now;
  inv.lastSentVia = String(input.sendMethod ?? 'MARKED_SENT');
  if (inv.baseStatus === 'SAVED') inv.baseStatus = 'SENT';
  inv.modifiedMs = later(ctx, inv);
  return inv;
}

export function deleteInvoice(ctx: RecordsContext, inv: Invoice): void {
  const c = new Checks();
  if (inv.paymentIds.length > 0) c.add(['input', 'invoiceId'], 'An invoice with payments cannot be deleted: remove the payments first.', 'NOT_ALLOWED');
  c.done();
  ctx.state.invoices.delete(inv.id);
}

/** Money accounts a manual payment may go into. */
const PAYMENT_SUBTYPES = new Set(['CASH_AND_BANK', 'MONEY_IN_TRANSIT', 'CREDIT_CARD']);

export function recordPayment(ctx: RecordsContext, b: Business, inv: Invoice, input: Obj): Payment {
  const c = new Checks();
  if (inv.baseStatus === 'DRAFT') c.add(['input', 'invoiceId'], 'Approve the invoice before recording a payment.', 'NOT_ALLOWED');
  const account = ctx.state.accounts.get(String(input.paymentAccountId));
  if (!account || account.businessId !== b.id) return foreign();
  if (!PAYMENT_SUBTYPES.has(account.subtype)) c.add(['input', 'paymentAccountId'], 'Payments go into a cash, bank or credit card account.');
  const amount = scaled(input.amount as string);
  if (amount <= 0n) c.add(['input', 'amount'], 'The amount must be positive.');
  if (typeof input.paymentDate !== 'string' || !isDate(input.paymentDate)) c.add(['input', 'paymentDate'], 'A payment date is required.', 'REQUIRED');
  const exchangeRate = input.exchangeRate === undefined || input.exchangeRate === null ? scaled('1') : scaled(input.exchangeRate as string);
  if (exchangeRate <= 0n) c.add(['input', 'exchangeRate'], 'The exchange rate must be positive.');
  c.done();
  const now = ctx.now();
  const p: Payment = {
    id: childId(b, 'InvoicePayment'),
    businessId: b.id,
    invoiceId: inv.id,
    accountId: account.id,
    amount,
    paymentDate: input.paymentDate as string,
    paymentMethod: String(input.paymentMethod ?? 'UNSPECIFIED'),
    online: null,
    exchangeRate,
    memo: str(input.memo),
    createdMs: now,
    modifiedMs: now,
  };
  ctx.state.payments.set(p.id, p);
  inv.paymentIds.push(p.id);
  inv.modifiedMs = later(ctx, inv);
  return p;
}

/**
 * The ways a customer can pay the invoice online now: those Wave Payments accepts for the business and the
 * invoice does not disable (a draft: none — only an approved invoice is shown to the customer).
 */
export function onlineWays(state: WaveState, inv: Invoice): Array<'card' | 'bank'> {
  const b = state.businesses.get(inv.businessId);
  if (!b || inv.baseStatus === 'DRAFT') return [];
  const ways: Array<'card' | 'bank'> = [];
  if (b.payments.card && !inv.disableCreditCardPayments) ways.push('card');
  if (b.payments.bank && !inv.disableBankPayments) ways.push('bank');
  return ways;
}

/**
 * The customer pays through Wave Payments (card first, else bank payment): a payment as any other on the
 * invoice (amountPaid, amountDue, status, modifiedAt), into the business's first cash and bank account. Wave
 * tells no one: a client polls. Refused (an Error, as a gateway refuses) when no way is open or the amount is
 * not between 0 and the amount due.
 */
export function payOnline(ctx: RecordsContext, b: Business, inv: Invoice, amount: bigint): Payment {
  const way = onlineWays(ctx.state, inv)[0];
  if (!way) throw new Error(`Invoice ${inv.invoiceNumber} cannot be paid online: ${inv.baseStatus === 'DRAFT' ? 'it is a draft' : 'neither card nor bank payment is both accepted by the business and enabled on the invoice'}.`);
  const due = inv.totalMinor - paidMinor(ctx.state, inv);
  const minor = toMinor(amount, currencyInfo(inv.currency).exponent);
  if (minor <= 0n || minor > due) throw new Error(`Invoice ${inv.invoiceNumber}: an online payment must be above 0 and at most the amount due.`);
  const account = [...ctx.state.accounts.values()].find((a) => a.businessId === b.id && a.subtype === 'CASH_AND_BANK' && !a.isArchived);
  if (!account) throw new Error(`Business ${b.name} has no cash and bank account for Wave Payments to pay into.`);
  const now = ctx.now();
  const p: Payment = {
    id: childId(b, 'InvoicePayment'),
    businessId: b.id,
    invoiceId: inv.id,
    accountId: account.id,
    amount,
    paymentDate: isoDay(now),
    paymentMethod: way === 'card' ? 'CREDIT_CARD' : 'BANK_TRANSFER',
    online: way,
    exchangeRate: inv.exchangeRate,
    memo: null,
    createdMs: now,
    modifiedMs: now,
  };
  ctx.state.payments.set(p.id, p);
  inv.paymentIds.push(p.id);
  inv.modifiedMs = later(ctx, inv);
  return p;
}

/** The status Wave shows: DRAFT; PAID / PARTIAL / OVERPAID from payments; OVERDUE after the due date; else SAVED, SENT or VIEWED. */
export function invoiceStatus(state: WaveState, inv: Invoice, today: string): string {
  if (inv.baseStatus === 'DRAFT') return 'DRAFT';
  const paid = paidMinor(state, inv);
  if (paid > inv.totalMinor) return 'OVERPAID';
  if (paid === inv.totalMinor) return 'PAID';
  if (paid > 0n) return 'PARTIAL';
  if (inv.dueDate < today) return 'OVERDUE';
  return inv.baseStatus;
}
