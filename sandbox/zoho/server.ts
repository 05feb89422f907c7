// Composition of the fake Zoho Books + Zoho Accounts server: one express app on one port serving
// /oauth (Accounts), /books/v3 (Books) and /_sandbox (control), plus the in-process control API tests use.
import express from 'express';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, WindowRateLimiter, recordRequests, type RecordedRequest } from '../common.js';
import { AnswerLoss } from '../xero/answer-loss.js';
import { ZohoAccounts, zohoToken } from './accounts.js';
import {
  authenticate,
  booksErrors,
  booksNotFound,
  faultBody,
  rateLimit,
  resolveOrganization,
  unwrapJsonString,
} from './books-middleware.js';
import { booksRoutes } from './books-routes.js';
import { contactJson, createContact, type OrgContext } from './contacts.js';
import { controlRoutes } from './control-routes.js';
import { checkGateways } from './gateways.js';
import { invoiceJson } from './invoice-json.js';
import { approveInvoice, emailInvoice, getInvoice, isDraft, submitInvoice, updateInvoice, type BooksContext, type SentEmail } from './invoices.js';
import { OasGate, type OasViolation } from './oas.js';
import { paymentJson, recordPayment as applyPayment } from './payments.js';
import { generateFromProfile, getRecurring, recurringJson, recurringStatus } from './recurring.js';
import {
  addCurrency as seedCurrency,
  addCustomField as seedCustomField,
  addItem as seedItem,
  addOrganization as seedOrganization,
  addTax as seedTax,
  currencyJson,
  itemJson,
  organizationJson,
  taxJson,
} from './settings.js';
import { createState, type CustomFieldEntity, type Organization, type ZohoState } from './state.js';
import { WorkflowWebhooks, type WebhookDelivery, type WorkflowWebhook } from './webhooks.js';

export type { OasViolation } from './oas.js';
export type { SentEmail } from './invoices.js';
export type { WebhookDelivery, WorkflowWebhook } from './webhooks.js';
export { ZohoCode } from './errors.js';

export interface FakeZohoOptions {
  organizationId?: string;
  organizationName?: string;
  baseCurrency?: string;
  country?: string;
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  /** Scope of the configured refresh token (default ZohoBooks.fullaccess.all). */
  scope?: string;
  accessTokenTtlSeconds?: number;
  /** Data centre: only changes `location` on the authorize redirect and the portal host of invoice_url. */
  dc?: string;
  rateLimit?: { limit: number; windowMs: number };
  /** Plan's daily request cap per organization; off by default. */
  dailyLimit?: number;
  tokenMintLimit?: { limit: number; windowMs: number };
  /** Another Zoho Books contract directory than the committed contract/zoho-books (tests). */
  contractDir?: string;
  validateOas?: boolean;
  /** Also inject faults on /oauth (off by default: most tests want a working token endpoint). */
  faultOauth?: boolean;
  /** Base URL to report as api_domain / accounts-server instead of the one the request came in on. */
  publicUrl?: string;
}

export interface AddContactInput {
  name: string;
  email?: string;
  currencyCode?: string;
  companyName?: string;
  paymentTerms?: number;
  /** Further contact persons; `email` above becomes the primary one. */
  contactPersons?: Array<{ email?: string; firstName?: string; lastName?: string; isPrimary?: boolean }>;
  organizationId?: string;
}

export interface FakeZoho {
  readonly app: express.Express;
  readonly faults: FaultInjector;
  /** Books calls that do their work and then lose the answer (the same mechanism as the fake Xero's). */
  readonly answerLoss: AnswerLoss;
  readonly requests: RecordedRequest[];
  readonly violations: OasViolation[];
  readonly emails: SentEmail[];
  readonly webhookDeliveries: WebhookDelivery[];
  readonly state: ZohoState;
  readonly organizationId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /** Set by listen(). */
  readonly baseUrl: string | undefined;
  /** Resolves once the contract is loaded (listen() awaits it). */
  ready(): Promise<void>;
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
  /** `paymentGateways`: its configured online payment gateways (default stripe and paypal). */
  addOrganization(o: { name: string; baseCurrency?: string; country?: string; paymentGateways?: string[] }): string;
  /** The organization's online payment gateways (Settings › Online Payments), documented gateway_name values. */
  setPaymentGateways(gateways: string[], organizationId?: string): void;
  /**
   * The client pays the invoice online through the first gateway it has enabled that the organization has
   * configured: a customer payment with payment_mode autotransaction, the invoice's balance and status
   * follow, and the workflow webhook fires as for any payment. Throws for a draft, a void invoice, or one
   * with no configured gateway enabled (the portal offers no way to pay). Returns the payment_id.
   */
  payOnline(invoiceId: string, amount: number): string;
  /** The gateways the invoice has enabled that the organization has configured ([] when none). */
  onlinePayment(invoiceId: string): string[];
  addTax(t: { name: string; percentage: number; countryCode?: string; isDefault?: boolean; organizationId?: string }): string;
  addCurrency(c: { code: string; precision?: number; exchangeRate?: number; organizationId?: string }): string;
  addItem(i: { name: string; sku?: string; rate: number; description?: string; organizationId?: string }): string;
  addContact(c: AddContactInput): string;
  addCustomField(f: { entity: CustomFieldEntity; label: string; apiName?: string; unique?: boolean; organizationId?: string }): string;
  /** Records a customer payment on the invoice and fires the workflow webhook; returns the payment_id. */
  recordPayment(invoiceId: string, p: { amount: number; date?: string; paymentMode?: string; referenceNumber?: string }): string;
  /** A person in Zoho Books' UI: submits the draft for approval and approves it (draft -> approved). */
  approveInvoice(invoiceId: string): void;
  /** A person in Zoho Books' UI edits the invoice (`body` as PUT /invoices/{id} takes it). */
  editInvoice(invoiceId: string, body: Record<string, unknown>): void;
  /** A person in Zoho Books' UI emails the invoice to these addresses (a draft becomes sent). */
  sendInvoice(invoiceId: string, to: string[]): void;
  /** The customer opens the invoice in the portal: sent -> viewed. */
  viewInvoice(invoiceId: string): void;
  /** Makes a recurring profile produce its next invoice now; returns the invoice_id. */
  generateRecurringInvoice(recurrenceId: string, opts?: { send?: boolean }): string;
  /** An access token minted directly (not counted in tokenGrants, not rate limited). */
  mintAccessToken(): string;
  expireAccessTokens(): void;
  setWorkflowWebhook(w: WorkflowWebhook | undefined): void;
  dropNextWebhooks(n: number): void;
  flushWebhooks(): Promise<void>;
  /** Whole state as Zoho-shaped JSON (what GET /_sandbox/state returns). */
  snapshot(): Record<string, unknown>;
}

const PORTAL_HOSTS: Record<string, string> = {
  us: 'books.zoho.com',
  com: 'books.zoho.com',
  eu: 'books.zoho.eu',
  in: 'books.zoho.in',
  au: 'books.zoho.com.au',
  jp: 'books.zoho.jp',
  ca: 'books.zohocloud.ca',
  sa: 'books.zoho.sa',
  cn: 'books.zoho.com.cn',
};

export function createFakeZoho(opts: FakeZohoOptions = {}): FakeZoho {
  return new FakeZohoServer(opts);
}

class FakeZohoServer implements FakeZoho {
  readonly app = express();
  readonly faults = new FaultInjector();
  readonly answerLoss = new AnswerLoss();
  readonly requests: RecordedRequest[] = [];
  readonly emails: SentEmail[] = [];
  readonly state = createState();
  readonly organizationId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  baseUrl: string | undefined;

  private readonly accounts: ZohoAccounts;
  private readonly oas: OasGate;
  private readonly webhooks = new WorkflowWebhooks();
  private readonly portalHost: string;
  private server: Server | undefined;

  constructor(private readonly opts: FakeZohoOptions) {
    const dc = opts.dc ?? 'eu';
    this.portalHost = PORTAL_HOSTS[dc] ?? `books.zoho.${dc}`;
    this.clientId = opts.clientId ?? '1000.SANDBOXCLIENTID0000000000000000';
    this.clientSecret = opts.clientSecret ?? 'sandbox-client-secret-0000000000000000000000';
    this.refreshToken = opts.refreshToken ?? zohoToken();
    this.organizationId = seedOrganization(this.state, {
      organizationId: opts.organizationId ?? '20099887766',
      name: opts.organizationName ?? 'Acme',
      baseCurrency: opts.baseCurrency ?? 'EUR',
      country: opts.country ?? 'Germany',
    }).organizationId;

    this.accounts = new ZohoAccounts(
      {
        clientId: this.clientId,
        clientSecret: this.clientSecret,
        refreshToken: this.refreshToken,
        scope: opts.scope ?? 'ZohoBooks.fullaccess.all',
        accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 3600,
        dc,
        tokenMintLimit: opts.tokenMintLimit ?? { limit: 10, windowMs: 600_000 },
        ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
      },
      this.state,
    );
    this.oas = OasGate.fromOptions(opts);
    this.mount();
  }

  get violations(): OasViolation[] {
    return this.oas.violations;
  }

  get webhookDeliveries(): WebhookDelivery[] {
    return this.webhooks.deliveries;
  }

  private mount(): void {
    const app = this.app;
    const log = recordRequests(this.requests);
    app.use((req, res, next) => (/^\/(books\/v3|oauth)(\/|$)/.test(req.path) ? log(req, res, next) : next()));

    const oauth = express.Router();
    if (this.opts.faultOauth) oauth.use(this.faults.middleware(() => ({ error: 'server_error' })));
    oauth.use(express.urlencoded({ extended: false }), express.json());
    oauth.use(this.accounts.router());
    app.use('/oauth', oauth);

    const rate = this.opts.rateLimit ?? { limit: 100, windowMs: 60_000 };
    const books = express.Router();
    books.use(this.faults.middleware(faultBody));
    books.use(authenticate(this.accounts));
    books.use(resolveOrganization(this.state));
    books.use(
      rateLimit({
        perWindow: new WindowRateLimiter(rate.limit, rate.windowMs),
        ...(this.opts.dailyLimit ? { daily: new WindowRateLimiter(this.opts.dailyLimit, 86_400_000) } : {}),
      }),
    );
    books.use(express.json({ limit: '1mb' }), express.urlencoded({ extended: false, limit: '1mb' }), unwrapJsonString);
    books.use(this.oas.middleware());
    books.use(this.answerLoss.middleware());
    books.use(booksRoutes({ state: this.state, emails: this.emails, portalHost: this.portalHost }));
    books.use(booksNotFound);
    books.use(booksErrors);
    app.use('/books/v3', books);

    app.use('/_sandbox', controlRoutes(this));
  }

  ready(): Promise<void> {
    return this.oas.ready();
  }

  async listen(port = 0): Promise<string> {
    await this.ready();
    const server = createServer(this.app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    this.faults.releaseHanging();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private org(organizationId = this.organizationId): Organization {
    const org = this.state.organizations.get(organizationId);
    if (!org) throw new Error(`unknown organization ${organizationId}`);
    return org;
  }

  private booksContext(org: Organization): BooksContext {
    return { state: this.state, org, emails: this.emails, portalHost: this.portalHost };
  }

  /** The context of the organization holding a record, for control calls given only an ID. */
  private contextOf(record: { organizationId: string } | undefined, what: string): BooksContext {
    if (!record) throw new Error(`${what} does not exist`);
    return this.booksContext(this.org(record.organizationId));
  }

  addOrganization(o: { name: string; baseCurrency?: string; country?: string; paymentGateways?: string[] }): string {
    return seedOrganization(this.state, {
      name: o.name,
      baseCurrency: o.baseCurrency ?? 'EUR',
      country: o.country ?? 'Germany',
      ...(o.paymentGateways ? { paymentGateways: checkGateways(o.paymentGateways) } : {}),
    }).organizationId;
  }

  setPaymentGateways(gateways: string[], organizationId?: string): void {
    this.org(organizationId).paymentGateways = checkGateways(gateways);
  }

  onlinePayment(invoiceId: string): string[] {
    const inv = this.state.invoices.get(invoiceId);
    const org = this.contextOf(inv, `Invoice ${invoiceId}`).org;
    return inv!.paymentGateways.filter((g) => org.paymentGateways.includes(g));
  }

  payOnline(invoiceId: string, amount: number): string {
    const inv = this.state.invoices.get(invoiceId);
    const ctx = this.contextOf(inv, `Invoice ${invoiceId}`);
    const gateway = this.onlinePayment(invoiceId)[0];
    if (!gateway) throw new Error(`Invoice ${invoiceId} cannot be paid online: it has no configured payment gateway enabled (enabled: ${inv!.paymentGateways.join(', ') || 'none'}; the organization has ${ctx.org.paymentGateways.join(', ') || 'none'})`);
    if (isDraft(inv!)) throw new Error(`Invoice ${invoiceId} is a draft: the client cannot see it, so cannot pay it online`);
    const payment = applyPayment(ctx, getInvoice(ctx, invoiceId), {
      amount,
      paymentMode: 'autotransaction',
      referenceNumber: `${gateway}_${randomBytes(8).toString('hex')}`,
      gateway,
    });
    this.webhooks.fire('payment', invoiceJson(this.state, getInvoice(ctx, invoiceId)));
    return payment.paymentId;
  }

  addTax(t: { name: string; percentage: number; countryCode?: string; isDefault?: boolean; organizationId?: string }): string {
    return seedTax(this.state, this.org(t.organizationId).organizationId, t).taxId;
  }

  addCurrency(c: { code: string; precision?: number; exchangeRate?: number; organizationId?: string }): string {
    return seedCurrency(this.state, this.org(c.organizationId).organizationId, c).currencyId;
  }

  addItem(i: { name: string; sku?: string; rate: number; description?: string; organizationId?: string }): string {
    return seedItem(this.state, this.org(i.organizationId).organizationId, i).itemId;
  }

  addCustomField(f: { entity: CustomFieldEntity; label: string; apiName?: string; unique?: boolean; organizationId?: string }): string {
    return seedCustomField(this.state, this.org(f.organizationId).organizationId, f).customfieldId;
  }

  addContact(c: AddContactInput): string {
    const org = this.org(c.organizationId);
    const currency = c.currencyCode
      ? [...this.state.currencies.values()].find((x) => x.organizationId === org.organizationId && x.code === c.currencyCode!.toUpperCase())
      : undefined;
    if (c.currencyCode && !currency) throw new Error(`currency ${c.currencyCode} is not set up; call addCurrency first`);
    const persons = [
      ...(c.email ? [{ email: c.email, is_primary_contact: true }] : []),
      ...(c.contactPersons ?? []).map((p) => ({
        email: p.email,
        first_name: p.firstName,
        last_name: p.lastName,
        is_primary_contact: p.isPrimary && !c.email,
      })),
    ];
    const ctx: OrgContext = { state: this.state, org };
    return createContact(ctx, {
      contact_name: c.name,
      company_name: c.companyName ?? c.name,
      contact_type: 'customer',
      ...(currency ? { currency_id: currency.currencyId } : {}),
      ...(c.paymentTerms !== undefined ? { payment_terms: c.paymentTerms } : {}),
      contact_persons: persons,
    }).contactId;
  }

  recordPayment(invoiceId: string, p: { amount: number; date?: string; paymentMode?: string; referenceNumber?: string }): string {
    const inv = this.state.invoices.get(invoiceId);
    const ctx = this.contextOf(inv, `Invoice ${invoiceId}`);
    const payment = applyPayment(ctx, getInvoice(ctx, invoiceId), p);
    this.webhooks.fire('payment', invoiceJson(this.state, getInvoice(ctx, invoiceId)));
    return payment.paymentId;
  }

  approveInvoice(invoiceId: string): void {
    const ctx = this.contextOf(this.state.invoices.get(invoiceId), `Invoice ${invoiceId}`);
    const inv = getInvoice(ctx, invoiceId);
    submitInvoice(inv);
    approveInvoice(inv);
  }

  editInvoice(invoiceId: string, body: Record<string, unknown>): void {
    const ctx = this.contextOf(this.state.invoices.get(invoiceId), `Invoice ${invoiceId}`);
    updateInvoice(ctx, getInvoice(ctx, invoiceId), body);
  }

  sendInvoice(invoiceId: string, to: string[]): void {
    const ctx = this.contextOf(this.state.invoices.get(invoiceId), `Invoice ${invoiceId}`);
    emailInvoice(ctx, getInvoice(ctx, invoiceId), { to_mail_ids: to });
  }

  viewInvoice(invoiceId: string): void {
    const inv = this.state.invoices.get(invoiceId);
    this.contextOf(inv, `Invoice ${invoiceId}`);
    if (inv!.status === 'sent') {
      inv!.status = 'viewed';
      inv!.lastModifiedMs = Math.max(Date.now(), inv!.lastModifiedMs + 1);
    }
  }

  generateRecurringInvoice(recurrenceId: string, opts: { send?: boolean } = {}): string {
    const ctx = this.contextOf(this.state.recurring.get(recurrenceId), `Recurring invoice ${recurrenceId}`);
    return generateFromProfile(ctx, getRecurring(ctx, recurrenceId), opts.send ?? true).invoiceId;
  }

  mintAccessToken(): string {
    const token = zohoToken();
    this.accounts.accessTokens.set(token, {
      refreshToken: this.refreshToken,
      scopes: (this.opts.scope ?? 'ZohoBooks.fullaccess.all').split(/[,\s]+/),
      expiresAt: Date.now() + (this.opts.accessTokenTtlSeconds ?? 3600) * 1000,
    });
    return token;
  }

  expireAccessTokens(): void {
    this.accounts.expireAccessTokens();
  }

  setWorkflowWebhook(w: WorkflowWebhook | undefined): void {
    this.webhooks.set(w);
  }

  dropNextWebhooks(n: number): void {
    this.webhooks.dropNext(n);
  }

  flushWebhooks(): Promise<void> {
    return this.webhooks.flush();
  }

  snapshot(): Record<string, unknown> {
    const s = this.state;
    const ctxFor = (organizationId: string) => this.booksContext(this.org(organizationId));
    return {
      organization_id: this.organizationId,
      token_grants: s.tokenGrants,
      organizations: [...s.organizations.values()].map(organizationJson),
      currencies: [...s.currencies.values()].map((c) => ({ organization_id: c.organizationId, ...currencyJson(c) })),
      taxes: [...s.taxes.values()].map((t) => ({ organization_id: t.organizationId, ...taxJson(t) })),
      items: [...s.items.values()].map((i) => ({ organization_id: i.organizationId, ...itemJson(i) })),
      contacts: [...s.contacts.values()].map((c) => ({ organization_id: c.organizationId, ...contactJson(s, c) })),
      invoices: [...s.invoices.values()].map((i) => ({ organization_id: i.organizationId, ...invoiceJson(s, i) })),
      payments: [...s.payments.values()].map((p) => ({ organization_id: p.organizationId, ...paymentJson(ctxFor(p.organizationId), p) })),
      recurring_invoices: [...s.recurring.values()].map((r) => ({
        organization_id: r.organizationId,
        ...recurringJson(ctxFor(r.organizationId), r, 'created'),
        // The fake's own record of what Zoho's answers leave out.
        status: recurringStatus(r),
        recurrence_frequency: r.frequency,
        repeat_every: r.repeatEvery,
      })),
      emails: this.emails,
      webhook_deliveries: this.webhooks.deliveries,
      violations: this.violations,
    };
  }
}
