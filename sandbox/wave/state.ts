// The fake Wave's in-memory data: businesses with their chart of accounts, sales taxes, customers, products,
// invoices and payments, and the emails invoiceSend "sent". IDs are opaque base64 as Wave's are
// (`QnVzaW5lc3M6…` = `Business:<uuid>;Customer:<n>`, reference "Auth"): a client must never parse them, and
// one business's ID is unknown in another (Wave's IDs are business-scoped).
import { randomUUID } from 'node:crypto';

export type InvoiceBaseStatus = 'DRAFT' | 'SAVED' | 'SENT' | 'VIEWED';

export interface Address {
  addressLine1?: string | null;
  addressLine2?: string | null;
  city?: string | null;
  provinceCode?: string | null;
  countryCode?: string | null;
  postalCode?: string | null;
}

export interface Business {
  id: string;
  uuid: string;
  name: string;
  currency: string;
  emailSendEnabled: boolean;
  isClassicInvoicing: boolean;
  isClassicAccounting: boolean;
  isPersonal: boolean;
  isArchived: boolean;
  timezone: string;
  /** Days from invoiceDate to dueDate when the invoice gives none (the business's payment terms). */
  paymentTermsDays: number;
  /**
   * What Wave Payments lets the business's customers pay online with (set up in Wave › Settings › Payments).
   * Not in Wave's API (no Business field says it): the fake's own setting.
   */
  payments: { card: boolean; bank: boolean };
  createdMs: number;
  modifiedMs: number;
  /** Per-business counter behind the numeric part of the IDs. */
  seq: number;
}

export interface Account {
  id: string;
  businessId: string;
  name: string;
  description: string | null;
  type: 'ASSET' | 'EQUITY' | 'EXPENSE' | 'INCOME' | 'LIABILITY';
  subtype: string;
  currency: string;
  isArchived: boolean;
  sequence: number;
}

export interface SalesTax {
  id: string;
  businessId: string;
  name: string;
  abbreviation: string;
  description: string | null;
  taxNumber: string | null;
  /** Scaled decimals (see money.ts), latest last. */
  rates: Array<{ effective: string; rate: bigint }>;
  isCompound: boolean;
  isRecoverable: boolean;
  isArchived: boolean;
  createdMs: number;
  modifiedMs: number;
}

export interface Customer {
  id: string;
  businessId: string;
  name: string;
  firstName: string | null;
  lastName: string | null;
  displayId: string | null;
  email: string | null;
  mobile: string | null;
  phone: string | null;
  website: string | null;
  internalNotes: string | null;
  currency: string;
  address: Address | null;
  shippingDetails: { name?: string | null; address?: Address | null; phone?: string | null; instructions?: string | null } | null;
  isArchived: boolean;
  createdMs: number;
  modifiedMs: number;
}

export interface Product {
  id: string;
  businessId: string;
  name: string;
  description: string | null;
  unitPrice: bigint;
  incomeAccountId: string | null;
  defaultSalesTaxIds: string[];
  isArchived: boolean;
  createdMs: number;
  modifiedMs: number;
}

export interface InvoiceItem {
  productId: string;
  description: string | null;
  quantity: bigint;
  unitPrice: bigint;
  salesTaxIds: string[];
  /** Computed at create/patch, in minor units. */
  subtotalMinor: bigint;
  taxes: Array<{ salesTaxId: string; rate: bigint; amountMinor: bigint }>;
}

export interface Invoice {
  id: string;
  businessId: string;
  customerId: string;
  /** What the invoice's life made of it; `status` adds payments and the due date (see invoices.ts). */
  baseStatus: InvoiceBaseStatus;
  invoiceNumber: string;
  title: string;
  subhead: string | null;
  poNumber: string | null;
  invoiceDate: string;
  dueDate: string;
  currency: string;
  exchangeRate: bigint;
  memo: string | null;
  footer: string | null;
  /** Marked not payable by card / bank payment / American Express (InvoiceCreateInput's disable…Payments). */
  disableCreditCardPayments: boolean;
  disableBankPayments: boolean;
  disableAmexPayments: boolean;
  items: InvoiceItem[];
  discountMinor: bigint;
  subtotalMinor: bigint;
  taxTotalMinor: bigint;
  totalMinor: bigint;
  paymentIds: string[];
  lastSentMs: number | null;
  lastSentVia: string | null;
  lastViewedMs: number | null;
  /** A recurring invoice's ID when Wave's schedule made it (the relay never does). */
  sourceId: string | null;
  createdMs: number;
  modifiedMs: number;
  /** Creation order, for stable sorting when timestamps tie. */
  seq: number;
}

export interface Payment {
  id: string;
  businessId: string;
  invoiceId: string;
  accountId: string;
  amount: bigint;
  paymentDate: string;
  paymentMethod: string;
  /** Paid online through Wave Payments (the fake's payOnline): by card or bank payment; null: recorded by hand. */
  online: 'card' | 'bank' | null;
  exchangeRate: bigint;
  memo: string | null;
  createdMs: number;
  modifiedMs: number;
}

export interface SentEmail {
  at: string;
  businessId: string;
  invoiceId: string;
  invoiceNumber: string;
  to: string[];
  subject: string | null;
  message: string | null;
  attachPDF: boolean;
  fromAddress: string | null;
  ccMyself: boolean;
}

export interface User {
  id: string;
  defaultEmail: string;
  firstName: string;
  lastName: string;
  createdMs: number;
}

export interface WaveState {
  user: User;
  businesses: Map<string, Business>;
  accounts: Map<string, Account>;
  salesTaxes: Map<string, SalesTax>;
  customers: Map<string, Customer>;
  products: Map<string, Product>;
  invoices: Map<string, Invoice>;
  payments: Map<string, Payment>;
  emails: SentEmail[];
  invoiceSeq: number;
}

export function createState(now: number): WaveState {
  return {
    user: { id: opaqueId(`User:${randomUUID()}`), defaultEmail: 'owner@demo-agency.example', firstName: 'Dana', lastName: 'Owner', createdMs: now },
    businesses: new Map(),
    accounts: new Map(),
    salesTaxes: new Map(),
    customers: new Map(),
    products: new Map(),
    invoices: new Map(),
    payments: new Map(),
    emails: [],
    invoiceSeq: 0,
  };
}

export const opaqueId = (plain: string): string => Buffer.from(plain, 'utf8').toString('base64');

/** `Business:<uuid>` for a new business. */
export function businessId(uuid: string): string {
  return opaqueId(`Business:${uuid}`);
}

/** `Business:<uuid>;<Kind>:<n>` for a record of the business (n counts per business, as Wave's look). */
export function childId(b: Business, kind: string): string {
  b.seq += 1;
  return opaqueId(`Business:${b.uuid};${kind}:${b.seq}`);
}
