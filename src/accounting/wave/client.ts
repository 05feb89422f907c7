// Wave's public GraphQL API over plain HTTP (src/net/http.ts, as every other client of the relay): one
// endpoint, a Bearer token, the typed documents of documents.ts. No GraphQL client library: the relay sends
// eighteen fixed documents and needs the transport's retries, limits and error vocabulary, which a GraphQL
// client would wrap rather than replace (graphql-js is used only to check the documents in a test).
// Wave's limits are kept on this side (about 60 calls a minute and 2 at a time, second-hand): a minute window
// from deps.limiter (shared by every relay on PostgreSQL) and a semaphore on the wire; 429 waits for its
// Retry-After. Answers are HTTP 200 with `errors` or `didSucceed: false`: both become RelayErrors here.
import axios, { type AxiosAdapter, type AxiosInstance } from 'axios';
import { randomUUID } from 'node:crypto';
import { RelayError, retryable } from '../../errors.js';
import { backoffDelay } from '../../jobs/backoff.js';
import type { Logger } from '../../log.js';
import { HttpService, type CallObserver } from '../../net/http.js';
import { SlidingWindowLimiter, withMargin, type CallLimiter } from '../../net/rate-limiter.js';
import { Semaphore } from '../../net/semaphore.js';
import * as D from './documents.js';
import { inputRefusal, isUnauthenticated, retryAfterMs, translateGraphQLErrors, translateWaveHttpError, type WaveGraphQLError } from './errors.js';
import { WAVE_API_URL } from './settings.js';

/** What the client needs of the credentials: RotatingTokens (OAuth) or a Full Access Token. */
export interface WaveTokenSource {
  accessToken(): Promise<string>;
  /** A call carrying `rejected` was refused: true when a newer token is there to try once more. */
  onUnauthorized(rejected: string | undefined): Promise<boolean>;
}

export interface WaveClientOptions {
  tokens: WaveTokenSource;
  /** The business calls go to; undefined while none is chosen. */
  businessId: () => string | undefined;
  /** Default https://gql.waveapps.com/graphql/public (the fake Wave in tests). */
  url?: string;
  limits?: { perMinute?: number; concurrent?: number };
  /** Shared with other processes (net/limits.ts). */
  limiter?: CallLimiter;
  timeoutMs: number;
  log: Logger;
  observer?: CallObserver;
  retryBaseMs?: number;
  maxRetries?: number;
}

/** Wave answers pages of at most 200. */
export const MAX_PAGE_SIZE = 200;
/** Lists read whole (taxes, accounts, products, businesses) stop here: bounded work whatever the answer. */
const MAX_PAGES = 50;
const CALL_HEADER = 'x-relay-call';

interface GraphQLAnswer<Data> {
  data?: Data | null;
  errors?: WaveGraphQLError[];
}

export class WaveClient {
  private readonly http: HttpService;
  /** The token each call carried (read off the wire by the transport), for a refusal that arrives as HTTP 200. */
  private readonly sentTokens = new Map<string, string>();

  constructor(private readonly opts: WaveClientOptions) {
    const inFlight = new Semaphore(opts.limits?.concurrent ?? 2);
    this.http = new HttpService({
      service: 'wave',
      label: 'Wave',
      baseUrl: () => opts.url ?? WAVE_API_URL,
      timeoutMs: opts.timeoutMs,
      limiter: opts.limiter ?? new SlidingWindowLimiter(opts.limits?.perMinute ?? 60, withMargin(60_000)),
      axios: this.transport(opts.timeoutMs, inFlight),
      authorize: async (headers) => {
        headers.Authorization = `Bearer ${await opts.tokens.accessToken()}`;
      },
      onUnauthorized: (sent) => opts.tokens.onUnauthorized(sent.Authorization?.replace(/^Bearer /, '')),
      translate: (res, call) => translateWaveHttpError(res, { operation: String(call.headers?.['x-relay-operation'] ?? 'the request'), mutation: call.idempotent === false }),
      rateLimitResetMs: (res) => {
        const ms = retryAfterMs((res.headers as Record<string, unknown>)['retry-after']);
        return ms === undefined ? undefined : Math.max(ms, 100);
      },
      log: opts.log,
      ...(opts.observer ? { observer: opts.observer } : {}),
      ...(opts.retryBaseMs !== undefined ? { retryBaseMs: opts.retryBaseMs } : {}),
      ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {}),
    });
  }

  /** The business of every call; a retryable error (jobs wait) while none is chosen. */
  business(): string {
    const id = this.opts.businessId();
    if (!id) {
      throw retryable('wave_no_business', 'No Wave business is chosen: an administrator must choose the business on the /connect page (or set WAVE_BUSINESS_ID).', {
        service: 'wave',
        retryAfterMs: 2 * 60_000,
      });
    }
    return id;
  }

  // ---- Businesses ----

  async businesses(): Promise<D.WaveBusiness[]> {
    return this.pages(async (page) => (await this.run(D.BUSINESSES, { page, pageSize: 50 })).businesses);
  }

  async businessById(businessId: string): Promise<D.WaveBusiness> {
    const { business } = await this.run(D.BUSINESS, { businessId });
    if (!business) throw missing('Business', businessId);
    return business;
  }

  // ---- Reference data ----

  async salesTaxes(): Promise<D.WaveSalesTax[]> {
    const businessId = this.business();
    return this.pages(async (page) => (await this.run(D.SALES_TAXES, { businessId, page, pageSize: MAX_PAGE_SIZE })).business?.salesTaxes ?? null);
  }

  async incomeAccounts(): Promise<D.WaveAccount[]> {
    const businessId = this.business();
    return this.pages(async (page) => (await this.run(D.INCOME_ACCOUNTS, { businessId, page, pageSize: MAX_PAGE_SIZE })).business?.accounts ?? null);
  }

  async products(): Promise<D.WaveProduct[]> {
    const businessId = this.business();
    return this.pages(async (page) => (await this.run(D.PRODUCTS, { businessId, page, pageSize: MAX_PAGE_SIZE })).business?.products ?? null);
  }

  async createProduct(input: Omit<D.ProductCreateInput, 'businessId'>): Promise<D.WaveProduct> {
    const out = (await this.run(D.PRODUCT_CREATE, { input: { businessId: this.business(), ...input } })).productCreate;
    return succeeded(D.PRODUCT_CREATE.name, out, out?.product);
  }

  // ---- Customers ----

  /** Customers Wave lists for this email (its filter is not trusted: the caller compares). At most 2 pages. */
  async customersByEmail(email: string): Promise<D.WaveCustomer[]> {
    const businessId = this.business();
    return this.pages(async (page) => (await this.run(D.CUSTOMERS_BY_EMAIL, { businessId, email, page, pageSize: 50 })).business?.customers ?? null, 2);
  }

  /** The business's customers, oldest first, at most `maxPages` pages of 200 (bounded work). */
  async customers(maxPages: number): Promise<D.WaveCustomer[]> {
    const businessId = this.business();
    return this.pages(async (page) => (await this.run(D.CUSTOMERS, { businessId, page, pageSize: MAX_PAGE_SIZE })).business?.customers ?? null, maxPages);
  }

  async createCustomer(input: Omit<D.CustomerCreateInput, 'businessId'>): Promise<D.WaveCustomer> {
    const out = (await this.run(D.CUSTOMER_CREATE, { input: { businessId: this.business(), ...input } })).customerCreate;
    return succeeded(D.CUSTOMER_CREATE.name, out, out?.customer);
  }

  // ---- Invoices ----

  async invoice(invoiceId: string): Promise<D.WaveInvoice> {
    const found = (await this.run(D.INVOICE, { businessId: this.business(), invoiceId })).business?.invoice;
    if (!found) throw missing('Invoice', invoiceId);
    return found;
  }

  /** Invoices Wave lists for this number (compared exactly by the caller). */
  async invoicesByNumber(invoiceNumber: string): Promise<D.WaveInvoice[]> {
    const page = (await this.run(D.INVOICES_BY_NUMBER, { businessId: this.business(), invoiceNumber })).business?.invoices;
    return nodes(page);
  }

  /** One page of invoices modified after `since`, oldest change first. */
  async invoicesModifiedAfter(since: string, page: number, pageSize: number): Promise<{ invoices: D.WaveInvoice[]; hasMore: boolean }> {
    const answer = (await this.run(D.INVOICES_MODIFIED, { businessId: this.business(), modifiedAtAfter: since, page, pageSize })).business?.invoices ?? null;
    const invoices = nodes(answer);
    const total = answer?.pageInfo.totalPages;
    return { invoices, hasMore: typeof total === 'number' ? page < total : invoices.length >= pageSize };
  }

  async invoicePayments(invoiceId: string): Promise<D.WavePayment[]> {
    const found = (await this.run(D.INVOICE_PAYMENTS, { businessId: this.business(), invoiceId })).business?.invoice;
    if (!found) throw missing('Invoice', invoiceId);
    return (found.payments ?? []).slice(0, 1000);
  }

  async createInvoice(input: Omit<D.InvoiceCreateInput, 'businessId'>): Promise<D.WaveInvoice> {
    const out = (await this.run(D.INVOICE_CREATE, { input: { businessId: this.business(), ...input } })).invoiceCreate;
    return succeeded(D.INVOICE_CREATE.name, out, out?.invoice);
  }

  async patchInvoice(input: D.InvoicePatchInput): Promise<D.WaveInvoice> {
    const out = (await this.run(D.INVOICE_PATCH, { input })).invoicePatch;
    return succeeded(D.INVOICE_PATCH.name, out, out?.invoice);
  }

  /** Permanent in Wave; an invoice Wave does not have is `wave_not_found`. */
  async deleteInvoice(invoiceId: string): Promise<void> {
    const out = (await this.run(D.INVOICE_DELETE, { input: { invoiceId } })).invoiceDelete;
    succeeded(D.INVOICE_DELETE.name, out, true);
  }

  async approveInvoice(invoiceId: string): Promise<D.WaveInvoice> {
    const out = (await this.run(D.INVOICE_APPROVE, { input: { invoiceId } })).invoiceApprove;
    return succeeded(D.INVOICE_APPROVE.name, out, out?.invoice);
  }

  async sendInvoice(input: D.InvoiceSendInput): Promise<void> {
    const out = (await this.run(D.INVOICE_SEND, { input })).invoiceSend;
    succeeded(D.INVOICE_SEND.name, out, true);
  }

  // ---- Plumbing ----

  /**
   * Sends one document. Queries are safe to resend (HttpService retries them on 5xx and timeouts); a
   * mutation is sent once, and an answer lost on its way back is an uncertain error (the caller looks before
   * writing again). An UNAUTHENTICATED answer (HTTP 200 or 401) refreshes the token once and resends.
   */
  async run<V, Data>(document: D.WaveDocument<V, Data>, variables: V): Promise<Data> {
    const mutation = document.kind === 'mutation';
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const callId = randomUUID();
      let answer: GraphQLAnswer<Data>;
      let status: number;
      let sent: string | undefined;
      try {
        const res = await this.http.call<GraphQLAnswer<Data>>({
          method: 'POST',
          path: '',
          data: { query: document.text, variables, operationName: document.name },
          headers: { 'Content-Type': 'application/json', [CALL_HEADER]: callId, 'x-relay-operation': document.name },
          idempotent: !mutation,
        });
        status = res.status;
        answer = isObject(res.data) ? (res.data as GraphQLAnswer<Data>) : {};
        if (!isObject(res.data)) {
          throw retryable('wave_bad_response', `Wave answered ${document.name} with something that is not JSON.`, { service: 'wave', status, uncertain: mutation });
        }
      } finally {
        sent = this.sentTokens.get(callId);
        this.sentTokens.delete(callId);
      }
      const errors = Array.isArray(answer.errors) ? answer.errors : [];
      if (errors.length > 0) {
        if (!refreshed && isUnauthenticated(errors)) {
          refreshed = true;
          if (await this.opts.tokens.onUnauthorized(sent)) continue;
        }
        const error = translateGraphQLErrors(errors, { operation: document.name, mutation, status });
        // A query failed on Wave's side (INTERNAL_SERVER_ERROR): safe to ask again, after a pause.
        if (!mutation && error.code === 'wave_unavailable' && attempt <= (this.opts.maxRetries ?? 3)) {
          await sleep(backoffDelay(attempt, this.opts.retryBaseMs ?? 300, 8000));
          continue;
        }
        throw error;
      }
      if (!isObject(answer.data)) {
        throw retryable('wave_bad_response', `Wave answered ${document.name} without data.`, { service: 'wave', status, uncertain: mutation });
      }
      return answer.data;
    }
  }

  /** Every page of a list (bounded). */
  private async pages<N>(read: (page: number) => Promise<{ pageInfo: D.PageInfo; edges: Array<{ node: N | null }> } | null>, maxPages = MAX_PAGES): Promise<N[]> {
    const out: N[] = [];
    for (let page = 1; page <= maxPages; page++) {
      const answer = await read(page);
      out.push(...nodes(answer));
      const total = answer?.pageInfo.totalPages;
      if (!answer || typeof total !== 'number' || page >= total || answer.edges.length === 0) break;
    }
    return out;
  }

  /**
   * The axios instance HttpService sends through, with its usual settings; each request holds an in-flight
   * slot while on the wire, and the token it carried is noted for run() (the call's marker header is removed
   * before sending: Wave never sees it).
   */
  private transport(timeoutMs: number, inFlight: Semaphore): AxiosInstance {
    const instance = axios.create({ timeout: timeoutMs, validateStatus: () => true, transformResponse: [(data) => data], responseType: 'text', maxRedirects: 0 });
    const send: AxiosAdapter = axios.getAdapter(axios.defaults.adapter);
    instance.defaults.adapter = (config) => {
      const headers = config.headers;
      const callId = headers?.get?.(CALL_HEADER);
      const auth = headers?.get?.('Authorization');
      if (typeof callId === 'string' && typeof auth === 'string') this.sentTokens.set(callId, auth.replace(/^Bearer /, ''));
      headers?.delete?.(CALL_HEADER);
      headers?.delete?.('x-relay-operation');
      return inFlight.run(() => send(config));
    };
    return instance;
  }
}

function nodes<N>(page: { edges: Array<{ node: N | null }> } | null | undefined): N[] {
  return (page?.edges ?? []).slice(0, MAX_PAGE_SIZE).flatMap((e) => (e?.node ? [e.node] : []));
}

/** A mutation's output: the record when it succeeded, Wave's refusal otherwise. */
function succeeded<R>(operation: string, out: { didSucceed: boolean; inputErrors: D.InputError[] | null } | null | undefined, record: R | null | undefined): R {
  if (!out) throw retryable('wave_bad_response', `Wave answered ${operation} without its output.`, { service: 'wave', uncertain: true });
  if (out.didSucceed !== true) throw inputRefusal(operation, out.inputErrors);
  if (record === null || record === undefined) throw retryable('wave_bad_response', `Wave answered ${operation} as done but without the record.`, { service: 'wave', uncertain: true });
  return record;
}

function missing(what: string, id: string): RelayError {
  return new RelayError('permanent', 'wave_not_found', `Wave has no ${what} ${id} in this business.`, { service: 'wave' });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
