// The parts of Zoho Books API v3 answers the relay reads, taken from the types generated from Zoho's own
// documents (src/accounting/zoho/contract/*.ts, npm run contract): each type picks properties of the documented answer,
// so reading a property the contract does not have (e.g. `recurrence_id`) is a compile error. The only
// departures are those listed in src/accounting/zoho/contract/overrides.ts. IDs are strings, always.
import type { operations as Contacts } from './contract/contacts.js';
import type { operations as Currency } from './contract/currency.js';
import type { operations as Invoices } from './contract/invoices.js';
import type { operations as Organizations } from './contract/organizations.js';
import type { operations as Recurring } from './contract/recurring-invoices.js';
import type { operations as Taxes } from './contract/taxes.js';
import type { Live, LiveAmount, LiveCustomField, LivePageContext } from './contract/overrides.js';

export type { ZohoItem } from './contract/overrides.js';

/** The JSON body of an operation's answer with the given status. */
type Answer<Op, Status extends number> = Op extends { responses: { [S in Status]: { content: { 'application/json': infer Body } } } } ? Body : never;
/** The element type of an array property. */
type Each<T> = NonNullable<T> extends ReadonlyArray<infer E> ? E : never;
/** Properties the relay cannot work without: the client checks them on every answer (see client.ts). */
type Needs<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };

export type ZohoEnvelope = Pick<Answer<Organizations['list_organizations'], 200>, 'code' | 'message'>;
/** A record as received, before the client checked the properties the relay needs. */
export type Unchecked<T> = { [K in keyof T]?: T[K] | undefined };
/** The answer `A` reduced to its property `K` (a name the contract must have), holding a `T`. */
type Holding<A, K extends keyof A, T> = ZohoEnvelope & { [P in K]?: T };

type OrganizationListed = Each<Answer<Organizations['list_organizations'], 200>['organizations']>;
export type ZohoOrganization = Needs<Pick<OrganizationListed, 'organization_id' | 'name' | 'currency_code'>, 'organization_id' | 'name'>;

type TaxListed = Each<Answer<Taxes['list_taxes'], 200>['taxes']>;
export type ZohoTax = Needs<Pick<TaxListed, 'tax_id' | 'tax_name' | 'tax_percentage' | 'tax_type' | 'is_default_tax'>, 'tax_id' | 'tax_name'>;

type ExemptionListed = Each<Answer<Taxes['list_tax_exemptions'], 200>['tax_exemptions']>;
export type ZohoTaxExemption = Needs<Pick<ExemptionListed, 'tax_exemption_id' | 'tax_exemption_code' | 'description' | 'type'>, 'tax_exemption_id'>;

type CurrencyListed = Each<Answer<Currency['list_currencies'], 200>['currencies']>;
export type ZohoCurrency = Needs<
  Pick<CurrencyListed, 'currency_id' | 'currency_code' | 'price_precision' | 'is_base_currency' | 'exchange_rate'>,
  'currency_id' | 'currency_code'
>;

/** A row of GET /contacts: `email` is the primary contact person's (the list has no contact_persons). */
type ContactListed = Each<Answer<Contacts['list_contacts'], 200>['contacts']>;
export type ZohoListedContact = Needs<Pick<ContactListed, 'contact_id' | 'contact_name' | 'email' | 'currency_code'>, 'contact_id' | 'contact_name'>;

type ContactCreated = NonNullable<Answer<Contacts['create_contact'], 201>['contact']>;
export type ZohoContact = Needs<Pick<ContactCreated, 'contact_id' | 'contact_name' | 'currency_code'>, 'contact_id' | 'contact_name'>;

type InvoiceRead = NonNullable<Answer<Invoices['get_invoice'], 200>['invoice']>;
export type ZohoInvoice = Needs<
  Live<
    Pick<InvoiceRead, 'invoice_id' | 'invoice_number' | 'status' | 'customer_id' | 'reference_number' | 'total' | 'balance' | 'currency_code' | 'invoice_url' | 'last_modified_time' | 'recurring_invoice_id' | 'custom_fields' | 'payment_options'>,
    { total?: LiveAmount; balance?: LiveAmount; custom_fields?: LiveCustomField[] }
  >,
  'invoice_id'
>;

type InvoiceCreated = NonNullable<Answer<Invoices['create_invoice'], 201>['invoice']>;
export type ZohoCreatedInvoice = Needs<Pick<InvoiceCreated, 'invoice_id' | 'invoice_number' | 'status' | 'invoice_url' | 'payment_options'>, 'invoice_id' | 'invoice_number' | 'status'>;
/** payment_options.payment_gateways of an invoice answer: gateway_name, configured, additional_field1. */
export type ZohoPaymentGateway = Each<NonNullable<InvoiceRead['payment_options']>['payment_gateways']>;

type InvoiceList = Answer<Invoices['list_invoices'], 200>;
/** A row of GET /invoices: no recurring_invoice_id, no invoice_url (read the invoice for those). */
export type ZohoListedInvoice = Needs<
  Live<Pick<Each<InvoiceList['invoices']>, 'invoice_id' | 'status' | 'reference_number' | 'last_modified_time' | 'balance'>, { balance?: LiveAmount }>,
  'invoice_id' | 'status'
>;

type InvoicePayment = Each<Answer<Invoices['list_invoice_payments'], 200>['payments']>;
export type ZohoPayment = Needs<Pick<InvoicePayment, 'payment_id' | 'amount' | 'date' | 'payment_mode' | 'reference_number'>, 'payment_id' | 'amount' | 'date'>;

/** The recurring profile as created: its ID is `recurring_invoice_id`. */
type RecurringCreated = NonNullable<Answer<Recurring['create_recurring_invoice'], 201>['recurring_invoice']>;
export type ZohoRecurringInvoice = Needs<Pick<RecurringCreated, 'recurring_invoice_id' | 'recurrence_name'>, 'recurring_invoice_id'>;

type RecurringListed = Each<Answer<Recurring['list_recurring_invoices'], 200>['recurring_invoices']>;
export type ZohoListedRecurringInvoice = Needs<Pick<RecurringListed, 'recurring_invoice_id' | 'recurrence_name'>, 'recurring_invoice_id'>;

/** What each call of the client receives, before its checks. */
export interface ZohoAnswers {
  listOrganizations: Holding<Answer<Organizations['list_organizations'], 200>, 'organizations', Unchecked<ZohoOrganization>[]>;
  listTaxes: Holding<Answer<Taxes['list_taxes'], 200>, 'taxes', Unchecked<ZohoTax>[]>;
  listTaxExemptions: Holding<Answer<Taxes['list_tax_exemptions'], 200>, 'tax_exemptions', Unchecked<ZohoTaxExemption>[]>;
  listCurrencies: Holding<Answer<Currency['list_currencies'], 200>, 'currencies', Unchecked<ZohoCurrency>[]>;
  listContacts: Holding<Answer<Contacts['list_contacts'], 200>, 'contacts', Unchecked<ZohoListedContact>[]>;
  createContact: Holding<Answer<Contacts['create_contact'], 201>, 'contact', Unchecked<ZohoContact>>;
  createInvoice: Holding<Answer<Invoices['create_invoice'], 201>, 'invoice', Unchecked<ZohoCreatedInvoice>>;
  getInvoice: Holding<Answer<Invoices['get_invoice'], 200>, 'invoice', Unchecked<ZohoInvoice>>;
  updateInvoice: Holding<Answer<Invoices['update_invoice'], 200>, 'invoice', Unchecked<ZohoInvoice>>;
  listInvoices: Holding<InvoiceList, 'invoices', Unchecked<ZohoListedInvoice>[]> & Holding<InvoiceList, 'page_context', LivePageContext>;
  invoicePayments: Holding<Answer<Invoices['list_invoice_payments'], 200>, 'payments', Unchecked<ZohoPayment>[]>;
  createRecurringInvoice: Holding<Answer<Recurring['create_recurring_invoice'], 201>, 'recurring_invoice', Unchecked<ZohoRecurringInvoice>>;
  listRecurringInvoices: Holding<Answer<Recurring['list_recurring_invoices'], 200>, 'recurring_invoices', Unchecked<ZohoListedRecurringInvoice>[]>;
}
