// Xero Accounting API client: Bearer token and xero-tenant-id on every call, an Idempotency-Key on every
// write, Xero's limits kept client-side (60 calls a minute and 5 in flight per organisation, the day quota
// read from every answer), Retry-After honoured, and Xero's refusals turned into permanent RelayErrors that
// carry Xero's own messages.
import { RelayError, retryable } from '../../errors.js';
import type { Logger } from '../../log.js';
import { HttpService, type CallObserver, type CallOptions } from '../../net/http.js';
import { SlidingWindowLimiter, withMargin, type CallLimiter } from '../../net/rate-limiter.js';
import { Semaphore } from '../../net/semaphore.js';
import { ifModifiedSince } from './dates.js';
import { checked, elementErrors, single, translateXeroError } from './errors.js';
import { assertIdempotencyKey } from './idempotency.js';
import { onRateLimited, xeroTransport } from './limits.js';
import { XeroDayQuota, type XeroQuotaSnapshot } from './quota.js';
import type * as T from './types.js';
import { assertGuid, sameEmail, whereEquals, whereGuid } from './where.js';

export const XERO_API_URL = 'https://api.xero.com/api.xro/2.0';

/** What the client needs of the OAuth side (RotatingTokens in src/oauth/rotating-tokens.ts has this shape). */
export interface XeroTokenSource {
  accessToken(): Promise<string>;
  /** A call carrying `rejected` got 401: true when a newer token is there to try once more. */
  onUnauthorized(rejected: string | undefined): Promise<boolean>;
}

export interface XeroClientOptions {
  tokens: XeroTokenSource;
  /** The organisation chosen on /connect; undefined while none is. */
  tenantId: () => string | undefined;
  /** Default https://api.xero.com/api.xro/2.0 (the fake Xero in tests). */
  baseUrl?: string;
  /** Xero allows 60 calls a minute and 5 concurrent per organisation. */
  limits?: { perMinute?: number; concurrent?: number };
  /** Shared with other processes (net/limits.ts: 60 a minute and 5 in flight over all of them). */
  limiter?: CallLimiter;
  /** The pause when the day quota reaches 0 without a Retry-After; default 30 minutes. */
  dayLimitPauseMs?: number;
  timeoutMs: number;
  log: Logger;
  observer?: CallObserver;
  retryBaseMs?: number;
  maxRetries?: number;
  /** A 429 asking to wait longer than this is taken as the day quota (work paused), not held inside a call. */
  maxHeldRetryAfterMs?: number;
}

type Write = { method: 'PUT' | 'POST'; path: string; data: unknown; idempotencyKey: string; params?: Record<string, unknown> };

export class XeroClient {
  readonly quota: XeroDayQuota;
  private readonly http: HttpService;

  constructor(private readonly opts: XeroClientOptions) {
    this.quota = new XeroDayQuota(opts.dayLimitPauseMs ?? 30 * 60_000);
    const inFlight = new Semaphore(opts.limits?.concurrent ?? 5);
    this.http = new HttpService({
      service: 'xero',
      label: 'Xero',
      baseUrl: () => opts.baseUrl ?? XERO_API_URL,
      timeoutMs: opts.timeoutMs,
      limiter: opts.limiter ?? new SlidingWindowLimiter(opts.limits?.perMinute ?? 60, withMargin(60_000)),
      axios: xeroTransport({ timeoutMs: opts.timeoutMs, inFlight, quota: this.quota, tenantId: opts.tenantId }),
      authorize: async (headers) => {
        headers.Authorization = `Bearer ${await opts.tokens.accessToken()}`;
        headers['xero-tenant-id'] = this.tenant();
      },
      // The token this very request carried: if another call already replaced it, no new refresh.
      onUnauthorized: (sent) => opts.tokens.onUnauthorized(sent.Authorization?.replace(/^Bearer /, '')),
      translate: (res, call) => translateXeroError(res, call, opts.tenantId()),
      rateLimitResetMs: (res) =>
        onRateLimited(res.headers as Record<string, unknown>, this.quota, { maxHeldMs: opts.maxHeldRetryAfterMs ?? 120_000, dayPauseMs: opts.dayLimitPauseMs ?? 30 * 60_000 }),
      log: opts.log,
      observer: opts.observer,
      retryBaseMs: opts.retryBaseMs,
      maxRetries: opts.maxRetries,
    });
  }

  quotaSnapshot(): XeroQuotaSnapshot {
    return this.quota.snapshot();
  }

  // ---- Reference data ----

  async organisation(): Promise<T.XeroOrganisation> {
    const body = await this.read<T.XeroAnswers['organisations']>('/Organisation');
    const [org] = (body.Organisations ?? []).map((o) => checked(o, ['OrganisationID', 'Name'], 'GET /Organisation'));
    if (!org) throw retryable('xero_bad_response', 'Xero answered GET /Organisation without an organisation.', { service: 'xero' });
    return org;
  }

  async taxRates(): Promise<T.XeroTaxRate[]> {
    const body = await this.read<T.XeroAnswers['taxRates']>('/TaxRates');
    return (body.TaxRates ?? []).map((r) => checked(r, ['TaxType', 'Name'], 'GET /TaxRates'));
  }

  /** The currencies enabled in the organisation (an invoice in any other is refused). */
  async currencies(): Promise<T.XeroCurrency[]> {
    const body = await this.read<T.XeroAnswers['currencies']>('/Currencies');
    return (body.Currencies ?? []).map((c) => checked(c, ['Code'], 'GET /Currencies'));
  }

  async accounts(): Promise<T.XeroAccount[]> {
    const body = await this.read<T.XeroAnswers['accounts']>('/Accounts');
    return (body.Accounts ?? []).map((a) => checked(a, ['AccountID'], 'GET /Accounts'));
  }

  async brandingThemes(): Promise<T.XeroBrandingTheme[]> {
    const body = await this.read<T.XeroAnswers['brandingThemes']>('/BrandingThemes');
    return (body.BrandingThemes ?? []).map((b) => checked(b, ['BrandingThemeID', 'Name'], 'GET /BrandingThemes'));
  }

  /**
   * The payment services a branding theme offers on its online invoices (a client pays through them). Needs
   * the `paymentservices` scope (the contract's security for this operation); without it Xero answers 401.
   */
  async brandingThemePaymentServices(brandingThemeId: string): Promise<T.XeroPaymentService[]> {
    const body = await this.read<T.XeroAnswers['paymentServices']>(`/BrandingThemes/${assertGuid(brandingThemeId, 'BrandingThemeID')}/PaymentServices`);
    return (body.PaymentServices ?? []).filter((p): p is T.XeroPaymentService => typeof p === 'object' && p !== null);
  }

  // ---- Contacts ----

  /** Active contacts with this email, case and spaces ignored (Xero's `==` is not trusted to ignore case). */
  async findContactsByEmail(email: string): Promise<T.XeroContact[]> {
    const body = await this.read<T.XeroAnswers['contacts']>('/Contacts', { where: whereEquals('EmailAddress', email.trim()) });
    return (body.Contacts ?? []).map((c) => checked(c, ['ContactID'], 'GET /Contacts')).filter((c) => sameEmail(c.EmailAddress, email) && c.ContactStatus !== 'ARCHIVED');
  }

  /** The contact stamped with this ContactNumber (the relay's external key, e.g. the Kommo contact ID). */
  async findContactByNumber(contactNumber: string): Promise<T.XeroContact | undefined> {
    const body = await this.read<T.XeroAnswers['contacts']>('/Contacts', { where: whereEquals('ContactNumber', contactNumber) });
    return (body.Contacts ?? []).map((c) => checked(c, ['ContactID'], 'GET /Contacts')).find((c) => c.ContactNumber === contactNumber);
  }

  async createContact(contact: T.XeroContactInput, idempotencyKey: string): Promise<T.XeroContact> {
    const data: T.XeroRequests['createContacts'] = { Contacts: [contact] };
    const body = await this.write<T.XeroAnswers['contacts']>({ method: 'PUT', path: '/Contacts', data, idempotencyKey });
    return checked(single(body.Contacts, 'PUT /Contacts'), ['ContactID'], 'PUT /Contacts');
  }

  // ---- Invoices ----

  async createInvoice(invoice: T.XeroInvoiceInput, idempotencyKey: string, o: { unitdp?: 4 } = {}): Promise<T.XeroInvoice> {
    const data: T.XeroRequests['createInvoices'] = { Invoices: [invoice] };
    const params = o.unitdp ? { unitdp: o.unitdp } : undefined;
    const body = await this.write<T.XeroAnswers['invoices']>({ method: 'PUT', path: '/Invoices', data, idempotencyKey, params });
    return checked(single(body.Invoices, 'PUT /Invoices'), ['InvoiceID', 'Status'], 'PUT /Invoices');
  }

  /** Sales invoices stamped with this Reference (how a deal's invoice is found after a lost answer). */
  async findInvoicesByReference(reference: string): Promise<T.XeroInvoice[]> {
    const where = `Type=="ACCREC"&&${whereEquals('Reference', reference)}`;
    const body = await this.read<T.XeroAnswers['invoices']>('/Invoices', { where });
    return (body.Invoices ?? []).map((i) => checked(i, ['InvoiceID', 'Status'], 'GET /Invoices')).filter((i) => i.Reference === reference);
  }

  async getInvoice(id: string): Promise<T.XeroInvoice> {
    const body = await this.read<T.XeroAnswers['invoices']>(`/Invoices/${assertGuid(id, 'InvoiceID')}`);
    return checked(single(body.Invoices, 'GET /Invoices/{InvoiceID}'), ['InvoiceID', 'Status'], 'GET /Invoices/{InvoiceID}');
  }

  /**
   * One page of sales invoices changed since `since`, oldest change first, so a cursor taken from the last
   * row's UpdatedDateUTC only moves forward. `hasMore`: ask for page + 1.
   */
  async listInvoicesModifiedSince(
    since: Date | number,
    o: { page?: number; pageSize?: number; summaryOnly?: boolean } = {},
  ): Promise<{ invoices: T.XeroInvoice[]; page: number; hasMore: boolean }> {
    const page = o.page ?? 1;
    const pageSize = o.pageSize ?? 100;
    const params: Record<string, unknown> = { where: 'Type=="ACCREC"', order: 'UpdatedDateUTC ASC', page, pageSize };
    if (o.summaryOnly) params.summaryOnly = true;
    const body = await this.read<T.XeroAnswers['invoices']>('/Invoices', params, { 'If-Modified-Since': ifModifiedSince(since) });
    const invoices = (body.Invoices ?? []).map((i) => checked(i, ['InvoiceID', 'Status'], 'GET /Invoices'));
    const pageCount = body.pagination?.pageCount;
    return { invoices, page, hasMore: pageCount !== undefined ? page < pageCount : invoices.length >= pageSize };
  }

  /** Xero emails the invoice to the contact with the organisation's template (SUBMITTED/AUTHORISED/PAID only). */
  async emailInvoice(id: string, idempotencyKey: string): Promise<void> {
    const data: T.XeroRequests['emailInvoice'] = {};
    await this.write({ method: 'POST', path: `/Invoices/${assertGuid(id, 'InvoiceID')}/Email`, data, idempotencyKey });
  }

  /** The link a customer opens to see and pay the invoice; undefined when Xero gives none (e.g. a draft). */
  async onlineInvoiceUrl(id: string): Promise<string | undefined> {
    const body = await this.read<T.XeroAnswers['onlineInvoices']>(`/Invoices/${assertGuid(id, 'InvoiceID')}/OnlineInvoice`);
    return body.OnlineInvoices?.find((o) => typeof o.OnlineInvoiceUrl === 'string' && o.OnlineInvoiceUrl !== '')?.OnlineInvoiceUrl;
  }

  /** AUTHORISED approves a draft; VOIDED cancels an approved invoice without payments; DELETED removes a draft. */
  async setInvoiceStatus(id: string, status: 'AUTHORISED' | 'VOIDED' | 'DELETED', idempotencyKey: string): Promise<T.XeroInvoice> {
    const data: T.XeroRequests['updateInvoice'] = { Invoices: [{ InvoiceID: assertGuid(id, 'InvoiceID'), Status: status }] };
    const body = await this.write<T.XeroAnswers['invoices']>({ method: 'POST', path: `/Invoices/${id}`, data, idempotencyKey });
    return checked(single(body.Invoices, 'POST /Invoices/{InvoiceID}'), ['InvoiceID', 'Status'], 'POST /Invoices/{InvoiceID}');
  }

  /** A draft's lines and terms rewritten (POST /Invoices/{InvoiceID}: only the elements given change). */
  async updateDraftInvoice(id: string, changes: T.XeroDraftChanges, idempotencyKey: string): Promise<T.XeroInvoice> {
    const data: T.XeroRequests['updateDraftInvoice'] = { Invoices: [{ InvoiceID: assertGuid(id, 'InvoiceID'), ...changes }] };
    const body = await this.write<T.XeroAnswers['invoices']>({ method: 'POST', path: `/Invoices/${id}`, data, idempotencyKey });
    return checked(single(body.Invoices, 'POST /Invoices/{InvoiceID}'), ['InvoiceID', 'Status'], 'POST /Invoices/{InvoiceID}');
  }

  voidInvoice(id: string, idempotencyKey: string): Promise<T.XeroInvoice> {
    return this.setInvoiceStatus(id, 'VOIDED', idempotencyKey);
  }

  deleteInvoice(id: string, idempotencyKey: string): Promise<T.XeroInvoice> {
    return this.setInvoiceStatus(id, 'DELETED', idempotencyKey);
  }

  /** Payments on the invoice, deleted ones included (a DELETED payment reopens the invoice). */
  async invoicePayments(invoiceId: string): Promise<T.XeroPayment[]> {
    const body = await this.read<T.XeroAnswers['payments']>('/Payments', { where: whereGuid('Invoice.InvoiceID', invoiceId) });
    return (body.Payments ?? []).map((p) => checked(p, ['PaymentID', 'Amount'], 'GET /Payments'));
  }

  // ---- Repeating invoices (no pause in Xero: stopping deletes the template, resuming creates a new one) ----

  async createRepeatingInvoice(template: T.XeroRepeatingInvoiceInput, idempotencyKey: string): Promise<T.XeroRepeatingInvoice> {
    const data: T.XeroRequests['createRepeatingInvoices'] = { RepeatingInvoices: [template] };
    const body = await this.write<T.XeroAnswers['repeatingInvoices']>({ method: 'PUT', path: '/RepeatingInvoices', data, idempotencyKey });
    return checked(single(body.RepeatingInvoices, 'PUT /RepeatingInvoices'), ['RepeatingInvoiceID'], 'PUT /RepeatingInvoices');
  }

  async findRepeatingInvoicesByReference(reference: string): Promise<T.XeroRepeatingInvoice[]> {
    const body = await this.read<T.XeroAnswers['repeatingInvoices']>('/RepeatingInvoices', { where: whereEquals('Reference', reference) });
    return (body.RepeatingInvoices ?? []).map((r) => checked(r, ['RepeatingInvoiceID'], 'GET /RepeatingInvoices')).filter((r) => r.Reference === reference);
  }

  /** The only change Xero accepts on a template. */
  async deleteRepeatingInvoice(id: string, idempotencyKey: string): Promise<void> {
    const data: T.XeroRequests['deleteRepeatingInvoice'] = { RepeatingInvoices: [{ RepeatingInvoiceID: assertGuid(id, 'RepeatingInvoiceID'), Status: 'DELETED' }] };
    const body = await this.write<T.XeroAnswers['repeatingInvoices']>({ method: 'POST', path: `/RepeatingInvoices/${id}`, data, idempotencyKey });
    single(body.RepeatingInvoices, 'POST /RepeatingInvoices/{RepeatingInvoiceID}');
  }

  // ---- Plumbing ----

  private async read<B>(path: string, params?: Record<string, unknown>, headers?: Record<string, string>): Promise<B> {
    return this.send<B>({ method: 'GET', path, params, headers });
  }

  /**
   * PUT and POST carry the caller's Idempotency-Key (derived from its intent record): Xero answers a resent
   * request with the same key as it answered the first, so a write whose answer was lost (timeout, 5xx) is
   * safe to resend and src/net/http.ts resends it. Xero keeps keys for minutes only: an error that leaves the
   * outcome unknown is still marked uncertain, so a later attempt looks (by Reference) before it writes.
   * summarizeErrors=false makes Xero report a refused element in a 200 answer, checked here.
   */
  private async write<B>(w: Write): Promise<B> {
    const key = assertIdempotencyKey(w.idempotencyKey);
    const batch = w.path === '/Contacts' || w.path === '/Invoices' || w.path === '/RepeatingInvoices';
    const call: CallOptions = {
      method: w.method,
      path: w.path,
      data: w.data,
      params: batch ? { summarizeErrors: false, ...w.params } : w.params,
      headers: { 'Idempotency-Key': key, 'Content-Type': 'application/json' },
      idempotent: true,
    };
    let body: B;
    try {
      body = await this.send<B>(call);
    } catch (err) {
      if (err instanceof RelayError && err.retryable && (err.code === 'xero_unreachable' || err.code === 'xero_unavailable')) {
        throw retryable(err.code, err.message, { cause: err, uncertain: true, status: err.status, service: 'xero' });
      }
      throw err;
    }
    const elements = isObject(body) ? Object.values(body).filter(Array.isArray).flat() : [];
    const refused = elementErrors(call, elements as Parameters<typeof elementErrors>[1]);
    if (refused) throw refused;
    return body;
  }

  private async send<B>(call: CallOptions): Promise<B> {
    this.quota.check();
    this.tenant();
    const res = await this.http.call<B>(call);
    if (res.status !== 204 && !isObject(res.data)) {
      throw retryable('xero_bad_response', `Xero answered ${call.method} ${call.path} with something that is not JSON.`, { service: 'xero', status: res.status });
    }
    return (res.data ?? {}) as B;
  }

  private tenant(): string {
    const tenant = this.opts.tenantId();
    if (!tenant) {
      throw retryable('xero_no_tenant', 'No Xero organisation is chosen: an administrator must connect Xero and choose the organisation on the /connect page.', {
        service: 'xero',
        retryAfterMs: 2 * 60_000,
      });
    }
    return tenant;
  }

}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
