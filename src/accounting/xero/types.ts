// The parts of Xero's answers the client reads and of its requests the client writes, picked from the types
// generated from Xero's own documents (./contract/*.ts, npm run contract): reading or sending a property the
// contract does not have is a compile error. The only departures are those in ./contract/overrides.ts.
// IDs are GUID strings; dates in answers are `/Date(…)/` strings (see ./dates.ts).
import type { components as Accounting, operations as Ops } from './contract/accounting.js';
import type { components as Identity } from './contract/identity.js';
import type { components as Webhooks } from './contract/webhooks.js';
import type { LiveAdds, LiveElementStatus } from './contract/overrides.js';

type S = Accounting['schemas'];
/** The JSON body of an operation's answer with the given status. */
type Answer<Op, Status extends number> = Op extends { responses: { [K in Status]: { content: { 'application/json': infer Body } } } } ? Body : never;
/** The JSON body of an operation's request. */
type Body<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;
/** The element type of an array property. */
type Each<T> = NonNullable<T> extends ReadonlyArray<infer E> ? E : never;
/** Properties the relay cannot work without: the client checks them on every answer (see checked() in client.ts). */
type Needs<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** A record as received, before the client checked the properties the relay needs. */
export type Unchecked<T> = { [K in keyof T]?: T[K] | undefined };
/** openapi-typescript makes properties with a `default` required; in what we send they are optional. */
type Writable<T> = { -readonly [K in keyof T]?: T[K] };

// ---- Answers -------------------------------------------------------------------------------------------

export type XeroValidationError = Pick<S['ValidationError'], 'Message'>;
/** The 400 ValidationException: `Elements[].ValidationErrors[].Message` carry what Xero refused. */
export type XeroErrorBody = Pick<S['Error'], 'ErrorNumber' | 'Type' | 'Message'> & { Elements?: Array<Pick<S['Element'], 'ValidationErrors'>> };

export type XeroContact = Needs<
  Pick<S['Contact'], 'ContactID' | 'Name' | 'EmailAddress' | 'ContactNumber' | 'ContactStatus' | 'DefaultCurrency' | 'IsCustomer' | 'UpdatedDateUTC'>,
  'ContactID'
>;

export type XeroPayment = Needs<Pick<S['Payment'], 'PaymentID' | 'Amount' | 'Date' | 'Status' | 'PaymentType' | 'Reference' | 'CurrencyRate' | 'UpdatedDateUTC'>, 'PaymentID' | 'Amount'> & {
  Invoice?: Pick<S['Invoice'], 'InvoiceID' | 'InvoiceNumber'>;
};

export type XeroInvoice = Needs<
  Pick<
    S['Invoice'],
    | 'InvoiceID'
    | 'InvoiceNumber'
    | 'Type'
    | 'Status'
    | 'Reference'
    | 'CurrencyCode'
    | 'Date'
    | 'DueDate'
    | 'Total'
    | 'AmountDue'
    | 'AmountPaid'
    | 'AmountCredited'
    | 'FullyPaidOnDate'
    | 'UpdatedDateUTC'
    | 'RepeatingInvoiceID'
    | 'SentToContact'
  >,
  'InvoiceID' | 'Status'
> & {
  Contact?: Pick<S['Contact'], 'ContactID' | 'Name' | 'ContactNumber'>;
  Payments?: Array<Unchecked<XeroPayment>>;
};

export type XeroInvoiceStatus = NonNullable<S['Invoice']['Status']>;

export type XeroTaxRate = Needs<Pick<S['TaxRate'], 'Name' | 'TaxType' | 'EffectiveRate' | 'DisplayTaxRate' | 'Status' | 'CanApplyToRevenue'>, 'TaxType' | 'Name'>;
export type XeroCurrency = Needs<Pick<S['Currency'], 'Code' | 'Description'>, 'Code'>;
export type XeroAccount = Needs<Pick<S['Account'], 'AccountID' | 'Code' | 'Name' | 'Type' | 'Class' | 'Status' | 'TaxType'>, 'AccountID'>;
export type XeroBrandingTheme = Needs<Pick<S['BrandingTheme'], 'BrandingThemeID' | 'Name' | 'SortOrder'>, 'BrandingThemeID' | 'Name'>;
/** A payment service of a branding theme (GET /BrandingThemes/{BrandingThemeID}/PaymentServices). */
export type XeroPaymentService = Pick<S['PaymentService'], 'PaymentServiceID' | 'PaymentServiceName' | 'PaymentServiceType'>;
export type XeroOrganisation = Needs<
  Pick<S['Organisation'], 'OrganisationID' | 'Name' | 'LegalName' | 'BaseCurrency' | 'CountryCode' | 'Version' | 'Class' | 'IsDemoCompany' | 'ShortCode' | 'PaysTax'>,
  'OrganisationID' | 'Name'
>;
export type XeroSchedule = Pick<S['Schedule'], 'Period' | 'Unit' | 'DueDate' | 'DueDateType' | 'StartDate' | 'EndDate' | 'NextScheduledDate'>;
export type XeroRepeatingInvoice = Needs<Pick<S['RepeatingInvoice'], 'RepeatingInvoiceID' | 'Reference' | 'Status' | 'Type' | 'CurrencyCode' | 'Total'>, 'RepeatingInvoiceID'> & {
  Contact?: Pick<S['Contact'], 'ContactID' | 'Name'>;
  Schedule?: XeroSchedule;
};
export type XeroPagination = Pick<S['Pagination'], 'page' | 'pageCount' | 'pageSize' | 'itemCount'>;

/** A tenant the token can reach (GET https://api.xero.com/connections). */
export type XeroTenant = Needs<Pick<Identity['schemas']['Connection'], 'id' | 'tenantId' | 'tenantName' | 'tenantType' | 'authEventId' | 'createdDateUtc'>, 'id' | 'tenantId'>;

export type XeroWebhookBody = Webhooks['schemas']['WebhookEvent'];
export type XeroWebhookEvent = Each<XeroWebhookBody['events']>;

/** The answers as received: every element Unchecked (the contract marks all properties optional). */
export interface XeroAnswers {
  contacts: { Contacts?: Array<Unchecked<XeroContact> & Pick<S['Contact'], 'StatusAttributeString' | 'ValidationErrors'>> };
  invoices: { Invoices?: Array<Unchecked<XeroInvoice> & Pick<S['Invoice'], 'StatusAttributeString' | 'ValidationErrors'>>; pagination?: XeroPagination };
  payments: { Payments?: Array<Unchecked<XeroPayment>>; pagination?: XeroPagination };
  onlineInvoices: Answer<Ops['getOnlineInvoice'], 200>;
  taxRates: { TaxRates?: Array<Unchecked<XeroTaxRate>> };
  currencies: { Currencies?: Array<Unchecked<XeroCurrency>> };
  accounts: { Accounts?: Array<Unchecked<XeroAccount>> };
  brandingThemes: { BrandingThemes?: Array<Unchecked<XeroBrandingTheme>> };
  paymentServices: { PaymentServices?: Array<Unchecked<XeroPaymentService>> };
  organisations: { Organisations?: Array<Unchecked<XeroOrganisation>> };
  repeatingInvoices: { RepeatingInvoices?: Array<LiveAdds<Unchecked<XeroRepeatingInvoice>, LiveElementStatus>> };
}

// ---- Requests ------------------------------------------------------------------------------------------

export type XeroAddressInput = Writable<Pick<S['Address'], 'AddressType' | 'AddressLine1' | 'AddressLine2' | 'AddressLine3' | 'AddressLine4' | 'City' | 'Region' | 'PostalCode' | 'Country'>>;
export type XeroPhoneInput = Writable<Pick<S['Phone'], 'PhoneType' | 'PhoneNumber' | 'PhoneAreaCode' | 'PhoneCountryCode'>>;

/** PUT /Contacts: one new contact. `Name` must be unique among active contacts. */
export type XeroContactInput = Writable<Pick<S['Contact'], 'EmailAddress' | 'ContactNumber' | 'FirstName' | 'LastName' | 'TaxNumber' | 'DefaultCurrency' | 'IsCustomer'>> & {
  Name: NonNullable<S['Contact']['Name']>;
  Addresses?: XeroAddressInput[];
  Phones?: XeroPhoneInput[];
};

export type XeroLineItemInput = Writable<Pick<S['LineItem'], 'Description' | 'Quantity' | 'UnitAmount' | 'AccountCode' | 'TaxType' | 'ItemCode' | 'DiscountRate' | 'LineAmount'>>;

/** PUT /Invoices: a sales invoice. Only ContactID is sent for the contact (other fields would rewrite it). */
export type XeroInvoiceInput = Writable<Pick<S['Invoice'], 'Date' | 'DueDate' | 'LineAmountTypes' | 'CurrencyCode' | 'InvoiceNumber' | 'Reference' | 'BrandingThemeID' | 'SentToContact'>> & {
  Type: Extract<S['Invoice']['Type'], 'ACCREC'>;
  Contact: Required<Pick<S['Contact'], 'ContactID'>>;
  LineItems: XeroLineItemInput[];
  Status?: Extract<XeroInvoiceStatus, 'DRAFT' | 'SUBMITTED' | 'AUTHORISED'>;
};

/** PUT /RepeatingInvoices: a template; `Schedule.StartDate`/`EndDate` are `YYYY-MM-DD`. */
export type XeroRepeatingInvoiceInput = Writable<
  Pick<S['RepeatingInvoice'], 'LineAmountTypes' | 'CurrencyCode' | 'Reference' | 'BrandingThemeID' | 'ApprovedForSending' | 'SendCopy' | 'MarkAsSent' | 'IncludePDF'>
> & {
  Type: Extract<S['RepeatingInvoice']['Type'], 'ACCREC'>;
  Contact: Required<Pick<S['Contact'], 'ContactID'>>;
  LineItems: XeroLineItemInput[];
  Status: Extract<S['RepeatingInvoice']['Status'], 'DRAFT' | 'AUTHORISED'>;
  Schedule: Writable<Pick<S['Schedule'], 'Period' | 'Unit' | 'DueDate' | 'DueDateType' | 'StartDate' | 'EndDate'>>;
};

/** A request envelope: `K` must be a property of the contract's request body `B`, holding the elements `E`. */
type Envelope<B, K extends keyof B, E> = { [P in K]: E[] };

/** The request envelopes; their names are checked against the contract's request bodies at compile time. */
/** What the relay rewrites on a draft (invoice.review). */
export type XeroDraftChanges = Pick<XeroInvoiceInput, 'LineItems' | 'DueDate' | 'CurrencyCode' | 'LineAmountTypes' | 'BrandingThemeID'>;

export interface XeroRequests {
  createContacts: Envelope<Body<Ops['createContacts']>, 'Contacts', XeroContactInput>;
  createInvoices: Envelope<Body<Ops['createInvoices']>, 'Invoices', XeroInvoiceInput>;
  updateInvoice: Envelope<Body<Ops['updateInvoice']>, 'Invoices', Required<Pick<S['Invoice'], 'InvoiceID'>> & { Status: Extract<XeroInvoiceStatus, 'VOIDED' | 'DELETED' | 'AUTHORISED'> }>;
  /** A draft's lines and terms rewritten (invoice.review). */
  updateDraftInvoice: Envelope<Body<Ops['updateInvoice']>, 'Invoices', Required<Pick<S['Invoice'], 'InvoiceID'>> & XeroDraftChanges>;
  emailInvoice: Body<Ops['emailInvoice']>;
  createRepeatingInvoices: Envelope<Body<Ops['createRepeatingInvoices']>, 'RepeatingInvoices', XeroRepeatingInvoiceInput>;
  deleteRepeatingInvoice: Envelope<
    Body<Ops['updateRepeatingInvoice']>,
    'RepeatingInvoices',
    Required<Pick<S['RepeatingInvoice'], 'RepeatingInvoiceID'>> & { Status: Extract<S['RepeatingInvoice']['Status'], 'DELETED'> }
  >;
}
