// The fake Wave: one port serving POST /graphql/public (the schema the project writes, contract/wave/
// schema.graphql, executed by graphql-js over an in-memory state), OAuth at /oauth2/authorize/ and
// /oauth2/token/, and control routes under /__control for tests and demos in another process. Per token: about
// 60 calls a minute and 2 in flight (429 with Retry-After). Faults: HTTP errors and timeouts (FaultInjector),
// 429 bursts, INTERNAL_SERVER_ERROR answers, answers lost after the work. `violations` lists the traffic that
// left the contract (tests end with none).
import express from 'express';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, recordRequests, type RecordedRequest } from '../common.js';
import { Access } from './access.js';
import { controlRoutes, snapshotOf } from './control.js';
import { OperationFaults, graphqlEndpoint, type OperationFilter, type WaveViolation } from './endpoint.js';
import { TokenLimits, rateLimitedBody } from './limits.js';
import { WaveOAuth, type TokenPair } from './oauth.js';
import { WAVE_RELAY_SCOPES, defaultLimits, seedBusiness, type BusinessInput, type FakeWaveOptions } from './options.js';
import { scaled } from './money.js';
import {
  approveInvoice,
  createCustomer,
  createInvoice,
  deleteInvoice,
  onlineWays,
  patchInvoice,
  payOnline,
  recordPayment,
  sendInvoice,
  type RecordsContext,
} from './records.js';
import { rootValue } from './root.js';
import { loadWaveSchema } from './schema.js';
import { createState, type Invoice, type SentEmail, type WaveState } from './state.js';

export type { WaveViolation } from './endpoint.js';
export type { TokenPair } from './oauth.js';
export { WAVE_RELAY_SCOPES, type BusinessInput, type FakeWaveOptions } from './options.js';

export function createFakeWave(opts: FakeWaveOptions = {}): FakeWave {
  return new FakeWave(opts);
}

/** The fake's clock: tests move it to expire tokens and open a new rate-limit minute. */
export class Clock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export class FakeWave {
  readonly app = express();
  readonly clock = new Clock();
  readonly state: WaveState;
  readonly requests: RecordedRequest[] = [];
  readonly violations: WaveViolation[] = [];
  /** HTTP-level faults (errorRate, statuses, timeoutRate, latencyMs, failNext) on /graphql/public. */
  readonly faults = new FaultInjector();
  /** GraphQL-level faults: INTERNAL_SERVER_ERROR answers, answers lost after the work. */
  readonly operationFaults = new OperationFaults();
  readonly oauth: WaveOAuth;
  readonly limits: TokenLimits;
  readonly clientId: string;
  readonly clientSecret: string;
  /** A Full Access Token (Manage Applications): every business, every scope, never expires. */
  readonly fullAccessToken: string;
  /** A refresh token issued at start (as if the relay had been connected), with `scope`. */
  readonly refreshToken: string;
  baseUrl: string | undefined;

  private readonly records: RecordsContext;
  private readonly schema = loadWaveSchema();
  private server: Server | undefined;

  constructor(private readonly opts: FakeWaveOptions) {
    const now = () => this.clock.now();
    this.state = createState(now());
    for (const b of opts.businesses ?? [{}]) seedBusiness(this.state, b, now());
    this.clientId = opts.clientId ?? 'fake-wave-client-id-0000000000000000000000';
    this.clientSecret = opts.clientSecret ?? 'fake-wave-client-secret-00000000000000000000000000000000';
    this.oauth = new WaveOAuth(
      {
        clientId: this.clientId,
        clientSecret: this.clientSecret,
        ...(opts.redirectUris ? { redirectUris: opts.redirectUris } : {}),
        accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 7200,
        refreshGraceSeconds: opts.refreshGraceSeconds ?? 0,
        consent: opts.consent ?? 'grant',
      },
      this.state,
      now,
    );
    this.fullAccessToken = opts.fullAccessToken ?? `fat-${randomBytes(24).toString('base64url')}`;
    this.oauth.addFullAccessToken(this.fullAccessToken);
    this.refreshToken = this.oauth.issue(this.scope).refresh_token;
    this.limits = new TokenLimits({ ...defaultLimits(), ...opts.limits }, now);
    this.records = { state: this.state, now, rejectDuplicateInvoiceNumbers: opts.rejectDuplicateInvoiceNumbers ?? false };
    this.mount();
  }

  private get scope(): string {
    return this.opts.scope ?? WAVE_RELAY_SCOPES;
  }

  /** The first business's ID (the user's default business). */
  get businessId(): string {
    return [...this.state.businesses.keys()][0]!;
  }
  get businessIds(): string[] {
    return [...this.state.businesses.keys()];
  }
  /** `<baseUrl>/graphql/public`, set by listen(). */
  get graphqlUrl(): string | undefined {
    return this.baseUrl && `${this.baseUrl}/graphql/public`;
  }
  get emails(): SentEmail[] {
    return this.state.emails;
  }

  private publicUrl(): string {
    return this.opts.publicUrl ?? this.baseUrl ?? 'https://waveapps.example';
  }

  private mount(): void {
    const app = this.app;
    app.set('strict routing', true);
    app.set('case sensitive routing', true);
    const log = recordRequests(this.requests);
    app.use((req, res, next) => (req.path.startsWith('/graphql') || req.path.startsWith('/oauth2') ? log(req, res, next) : next()));
    app.use(this.oauth.router());

    const endpoint = graphqlEndpoint({
      schema: this.schema,
      violations: this.violations,
      faults: this.operationFaults,
      invalidDocumentStatus: this.opts.invalidDocumentStatus ?? 400,
      prepare: (req) => {
        const access = new Access(this.state, this.oauth.authenticate(req.get('authorization')));
        const ctx = { state: this.state, access, now: () => this.clock.now(), publicUrl: () => this.publicUrl(), records: this.records };
        return { rootValue: rootValue(ctx), contextValue: ctx };
      },
    });
    app.post(
      '/graphql/public',
      // The body is read first, so a call answered 429 or 5xx is on record with the operation it carried.
      express.json({ limit: '1mb' }),
      this.limits.middleware(),
      this.faults.middleware((status) => (status === 429 ? rateLimitedBody() : { errors: [{ message: `HTTP ${status}`, extensions: { code: 'INTERNAL_SERVER_ERROR' } }] })),
      (req, res, next) => void endpoint(req, res).catch(next),
    );
    app.use('/__control', controlRoutes(this));
    app.use((req, res) => void res.status(404).type('text/plain').send(`Not found: ${req.method} ${req.path}`));
    app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
      if (!(_req.readableAborted || _req.socket?.destroyed)) this.violations.push({ at: new Date().toISOString(), kind: 'request', messages: [err instanceof Error ? err.message : String(err)] });
      res.status(status).json({ errors: [{ message: status === 400 ? 'The body is not JSON.' : 'Internal server error.', extensions: { code: status === 400 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR' } }] });
    });
  }

  async listen(port = 0): Promise<string> {
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

  private business(id = this.businessId) {
    const b = this.state.businesses.get(id);
    if (!b) throw new Error(`unknown business ${id}`);
    return b;
  }

  private invoice(id: string): Invoice {
    const inv = this.state.invoices.get(id);
    if (!inv) throw new Error(`unknown invoice ${id}`);
    return inv;
  }

  private refuse<T>(run: () => T): T {
    try {
      return run();
    } catch (e) {
      if (e && typeof e === 'object' && 'inputErrors' in e) throw new Error(`Wave refused: ${JSON.stringify((e as { inputErrors: unknown }).inputErrors)}`);
      throw e;
    }
  }

  /** Adds a business of the user; returns its ID. */
  addBusiness(input: BusinessInput = {}): string {
    return seedBusiness(this.state, input, this.clock.now()).id;
  }

  /**
   * Changes a business's settings (as its owner would in Wave); `payments`: what Wave Payments accepts online
   * (Settings › Payments), which Wave's API does not show.
   */
  setBusiness(id: string, patch: { emailSendEnabled?: boolean; isClassicInvoicing?: boolean; name?: string; payments?: { card?: boolean; bank?: boolean } }): void {
    const b = this.business(id);
    const { payments, ...rest } = patch;
    Object.assign(b, rest);
    if (payments) b.payments = { card: payments.card ?? b.payments.card, bank: payments.bank ?? b.payments.bank };
    b.modifiedMs = this.clock.now();
  }

  /** A customer made in Wave's UI; `input` as CustomerCreateInput without businessId. Returns its ID. */
  addCustomer(input: Record<string, unknown>, businessId?: string): string {
    return this.refuse(() => createCustomer(this.records, this.business(businessId), input).id);
  }

  /** An invoice made in Wave's UI (or by its recurring schedule when `recurring`); returns its ID. */
  addInvoice(input: Record<string, unknown>, opts: { businessId?: string; recurringId?: string } = {}): string {
    return this.refuse(() => createInvoice(this.records, this.business(opts.businessId), input, opts.recurringId ? { sourceId: opts.recurringId } : {}).id);
  }

  /** The ID of the business's account named so (e.g. "Sales", "Cash on Hand"). */
  accountId(name: string, businessId = this.businessId): string {
    const a = [...this.state.accounts.values()].find((x) => x.businessId === businessId && x.name === name);
    if (!a) throw new Error(`no account ${name}`);
    return a.id;
  }

  /** The ID of the business's sales tax named so (e.g. "VAT 20%"). */
  salesTaxId(name: string, businessId = this.businessId): string {
    const t = [...this.state.salesTaxes.values()].find((x) => x.businessId === businessId && x.name === name);
    if (!t) throw new Error(`no sales tax ${name}`);
    return t.id;
  }

  /** A customer's payment recorded in Wave (into "Cash on Hand"); returns the payment's ID. */
  payInvoice(invoiceId: string, p: { amount: string; date?: string; method?: string }): string {
    const inv = this.invoice(invoiceId);
    const b = this.business(inv.businessId);
    return this.refuse(
      () =>
        recordPayment(this.records, b, inv, {
          paymentAccountId: this.accountId('Cash on Hand', b.id),
          amount: p.amount,
          paymentDate: p.date ?? new Date(this.clock.now()).toISOString().slice(0, 10),
          paymentMethod: p.method ?? 'BANK_TRANSFER',
          exchangeRate: '1',
        }).id,
    );
  }

  /**
   * The customer pays `amount` (the invoice's currency) online through Wave Payments, by card when the invoice
   * takes cards, else by bank payment: recorded as any payment (CREDIT_CARD / BANK_TRANSFER), the invoice's
   * amountPaid, amountDue, status (PARTIAL / PAID) and modifiedAt move. Wave tells no one: the relay polls.
   * Throws when the invoice cannot be paid online (a draft; card and bank both disabled on it or not accepted by
   * the business) or the amount is not above 0 and at most the amount due. Returns the payment's ID.
   */
  payOnline(invoiceId: string, amount: number): string {
    const inv = this.invoice(invoiceId);
    if (!Number.isFinite(amount)) throw new Error(`not an amount: ${amount}`);
    return payOnline(this.records, this.business(inv.businessId), inv, scaled(amount.toFixed(6))).id;
  }

  /** What the invoice can be paid online with now, in Wave's terms: a subset of ['card', 'bank'] ([] for a draft). */
  onlinePayment(invoiceId: string): string[] {
    return onlineWays(this.state, this.invoice(invoiceId));
  }

  /** A person approves the draft in Wave: DRAFT → SAVED (modifiedAt moves). Throws when it is not a draft. */
  approveInvoice(invoiceId: string): void {
    this.refuse(() => approveInvoice(this.records, this.invoice(invoiceId)));
  }

  /**
   * A person sends the invoice from Wave to `to` (a draft is approved first, as Wave's "Approve and send"): an
   * email, lastSentAt, status SENT, modifiedAt. Needs the business's emailSendEnabled.
   */
  sendInvoice(invoiceId: string, to: string[]): void {
    const inv = this.invoice(invoiceId);
    this.refuse(() => {
      if (inv.baseStatus === 'DRAFT') approveInvoice(this.records, inv);
      sendInvoice(this.records, this.business(inv.businessId), inv, { to, attachPDF: true });
    });
  }

  /**
   * A person rewrites the draft's lines in Wave (each on the product of the line it replaces, else the first
   * line's, with that line's sales taxes): totals recomputed, modifiedAt moves.
   */
  editInvoice(invoiceId: string, items: Array<{ description: string; unitPrice: number; quantity: number }>): void {
    const inv = this.invoice(invoiceId);
    const lines = items.map((item, i) => {
      const like = inv.items[i] ?? inv.items[0];
      if (!like) throw new Error(`invoice ${invoiceId} has no line whose product an edited line could take`);
      return {
        productId: like.productId,
        description: item.description,
        quantity: item.quantity.toFixed(6),
        unitPrice: item.unitPrice.toFixed(6),
        taxes: like.salesTaxIds.map((salesTaxId) => ({ salesTaxId })),
      };
    });
    this.refuse(() => patchInvoice(this.records, this.business(inv.businessId), inv, { id: inv.id, items: lines }));
  }

  /** The customer opened the invoice online: VIEWED (if not paid), lastViewedAt, modifiedAt. */
  markViewed(invoiceId: string): void {
    const inv = this.invoice(invoiceId);
    const now = this.clock.now();
    if (inv.baseStatus === 'SENT' || inv.baseStatus === 'SAVED') inv.baseStatus = 'VIEWED';
    inv.lastViewedMs = now;
    inv.modifiedMs = now;
  }

  /** Sets an invoice's modifiedAt (default: now), as any edit in Wave would. */
  setModified(invoiceId: string, atMs = this.clock.now()): void {
    this.invoice(invoiceId).modifiedMs = atMs;
  }

  /** The user deleted the invoice in Wave. */
  deleteInvoice(invoiceId: string): void {
    this.refuse(() => deleteInvoice(this.records, this.invoice(invoiceId)));
  }

  /** A fresh token pair, as after a consent (no browser); `businessId` pins one business. */
  issueTokens(opts: { scope?: string; businessId?: string } = {}): TokenPair {
    return this.oauth.issue(opts.scope ?? this.scope, opts.businessId);
  }

  /** A refresh token for a test or demo to start from (as WAVE_REFRESH_TOKEN). */
  issueRefreshToken(opts: { scope?: string; businessId?: string } = {}): string {
    return this.issueTokens(opts).refresh_token;
  }

  expireAccessTokens(): void {
    this.oauth.expireAccessTokens();
  }

  advanceTime(ms: number): void {
    this.clock.advance(ms);
  }

  /** The next `count` calls are answered 429 with Retry-After. */
  rateLimitBurst(count: number, retryAfterSeconds = 1): void {
    this.faults.failNext(count, { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) }, body: rateLimitedBody() });
  }

  /** The next `count` matching operations are answered 200 with INTERNAL_SERVER_ERROR, before any work. */
  internalErrorNext(count: number, filter: OperationFilter = {}): void {
    this.operationFaults.internalErrorNext(count, filter);
  }

  /** The next `count` matching operations do their work, then the connection is cut instead of answering. */
  loseNextAnswers(count: number, filter: OperationFilter = {}): void {
    this.operationFaults.loseNextAnswers(count, filter);
  }

  snapshot(): Record<string, unknown> {
    return snapshotOf(this);
  }
}
