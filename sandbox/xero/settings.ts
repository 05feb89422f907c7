// The organisation's reference data (Organisation, TaxRates, Currencies, Accounts, BrandingThemes and their
// PaymentServices) and Payments (read; deleting one reopens its invoice). Seeded per tenant by `seedTenant`.
import { randomUUID } from 'node:crypto';
import express, { type Request } from 'express';
import { tenantOf, type XeroContext } from './context.js';
import { XeroHttpError, notFound } from './errors.js';
import { deletePayment } from './invoices.js';
import { modifiedSince, orderBy, paginate } from './listing.js';
import { accountJson, brandingThemeJson, currencyJson, envelope, organisationJson, paymentJson, paymentServiceJson, taxRateJson } from './render.js';
import type { BrandingTheme, TaxRate, Tenant, XeroState } from './state.js';
import { GUID, brandingThemeOf } from './state.js';
import { matchesWhere, parseWhere } from './where.js';

export interface TenantInput {
  name: string;
  /** ISO 3166 alpha-2, default GB. */
  countryCode?: string;
  baseCurrency?: string;
  /** Further enabled currencies beside the base one. */
  currencies?: string[];
  /** Default: a UK-style set (20 % OUTPUT2, 5 % RROUTPUT, 0 % ZERORATEDOUTPUT, NONE). */
  taxRates?: Array<{ name: string; taxType: string; rate: number; canApplyToRevenue?: boolean; status?: TaxRate['status'] }>;
  /** Default DEFAULT_BRANDING_THEMES: "Standard" (no payment service) and "Pay online" (Stripe). */
  brandingThemes?: BrandingThemeInput[];
}

/** A branding theme as a person sets it up in Xero (Settings › Invoice settings), with its payment services. */
export interface BrandingThemeInput {
  name: string;
  /** Xero's order (the default theme has the lowest); default: the position in the list. */
  sortOrder?: number;
  /** Payment services chosen for the theme: a name (its type the same), or a name and a PaymentServiceType. */
  paymentServices?: Array<string | { name: string; type?: string }>;
}

export const DEFAULT_BRANDING_THEMES: BrandingThemeInput[] = [
  { name: 'Standard', paymentServices: [] },
  { name: 'Pay online', paymentServices: [{ name: 'Stripe', type: 'Stripe' }] },
];

/**
 * The organisation's branding themes become `input`. A theme keeps its BrandingThemeID when one of the same
 * name was there (a person editing a theme's payment services does not make a new theme); the default theme
 * is the one with the lowest SortOrder. Invoices keep the theme they have.
 */
export function setBrandingThemes(tenant: Pick<Tenant, 'brandingThemes' | 'brandingThemeId'>, input: BrandingThemeInput[], nowMs: number): void {
  if (input.length === 0) throw new Error('a Xero organisation has at least one branding theme');
  const before = new Map(tenant.brandingThemes.map((t) => [t.name.toLowerCase(), t]));
  const themes: BrandingTheme[] = input.map((t, i) => {
    const kept = before.get(t.name.toLowerCase());
    return {
      brandingThemeId: kept?.brandingThemeId ?? randomUUID(),
      name: t.name,
      sortOrder: t.sortOrder ?? i,
      createdMs: kept?.createdMs ?? nowMs,
      paymentServices: (t.paymentServices ?? []).map((p) => {
        const { name, type } = typeof p === 'string' ? { name: p, type: p } : { name: p.name, type: p.type ?? p.name };
        const same = kept?.paymentServices.find((k) => k.name === name);
        return { paymentServiceId: same?.paymentServiceId ?? randomUUID(), name, type };
      }),
    };
  });
  themes.sort((a, b) => a.sortOrder - b.sortOrder);
  tenant.brandingThemes = themes;
  tenant.brandingThemeId = themes[0]!.brandingThemeId;
}

const DEFAULT_TAX_RATES: TenantInput['taxRates'] = [
  { name: '20% (VAT on Income)', taxType: 'OUTPUT2', rate: 20 },
  { name: '5% (VAT on Income)', taxType: 'RROUTPUT', rate: 5 },
  { name: 'Zero Rated Income', taxType: 'ZERORATEDOUTPUT', rate: 0 },
  { name: 'No VAT', taxType: 'NONE', rate: 0 },
  { name: '20% (VAT on Expenses)', taxType: 'INPUT2', rate: 20, canApplyToRevenue: false },
];

export function seedTenant(state: XeroState, input: TenantInput, nowMs: number): Tenant {
  const baseCurrency = (input.baseCurrency ?? 'GBP').toUpperCase();
  const taxRates = (input.taxRates ?? DEFAULT_TAX_RATES)!.map((t) => ({
    name: t.name,
    taxType: t.taxType,
    rate: t.rate,
    status: t.status ?? 'ACTIVE',
    canApplyToRevenue: t.canApplyToRevenue ?? true,
  }));
  const salesTax = taxRates.find((t) => t.canApplyToRevenue && t.status === 'ACTIVE')?.taxType ?? 'NONE';
  const tenantId = randomUUID();
  const tenant: Tenant = {
    tenantId,
    name: input.name,
    baseCurrency,
    countryCode: (input.countryCode ?? 'GB').toUpperCase(),
    shortCode: `!${tenantId.slice(0, 5)}`,
    createdMs: nowMs,
    currencies: [...new Set([baseCurrency, ...(input.currencies ?? []).map((c) => c.toUpperCase())])],
    taxRates,
    accounts: [
      { accountId: randomUUID(), code: '200', name: 'Sales', type: 'REVENUE', taxType: salesTax },
      { accountId: randomUUID(), code: '260', name: 'Other Revenue', type: 'REVENUE', taxType: salesTax },
      { accountId: randomUUID(), code: '090', name: 'Business Bank Account', type: 'BANK', taxType: 'NONE' },
    ],
    brandingThemeId: '',
    brandingThemes: [],
    invoiceSeq: 0,
  };
  setBrandingThemes(tenant, input.brandingThemes ?? DEFAULT_BRANDING_THEMES, nowMs);
  state.tenants.set(tenantId, tenant);
  return tenant;
}

export function settingsRoutes(ctx: XeroContext): express.Router {
  const r = express.Router();
  const whereOf = (req: Request) => parseWhere(typeof req.query.where === 'string' ? req.query.where : undefined);
  const filtered = (req: Request, items: Record<string, unknown>[]) => {
    const where = whereOf(req);
    return items.filter((json) => matchesWhere(where, json, ctx.caseSensitiveWhere));
  };

  r.get('/Organisation', (_req, res) => {
    res.json(envelope('Organisations', [organisationJson(tenantOf(res.locals))]));
  });
  r.get('/TaxRates', (req, res) => {
    res.json(envelope('TaxRates', filtered(req, tenantOf(res.locals).taxRates.map(taxRateJson))));
  });
  r.get('/Currencies', (req, res) => {
    res.json(envelope('Currencies', filtered(req, tenantOf(res.locals).currencies.map(currencyJson))));
  });
  r.get('/Accounts', (req, res) => {
    const tenant = tenantOf(res.locals);
    res.json(envelope('Accounts', filtered(req, tenant.accounts.map((a) => accountJson(a, tenant.createdMs)))));
  });
  r.get('/Accounts/:id', (req, res) => {
    const tenant = tenantOf(res.locals);
    const account = tenant.accounts.find((a) => a.accountId === String(req.params.id).toLowerCase());
    if (!account) throw notFound();
    res.json(envelope('Accounts', [accountJson(account, tenant.createdMs)]));
  });
  r.get('/BrandingThemes', (_req, res) => {
    res.json(envelope('BrandingThemes', tenantOf(res.locals).brandingThemes.map(brandingThemeJson)));
  });
  r.get('/BrandingThemes/:id', (req, res) => {
    const theme = brandingThemeOf(tenantOf(res.locals), String(req.params.id));
    if (!theme) throw notFound();
    res.json(envelope('BrandingThemes', [brandingThemeJson(theme)]));
  });
  // The contract's security for this operation is the paymentservices scope alone: a token without it is
  // refused as Xero refuses a scope it lacks, 401 "AuthorizationUnsuccessful" (XeroAPI/Xero-NetStandard#298,
  // XeroAPI/xero-ruby-oauth2-app#82; the document itself lists only the 200).
  r.get('/BrandingThemes/:id/PaymentServices', (req, res) => {
    if (!ctx.grantedScopes(req.get('authorization')).includes('paymentservices')) {
      throw new XeroHttpError(401, { Type: null, Title: 'Unauthorized', Status: 401, Detail: 'AuthorizationUnsuccessful' });
    }
    const theme = brandingThemeOf(tenantOf(res.locals), String(req.params.id));
    if (!theme) throw notFound();
    res.json(envelope('PaymentServices', theme.paymentServices.map(paymentServiceJson)));
  });

  const payment = (tenant: Tenant, id: string) => {
    const p = GUID.test(id) ? ctx.state.payments.get(id.toLowerCase()) : undefined;
    if (!p || p.tenantId !== tenant.tenantId) throw notFound();
    return p;
  };
  r.get('/Payments', (req, res) => {
    const tenant = tenantOf(res.locals);
    const since = modifiedSince(req);
    const where = whereOf(req);
    const items = [...ctx.state.payments.values()]
      .filter((p) => p.tenantId === tenant.tenantId && (since === undefined || p.updatedMs > since))
      .map((p) => paymentJson(ctx.state, p))
      .filter((json) => matchesWhere(where, json, ctx.caseSensitiveWhere));
    const page = paginate(orderBy(items, req.query.order), req.query as Record<string, unknown>);
    res.json(envelope('Payments', page.items, page.pagination ? { pagination: page.pagination } : {}));
  });
  r.get('/Payments/:id', (req, res) => {
    res.json(envelope('Payments', [paymentJson(ctx.state, payment(tenantOf(res.locals), String(req.params.id)))]));
  });
  /** The contract's deletePayment: body {Status: "DELETED"}. */
  r.post('/Payments/:id', (req, res) => {
    const p = payment(tenantOf(res.locals), String(req.params.id));
    if ((req.body as { Status?: unknown } | undefined)?.Status !== 'DELETED') {
      res.status(400).json({ ErrorNumber: 10, Type: 'ValidationException', Message: 'Payment Status must be DELETED', Elements: [] });
      return;
    }
    deletePayment(ctx, p);
    res.json(envelope('Payments', [paymentJson(ctx.state, p)]));
  });
  return r;
}
