// What the use cases need from the outside world, named for the use cases rather than for either API.
// Kommo and Zoho Books implement these; tests use in-memory doubles.

export interface DealContactRef {
  id: number;
  isMain: boolean;
}

export interface Deal {
  id: number;
  name: string;
  /** Kommo's deal amount: an integer in the account currency. */
  price: number | null;
  pipelineId: number;
  statusId: number;
  /** Custom field values by field ID, as text. */
  fields: Map<number, string[]>;
  contacts: DealContactRef[];
  companyId?: number;
  products: Array<{ id: number; quantity: number; catalogId?: number; priceId?: number }>;
}

export interface Person {
  id: number;
  name: string;
  firstName?: string;
  lastName?: string;
  emails: string[];
  phones: string[];
  companyName?: string;
  fields: Map<number, string[]>;
  /** Custom fields of the contact's company, when it has one. */
  companyFields?: Map<number, string[]>;
}

/** A product linked to a deal, with what the catalog says about it. */
export interface DealProduct {
  id: number;
  name: string;
  quantity: number;
  fields: Map<number, string[]>;
  /** The price field chosen on the link itself (Kommo's price_id), if any. */
  priceFieldId?: number;
}

/** A select or radio field takes one of its options by ID (Kommo's `enum_id`); other fields the value itself. */
export type FieldValue = string | number | boolean | { enumId: number };

export interface CrmPort {
  /** undefined when the deal no longer exists. */
  getDeal(id: number): Promise<Deal | undefined>;
  getPerson(id: number): Promise<Person | undefined>;
  /** Idempotent: writing the same values again changes nothing. */
  writeDealFields(dealId: number, values: Array<{ fieldId: number; value: FieldValue }>): Promise<void>;
  /** One write: the deal to a stage (of its pipeline), with field values. Idempotent. */
  moveDeal(dealId: number, to: { pipelineId: number; statusId: number }, values: Array<{ fieldId: number; value: FieldValue }>): Promise<void>;
  addDealNote(dealId: number, text: string): Promise<void>;
  /** Texts of the deal's notes (to tell whether a note whose answer was lost was in fact added). */
  dealNoteTexts(dealId: number): Promise<string[]>;
  /** The catalog details of the deal's linked products. */
  dealProducts(deal: Deal): Promise<DealProduct[]>;
  /** Deals currently in any of these stages (the reconciler's question). */
  dealsInStages(stages: Array<{ pipelineId: number; statusId: number }>): Promise<Array<{ id: number; pipelineId: number; statusId: number; updatedAt: number }>>;
}

export interface CustomerInput {
  name: string;
  companyName?: string;
  email: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
  currencyId?: string;
  /** Edition-specific tax fields from the mapping (vat_treatment, gst_treatment, …). */
  taxFields?: Record<string, string | boolean>;
}

export interface Customer {
  id: string;
  name: string;
  currencyCode?: string;
}

export interface InvoiceLine {
  name: string;
  description?: string;
  rate: number;
  quantity: number;
  itemId?: string;
  taxId?: string;
}

export interface InvoiceDraft {
  customerId: string;
  reference: string;
  lines: InvoiceLine[];
  customFields: Array<{ apiName: string; value: string }>;
  currencyId?: string;
  exchangeRate?: number;
  date?: string;
  invoiceNumber?: string;
  paymentTerms?: number;
  paymentTermsLabel?: string;
  dueDate?: string;
  /** An amount off the whole invoice, before tax. */
  discount?: number;
  taxExemptionId?: string;
}

export interface RecurringDraft extends Omit<InvoiceDraft, 'invoiceNumber' | 'dueDate' | 'date'> {
  /** Unique per organization: the relay derives it from the deal so a retry can find it. */
  name: string;
  frequency: 'days' | 'weeks' | 'months' | 'years';
  repeatEvery: number;
  startDate: string;
  endDate?: string;
}

export interface RecurringProfile {
  id: string;
  name: string;
}

/** What the accounting side offers, loaded at start-up and refreshed now and then. */
export interface AccountingReference {
  baseCurrency: string;
  currencies: Array<{ id: string; code: string; precision: number; exchangeRate: number; isBase: boolean }>;
  taxes: Array<{ id: string; name: string; percentage: number }>;
  exemptions: Array<{ id: string; name: string }>;
  items: Array<{ id: string; name: string; sku?: string; rate: number }>;
}

export interface AccountingInvoice {
  id: string;
  number: string;
  url: string;
  status: string;
}

export interface AccountingInvoiceDetail extends AccountingInvoice {
  customerId: string;
  reference: string;
  total: number;
  balance: number;
  currencyCode: string;
  lastModified: string;
  recurringInvoiceId?: string;
  customFields: Array<{ apiName: string; value: string }>;
}

export interface AccountingPayment {
  paymentId: string;
  amount: number;
  date: string;
}

export interface AccountingPort {
  findCustomerByEmail(email: string): Promise<Customer | undefined>;
  createCustomer(input: CustomerInput): Promise<Customer>;
  /** The deal's invoice if one was already created (after a crash between the create and our record of it). */
  findInvoiceByReference(reference: string, customerId: string): Promise<AccountingInvoice | undefined>;
  /** `send`: email it to the customer's contact persons as part of the create. */
  createInvoice(draft: InvoiceDraft, opts: { send: boolean }): Promise<AccountingInvoice & { emailed: boolean }>;
  emailInvoice(invoiceId: string, to: string[]): Promise<void>;
  getInvoice(invoiceId: string): Promise<AccountingInvoiceDetail>;
  reference(opts: { exemptions: boolean }): Promise<AccountingReference>;
  invoicePayments(invoiceId: string): Promise<AccountingPayment[]>;
  createRecurring(draft: RecurringDraft): Promise<RecurringProfile>;
  findRecurringByName(name: string): Promise<RecurringProfile | undefined>;
  setRecurringActive(id: string, active: boolean): Promise<void>;
  /** Invoices modified at or after `since` (Zoho's last_modified_time format), oldest first. */
  invoicesModifiedSince(since: string, page: number): Promise<{ invoices: Array<Pick<AccountingInvoiceDetail, 'id' | 'status' | 'reference' | 'lastModified' | 'balance' | 'recurringInvoiceId'>>; hasMore: boolean }>;
}
