// State -> the JSON Xero answers with. Only properties the contract documents (contract/xero/accounting.json,
// with src/accounting/xero/contract/overrides.ts); the contract gate checks every answer strictly, so a
// property added here that Xero does not document shows up as a violation in the tests. So the live
// envelope's Id, Status, ProviderName and DateTimeUTC, and invoices' DateString/DueDateString, which Xero's
// own examples show but its schemas do not, are left out (dates are "/Date(ms+0000)/" only).
import type { Account, BrandingTheme, Contact, Invoice, LineItem, Payment, PaymentService, RepeatingInvoice, TaxRate, Tenant, XeroState } from './state.js';
import { round2 } from './state.js';
import { isoUtc, xeroDate } from './time.js';

type Json = Record<string, unknown>;
const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The answer envelopes of the accounting operations the fake serves. */
type Envelope = 'Accounts' | 'BrandingThemes' | 'Contacts' | 'Currencies' | 'Invoices' | 'OnlineInvoices' | 'Organisations' | 'PaymentServices' | 'Payments' | 'RepeatingInvoices' | 'TaxRates';

/** `{<key>: items, …extra}`. */
export function envelope(key: Envelope, items: unknown[], extra: Json = {}): Json {
  return { [key]: items, ...extra };
}

export function contactJson(c: Contact): Json {
  return defined({
    ContactID: c.contactId,
    ContactNumber: c.contactNumber,
    ContactStatus: c.status,
    Name: c.name,
    FirstName: c.firstName,
    LastName: c.lastName,
    EmailAddress: c.email,
    TaxNumber: c.taxNumber,
    DefaultCurrency: c.defaultCurrency,
    Addresses: c.addresses,
    Phones: c.phones,
    UpdatedDateUTC: xeroDate(c.updatedMs),
    ContactGroups: [],
    IsSupplier: false,
    IsCustomer: true,
    ContactPersons: [],
    HasAttachments: false,
    HasValidationErrors: false,
  });
}

const contactSummary = (state: XeroState, contactId: string): Json => {
  const c = state.contacts.get(contactId);
  return defined({ ContactID: contactId, Name: c?.name, ContactNumber: c?.contactNumber, EmailAddress: c?.email });
};

export function lineItemJson(l: LineItem): Json {
  return defined({
    LineItemID: l.lineItemId,
    Description: l.description,
    Quantity: l.quantity,
    UnitAmount: l.unitAmount,
    ItemCode: l.itemCode,
    AccountCode: l.accountCode,
    TaxType: l.taxType,
    TaxAmount: l.taxAmount,
    LineAmount: l.lineAmount,
    Tracking: [],
  });
}

export function invoiceJson(state: XeroState, inv: Invoice): Json {
  const payments = inv.paymentIds.map((id) => state.payments.get(id)).filter((p) => p?.status === 'AUTHORISED');
  return defined({
    Type: inv.type,
    InvoiceID: inv.invoiceId,
    InvoiceNumber: inv.invoiceNumber,
    Reference: inv.reference ?? '',
    Payments: payments.map((p) => ({ PaymentID: p!.paymentId, Date: xeroDate(p!.dateMs), Amount: p!.amount, CurrencyRate: 1, HasAccount: false, HasValidationErrors: false })),
    CreditNotes: [],
    Prepayments: [],
    Overpayments: [],
    AmountDue: round2(inv.total - inv.amountPaid),
    AmountPaid: inv.amountPaid,
    AmountCredited: 0,
    SentToContact: inv.sentToContact,
    CurrencyRate: 1,
    IsDiscounted: false,
    HasAttachments: false,
    HasErrors: false,
    RepeatingInvoiceID: inv.repeatingInvoiceId,
    BrandingThemeID: inv.brandingThemeId ?? state.tenants.get(inv.tenantId)?.brandingThemeId,
    Contact: contactSummary(state, inv.contactId),
    Date: xeroDate(inv.dateMs),
    DueDate: inv.dueDateMs === undefined ? undefined : xeroDate(inv.dueDateMs),
    Status: inv.status,
    LineAmountTypes: inv.lineAmountTypes,
    LineItems: inv.lineItems.map(lineItemJson),
    SubTotal: inv.subTotal,
    TotalTax: inv.totalTax,
    Total: inv.total,
    UpdatedDateUTC: xeroDate(inv.updatedMs),
    UpdatedDateUTCString: isoUtc(inv.updatedMs),
    CurrencyCode: inv.currencyCode,
    FullyPaidOnDate: inv.fullyPaidOnMs === undefined ? undefined : xeroDate(inv.fullyPaidOnMs),
  });
}

export function paymentJson(state: XeroState, p: Payment): Json {
  const inv = state.invoices.get(p.invoiceId);
  const tenant = state.tenants.get(p.tenantId);
  const bank = tenant?.accounts.find((a) => a.type === 'BANK');
  return defined({
    PaymentID: p.paymentId,
    Date: xeroDate(p.dateMs),
    Amount: p.amount,
    Reference: p.reference,
    CurrencyRate: 1,
    PaymentType: 'ACCRECPAYMENT',
    Status: p.status,
    UpdatedDateUTC: xeroDate(p.updatedMs),
    UpdatedDateUTCString: isoUtc(p.updatedMs),
    HasAccount: bank !== undefined,
    IsReconciled: false,
    HasValidationErrors: false,
    Account: bank && { AccountID: bank.accountId, Code: bank.code },
    Invoice: inv && {
      Type: inv.type,
      InvoiceID: inv.invoiceId,
      InvoiceNumber: inv.invoiceNumber,
      Contact: contactSummary(state, inv.contactId),
      CurrencyCode: inv.currencyCode,
    },
  });
}

export function repeatingJson(state: XeroState, r: RepeatingInvoice, tenant: Tenant): Json {
  const s = r.schedule;
  return defined({
    Type: r.type,
    RepeatingInvoiceID: r.repeatingInvoiceId,
    ID: r.repeatingInvoiceId,
    Contact: contactSummary(state, r.contactId),
    Schedule: defined({
      Period: s.period,
      Unit: s.unit,
      DueDate: s.dueDate,
      DueDateType: s.dueDateType,
      StartDate: xeroDate(s.startMs),
      NextScheduledDate: r.status === 'DELETED' ? undefined : xeroDate(s.nextMs),
      EndDate: s.endMs === undefined ? undefined : xeroDate(s.endMs),
    }),
    LineItems: r.lineItems.map(lineItemJson),
    LineAmountTypes: r.lineAmountTypes,
    Reference: r.reference,
    BrandingThemeID: r.brandingThemeId ?? tenant.brandingThemeId,
    CurrencyCode: r.currencyCode,
    Status: r.status,
    SubTotal: r.subTotal,
    TotalTax: r.totalTax,
    Total: r.total,
    HasAttachments: false,
    ApprovedForSending: r.approvedForSending,
    SendCopy: r.sendCopy,
    MarkAsSent: r.markAsSent,
    IncludePDF: r.includePDF,
  });
}

export function taxRateJson(t: TaxRate): Json {
  return {
    Name: t.name,
    TaxType: t.taxType,
    ReportTaxType: t.rate > 0 ? 'OUTPUT' : 'NONE',
    CanApplyToAssets: true,
    CanApplyToEquity: true,
    CanApplyToExpenses: !t.canApplyToRevenue,
    CanApplyToLiabilities: true,
    CanApplyToRevenue: t.canApplyToRevenue,
    DisplayTaxRate: t.rate,
    EffectiveRate: t.rate,
    Status: t.status,
    TaxComponents: [{ Name: t.name, Rate: t.rate, IsCompound: false, IsNonRecoverable: false }],
  };
}

const CURRENCY_NAMES: Record<string, string> = {
  AUD: 'Australian Dollar', CAD: 'Canadian Dollar', CHF: 'Swiss Franc', EUR: 'Euro', GBP: 'British Pound',
  NZD: 'New Zealand Dollar', PLN: 'Polish Zloty', USD: 'United States Dollar',
};
export const currencyJson = (code: string): Json => ({ Code: code, Description: CURRENCY_NAMES[code] ?? code });

const VERSIONS: Record<string, string> = { AU: 'AU', NZ: 'NZ', GB: 'UK', US: 'US' };
export function organisationJson(t: Tenant): Json {
  return {
    OrganisationID: t.tenantId,
    Name: t.name,
    LegalName: t.name,
    PaysTax: true,
    Version: VERSIONS[t.countryCode] ?? 'GLOBAL',
    OrganisationType: 'COMPANY',
    OrganisationEntityType: 'COMPANY',
    BaseCurrency: t.baseCurrency,
    CountryCode: t.countryCode,
    IsDemoCompany: false,
    OrganisationStatus: 'ACTIVE',
    FinancialYearEndDay: 31,
    FinancialYearEndMonth: 12,
    SalesTaxBasis: 'ACCRUALS',
    SalesTaxPeriod: 'QUARTERLY',
    DefaultSalesTax: 'Tax Exclusive',
    DefaultPurchasesTax: 'Tax Exclusive',
    ShortCode: t.shortCode,
    CreatedDateUTC: xeroDate(t.createdMs),
    Edition: 'BUSINESS',
    Class: 'PREMIUM',
    Addresses: [],
    Phones: [],
    ExternalLinks: [],
  };
}

export function accountJson(a: Account, updatedMs: number): Json {
  const bank = a.type === 'BANK';
  return {
    AccountID: a.accountId,
    Code: a.code,
    Name: a.name,
    Status: 'ACTIVE',
    Type: a.type,
    TaxType: a.taxType,
    Class: bank || a.type === 'CURRENT' ? 'ASSET' : 'REVENUE',
    EnablePaymentsToAccount: bank,
    ShowInExpenseClaims: false,
    ...(bank ? { BankAccountType: 'BANK', BankAccountNumber: '0000000000' } : {}),
    ReportingCode: bank ? 'ASS' : 'REV',
    HasAttachments: false,
    UpdatedDateUTC: xeroDate(updatedMs),
    AddToWatchlist: false,
  };
}

export const brandingThemeJson = (t: BrandingTheme): Json => ({
  BrandingThemeID: t.brandingThemeId,
  Name: t.name,
  Type: 'INVOICE',
  SortOrder: t.sortOrder,
  CreatedDateUTC: xeroDate(t.createdMs),
});

export const paymentServiceJson = (p: PaymentService): Json => ({
  PaymentServiceID: p.paymentServiceId,
  PaymentServiceName: p.name,
  PaymentServiceType: p.type,
});
