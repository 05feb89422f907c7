// Zoho Books API v3 client: per-connection api_domain, organization_id on every call, 100 requests per
// minute per organization client-side, OAuth refresh on 401, errors translated into RelayErrors.
import type { AxiosResponse } from 'axios';
import { permanent, retryable, type RelayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { HttpService, type CallObserver, type CallOptions } from '../../net/http.js';
import { SlidingWindowLimiter, withMargin, type CallLimiter } from '../../net/rate-limiter.js';
import type { ZohoAuth } from './auth.js';
import type {
  Unchecked,
  ZohoAnswers,
  ZohoContact,
  ZohoCreatedInvoice,
  ZohoCurrency,
  ZohoEnvelope,
  ZohoInvoice,
  ZohoItem,
  ZohoListedContact,
  ZohoListedInvoice,
  ZohoListedRecurringInvoice,
  ZohoOrganization,
  ZohoPayment,
  ZohoRecurringInvoice,
  ZohoTax,
  ZohoTaxExemption,
} from './types.js';

export interface ZohoClientOptions {
  auth: ZohoAuth;
  /** ZOHO_API_URL: overrides the api_domain from the token response (proxies, tests). */
  apiUrlOverride?: string;
  defaultApiDomain: string;
  organizationId: () => string | undefined;
  rateLimit: { requests: number; windowMs: number };
  /** Shared with other processes (net/limits.ts); default: a limiter of this process alone. */
  limiter?: CallLimiter;
  timeoutMs: number;
  log: Logger;
  observer?: CallObserver;
  retryBaseMs?: number;
}

export class ZohoBooksClient {
  private readonly http: HttpService;

  constructor(private readonly opts: ZohoClientOptions) {
    this.http = new HttpService({
      service: 'zoho',
      label: 'Zoho Books',
      baseUrl: () => `${opts.apiUrlOverride ?? opts.auth.apiDomain ?? opts.defaultApiDomain}/books/v3`,
      timeoutMs: opts.timeoutMs,
      limiter: opts.limiter ?? new SlidingWindowLimiter(opts.rateLimit.requests, withMargin(opts.rateLimit.windowMs)),
      authorize: async (headers) => {
        headers.Authorization = `Zoho-oauthtoken ${await opts.auth.accessToken()}`;
      },
      // The token this very request carried: if another call already replaced it, no new refresh.
      onUnauthorized: (sent) => opts.auth.onUnauthorized(sent.Authorization?.replace(/^Zoho-oauthtoken /, '')),
      translate: translateZohoError,
      rateLimitResetMs: zohoResetMs,
      dayLimitReached: zohoDayLimitReached,
      log: opts.log,
      observer: opts.observer,
      retryBaseMs: opts.retryBaseMs,
    });
  }

  private async call<T extends ZohoEnvelope>(call: CallOptions, withOrg = true): Promise<T> {
    // GET /organizations is how an organization is found, so only the other calls ask for one.
    const org = withOrg ? this.opts.organizationId() : undefined;
    if (withOrg && !org) throw permanent('zoho_no_organization', 'No Zoho Books organization is selected: set ZOHO_ORGANIZATION_ID.');
    const res = await this.http.call<T>({ ...call, params: withOrg ? { organization_id: org, ...call.params } : call.params });
    const body = res.data;
    if (!body || typeof body !== 'object') throw retryable('zoho_bad_response', `Zoho Books answered ${call.method} ${call.path} with something that is not JSON.`, { service: 'zoho' });
    if (body.code !== 0) throw permanent('zoho_rejected', `Zoho Books rejected ${call.method} ${call.path}: ${body.message ?? 'unknown error'} (code ${body.code}).`, { service: 'zoho', cause: body });
    return body;
  }

  async listOrganizations(): Promise<ZohoOrganization[]> {
    const body = await this.call<ZohoAnswers['listOrganizations']>({ method: 'GET', path: '/organizations' }, false);
    return (body.organizations ?? []).map((o) => checked(o, ['organization_id', 'name'], 'GET /organizations'));
  }

  async listTaxes(): Promise<ZohoTax[]> {
    const body = await this.call<ZohoAnswers['listTaxes']>({ method: 'GET', path: '/settings/taxes' });
    return (body.taxes ?? []).map((t) => checked(t, ['tax_id', 'tax_name'], 'GET /settings/taxes'));
  }

  async listCurrencies(): Promise<ZohoCurrency[]> {
    const body = await this.call<ZohoAnswers['listCurrencies']>({ method: 'GET', path: '/settings/currencies' });
    return (body.currencies ?? []).map((c) => checked(c, ['currency_id', 'currency_code'], 'GET /settings/currencies'));
  }

  async listTaxExemptions(): Promise<ZohoTaxExemption[]> {
    const body = await this.call<ZohoAnswers['listTaxExemptions']>({ method: 'GET', path: '/settings/taxexemptions' });
    return (body.tax_exemptions ?? []).map((e) => checked(e, ['tax_exemption_id'], 'GET /settings/taxexemptions'));
  }

  /** Every active item, all pages (bounded). */
  async listItems(maxPages = 10): Promise<ZohoItem[]> {
    const all: ZohoItem[] = [];
    for (let page = 1; page <= maxPages; page++) {
      const body = await this.call<ZohoEnvelope & { items: ZohoItem[]; page_context?: { has_more_page?: boolean } }>({ method: 'GET', path: '/items', params: { page, per_page: 200 } });
      all.push(...(body.items ?? []));
      if (!body.page_context?.has_more_page) break;
    }
    return all;
  }

  /** Zoho matches the primary contact person's email only. */
  async findContactsByEmail(email: string): Promise<ZohoListedContact[]> {
    const body = await this.call<ZohoAnswers['listContacts']>({ method: 'GET', path: '/contacts', params: { email, contact_type: 'customer' } });
    return (body.contacts ?? []).map((c) => checked(c, ['contact_id', 'contact_name'], 'GET /contacts'));
  }

  async createContact(contact: Record<string, unknown>): Promise<ZohoContact> {
    const body = await this.call<ZohoAnswers['createContact']>({ method: 'POST', path: '/contacts', data: contact });
    return checked(body.contact, ['contact_id', 'contact_name'], 'POST /contacts');
  }

  async createInvoice(invoice: Record<string, unknown>, opts: { send: boolean; ignoreAutoNumber?: boolean }): Promise<{ invoice: ZohoCreatedInvoice; message?: string }> {
    const params: Record<string, unknown> = { send: opts.send };
    if (opts.ignoreAutoNumber) params.ignore_auto_number_generation = true;
    const body = await this.call<ZohoAnswers['createInvoice']>({ method: 'POST', path: '/invoices', params, data: invoice });
    return { invoice: checked(body.invoice, ['invoice_id', 'invoice_number', 'status'], 'POST /invoices'), message: body.message };
  }

  async listInvoices(params: Record<string, string | number>): Promise<{ invoices: ZohoListedInvoice[]; hasMore: boolean }> {
    const body = await this.call<ZohoAnswers['listInvoices']>({ method: 'GET', path: '/invoices', params });
    return { invoices: (body.invoices ?? []).map((i) => checked(i, ['invoice_id', 'status'], 'GET /invoices')), hasMore: body.page_context?.has_more_page === true };
  }

  async getInvoice(id: string): Promise<ZohoInvoice> {
    const body = await this.call<ZohoAnswers['getInvoice']>({ method: 'GET', path: `/invoices/${encodeURIComponent(id)}` });
    return checked(body.invoice, ['invoice_id'], 'GET /invoices/{invoice_id}');
  }

  async createRecurringInvoice(data: Record<string, unknown>): Promise<ZohoRecurringInvoice> {
    const body = await this.call<ZohoAnswers['createRecurringInvoice']>({ method: 'POST', path: '/recurringinvoices', data });
    return checked(body.recurring_invoice, ['recurring_invoice_id'], 'POST /recurringinvoices');
  }

  async findRecurringInvoices(recurrenceName: string): Promise<ZohoListedRecurringInvoice[]> {
    const body = await this.call<ZohoAnswers['listRecurringInvoices']>({ method: 'GET', path: '/recurringinvoices', params: { recurrence_name: recurrenceName } });
    return (body.recurring_invoices ?? []).map((r) => checked(r, ['recurring_invoice_id'], 'GET /recurringinvoices'));
  }

  /** Stop or resume a profile; both are safe to repeat (Zoho answers the current state). */
  async setRecurringInvoiceStatus(id: string, status: 'stop' | 'resume'): Promise<void> {
    await this.call({ method: 'POST', path: `/recurringinvoices/${encodeURIComponent(id)}/status/${status}`, idempotent: true });
  }

  async invoicePayments(id: string): Promise<ZohoPayment[]> {
    const body = await this.call<ZohoAnswers['invoicePayments']>({ method: 'GET', path: `/invoices/${encodeURIComponent(id)}/payments` });
    return (body.payments ?? []).map((p) => checked(p, ['payment_id', 'amount', 'date'], 'GET /invoices/{invoice_id}/payments'));
  }

  /** Rewrites an invoice (a draft, for invoice.review); answers it as it is now. */
  async updateInvoice(id: string, invoice: Record<string, unknown>): Promise<ZohoInvoice> {
    const body = await this.call<ZohoAnswers['updateInvoice']>({ method: 'PUT', path: `/invoices/${encodeURIComponent(id)}`, data: invoice });
    return checked(body.invoice, ['invoice_id'], 'PUT /invoices/{invoice_id}');
  }

  /** Marks a draft sent without emailing it (Zoho's "Mark as Sent"); repeating it changes nothing. */
  async markInvoiceSent(id: string): Promise<void> {
    await this.call({ method: 'POST', path: `/invoices/${encodeURIComponent(id)}/status/sent`, idempotent: true });
  }

  /** Marks an invoice void (repeating it is harmless: Zoho answers the same). */
  async voidInvoice(id: string): Promise<void> {
    await this.call({ method: 'POST', path: `/invoices/${encodeURIComponent(id)}/status/void`, idempotent: true });
  }

  async deleteInvoice(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/invoices/${encodeURIComponent(id)}`, idempotent: true });
  }

  async emailInvoice(id: string, toMailIds: string[]): Promise<void> {
    await this.call({ method: 'POST', path: `/invoices/${encodeURIComponent(id)}/email`, data: { to_mail_ids: toMailIds } });
  }
}

/**
 * The contract marks every property optional; the relay cannot use a record without these. A record
 * lacking one is an answer the relay does not understand: retried, and reported with what was missing.
 */
function checked<T, K extends keyof T>(record: Unchecked<T> | undefined, keys: readonly K[], call: string): T {
  for (const key of keys) {
    if (record?.[key] === undefined || record[key] === null) {
      throw retryable('zoho_bad_response', `Zoho Books answered ${call} without ${record ? String(key) : 'the record'}.`, { service: 'zoho' });
    }
  }
  return record as T;
}

/** X-Rate-Limit-Reset: seconds until the window resets (or an epoch time, which we also accept). */
function zohoResetMs(res: AxiosResponse): number | undefined {
  const raw = Number(res.headers['x-rate-limit-reset']);
  if (!Number.isFinite(raw) || raw <= 0) return undefined;
  const ms = raw > 1e9 ? raw * 1000 - Date.now() : raw * 1000;
  return Math.min(Math.max(ms, 100), 10 * 60_000);
}

/**
 * Whether a 429 is Zoho's "the day's calls are used up" rather than its 100-a-minute limit. The reference
 * (shared/reference/zoho-books.md) only says "Over it: HTTP 429", with the minute limit's headers; so a 429 is
 * taken for the day's when its code is 1070 (the code reported for it, unconfirmed), when its message speaks of
 * a day, or when its reset is further off than any minute window (over 10 minutes).
 */
export function zohoDayLimitReached(res: AxiosResponse): boolean {
  const body = (typeof res.data === 'object' && res.data ? res.data : {}) as Partial<ZohoEnvelope>;
  if (Number(body.code) === ZOHO_DAY_LIMIT_CODE) return true;
  const message = typeof body.message === 'string' ? body.message.slice(0, 300) : '';
  if (/\b(?:per day|daily|today|a day)\b/i.test(message)) return true;
  const reset = Number(res.headers?.['x-rate-limit-reset']);
  if (!Number.isFinite(reset) || reset <= 0) return false;
  return (reset > 1e9 ? reset * 1000 - Date.now() : reset * 1000) > 600_000;
}

/** Zoho's error code for the day's API calls used up (as reported; the reference does not name it). */
export const ZOHO_DAY_LIMIT_CODE = 1070;

function translateZohoError(res: AxiosResponse, call: CallOptions): RelayError {
  const body = (typeof res.data === 'object' && res.data ? res.data : {}) as Partial<ZohoEnvelope>;
  const detail = `${body.message ?? `HTTP ${res.status}`}${body.code !== undefined ? ` (code ${body.code})` : ''}`;
  const opts = { status: res.status, service: 'zoho' as const };
  if (res.status === 401) {
    return retryable('zoho_unauthorized', `Zoho Books refused the token: ${detail}. Check that the connection has the ZohoBooks scopes the relay needs and was issued for the organization in ZOHO_ORGANIZATION_ID.`, opts);
  }
  if (res.status === 404) return permanent('zoho_not_found', `Zoho Books has no such record (${call.method} ${call.path}): ${detail}.`, opts);
  return permanent('zoho_rejected', `Zoho Books rejected ${call.method} ${call.path}: ${detail}.`, { ...opts, cause: body });
}
