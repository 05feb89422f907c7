// The read side: state records as the objects of contract/wave/schema.graphql. Nested fields that take
// arguments or need a scope are functions (graphql-js's default resolver calls them with the arguments), so
// a connection is computed only when asked for. Lists are offset pages (page from 1, pageSize at most 200).
import type { Access } from './access.js';
import { waveError } from './access.js';
import { currencyInfo, decimalString, money, scaled, toMinor } from './money.js';
import { invoiceStatus, isoDay, paidMinor, rateOn } from './records.js';
import type { Account, Business, Customer, Invoice, Payment, Product, SalesTax, WaveState } from './state.js';

export interface ViewContext {
  state: WaveState;
  access: Access;
  now: () => number;
  /** Origin for viewUrl / pdfUrl. */
  publicUrl: () => string;
}

type Args = Record<string, unknown>;

export const MAX_PAGE_SIZE = 200;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An offset page of `all` (already filtered and sorted), or BAD_USER_INPUT for a page out of bounds. */
export function page<T, V>(all: T[], args: Args, view: (t: T) => V) {
  const pageNo = typeof args.page === 'number' ? args.page : 1;
  const size = typeof args.pageSize === 'number' ? args.pageSize : 10;
  if (pageNo < 1) throw waveError('page must be at least 1.', 'BAD_USER_INPUT');
  if (size < 1 || size > MAX_PAGE_SIZE) throw waveError(`pageSize must be between 1 and ${MAX_PAGE_SIZE}.`, 'BAD_USER_INPUT');
  const slice = all.slice((pageNo - 1) * size, pageNo * size);
  return {
    pageInfo: { currentPage: pageNo, totalPages: Math.ceil(all.length / size), totalCount: all.length },
    edges: slice.map((t) => ({ node: view(t) })),
  };
}

/** modifiedAtAfter / modifiedAtBefore, both exclusive. */
function modifiedWithin(ms: number, args: Args): boolean {
  if (typeof args.modifiedAtAfter === 'string' && !(ms > Date.parse(args.modifiedAtAfter))) return false;
  if (typeof args.modifiedAtBefore === 'string' && !(ms < Date.parse(args.modifiedAtBefore))) return false;
  return true;
}

type Key = string | number | bigint;
const cmp = (a: Key, b: Key) => (a < b ? -1 : a > b ? 1 : 0);

/** Sorts by the first of `sort` (e.g. CREATED_AT_DESC) with creation order breaking ties. */
function sortBy<T>(list: T[], sort: unknown, keys: Record<string, (t: T) => Key>, tie: (t: T) => Key): T[] {
  const first = Array.isArray(sort) && typeof sort[0] === 'string' ? sort[0] : undefined;
  const m = first ? /^(.*)_(ASC|DESC)$/.exec(first) : null;
  const key = m ? keys[m[1]!] : undefined;
  const dir = m?.[2] === 'DESC' ? -1 : 1;
  return [...list].sort((a, b) => (key ? cmp(key(a), key(b)) * dir : 0) || cmp(tie(a), tie(b)) * (key ? 1 : dir));
}

const seqOf = (id: string): number => {
  const plain = Buffer.from(id, 'base64').toString('utf8');
  const n = /:(\d+)$/.exec(plain);
  return n ? Number(n[1]) : 0;
};

export function businessView(ctx: ViewContext, b: Business) {
  const { state, access } = ctx;
  const mine = <T extends { businessId: string }>(m: Map<string, T>) => [...m.values()].filter((x) => x.businessId === b.id);
  const one = <T extends { businessId: string }>(m: Map<string, T>, id: unknown, what: string): T => {
    const x = typeof id === 'string' ? m.get(id) : undefined;
    if (!x || x.businessId !== b.id) throw waveError(`${what} not found.`, 'NOT_FOUND');
    return x;
  };
  const invoicing = () => {
    if (b.isClassicInvoicing) throw waveError('This business uses classic invoicing: its invoices are not available through the API.', 'FORBIDDEN');
  };
  return {
    id: b.id,
    name: b.name,
    isPersonal: b.isPersonal,
    currency: currencyInfo(b.currency),
    timezone: b.timezone,
    address: null,
    isClassicAccounting: b.isClassicAccounting,
    isClassicInvoicing: b.isClassicInvoicing,
    emailSendEnabled: b.emailSendEnabled,
    isArchived: b.isArchived,
    createdAt: iso(b.createdMs),
    modifiedAt: iso(b.modifiedMs),
    customer: (args: Args) => {
      access.require('customer', 'read');
      return customerView(ctx, one(state.customers, args.id, 'Customer'));
    },
    customers: (args: Args) => {
      access.require('customer', 'read');
      // The email match's exactness and case are unconfirmed (reference "Customers"): the fake matches a
      // case-insensitive substring, so a client that trusts the filter finds the wrong customer here.
      const email = typeof args.email === 'string' ? args.email.toLowerCase() : undefined;
      const list = mine(state.customers).filter((c) => (email === undefined || (c.email ?? '').toLowerCase().includes(email)) && modifiedWithin(c.modifiedMs, args));
      const sorted = sortBy(list, args.sort, { CREATED_AT: (c) => c.createdMs, MODIFIED_AT: (c) => c.modifiedMs, NAME: (c) => c.name.toLowerCase() }, (c) => seqOf(c.id));
      return page(sorted, args, (c) => customerView(ctx, c));
    },
    product: (args: Args) => {
      access.require('product', 'read');
      return productView(ctx, one(state.products, args.id, 'Product'));
    },
    products: (args: Args) => {
      access.require('product', 'read');
      const list = mine(state.products).filter(
        (p) =>
          (args.isSold === undefined || args.isSold === null || Boolean(p.incomeAccountId) === args.isSold) &&
          (args.isBought === undefined || args.isBought === null || args.isBought === false) &&
          (args.isArchived === undefined || args.isArchived === null || p.isArchived === args.isArchived) &&
          modifiedWithin(p.modifiedMs, args),
      );
      const sorted = sortBy(list, args.sort, { CREATED_AT: (p) => p.createdMs, MODIFIED_AT: (p) => p.modifiedMs, NAME: (p) => p.name.toLowerCase() }, (p) => seqOf(p.id));
      return page(sorted, args, (p) => productView(ctx, p));
    },
    account: (args: Args) => {
      access.require('account', 'read');
      return accountView(ctx, one(state.accounts, args.id, 'Account'));
    },
    accounts: (args: Args) => {
      access.require('account', 'read');
      const has = (list: unknown, v: string) => !Array.isArray(list) || list.includes(v);
      const list = mine(state.accounts).filter(
        (a) =>
          has(args.types, a.type) &&
          has(args.subtypes, a.subtype) &&
          !(Array.isArray(args.excludedSubtypes) && args.excludedSubtypes.includes(a.subtype)) &&
          (args.isArchived === undefined || args.isArchived === null || a.isArchived === args.isArchived),
      );
      return page(list, args, (a) => accountView(ctx, a));
    },
    salesTax: (args: Args) => {
      access.require('sales_tax', 'read');
      return salesTaxView(ctx, one(state.salesTaxes, args.id, 'Sales tax'));
    },
    salesTaxes: (args: Args) => {
      access.require('sales_tax', 'read');
      const list = mine(state.salesTaxes).filter((t) => (args.isArchived === undefined || args.isArchived === null || t.isArchived === args.isArchived) && modifiedWithin(t.modifiedMs, args));
      return page(list, args, (t) => salesTaxView(ctx, t));
    },
    invoice: (args: Args) => {
      access.require('invoice', 'read');
      invoicing();
      return invoiceView(ctx, one(state.invoices, args.id, 'Invoice'));
    },
    invoices: (args: Args) => {
      access.require('invoice', 'read');
      invoicing();
      const today = isoDay(ctx.now());
      // invoiceNumber: exactness unconfirmed; the fake matches a case-insensitive substring (the client compares).
      const number = typeof args.invoiceNumber === 'string' ? args.invoiceNumber.toLowerCase() : undefined;
      const list = mine(state.invoices).filter((inv) => {
        const status = invoiceStatus(state, inv, today);
        if (typeof args.status === 'string') {
          // UNPAID as a filter: every approved invoice with something left to pay.
          const unpaid = inv.baseStatus !== 'DRAFT' && paidMinor(state, inv) < inv.totalMinor;
          if (args.status === 'UNPAID' ? !unpaid : status !== args.status) return false;
        }
        if (typeof args.customerId === 'string' && inv.customerId !== args.customerId) return false;
        if (typeof args.currency === 'string' && inv.currency !== args.currency) return false;
        if (typeof args.invoiceDateStart === 'string' && inv.invoiceDate < args.invoiceDateStart) return false;
        if (typeof args.invoiceDateEnd === 'string' && inv.invoiceDate > args.invoiceDateEnd) return false;
        if (number !== undefined && !inv.invoiceNumber.toLowerCase().includes(number)) return false;
        if (typeof args.amountDue === 'string' && inv.totalMinor - paidMinor(state, inv) !== toMinor(scaled(args.amountDue), currencyInfo(inv.currency).exponent)) return false;
        if (typeof args.sourceId === 'string' && inv.sourceId !== args.sourceId) return false;
        return modifiedWithin(inv.modifiedMs, args);
      });
      const due = (inv: Invoice) => inv.totalMinor - paidMinor(state, inv);
      const sorted = sortBy(
        list,
        args.sort,
        {
          CREATED_AT: (i) => i.createdMs,
          MODIFIED_AT: (i) => i.modifiedMs,
          INVOICE_DATE: (i) => i.invoiceDate,
          DUE_AT: (i) => i.dueDate,
          INVOICE_NUMBER: (i) => i.invoiceNumber,
          TOTAL: (i) => i.totalMinor,
          AMOUNT_DUE: due,
          AMOUNT_PAID: (i) => paidMinor(state, i),
          STATUS: (i) => invoiceStatus(state, i, today),
          CUSTOMER_NAME: (i) => state.customers.get(i.customerId)?.name.toLowerCase() ?? '',
        },
        (i) => i.seq,
      );
      return page(sorted, args, (inv) => invoiceView(ctx, inv));
    },
    invoicePayment: (args: Args) => {
      access.require('invoice', 'read');
      return paymentView(ctx, one(state.payments, args.id, 'Invoice payment'));
    },
  };
}

function addressView(a: Customer['address']) {
  if (!a) return null;
  return {
    addressLine1: a.addressLine1 ?? null,
    addressLine2: a.addressLine2 ?? null,
    city: a.city ?? null,
    province: a.provinceCode ? { code: a.provinceCode, name: a.provinceCode } : null,
    country: a.countryCode ? { code: a.countryCode, name: a.countryCode } : null,
    postalCode: a.postalCode ?? null,
  };
}

export function customerView(ctx: ViewContext, c: Customer) {
  const outstanding = () => {
    let due = 0n;
    let overdue = 0n;
    const today = isoDay(ctx.now());
    for (const inv of ctx.state.invoices.values()) {
      if (inv.customerId !== c.id || inv.baseStatus === 'DRAFT' || inv.currency !== c.currency) continue;
      const left = inv.totalMinor - paidMinor(ctx.state, inv);
      if (left <= 0n) continue;
      due += left;
      if (inv.dueDate < today) overdue += left;
    }
    return { due, overdue };
  };
  return {
    id: c.id,
    name: c.name,
    address: addressView(c.address),
    firstName: c.firstName,
    lastName: c.lastName,
    displayId: c.displayId,
    email: c.email,
    mobile: c.mobile,
    phone: c.phone,
    website: c.website,
    internalNotes: c.internalNotes,
    currency: currencyInfo(c.currency),
    shippingDetails: c.shippingDetails && { ...c.shippingDetails, address: addressView(c.shippingDetails.address ?? null) },
    createdAt: iso(c.createdMs),
    modifiedAt: iso(c.modifiedMs),
    isArchived: c.isArchived,
    business: () => businessView(ctx, ctx.state.businesses.get(c.businessId)!),
    outstandingAmount: () => money(outstanding().due, c.currency),
    overdueAmount: () => money(outstanding().overdue, c.currency),
  };
}

export function productView(ctx: ViewContext, p: Product) {
  const account = p.incomeAccountId ? ctx.state.accounts.get(p.incomeAccountId) : undefined;
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    unitPrice: decimalString(p.unitPrice, 2),
    isSold: Boolean(p.incomeAccountId),
    isBought: false,
    isArchived: p.isArchived,
    createdAt: iso(p.createdMs),
    modifiedAt: iso(p.modifiedMs),
    business: () => businessView(ctx, ctx.state.businesses.get(p.businessId)!),
    incomeAccount: account ? accountView(ctx, account) : null,
    defaultSalesTaxes: p.defaultSalesTaxIds.map((id) => ctx.state.salesTaxes.get(id)).filter((t): t is SalesTax => Boolean(t)).map((t) => salesTaxView(ctx, t)),
  };
}

const NORMAL: Record<Account['type'], 'CREDIT' | 'DEBIT'> = { ASSET: 'DEBIT', EXPENSE: 'DEBIT', EQUITY: 'CREDIT', INCOME: 'CREDIT', LIABILITY: 'CREDIT' };
const title = (v: string) => v.charAt(0) + v.slice(1).toLowerCase().replace(/_/g, ' ');

export function accountView(ctx: ViewContext, a: Account) {
  const type = { name: title(a.type), normalBalanceType: NORMAL[a.type], value: a.type };
  return {
    id: a.id,
    name: a.name,
    description: a.description,
    displayId: null,
    currency: currencyInfo(a.currency),
    type,
    subtype: { name: title(a.subtype), value: a.subtype, type, archivable: true, systemCreated: a.subtype.startsWith('RECEIVABLE') || a.subtype.startsWith('PAYABLE'), description: null },
    normalBalanceType: NORMAL[a.type],
    isArchived: a.isArchived,
    sequence: a.sequence,
    business: () => businessView(ctx, ctx.state.businesses.get(a.businessId)!),
  };
}

export function salesTaxView(ctx: ViewContext, t: SalesTax) {
  return {
    id: t.id,
    name: t.name,
    abbreviation: t.abbreviation,
    description: t.description,
    taxNumber: t.taxNumber,
    rate: (args: Args) => decimalString(rateOn(t.rates, typeof args.for === 'string' ? args.for : isoDay(ctx.now()))),
    rates: t.rates.map((r) => ({ effective: r.effective, rate: decimalString(r.rate) })),
    isCompound: t.isCompound,
    isRecoverable: t.isRecoverable,
    isArchived: t.isArchived,
    createdAt: iso(t.createdMs),
    modifiedAt: iso(t.modifiedMs),
    business: () => businessView(ctx, ctx.state.businesses.get(t.businessId)!),
  };
}

export function invoiceView(ctx: ViewContext, inv: Invoice) {
  const { state } = ctx;
  const paid = () => paidMinor(state, inv);
  const cur = inv.currency;
  const base = `${ctx.publicUrl()}/invoice/${Buffer.from(inv.id).toString('hex').slice(-24)}`;
  return {
    id: inv.id,
    business: () => businessView(ctx, state.businesses.get(inv.businessId)!),
    createdAt: iso(inv.createdMs),
    modifiedAt: iso(inv.modifiedMs),
    source: inv.sourceId ? { __typename: 'RecurringInvoice', id: inv.sourceId, business: () => businessView(ctx, state.businesses.get(inv.businessId)!) } : null,
    pdfUrl: `${base}.pdf`,
    viewUrl: base,
    status: () => invoiceStatus(state, inv, isoDay(ctx.now())),
    title: inv.title,
    subhead: inv.subhead,
    invoiceNumber: inv.invoiceNumber,
    poNumber: inv.poNumber,
    invoiceDate: inv.invoiceDate,
    dueDate: inv.dueDate,
    subtotal: money(inv.subtotalMinor, cur),
    taxTotal: money(inv.taxTotalMinor, cur),
    total: money(inv.totalMinor, cur),
    amountDue: () => money(inv.totalMinor > paid() ? inv.totalMinor - paid() : 0n, cur),
    amountPaid: () => money(paid(), cur),
    currency: currencyInfo(cur),
    exchangeRate: decimalString(inv.exchangeRate),
    customer: () => customerView(ctx, state.customers.get(inv.customerId)!),
    items: inv.items.map((item) => ({
      product: () => productView(ctx, state.products.get(item.productId)!),
      account: () => {
        const id = state.products.get(item.productId)?.incomeAccountId;
        const a = id ? state.accounts.get(id) : undefined;
        return a ? accountView(ctx, a) : null;
      },
      description: item.description,
      quantity: decimalString(item.quantity),
      price: decimalString(item.unitPrice, 2),
      unitPrice: decimalString(item.unitPrice, 2),
      subtotal: money(item.subtotalMinor, cur),
      total: money(item.subtotalMinor + item.taxes.reduce((s, t) => s + t.amountMinor, 0n), cur),
      taxes: item.taxes.map((t) => ({
        amount: money(t.amountMinor, cur),
        rate: decimalString(t.rate),
        salesTax: () => salesTaxView(ctx, state.salesTaxes.get(t.salesTaxId)!),
      })),
    })),
    memo: inv.memo,
    footer: inv.footer,
    disableCreditCardPayments: inv.disableCreditCardPayments,
    disableBankPayments: inv.disableBankPayments,
    disableAmexPayments: inv.disableAmexPayments,
    lastSentAt: iso(inv.lastSentMs),
    lastSentVia: inv.lastSentVia,
    lastViewedAt: iso(inv.lastViewedMs),
    payments: () => inv.paymentIds.map((id) => state.payments.get(id)).filter((p): p is Payment => Boolean(p)).map((p) => paymentView(ctx, p)),
  };
}

export function paymentView(ctx: ViewContext, p: Payment) {
  const account = ctx.state.accounts.get(p.accountId);
  const inv = ctx.state.invoices.get(p.invoiceId);
  return {
    id: p.id,
    amount: decimalString(p.amount, 2),
    paymentDate: p.paymentDate,
    paymentMethod: p.paymentMethod,
    memo: p.memo,
    exchangeRate: decimalString(p.exchangeRate),
    account: account ? accountView(ctx, account) : null,
    invoice: () => (inv ? invoiceView(ctx, inv) : null),
    createdAt: iso(p.createdMs),
    modifiedAt: iso(p.modifiedMs),
  };
}
