// What the fake Xero holds, per organisation (tenant). Tests read it through `fake.state`; answers are
// rendered from it by ./render.ts. Amounts are numbers rounded to cents, IDs are GUIDs, times are ms.
export type InvoiceStatus = 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED';
export type LineAmountTypes = 'Exclusive' | 'Inclusive' | 'NoTax';

export interface TaxRate {
  name: string;
  taxType: string;
  /** Percent, e.g. 20. */
  rate: number;
  status: 'ACTIVE' | 'DELETED' | 'ARCHIVED';
  canApplyToRevenue: boolean;
}

export interface Account {
  accountId: string;
  code: string;
  name: string;
  type: 'REVENUE' | 'SALES' | 'BANK' | 'CURRENT';
  taxType: string;
}

/** A way a client pays an invoice online, chosen for a branding theme in Xero (Stripe, PayPal, a custom one…). */
export interface PaymentService {
  paymentServiceId: string;
  name: string;
  /** PaymentServiceType: e.g. "Stripe", "PayPal"; "Custom" for one made through the API. */
  type: string;
}

/** How an invoice looks (logo, terms) and, through its payment services, how it can be paid online. */
export interface BrandingTheme {
  brandingThemeId: string;
  name: string;
  /** Xero's order; the default theme has 0. */
  sortOrder: number;
  createdMs: number;
  paymentServices: PaymentService[];
}

export interface Tenant {
  tenantId: string;
  name: string;
  baseCurrency: string;
  countryCode: string;
  shortCode: string;
  createdMs: number;
  /** Codes enabled in the organisation; the base currency is one. */
  currencies: string[];
  taxRates: TaxRate[];
  accounts: Account[];
  /** The default branding theme (the lowest SortOrder): what an invoice without BrandingThemeID gets. */
  brandingThemeId: string;
  brandingThemes: BrandingTheme[];
  invoiceSeq: number;
}

export interface Connection {
  id: string;
  tenantId: string;
  authEventId: string;
  createdMs: number;
}

export interface Contact {
  tenantId: string;
  contactId: string;
  name: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  contactNumber?: string;
  taxNumber?: string;
  defaultCurrency?: string;
  addresses: Record<string, unknown>[];
  phones: Record<string, unknown>[];
  status: 'ACTIVE' | 'ARCHIVED';
  updatedMs: number;
}

export interface LineItem {
  lineItemId: string;
  description?: string;
  quantity: number;
  unitAmount: number;
  accountCode?: string;
  taxType?: string;
  itemCode?: string;
  lineAmount: number;
  taxAmount: number;
}

export interface Invoice {
  tenantId: string;
  invoiceId: string;
  type: 'ACCREC' | 'ACCPAY';
  contactId: string;
  invoiceNumber: string;
  reference?: string;
  dateMs: number;
  dueDateMs?: number;
  status: InvoiceStatus;
  lineAmountTypes: LineAmountTypes;
  currencyCode: string;
  lineItems: LineItem[];
  subTotal: number;
  totalTax: number;
  total: number;
  amountPaid: number;
  sentToContact: boolean;
  repeatingInvoiceId?: string;
  fullyPaidOnMs?: number;
  paymentIds: string[];
  /** Absent: the organisation's default theme. */
  brandingThemeId?: string;
  onlineToken?: string;
  /** False for invoices made in Xero itself (the control API's addInvoice): `createdByMyApp=true` skips them. */
  createdByApp: boolean;
  updatedMs: number;
}

export interface Payment {
  tenantId: string;
  paymentId: string;
  invoiceId: string;
  dateMs: number;
  amount: number;
  reference?: string;
  status: 'AUTHORISED' | 'DELETED';
  updatedMs: number;
}

export interface Schedule {
  period: number;
  unit: 'WEEKLY' | 'MONTHLY';
  dueDate: number;
  dueDateType: string;
  startMs: number;
  endMs?: number;
  nextMs: number;
}

export interface RepeatingInvoice {
  tenantId: string;
  repeatingInvoiceId: string;
  type: 'ACCREC' | 'ACCPAY';
  contactId: string;
  reference?: string;
  status: 'DRAFT' | 'AUTHORISED' | 'DELETED';
  lineAmountTypes: LineAmountTypes;
  currencyCode: string;
  lineItems: LineItem[];
  subTotal: number;
  totalTax: number;
  total: number;
  schedule: Schedule;
  /** Absent: the organisation's default theme. */
  brandingThemeId?: string;
  approvedForSending: boolean;
  sendCopy: boolean;
  markAsSent: boolean;
  includePDF: boolean;
}

export interface SentEmail {
  tenantId: string;
  invoiceId: string;
  invoiceNumber: string;
  /** The contact's EmailAddress at the time (Xero picks the recipients, the caller cannot). */
  to?: string;
  at: number;
  /** 'api': POST /Invoices/{id}/Email; 'schedule': a repeating invoice approved for sending. */
  via: 'api' | 'schedule';
}

export interface XeroState {
  tenants: Map<string, Tenant>;
  connections: Map<string, Connection>;
  contacts: Map<string, Contact>;
  invoices: Map<string, Invoice>;
  payments: Map<string, Payment>;
  repeatingInvoices: Map<string, RepeatingInvoice>;
  emails: SentEmail[];
}

export const createState = (): XeroState => ({
  tenants: new Map(),
  connections: new Map(),
  contacts: new Map(),
  invoices: new Map(),
  payments: new Map(),
  repeatingInvoices: new Map(),
  emails: [],
});

export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** One of the organisation's branding themes, by its BrandingThemeID (any case). */
export const brandingThemeOf = (tenant: Pick<Tenant, 'brandingThemes'>, id: unknown): BrandingTheme | undefined =>
  typeof id === 'string' ? tenant.brandingThemes.find((t) => t.brandingThemeId === id.toLowerCase()) : undefined;
export const round2 = (n: number): number => Math.round((n + Number.EPSILON) * 100) / 100;
