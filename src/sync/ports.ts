// What the use cases need from the outside world, named for the use cases rather than for either API.
// Kommo and each accounting backend (src/accounting/<backend>/) implement these; tests use in-memory doubles.
import type { AccountingId } from '../accounting/registry.js';

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
  /** The backend's own customer settings for the client's country, from its mapping section (opaque here). */
  taxFields?: Record<string, string | boolean>;
  /** The CRM contact's ID, for a backend that keeps an external key on its customers. */
  externalId?: string;
}

export interface Customer {
  id: string;
  name: string;
  /** The one currency the customer can be invoiced in, where the system fixes one. */
  currencyCode?: string;
  /** The system invoices a customer in any of its currencies (none is kept for it). */
  anyCurrency?: boolean;
}

export interface InvoiceLine {
  name: string;
  description?: string;
  rate: number;
  quantity: number;
  itemId?: string;
  taxId?: string;
}

/**
 * How a deal is written on an invoice so it can be found again. The backend makes it (`stamp`) and decides
 * where it goes (a reference, a custom field, the number); `key` is what the intent record keeps and the
 * look-up after a lost answer searches for. Use cases carry it without reading it.
 */
export interface DealStamp {
  key: string;
  dealId: number;
}

export interface InvoiceDraft {
  customerId: string;
  stamp: DealStamp;
  lines: InvoiceLine[];
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
  /**
   * Where each line comes from (same order as `lines`), the same for every deal: `product:<Kommo product ID>`,
   * `field:<option or item>` or `deal` (the deal amount). For a backend that keeps a catalogue entry per kind
   * of line (e.g. one whose every line needs a catalogue entry).
   */
  lineSources?: string[];
  /**
   * The ways the client may pay this invoice online (`invoice.payOnline`): IDs from the reference's
   * `payOnline.available`, resolved at start-up. Absent: the invoice is made as the system makes it by default.
   */
  payOnline?: string[];
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
  /** `code`: the system's own code for a tax, which a tax rule may name instead of its name. */
  taxes: Array<{ id: string; name: string; percentage: number; code?: string }>;
  exemptions: Array<{ id: string; name: string }>;
  items: Array<{ id: string; name: string; sku?: string; rate: number }>;
  /** The tax meaning "no tax", where a line without a tax would get the system's default: a "none" rule puts it on the lines. */
  noTaxId?: string;
  /** How clients can pay online in this organization; read only when asked (`reference({ payOnline: true })`). */
  payOnline?: PayOnlineOffer;
}

/**
 * What the organization has set up for paying invoices online, in the backend's own terms (its payment
 * gateways, the branding themes that have a payment service, the kinds of payment it takes). The
 * mapping's `invoice.payOnline` names some by `name` (or `true`: `byDefault`); invoices carry their `id`s.
 */
export interface PayOnlineOffer {
  /** What a person may name in the mapping; `detail` says more in messages (e.g. a theme's payment services). */
  available: Array<{ id: string; name: string; detail?: string }>;
  /** What `invoice.payOnline: true` enables; empty: nothing is set up, and `true` stops start-up with `setUp`. */
  byDefault: string[];
  /** At most this many may be named (e.g. one branding theme per invoice); absent: any number. */
  most?: number;
  /** Where a person sets online payments up in the system, said when what the mapping asks is not there. */
  setUp: string;
  /** What the system's API cannot tell about the set-up (said by `relay check`); absent: it was read. */
  unconfirmed?: string;
}

/** Every backend's invoice states, in the use cases' words (`open`: final, sent or not yet paid). */
export type InvoiceStatus = 'draft' | 'open' | 'partially_paid' | 'paid' | 'void';

export interface AccountingInvoice {
  id: string;
  number: string;
  url: string;
  status: InvoiceStatus;
  /** Whether it went to the customer, where the backend can tell; otherwise an invoice that is not a draft was sent. */
  sent?: boolean;
  /** A person approved the draft in the accounting system (an approval step that leaves it a draft), where the backend has one. */
  approved?: boolean;
}

/** What an invoice says about the deal it belongs to, read by the backend from its own stamp. */
export interface InvoiceClue {
  invoiceId: string;
  /** The recurring profile (template) the invoice came from, when the backend knows it. */
  recurringId?: string;
  /** The deal the invoice's stamp names; `retainer` when the stamp is a retainer profile's. */
  stamped?: { dealId: string; retainer: boolean };
}

export interface AccountingInvoiceDetail extends AccountingInvoice, InvoiceClue {
  customerId: string;
  total: number;
  balance: number;
  currencyCode: string;
  /** Changes whenever the invoice does (payments included); opaque, compared for equality only. */
  version: string;
  /**
   * The invoice's payments where the backend's read of the invoice carries them whole (ID, amount, date):
   * then `invoicePayments` is not asked. Undefined: ask it.
   */
  payments?: AccountingPayment[];
}

/** A row of the changes the reconciler asks for. */
export interface InvoiceChange extends InvoiceClue {
  status: InvoiceStatus;
  version: string;
}

export interface AccountingPayment {
  paymentId: string;
  amount: number;
  date: string;
}

/** Names a person reads in notes and errors: the system's full name, and a short one (as in "<short> payment 123"). */
export interface AccountingNames {
  /** The backend's ID (the registry's key): keys of stored records and events start with it. */
  id: AccountingId;
  system: string;
  short: string;
  /** What the system calls the books the relay works in ("Books organization", "organisation"). */
  organization: string;
  /**
   * How a final invoice is cancelled there, in the words of notes (`invoice.onLost: "void"`): `void` (default;
   * it stays in the books, marked void) or `delete` (a system with no void state: it is removed).
   */
  cancelVerb?: 'void' | 'delete';
}

/** The system's own word for its books, alone ("organization", "organisation"): for texts that name one. */
export const organizationWord = (names: Pick<AccountingNames, 'organization'>): string => names.organization.split(' ').at(-1)!;

/** A change cursor is the backend's own (a time, a token): the reconciler stores it and hands it back. */
export type ChangeCursor = string;

/** Keys a backend that honours them sends with a write, so a resent write is done once. */
export interface WriteOptions {
  idempotencyKey?: string;
}

export interface AccountingPort {
  readonly names: AccountingNames;
  /** The stamp of a deal's invoice (generation > 1: the deal was invoiced again after its Invoice ID was cleared). */
  stamp(dealId: number, generation: number): DealStamp;
  /** The stamp of a deal's retainer profile, which the invoices it generates carry. */
  retainerStamp(dealId: number): DealStamp;
  findCustomerByEmail(email: string): Promise<Customer | undefined>;
  createCustomer(input: CustomerInput, opts?: WriteOptions): Promise<Customer>;
  /** The deal's invoice if one was already created (after a crash between the create and our record of it). */
  findDealInvoice(stamp: DealStamp, customerId: string): Promise<AccountingInvoice | undefined>;
  /** `send`: email it to the customer as part of the create, where the backend can (capabilities.emailOnCreate). */
  createInvoice(draft: InvoiceDraft, opts: { send: boolean } & WriteOptions): Promise<AccountingInvoice & { emailed: boolean }>;
  emailInvoice(invoiceId: string, to: string[], opts?: WriteOptions): Promise<void>;
  getInvoice(invoiceId: string): Promise<AccountingInvoiceDetail>;
  /** `payOnline`: also read what the organization offers for paying online (AccountingReference.payOnline). */
  reference(opts: { exemptions: boolean; payOnline?: boolean }): Promise<AccountingReference>;
  invoicePayments(invoiceId: string): Promise<AccountingPayment[]>;
  createRecurring(draft: RecurringDraft, opts?: WriteOptions): Promise<RecurringProfile>;
  findRecurringByName(name: string): Promise<RecurringProfile | undefined>;
  /**
   * Stopping may end the profile for good (a backend that cannot pause); resuming then makes a new one from
   * `draft` (the deal as it is now) and answers its ID. A backend that pauses ignores `draft`.
   */
  setRecurringActive(id: string, active: boolean, opts?: WriteOptions & { draft?: () => Promise<RecurringDraft> }): Promise<{ id: string }>;
  /**
   * Invoices changed since `cursor` (undefined: the first sweep, which looks back `firstLookbackMs`), oldest
   * first. Every page of one sweep is asked with the same cursor; `next` (the cursor after this page) of the
   * last page read is what the reconciler stores.
   */
  changedInvoices(cursor: ChangeCursor | undefined, page: number, firstLookbackMs: number): Promise<{ invoices: InvoiceChange[]; hasMore: boolean; next: ChangeCursor }>;
  /**
   * Cancels a final invoice that has no payment (it stays in the books, marked void). Present when the backend
   * can (capabilities.cancelInvoices); `invoice.onLost: "void"` needs it. Voiding a void invoice is no error.
   */
  voidInvoice?(invoiceId: string, opts?: WriteOptions): Promise<void>;
  /** Removes a draft nobody has sent (capabilities.cancelInvoices). Deleting one already gone is no error. */
  deleteDraftInvoice?(invoiceId: string, opts?: WriteOptions): Promise<void>;
  /**
   * Rewrites a draft's lines, terms and currency from `draft` (capabilities.reviewDrafts; `invoice.review`). Only
   * ever called on a draft whose version is the one the relay last wrote; answers the new version.
   */
  updateDraftInvoice?(invoiceId: string, draft: InvoiceDraft, opts?: WriteOptions): Promise<{ version: string }>;
  /**
   * Makes a draft final (approved: it can be paid and has its online link) without emailing it
   * (capabilities.reviewDrafts). `thenEmail`: the relay emails it next, and a backend whose email makes a draft
   * final may leave it to the email. Approving one already final is no error.
   */
  approveInvoice?(invoiceId: string, opts: { thenEmail: boolean } & WriteOptions): Promise<AccountingInvoice>;
}
