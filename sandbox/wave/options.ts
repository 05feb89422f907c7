// The options of createFakeWave and the businesses it starts with; every option has a Wave-like default.
import { randomUUID } from 'node:crypto';
import { scaled } from './money.js';
import { businessId, childId, type Account, type Business, type WaveState } from './state.js';

export interface BusinessInput {
  name?: string;
  /** ISO 4217; default USD. */
  currency?: string;
  /** Default true. */
  emailSendEnabled?: boolean;
  /** Default false (invoices through the API need false). */
  isClassicInvoicing?: boolean;
  /** Sales taxes; default "VAT 20%" (VAT, 0.2) and "GST 5%" (GST, 0.05). Rates as decimal strings ("0.2"). */
  salesTaxes?: Array<{ name: string; abbreviation?: string; rate: string; isArchived?: boolean; isCompound?: boolean }>;
  /** Accounts beside the default chart (Sales, Discounts, Cash on Hand, Accounts Receivable…). */
  accounts?: Array<{ name: string; type: Account['type']; subtype: string; isArchived?: boolean }>;
  /** Days from invoice date to due date when an invoice names none; default 30. */
  paymentTermsDays?: number;
  /** What Wave Payments accepts online for the business (Settings › Payments); default both card and bank. */
  payments?: { card?: boolean; bank?: boolean };
}

export interface LimitSettings {
  /** Calls per minute per access token (second-hand: about 60). */
  perMinute: number;
  /** Calls in flight per access token (second-hand: about 2). */
  concurrent: number;
}

export const defaultLimits = (): LimitSettings => ({ perMinute: 60, concurrent: 2 });

export interface FakeWaveOptions {
  clientId?: string;
  clientSecret?: string;
  /** Redirect URIs registered for the application; default: any (the authorize call's own). */
  redirectUris?: string[];
  /** Businesses of the user; default one, "Demo Agency" (USD, email enabled, new invoicing). */
  businesses?: BusinessInput[];
  /** Access token lifetime; default 7200 s (about 2 h, second-hand). */
  accessTokenTtlSeconds?: number;
  /** Seconds a used refresh token keeps working (answer lost on the way back); default 0: refused at once. */
  refreshGraceSeconds?: number;
  /** A Full Access Token (never expires, every scope, every business); default one is generated. */
  fullAccessToken?: string;
  /** Scope of the pre-issued refresh token (`refreshToken`) and of issueTokens(); default WAVE_RELAY_SCOPES. */
  scope?: string;
  /** The consent screen's answer at /oauth2/authorize/; default 'grant'. */
  consent?: 'grant' | 'deny';
  limits?: Partial<LimitSettings>;
  /** invoiceCreate refuses a number the business already has; default false (accepted, as unconfirmed). */
  rejectDuplicateInvoiceNumbers?: boolean;
  /** HTTP status for parse/validation/variable errors; default 400 (GraphQL servers of Wave's kind). */
  invalidDocumentStatus?: 200 | 400;
  /** Base for viewUrl / pdfUrl; default the listening origin. */
  publicUrl?: string;
}

/** The scopes the relay asks for (shared/reference/wave.md "Auth"). */
export const WAVE_RELAY_SCOPES =
  'business:read customer:read customer:write product:read product:write invoice:read invoice:write invoice:send sales_tax:read account:read';

/** Every scope Wave lists (OAuth Scopes page; estimate from the Webhooks guide). */
export const WAVE_RESOURCES = ['account', 'business', 'customer', 'estimate', 'invoice', 'product', 'sales_tax', 'transaction', 'user', 'vendor'];

const DEFAULT_TAXES: NonNullable<BusinessInput['salesTaxes']> = [
  { name: 'VAT 20%', abbreviation: 'VAT', rate: '0.2' },
  { name: 'GST 5%', abbreviation: 'GST', rate: '0.05' },
];

/** Adds a business with a small chart of accounts and its sales taxes; returns it. */
export function seedBusiness(state: WaveState, input: BusinessInput, now: number): Business {
  const uuid = randomUUID();
  const b: Business = {
    id: businessId(uuid),
    uuid,
    name: input.name ?? 'Demo Agency',
    currency: input.currency ?? 'USD',
    emailSendEnabled: input.emailSendEnabled ?? true,
    isClassicInvoicing: input.isClassicInvoicing ?? false,
    isClassicAccounting: false,
    isPersonal: false,
    isArchived: false,
    timezone: 'America/Toronto',
    paymentTermsDays: input.paymentTermsDays ?? 30,
    payments: { card: input.payments?.card ?? true, bank: input.payments?.bank ?? true },
    createdMs: now,
    modifiedMs: now,
    seq: 0,
  };
  state.businesses.set(b.id, b);
  const chart: NonNullable<BusinessInput['accounts']> = [
    { name: 'Sales', type: 'INCOME', subtype: 'INCOME' },
    { name: 'Discounts', type: 'INCOME', subtype: 'DISCOUNTS' },
    { name: 'Uncategorized Income', type: 'INCOME', subtype: 'UNCATEGORIZED_INCOME' },
    { name: 'Cash on Hand', type: 'ASSET', subtype: 'CASH_AND_BANK' },
    { name: 'Accounts Receivable', type: 'ASSET', subtype: 'RECEIVABLE_INVOICES' },
    { name: 'Office Supplies', type: 'EXPENSE', subtype: 'EXPENSE' },
    ...(input.accounts ?? []),
  ];
  for (const a of chart) {
    const id = childId(b, 'Account');
    state.accounts.set(id, { id, businessId: b.id, name: a.name, description: null, type: a.type, subtype: a.subtype, currency: b.currency, isArchived: a.isArchived ?? false, sequence: 1 });
  }
  for (const t of input.salesTaxes ?? DEFAULT_TAXES) {
    const id = childId(b, 'SalesTax');
    state.salesTaxes.set(id, {
      id,
      businessId: b.id,
      name: t.name,
      abbreviation: t.abbreviation ?? t.name.split(/\s/)[0]!.slice(0, 10),
      description: null,
      taxNumber: null,
      rates: [{ effective: '2020-01-01', rate: scaled(t.rate) }],
      isCompound: t.isCompound ?? false,
      isRecoverable: false,
      isArchived: t.isArchived ?? false,
      createdMs: now,
      modifiedMs: now,
    });
  }
  return b;
}
