// The stateful fake Kommo: wires the store, OAuth, rate limit, faults, /api/v4 routes, webhook sending and the
// /_sandbox control API into one Express app. See kommo.md for the behaviour it imitates.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { FaultInjector, WindowRateLimiter, recordRequests, type RecordedRequest } from '../common.js';
import { controlRoutes } from './control.js';
import { problem, problemBody } from './http.js';
import { TokenStore } from './oauth.js';
import { readRoutes } from './routes-read.js';
import { writeRoutes } from './routes-write.js';
import { KommoStore, type CompanySeed, type ContactSeed, type FieldSeed, type LeadSeed, type ProductSeed } from './state.js';
import { WebhookSender, dispatchBatch, type Delivery, type DroppedWebhook } from './webhook-send.js';

export type { Delivery, DroppedWebhook } from './webhook-send.js';
export type { RecordedRequest } from '../common.js';

export interface FakeKommoOptions {
  accountId?: number;
  subdomain?: string;
  country?: string;
  currency?: string;
  /** Default responsible / modifying user of seeded leads. */
  userId?: number;
  longLivedToken?: string;
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string;
  initialRefreshToken?: string;
  accessTokenTtlSeconds?: number;
  rateLimitPerSecond?: number;
  plan?: 'advanced' | 'base';
  webhookTimeoutMs?: number;
  webhookRetries?: number;
  webhookRetryDelayMs?: number;
  /** Wait before a webhook's first attempt (default 0: the hook may arrive before the PATCH response). */
  webhookDelayMs?: number;
  dropWebhookRate?: number;
  /** Send all actions of one change (status + update) in one request instead of one request per action. */
  combineWebhookActions?: boolean;
  /** How numeric/price custom field values are returned (unconfirmed in Kommo; default 'string'). */
  numericValuesAs?: 'string' | 'number';
  /** Failed webhook attempts within 2 h after which a subscription is disabled (Kommo: ~100; 0 = never). */
  disableWebhookAfterFailures?: number;
}

/** Options that may change while running (also via POST /_sandbox/settings). */
export interface RuntimeSettings {
  rateLimitPerSecond: number;
  plan: 'advanced' | 'base';
  dropWebhookRate: number;
  webhookTimeoutMs: number;
  webhookRetries: number;
  webhookRetryDelayMs: number;
  webhookDelayMs: number;
  combineWebhookActions: boolean;
  numericValuesAs: 'string' | 'number';
}

export interface FakeKommo {
  app: express.Express;
  faults: FaultInjector;
  requests: RecordedRequest[];
  deliveries: Delivery[];
  /** Webhook requests that were deliberately not sent (dropNextWebhooks / dropWebhookRate). */
  droppedWebhooks: DroppedWebhook[];
  state: KommoStore;
  tokens: TokenStore;
  settings: Readonly<RuntimeSettings>;
  productsCatalogId: number;
  /** Base URL once listening, else null. */
  url: string | null;
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
  configure(s: Partial<RuntimeSettings>): RuntimeSettings;
  addPipeline(name: string, statuses: string[]): { id: number; statuses: Array<{ id: number; name: string }> };
  addLeadField(f: FieldSeed): number;
  /** Replaces a lead list field's options, as an admin editing them in Kommo would (kept names keep their IDs). */
  setLeadFieldOptions(fieldId: number, values: string[]): Array<{ id: number; value: string }>;
  addContactField(f: FieldSeed): number;
  addCompanyField(f: FieldSeed): number;
  addContact(c: ContactSeed): number;
  addCompany(c: CompanySeed): number;
  addProduct(p: ProductSeed): number;
  addLead(l: LeadSeed): number;
  moveLeads(ids: number[], statusId: number, pipelineId?: number): void;
  deleteLead(id: number): void;
  subscribe(destination: string, settings: string[]): void;
  issueAuthCode(): string;
  /** A valid access/refresh pair, as if the code flow had just run. */
  issueTokens(): { token_type: 'Bearer'; expires_in: number; access_token: string; refresh_token: string };
  expireAccessTokens(): void;
  flushWebhooks(): Promise<void>;
  /** Drops the next `n` webhook requests (only those carrying `event`, e.g. 'status_lead', when given). */
  dropNextWebhooks(n: number, event?: string): void;
}

const KOMMO_PREFIXES = ['/api/v4/', '/oauth2/'];

export function createFakeKommo(opts: FakeKommoOptions = {}): FakeKommo {
  const settings: RuntimeSettings = {
    rateLimitPerSecond: opts.rateLimitPerSecond ?? 7,
    plan: opts.plan ?? 'advanced',
    dropWebhookRate: opts.dropWebhookRate ?? 0,
    webhookTimeoutMs: opts.webhookTimeoutMs ?? 2000,
    webhookRetries: opts.webhookRetries ?? 3,
    webhookRetryDelayMs: opts.webhookRetryDelayMs ?? 1000,
    webhookDelayMs: opts.webhookDelayMs ?? 0,
    combineWebhookActions: opts.combineWebhookActions ?? false,
    numericValuesAs: opts.numericValuesAs ?? 'string',
  };
  const store = new KommoStore({
    id: opts.accountId ?? 30011223,
    subdomain: opts.subdomain ?? 'acme',
    country: opts.country ?? 'US',
    currency: opts.currency ?? 'USD',
    userId: opts.userId ?? 9051221,
  });
  const tokens = new TokenStore({
    longLivedToken: opts.longLivedToken ?? 'kommo-long-lived-token',
    clientId: opts.clientId ?? 'kommo-client-id',
    clientSecret: opts.clientSecret ?? 'kommo-client-secret',
    redirectUri: opts.redirectUri ?? 'https://relay.example.com/oauth/kommo/callback',
    initialRefreshToken: opts.initialRefreshToken ?? 'kommo-initial-refresh-token',
    accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 86400,
  });
  const sender = new WebhookSender({
    timeoutMs: settings.webhookTimeoutMs,
    retries: settings.webhookRetries,
    retryDelayMs: settings.webhookRetryDelayMs,
    delayMs: settings.webhookDelayMs,
    dropRate: settings.dropWebhookRate,
    disableAfterFailures: opts.disableWebhookAfterFailures ?? 100,
  });
  store.onChange = (batch) => dispatchBatch(store, sender, batch, settings.combineWebhookActions);
  const faults = new FaultInjector();
  const limiter = new WindowRateLimiter(settings.rateLimitPerSecond, 1000);
  const requests: RecordedRequest[] = [];
  const app = express();
  app.set('query parser', 'extended');
  let server: http.Server | null = null;

  const record = recordRequests(requests);
  app.use((req, res, next) => (KOMMO_PREFIXES.some((p) => req.path.startsWith(p)) ? record(req, res, next) : next()));
  app.use(express.json({ type: ['application/json', 'application/*+json'], limit: '10mb' }));
  app.use(express.urlencoded({ extended: true }));

  const fake: FakeKommo = {
    app,
    faults,
    requests,
    deliveries: sender.deliveries,
    droppedWebhooks: sender.dropped,
    state: store,
    tokens,
    settings,
    productsCatalogId: store.productsCatalogId,
    url: null,
    listen(port = 0) {
      return new Promise((resolve, reject) => {
        const srv = http.createServer(app);
        srv.once('error', reject);
        srv.listen(port, '127.0.0.1', () => {
          server = srv;
          fake.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
          resolve(fake.url);
        });
      });
    },
    async close() {
      sender.close();
      faults.releaseHanging();
      const srv = server;
      server = null;
      if (!srv) return;
      srv.closeAllConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
    configure(s) {
      Object.assign(settings, s);
      limiter.limit = settings.rateLimitPerSecond;
      Object.assign(sender.opts, {
        timeoutMs: settings.webhookTimeoutMs,
        retries: settings.webhookRetries,
        retryDelayMs: settings.webhookRetryDelayMs,
        delayMs: settings.webhookDelayMs,
        dropRate: settings.dropWebhookRate,
      });
      return { ...settings };
    },
    addPipeline: (name, statuses) => store.addPipeline(name, statuses),
    addLeadField: (f) => store.addField('leads', f),
    setLeadFieldOptions: (fieldId, values) => store.setLeadFieldOptions(fieldId, values),
    addContactField: (f) => store.addField('contacts', f),
    addCompanyField: (f) => store.addField('companies', f),
    addContact: (c) => store.addContact(c),
    addCompany: (c) => store.addCompany(c),
    addProduct: (p) => store.addProduct(p),
    addLead: (l) => store.addLead(l),
    moveLeads: (ids, statusId, pipelineId) => store.moveLeads(ids, statusId, pipelineId),
    deleteLead: (id) => store.deleteLead(id),
    subscribe: (destination, s) => void store.subscribe(destination, s),
    issueAuthCode: () => tokens.issueAuthCode(),
    issueTokens: () => tokens.issuePair(),
    expireAccessTokens: () => tokens.expireAccessTokens(),
    flushWebhooks: () => sender.flush(),
    dropNextWebhooks: (n, event) => sender.dropNext(n, event),
  };

  app.use('/_sandbox', controlRoutes(fake));
  app.use(tokens.router(() => store.refreshCount++));

  // FaultInjector answers with res.json(), which keeps a preset Content-Type: preset Kommo's error type here.
  app.use('/api/v4', (_req, res, next) => {
    res.type('application/problem+json');
    next();
  });
  app.use('/api/v4', (req: Request, res: Response, next: NextFunction) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!m || !tokens.isValid(m[1]!)) return problem(res, 401, 'Unauthorized');
    res.locals.token = m[1];
    next();
  });
  // Kommo counts per integration (token) per second; a 429 does not use up the window.
  app.use('/api/v4', (_req: Request, res: Response, next: NextFunction) => {
    if (!limiter.take(String(res.locals.token)).allowed) return problem(res, 429, 'Too many requests');
    next();
  });
  app.use('/api/v4', faults.middleware((status) => problemBody(status)));
  const deps = { store, numericAs: () => settings.numericValuesAs, plan: () => settings.plan };
  app.use(readRoutes(deps));
  app.use(writeRoutes(deps));
  app.use('/api/v4', (_req, res) => problem(res, 404, 'Not found'));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    const detail = err instanceof Error ? err.message : String(err);
    if (req.path.startsWith('/_sandbox')) return void res.status(status).json({ error: detail });
    problem(res, status, status === 400 ? `Invalid request body: ${detail}` : detail);
  });

  return fake;
}
