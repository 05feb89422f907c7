// The fake's data: plain records per organization, kept in Maps keyed by their 19-digit string IDs.
// Money is stored in minor units of the record's currency; serializers turn it back into Zoho's JSON.
import { longId } from '../common.js';

export interface Organization {
  organizationId: string;
  name: string;
  currencyId: string;
  currencyCode: string;
  country: string;
  isDefault: boolean;
  /** Slug used in customer-portal links (invoice_url). */
  portalName: string;
  /** Online payment gateways set up in Settings › Online Payments (gateway_name values; gateways.ts). */
  paymentGateways: string[];
}

export interface Currency {
  organizationId: string;
  currencyId: string;
  code: string;
  name: string;
  symbol: string;
  precision: number;
  isBase: boolean;
  exchangeRate: number;
}

export interface Tax {
  organizationId: string;
  taxId: string;
  name: string;
  percentage: number;
  countryCode?: string;
  isDefault: boolean;
}

export interface Item {
  organizationId: string;
  itemId: string;
  name: string;
  sku: string;
  rate: number;
  description: string;
}

export type CustomFieldEntity = 'invoice' | 'contact' | 'recurring_invoice';

export interface CustomFieldDef {
  organizationId: string;
  customfieldId: string;
  entity: CustomFieldEntity;
  apiName: string;
  label: string;
  /** "Do not allow duplicate values": required for the X-Unique-Identifier-Key upsert. */
  unique: boolean;
}

export interface CustomFieldValue {
  customfieldId: string;
  value: unknown;
}

export interface ContactPerson {
  contactPersonId: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  isPrimary: boolean;
}

export interface Contact {
  organizationId: string;
  contactId: string;
  name: string;
  companyName: string;
  contactType: 'customer' | 'vendor';
  customerSubType: 'business' | 'individual';
  currencyId: string;
  paymentTerms: number;
  paymentTermsLabel: string;
  billingAddress: Record<string, unknown>;
  shippingAddress: Record<string, unknown>;
  persons: ContactPerson[];
  customFields: CustomFieldValue[];
  notes: string;
  /** Edition-specific tax fields (vat_treatment, gst_no, …) kept as sent. */
  extra: Record<string, unknown>;
  createdMs: number;
  lastModifiedMs: number;
}

export interface LineItem {
  lineItemId: string;
  itemId: string;
  name: string;
  description: string;
  rate: number;
  quantity: number;
  unit: string;
  /** As sent: a number is an amount, "12.5%" a percentage. */
  discount: number | string;
  taxId: string;
  taxName: string;
  taxPercentage: number;
  itemTotalMinor: bigint;
}

export interface TaxSummary {
  taxId: string;
  taxName: string;
  amountMinor: bigint;
}

export interface Totals {
  lineItems: LineItem[];
  subTotalMinor: bigint;
  taxTotalMinor: bigint;
  totalMinor: bigint;
  taxes: TaxSummary[];
}

/** Statuses stored; `overdue` is derived when read (as Zoho flips it overnight). */
/** `pending_approval` and `approved`: Zoho's invoice approval step (submit, approve); still drafts until sent. */
export type StoredInvoiceStatus = 'draft' | 'pending_approval' | 'approved' | 'sent' | 'viewed' | 'partially_paid' | 'paid' | 'void';

export interface Invoice extends Totals {
  organizationId: string;
  invoiceId: string;
  invoiceNumber: string;
  status: StoredInvoiceStatus;
  date: string;
  dueDate: string;
  paymentTerms: number;
  paymentTermsLabel: string;
  customerId: string;
  customerName: string;
  contactPersonIds: string[];
  currencyId: string;
  currencyCode: string;
  precision: number;
  exchangeRate: number;
  isInclusiveTax: boolean;
  referenceNumber: string;
  paidMinor: bigint;
  customFields: CustomFieldValue[];
  notes: string;
  terms: string;
  invoiceUrl: string;
  isEmailed: boolean;
  lastPaymentDate: string;
  recurringInvoiceId: string;
  /** payment_options.payment_gateways as sent: the gateways the client may pay this invoice through. */
  paymentGateways: string[];
  createdMs: number;
  lastModifiedMs: number;
}

export interface CustomerPayment {
  organizationId: string;
  paymentId: string;
  paymentNumber: string;
  customerId: string;
  customerName: string;
  amountMinor: bigint;
  /** Paid beyond the invoice balance: kept as customer credit, as Zoho does. */
  unusedMinor: bigint;
  precision: number;
  currencyCode: string;
  date: string;
  paymentMode: string;
  referenceNumber: string;
  /** The gateway of a payment made online (payment_mode autotransaction). */
  gateway?: string;
  applications: Array<{ invoiceId: string; invoicePaymentId: string; amountMinor: bigint }>;
  createdMs: number;
  lastModifiedMs: number;
}

export type Frequency = 'days' | 'weeks' | 'months' | 'years';

export interface RecurringInvoice extends Totals {
  organizationId: string;
  recurrenceId: string;
  recurrenceName: string;
  status: 'active' | 'stopped';
  customerId: string;
  customerName: string;
  currencyId: string;
  currencyCode: string;
  precision: number;
  exchangeRate: number;
  isInclusiveTax: boolean;
  frequency: Frequency;
  repeatEvery: number;
  startDate: string;
  endDate: string;
  nextInvoiceDate: string;
  lastSentDate: string;
  paymentTerms: number;
  paymentTermsLabel: string;
  referenceNumber: string;
  customFields: CustomFieldValue[];
  notes: string;
  terms: string;
  /** payment_options.payment_gateways as sent: every invoice of the profile carries them. */
  paymentGateways: string[];
  createdMs: number;
  lastModifiedMs: number;
}

export interface ZohoState {
  organizations: Map<string, Organization>;
  currencies: Map<string, Currency>;
  taxes: Map<string, Tax>;
  items: Map<string, Item>;
  customFields: Map<string, CustomFieldDef>;
  contacts: Map<string, Contact>;
  invoices: Map<string, Invoice>;
  payments: Map<string, CustomerPayment>;
  recurring: Map<string, RecurringInvoice>;
  /** Successful token grants (refresh and authorization code) at the Accounts endpoint. */
  tokenGrants: number;
  /** Per organization: last auto invoice number and payment number. */
  counters: Map<string, { invoice: number; payment: number }>;
}

export function createState(): ZohoState {
  return {
    organizations: new Map(),
    currencies: new Map(),
    taxes: new Map(),
    items: new Map(),
    customFields: new Map(),
    contacts: new Map(),
    invoices: new Map(),
    payments: new Map(),
    recurring: new Map(),
    tokenGrants: 0,
    counters: new Map(),
  };
}

export function counters(state: ZohoState, organizationId: string) {
  let c = state.counters.get(organizationId);
  if (!c) {
    c = { invoice: 0, payment: 0 };
    state.counters.set(organizationId, c);
  }
  return c;
}

/** Records of one organization, in insertion (creation) order. */
export function inOrg<T extends { organizationId: string }>(map: Map<string, T>, organizationId: string): T[] {
  return [...map.values()].filter((r) => r.organizationId === organizationId);
}

/** A fresh ID that no record of this fake uses yet. */
export function newId(state: ZohoState): string {
  for (;;) {
    const id = longId();
    if (
      !state.invoices.has(id) &&
      !state.contacts.has(id) &&
      !state.payments.has(id) &&
      !state.recurring.has(id) &&
      !state.organizations.has(id)
    )
      return id;
  }
}
