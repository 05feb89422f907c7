// The fake Xero: identity server (/identity/connect/authorize, /connect/token, /connections), Accounting
// API (/api.xro/2.0) and control routes (/_sandbox) on one port, with the in-process control API tests use.
// Every request and answer is checked against the committed contract (contract/xero) as it passes.
import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OWN_WRITE_SKEW_MS } from '../../src/accounting/xero/webhook-source.js';
import { FaultInjector, recordRequests, type RecordedRequest } from '../common.js';
import { requireTenant, requireToken } from './access.js';
import { AnswerLoss } from './answer-loss.js';
import { contactRoutes, planCreateContact } from './contacts.js';
import type { XeroContext } from './context.js';
import { XeroContractGate, type XeroViolation } from './contract.js';
import { controlRoutes, snapshotOf } from './control.js';
import { accountingErrors, faultBody, notFound, sendError } from './errors.js';
import { IdempotencyStore } from './idempotency.js';
import { XeroIdentity, type TokenPair } from './identity.js';
import { invoiceRoutes } from './invoice-routes.js';
import { createInvoice, deletePayment, planUpdateInvoice, recordPayment } from './invoices.js';
import { TenantLimits, defaultLimits, type LimitProblem } from './limits.js';
import { DEFAULT_SCOPE, type FakeXeroOptions } from './options.js';
import { repeatingRoutes, runSchedule } from './repeating.js';
import { seedTenant, setBrandingThemes, settingsRoutes, type BrandingThemeInput, type TenantInput } from './settings.js';
import { brandingThemeOf, createState, type Invoice, type Tenant, type XeroState } from './state.js';
import { Clock, parseXeroDate } from './time.js';
import { XeroWebhooks, type IntentCheck, type WebhookConfig, type WebhookDelivery } from './webhooks.js';

export type { XeroViolation } from './contract.js';
export type { IntentCheck, WebhookConfig, WebhookDelivery } from './webhooks.js';
export type { BrandingThemeInput, TenantInput } from './settings.js';
export type { XeroState } from './state.js';
export { sign as signWebhook } from './webhooks.js';
export { DEFAULT_SCOPE, type FakeXeroOptions } from './options.js';

export function createFakeXero(opts: FakeXeroOptions = {}): FakeXero {
  return new FakeXero(opts);
}

export class FakeXero {
  readonly app = express();
  readonly faults = new FaultInjector();
  readonly requests: RecordedRequest[] = [];
  readonly state: XeroState = createState();
  readonly clock = new Clock();
  readonly identity: XeroIdentity;
  readonly limits: TenantLimits;
  readonly idempotency: IdempotencyStore;
  readonly webhooks: XeroWebhooks;
  /** Calls that do their work and then lose the answer (see loseNextAnswers). */
  readonly answerLoss = new AnswerLoss();
  readonly clientId: string;
  readonly clientSecret: string;
  /** A refresh token issued at start (as if the relay had been connected), with `scope`. */
  readonly refreshToken: string;
  baseUrl: string | undefined;

  private readonly gate: XeroContractGate;
  private readonly ctx: XeroContext;
  private server: Server | undefined;

  constructor(private readonly opts: FakeXeroOptions) {
    this.clientId = opts.clientId ?? 'FAKEXEROCLIENTID0000000000000000';
    this.clientSecret = opts.clientSecret ?? 'fake-xero-client-secret-000000000000000000000000';
    for (const t of opts.tenants ?? [{ name: 'Demo Company (UK)' }]) seedTenant(this.state, t, this.clock.now());
    this.identity = new XeroIdentity(
      {
        clientId: this.clientId,
        clientSecret: this.clientSecret,
        accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 1800,
        refreshGraceSeconds: opts.refreshGraceSeconds ?? 1800,
        refreshTokenTtlDays: opts.refreshTokenTtlDays ?? 60,
        refusedScopes: opts.refusedScopes ?? [],
      },
      this.state,
      this.clock,
    );
    this.identity.connectAll();
    this.refreshToken = this.identity.issue(this.scope).refresh_token!;
    this.limits = new TenantLimits({ ...defaultLimits(), ...opts.limits }, this.clock);
    this.idempotency = new IdempotencyStore(this.clock, opts.idempotencyWindowMs ?? 6 * 60_000);
    this.gate = new XeroContractGate(opts.validateContract ?? true);
    this.webhooks = new XeroWebhooks((body) => this.gate.checkWebhook('invoices', body));
    if (opts.webhook) this.webhooks.set(opts.webhook);
    this.ctx = {
      state: this.state,
      clock: this.clock,
      caseSensitiveWhere: opts.caseSensitiveWhere ?? false,
      emailDailyLimit: opts.emailDailyLimit,
      invoiceChanged: (inv, event) => this.invoiceChanged(inv, event),
      grantedScopes: (authorization) => this.identity.scopesOf(authorization),
    };
    this.mount();
  }

  private get scope(): string {
    return this.opts.scope ?? DEFAULT_SCOPE;
  }

  get violations(): XeroViolation[] {
    return this.gate.violations;
  }
  get webhookDeliveries(): WebhookDelivery[] {
    return this.webhooks.deliveries;
  }
  get intentChecks(): IntentCheck[] {
    return this.webhooks.intentChecks;
  }
  /** The first organisation's ID (what most tests send as xero-tenant-id). */
  get tenantId(): string {
    return [...this.state.tenants.keys()][0]!;
  }
  get tenantIds(): string[] {
    return [...this.state.tenants.keys()];
  }
  /** `<baseUrl>/api.xro/2.0`, set by listen(). */
  get apiUrl(): string | undefined {
    return this.baseUrl && `${this.baseUrl}/api.xro/2.0`;
  }

  private mount(): void {
    const app = this.app;
    const log = recordRequests(this.requests);
    app.use((req, res, next) => (/^\/(api\.xro|connect|connections|identity)(\/|$)/i.test(req.path) ? log(req, res, next) : next()));

    const only = (pattern: RegExp, handler: express.RequestHandler): express.RequestHandler => (req, res, next) =>
      pattern.test(req.path) ? handler(req, res, next) : next();
    if (this.opts.faultIdentity) app.use(only(/^\/(connect|connections|identity)(\/|$)/i, this.faults.middleware(faultBody)));
    app.use(only(/^\/connections(\/|$)/i, this.gate.middleware()));
    app.use(this.identity.router());

    const api = express.Router({ caseSensitive: false });
    api.use(express.json({ limit: '3mb' }));
    api.use(this.gate.middleware());
    api.use(requireToken(this.identity));
    api.use(requireTenant(this.state));
    api.use(this.limits.middleware());
    api.use(this.faults.middleware(faultBody));
    api.use(this.idempotency.middleware());
    api.use(this.answerLoss.middleware());
    api.use(contactRoutes(this.ctx), invoiceRoutes(this.ctx), repeatingRoutes(this.ctx), settingsRoutes(this.ctx));
    api.use((_req, res) => sendError(res, notFound()));
    api.use(accountingErrors);
    app.use('/api.xro/2.0', api);

    app.use('/_sandbox', controlRoutes(this));
  }

  private invoiceChanged(inv: Invoice, event: 'CREATE' | 'UPDATE'): void {
    const base = this.opts.publicUrl ?? this.baseUrl ?? 'https://api.xero.com';
    this.webhooks.emit({
      resourceUrl: `${base}/api.xro/2.0/Invoices/${inv.invoiceId}`,
      resourceId: inv.invoiceId,
      eventDateUtc: new Date(this.clock.now()).toISOString(),
      eventType: event,
      eventCategory: 'INVOICE',
      tenantId: inv.tenantId,
      tenantType: 'ORGANISATION',
    });
  }

  ready(): Promise<void> {
    return this.gate.ready();
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
    this.webhooks.close();
    this.faults.releaseHanging();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private tenant(tenantId = this.tenantId): Tenant {
    const t = this.state.tenants.get(tenantId);
    if (!t) throw new Error(`unknown tenant ${tenantId}`);
    return t;
  }

  private invoice(invoiceId: string): Invoice {
    const inv = this.state.invoices.get(invoiceId);
    if (!inv) throw new Error(`unknown invoice ${invoiceId}`);
    return inv;
  }

  /** Adds an organisation and connects it; returns its tenantId. */
  addTenant(input: TenantInput): string {
    const t = seedTenant(this.state, input, this.clock.now());
    this.identity.connectAll();
    return t.tenantId;
  }

  /** A contact created in Xero's UI; `input` is a Contact as the API takes it. Returns its ContactID. */
  addContact(input: Record<string, unknown>, tenantId?: string): string {
    return planCreateContact(this.ctx, this.tenant(tenantId), input)().contactId;
  }

  /** An invoice created in Xero's UI; `input` is an Invoice as the API takes it. Returns its InvoiceID. */
  addInvoice(input: Record<string, unknown>, tenantId?: string): string {
    return createInvoice(this.ctx, this.tenant(tenantId), input, { createdByApp: false }).invoiceId;
  }

  /** A user's change in Xero (e.g. `{Status: "VOIDED"}`), with the same rules as POST /Invoices/{id}. */
  updateInvoice(invoiceId: string, input: Record<string, unknown>): void {
    const inv = this.invoice(invoiceId);
    planUpdateInvoice(this.ctx, this.tenant(inv.tenantId), inv, input)();
  }

  /** A customer payment on an AUTHORISED invoice: AmountPaid/AmountDue move, PAID when settled. */
  recordPayment(invoiceId: string, p: { amount: number; date?: string; reference?: string }): string {
    const dateMs = p.date === undefined ? undefined : parseXeroDate(p.date);
    return recordPayment(this.ctx, this.invoice(invoiceId), { amount: p.amount, ...(dateMs !== undefined ? { dateMs } : {}), ...(p.reference !== undefined ? { reference: p.reference } : {}) }).paymentId;
  }

  deletePayment(paymentId: string): void {
    const p = this.state.payments.get(paymentId);
    if (!p) throw new Error(`unknown payment ${paymentId}`);
    deletePayment(this.ctx, p);
  }

  /**
   * The organisation's branding themes and their payment services, as a person sets them up in Xero
   * (Settings › Invoice settings); a theme of the same name keeps its BrandingThemeID. Before or after start.
   */
  setBrandingThemes(themes: BrandingThemeInput[], tenantId?: string): void {
    setBrandingThemes(this.tenant(tenantId), themes, this.clock.now());
  }

  /**
   * What the invoice offers for paying online: [its BrandingThemeID] when its branding theme (the default
   * one when it names none) has a payment service, else [].
   */
  onlinePayment(invoiceId: string): string[] {
    const inv = this.invoice(invoiceId);
    const tenant = this.tenant(inv.tenantId);
    const theme = brandingThemeOf(tenant, inv.brandingThemeId ?? tenant.brandingThemeId);
    return theme && theme.paymentServices.length > 0 ? [theme.brandingThemeId] : [];
  }

  /**
   * The client pays `amount` through the online invoice's payment service (Stripe…): Xero records it as a
   * payment like any other (AmountPaid, AmountDue, PAID when settled) and tells of it with an INVOICE UPDATE
   * event. A client pays after opening the invoice the relay made and sent, so, as a person's change in
   * the books view, the fake's clock first moves past the window in which the relay takes an event on its
   * invoice for its own write (OWN_WRITE_SKEW_MS). Throws when the invoice's theme has no payment service
   * (there is no Pay button) or the invoice is not approved. Returns the PaymentID.
   */
  payOnline(invoiceId: string, amount: number): string {
    const inv = this.invoice(invoiceId);
    if (this.onlinePayment(invoiceId).length === 0) {
      throw new Error(`invoice ${inv.invoiceNumber} cannot be paid online: its branding theme has no payment service`);
    }
    this.advanceTime(OWN_WRITE_SKEW_MS + 1000);
    return recordPayment(this.ctx, inv, { amount }).paymentId;
  }

  /** The schedule comes due now: one invoice from the template; returns its InvoiceID. */
  runRepeatingInvoice(repeatingInvoiceId: string): string {
    const r = this.state.repeatingInvoices.get(repeatingInvoiceId);
    if (!r) throw new Error(`unknown repeating invoice ${repeatingInvoiceId}`);
    return runSchedule(this.ctx, r).invoiceId;
  }

  /** A fresh token pair, as after a consent (no browser). */
  issueTokens(scope = this.scope): TokenPair {
    return this.identity.issue(scope);
  }

  mintAccessToken(scope = this.scope): string {
    return this.identity.issue(scope).access_token;
  }

  expireAccessTokens(): void {
    this.identity.expireAccessTokens();
  }

  /** Moves the fake's clock: token lifetimes, refresh grace, idempotency window, rate-limit windows. */
  advanceTime(ms: number): void {
    this.clock.advance(ms);
  }

  /** The next `count` API calls are answered 429 with Retry-After and X-Rate-Limit-Problem. */
  rateLimitBurst(count: number, problem: LimitProblem = 'minute', retryAfterSeconds = 1): void {
    this.faults.failNext(count, {
      status: 429,
      headers: { 'Retry-After': String(retryAfterSeconds), 'X-Rate-Limit-Problem': problem },
    });
  }

  /**
   * The next `count` calls matching the filter do their work (create, email…) and then the connection is
   * cut instead of answering; path is a pattern on the path under /api.xro/2.0, e.g. /^\/Invoices$/.
   */
  loseNextAnswers(count: number, filter: { method?: string; path?: RegExp } = {}): void {
    this.answerLoss.loseNext(count, filter);
  }

  setWebhook(config: WebhookConfig | undefined): void {
    this.webhooks.set(config);
  }
  dropNextWebhooks(n: number): void {
    this.webhooks.dropNext(n);
  }
  flushWebhooks(): Promise<void> {
    return this.webhooks.flush();
  }
  /** Xero's intent-to-receive check against the configured webhook URL. */
  intentToReceive(): Promise<IntentCheck> {
    return this.webhooks.intentToReceive();
  }

  /** Everything as Xero-shaped JSON (what GET /_sandbox/state returns). */
  snapshot(): Record<string, unknown> {
    return snapshotOf(this);
  }
}
