// Zoho Books API v3 client: per-connection api_domain, organization_id on every call, 100 requests per
// minute per organization client-side, OAuth refresh on 401, errors translated into RelayErrors.
import type { AxiosResponse } from 'axios';
import { permanent, retryable, type RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import { HttpService, type CallObserver, type CallOptions } from '../net/http.js';
import { SlidingWindowLimiter, withMargin } from '../net/rate-limiter.js';
import type { ZohoAuth } from './auth.js';
import type { ZohoContact, ZohoCurrency, ZohoEnvelope, ZohoInvoice, ZohoItem, ZohoOrganization, ZohoPayment, ZohoRecurringInvoice, ZohoTax, ZohoTaxExemption } from './types.js';

export interface ZohoClientOptions {
  auth: ZohoAuth;
  /** ZOHO_API_URL: overrides the api_domain from the token response (proxies, tests). */
  apiUrlOverride?: string;
  defaultApiDomain: string;
  organizationId: () => string | undefined;
  rateLimit: { requests: number; windowMs: number };
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
      baseUrl: () => `${opts.apiUrlOverride ?? opts.auth.apiDomain ?? opts.defaultApiDomain}/books/v3`,
      timeoutMs: opts.timeoutMs,
      limiter: new SlidingWindowLimiter(opts.rateLimit.requests, withMargin(opts.rateLimit.windowMs)),
      authorize: async (headers) => {
        headers.Authorization = `Zoho-oauthtoken ${await opts.auth.accessToken()}`;
      },
      // The token this very request carried: if another call already replaced it, no new refresh.
      onUnauthorized: (sent) => opts.auth.onUnauthorized(sent.Authorization?.replace(/^Zoho-oauthtoken /, '')),
      translate: translateZohoError,
      rateLimitResetMs: zohoResetMs,
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
    return (await this.call<ZohoEnvelope & { organizations: ZohoOrganization[] }>({ method: 'GET', path: '/organizations' }, false)).organizations ?? [];
  }

  async listTaxes(): Promise<ZohoTax[]> {
    return (await this.call<ZohoEnvelope & { taxes: ZohoTax[] }>({ method: 'GET', path: '/settings/taxes' })).taxes ?? [];
  }

  async listCurrencies(): Promise<ZohoCurrency[]> {
    return (await this.call<ZohoEnvelope & { currencies: ZohoCurrency[] }>({ method: 'GET', path: '/settings/currencies' })).currencies ?? [];
  }

  async listTaxExemptions(): Promise<ZohoTaxExemption[]> {
    return (await this.call<ZohoEnvelope & { tax_exemptions: ZohoTaxExemption[] }>({ method: 'GET', path: '/settings/taxexemptions' })).tax_exemptions ?? [];
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
  async findContactsByEmail(email: string): Promise<ZohoContact[]> {
    const body = await this.call<ZohoEnvelope & { contacts: ZohoContact[] }>({ method: 'GET', path: '/contacts', params: { email, contact_type: 'customer' } });
    return body.contacts ?? [];
  }

  async createContact(contact: Record<string, unknown>): Promise<ZohoContact> {
    return (await this.call<ZohoEnvelope & { contact: ZohoContact }>({ method: 'POST', path: '/contacts', data: contact })).contact;
  }

  async createInvoice(invoice: Record<string, unknown>, opts: { send: boolean; ignoreAutoNumber?: boolean }): Promise<{ invoice: ZohoInvoice; message?: string }> {
    const params: Record<string, unknown> = { send: opts.send };
    if (opts.ignoreAutoNumber) params.ignore_auto_number_generation = true;
    const body = await this.call<ZohoEnvelope & { invoice: ZohoInvoice }>({ method: 'POST', path: '/invoices', params, data: invoice });
    return { invoice: body.invoice, message: body.message };
  }

  async listInvoices(params: Record<string, string | number>): Promise<{ invoices: ZohoInvoice[]; hasMore: boolean }> {
    const body = await this.call<ZohoEnvelope & { invoices: ZohoInvoice[]; page_context?: { has_more_page?: boolean } }>({ method: 'GET', path: '/invoices', params });
    return { invoices: body.invoices ?? [], hasMore: body.page_context?.has_more_page === true };
  }

  async getInvoice(id: string): Promise<ZohoInvoice> {
    return (await this.call<ZohoEnvelope & { invoice: ZohoInvoice }>({ method: 'GET', path: `/invoices/${encodeURIComponent(id)}` })).invoice;
  }

  async createRecurringInvoice(body: Record<string, unknown>): Promise<ZohoRecurringInvoice> {
    return (await this.call<ZohoEnvelope & { recurring_invoice: ZohoRecurringInvoice }>({ method: 'POST', path: '/recurringinvoices', data: body })).recurring_invoice;
  }

  async findRecurringInvoices(recurrenceName: string): Promise<ZohoRecurringInvoice[]> {
    return (await this.call<ZohoEnvelope & { recurring_invoices: ZohoRecurringInvoice[] }>({ method: 'GET', path: '/recurringinvoices', params: { recurrence_name: recurrenceName } })).recurring_invoices ?? [];
  }

  /** Stop or resume a profile; both are safe to repeat (Zoho answers the current state). */
  async setRecurringInvoiceStatus(id: string, status: 'stop' | 'resume'): Promise<void> {
    await this.call({ method: 'POST', path: `/recurringinvoices/${encodeURIComponent(id)}/status/${status}`, idempotent: true });
  }

  async invoicePayments(id: string): Promise<ZohoPayment[]> {
    return (await this.call<ZohoEnvelope & { payments: ZohoPayment[] }>({ method: 'GET', path: `/invoices/${encodeURIComponent(id)}/payments` })).payments ?? [];
  }

  async emailInvoice(id: string, toMailIds: string[]): Promise<void> {
    await this.call({ method: 'POST', path: `/invoices/${encodeURIComponent(id)}/email`, data: { to_mail_ids: toMailIds } });
  }
}

/** X-Rate-Limit-Reset: seconds until the window resets (or an epoch time, which we also accept). */
function zohoResetMs(res: AxiosResponse): number | undefined {
  const raw = Number(res.headers['x-rate-limit-reset']);
  if (!Number.isFinite(raw) || raw <= 0) return undefined;
  const ms = raw > 1e9 ? raw * 1000 - Date.now() : raw * 1000;
  return Math.min(Math.max(ms, 100), 10 * 60_000);
}

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
