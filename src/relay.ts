// Composition root: config -> store -> clients -> http app + worker. main.ts runs it as a process;
// tests and the demo run it in-process.
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, databaseTarget, zohoAccountsUrl, zohoDefaultApiDomain, type Env } from './config/env.js';
import { loadMappingFile, type Mapping } from './config/mapping.js';
import { catalogueNeeds, resolveMapping, type ResolvedMapping } from './config/resolve-mapping.js';
import { RelayError } from './errors.js';
import { createApp } from './http/app.js';
import { kommoWebhookSource } from './http/kommo-webhook.js';
import { zohoWebhookSource } from './http/zoho-webhook.js';
import { JobQueue } from './jobs/queue.js';
import { Worker } from './jobs/worker.js';
import { KommoClient } from './kommo/client.js';
import { KommoCrm } from './kommo/crm.js';
import type { KommoAccount } from './kommo/types.js';
import { createLogger, registerSecret, type Logger } from './log.js';
import { openStore, type Store } from './store/db.js';
import { CustomerLinks, DealInvoices } from './store/invoice-records.js';
import { KeyValue } from './store/kv.js';
import { DealNotes, InvoiceLinks } from './store/payment-records.js';
import { NoteOnce } from './sync/deal-notes.js';
import { PaymentToDeal } from './sync/payment-to-deal.js';
import { BillingSettings } from './sync/billing-settings.js';
import { Reconciler } from './sync/reconciler.js';
import { InvoiceForDeal } from './sync/invoice-for-deal.js';
import { createJobHandlers } from './sync/jobs.js';
import { ZohoAccounting } from './zoho/accounting.js';
import { ZohoAuth } from './zoho/auth.js';
import { ZohoBooksClient } from './zoho/client.js';

/** Exchange rates and items change: re-read the accounting reference data hourly. */
const REFERENCE_REFRESH_MS = 3600_000;

export interface RelayOptions {
  log?: Logger;
  /** Skip starting the worker (tests of the intake alone). */
  worker?: boolean;
  /** Retry budget for reaching Kommo at start-up. */
  startupAttempts?: number;
}

export interface Relay {
  url: string;
  server: Server;
  store: Store;
  queue: JobQueue;
  worker: Worker;
  reconciler: Reconciler;
  mapping: ResolvedMapping;
  kommo: KommoClient;
  zoho: ZohoBooksClient;
  zohoAuth: ZohoAuth;
  log: Logger;
  stop(): Promise<void>;
}

export async function startRelay(env: Env, opts: RelayOptions = {}): Promise<Relay> {
  const log = opts.log ?? createLogger({ level: env.LOG_LEVEL, pretty: env.LOG_FORMAT === 'pretty' });
  for (const s of [env.WEBHOOK_SECRET, env.KOMMO_ACCESS_TOKEN, env.ZOHO_CLIENT_SECRET, env.ZOHO_REFRESH_TOKEN, env.ZOHO_WEBHOOK_SIGNING_SECRET]) registerSecret(s);

  const mappingFile = loadMappingFile(env.MAPPING_FILE);
  const store = await openStore(databaseTarget(env.DATABASE_URL));
  try {
    const kv = new KeyValue(store.db);
    const kommo = new KommoClient({
      baseUrl: env.KOMMO_BASE_URL,
      accessToken: async () => env.KOMMO_ACCESS_TOKEN,
      ratePerSecond: env.KOMMO_RATE_LIMIT_PER_SECOND,
      timeoutMs: env.HTTP_TIMEOUT_MS,
      log: log.child({ service: 'kommo' }),
    });
    const zohoAuth = new ZohoAuth({
      accountsUrl: zohoAccountsUrl(env),
      clientId: env.ZOHO_CLIENT_ID,
      clientSecret: env.ZOHO_CLIENT_SECRET,
      refreshToken: () => env.ZOHO_REFRESH_TOKEN,
      timeoutMs: env.HTTP_TIMEOUT_MS,
      log: log.child({ service: 'zoho-auth' }),
    });
    let organizationId = env.ZOHO_ORGANIZATION_ID;
    const zoho = new ZohoBooksClient({
      auth: zohoAuth,
      apiUrlOverride: env.ZOHO_API_URL,
      defaultApiDomain: zohoDefaultApiDomain(env.ZOHO_DC),
      organizationId: () => organizationId,
      rateLimit: { requests: env.ZOHO_RATE_LIMIT_REQUESTS, windowMs: env.ZOHO_RATE_LIMIT_WINDOW_SECONDS * 1000 },
      timeoutMs: env.HTTP_TIMEOUT_MS,
      log: log.child({ service: 'zoho' }),
    });

    const { mapping, account } = await resolveAtStartup(mappingFile, kommo, kv, log, opts.startupAttempts ?? 6);
    organizationId ??= await pickOrganization(zoho);
    const accounting = new ZohoAccounting(zoho);
    const billing = new BillingSettings(accounting, mappingFile.tax, kv, log.child({ component: 'billing-settings' }), account?.currency);
    await billing.init();

    const queue = new JobQueue(store.db, {
      maxAttempts: env.JOB_MAX_ATTEMPTS,
      leaseMs: env.JOB_LEASE_SECONDS * 1000,
      backoffBaseMs: env.JOB_BACKOFF_BASE_MS,
      backoffMaxMs: env.JOB_BACKOFF_MAX_MS,
    });
    const crm = new KommoCrm(kommo);
    const invoices = new DealInvoices(store.db);
    const links = new InvoiceLinks(store.db);
    const notes = new NoteOnce(crm, new DealNotes(store.db));
    const invoiceForDeal = new InvoiceForDeal({
      crm,
      accounting,
      invoices,
      customers: new CustomerLinks(store.db),
      mapping,
      settings: billing,
      customerClaimStaleMs: env.JOB_LEASE_SECONDS * 1000,
    });
    const paymentToDeal = new PaymentToDeal({ crm, accounting, invoices, links, notes, mapping });
    const worker = new Worker(queue, createJobHandlers({ invoiceForDeal, paymentToDeal, notes, queue }), {
      concurrency: env.WORKER_CONCURRENCY,
      log: log.child({ component: 'worker' }),
    });
    const reconciler = new Reconciler({ db: store.db, queue, crm, accounting, invoices, links, kv, mapping, log: log.child({ component: 'reconciler' }) });

    let accepting = true;
    const app = createApp({
      db: store.db,
      log,
      accepting: () => accepting,
      webhooks: {
        route: { db: store.db, queue, secret: env.WEBHOOK_SECRET, bodyLimit: env.WEBHOOK_BODY_LIMIT },
        sources: [
          kommoWebhookSource({ invoiceStages: mapping.invoiceStages, account: { id: env.KOMMO_ACCOUNT_ID ?? account?.id, subdomain: account?.subdomain } }),
          zohoWebhookSource({ signingSecret: env.ZOHO_WEBHOOK_SIGNING_SECRET, invoices }),
        ],
      },
    });
    const server = await listen(app, env.PORT);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (opts.worker !== false && env.WORKER_CONCURRENCY > 0) {
      worker.start();
      reconciler.start(env.RECONCILE_INTERVAL_SECONDS * 1000);
      billing.startRefresh(REFERENCE_REFRESH_MS);
    }
    log.info({ port: (server.address() as AddressInfo).port, stages: mapping.invoiceStages.map((s) => s.label) }, 'relay started');

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        accepting = false;
        log.info('shutting down: no new webhooks, finishing running jobs');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await reconciler.stop();
        billing.stop();
        await worker.stop(env.SHUTDOWN_TIMEOUT_SECONDS * 1000);
        server.closeAllConnections();
        await closed;
        await store.close();
        log.info('stopped');
      })());
    return { url, server, store, queue, worker, reconciler, mapping, kommo, zoho, zohoAuth, log, stop };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Resolves stage and field names against Kommo. While Kommo is unreachable, retries with backoff; if it
 * stays down, falls back to the last resolution of the same mapping file so a restart never loses webhooks.
 */
async function resolveAtStartup(
  mapping: Mapping,
  kommo: KommoClient,
  kv: KeyValue,
  log: Logger,
  attempts: number,
): Promise<{ mapping: ResolvedMapping; account?: KommoAccount }> {
  const hash = createHash('sha256').update(JSON.stringify(mapping)).digest('hex');
  type Cached = { hash: string; mapping: ResolvedMapping; account?: KommoAccount };
  for (let attempt = 1; ; attempt++) {
    try {
      const needs = catalogueNeeds(mapping);
      const [account, pipelines, leadFields] = [await kommo.getAccount(), await kommo.getPipelines(), await kommo.getCustomFields('leads')];
      const contactFields = needs.contact ? await kommo.getCustomFields('contacts') : undefined;
      const companyFields = needs.company ? await kommo.getCustomFields('companies') : undefined;
      const productsCatalog = needs.products ? (await kommo.catalogs()).find((c) => c.type === 'products') : undefined;
      const productFields = productsCatalog ? await kommo.catalogFields(productsCatalog.id) : undefined;
      const resolved = resolveMapping(mapping, { pipelines, leadFields, contactFields, companyFields, productFields });
      await kv.set('mapping:resolved', { hash, mapping: resolved, account } satisfies Cached);
      return { mapping: resolved, account };
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const retryable = err instanceof RelayError && err.retryable;
      if (retryable && attempt < attempts) {
        log.warn({ attempt, reason: (err as Error).message }, 'cannot reach Kommo to resolve the mapping; retrying');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
        continue;
      }
      const cached = await kv.get<Cached>('mapping:resolved');
      if (retryable && cached?.hash === hash) {
        log.warn({ reason: (err as Error).message }, 'Kommo unreachable: using the last resolved mapping');
        return { mapping: cached.mapping, account: cached.account };
      }
      throw new ConfigError([`KOMMO_BASE_URL / KOMMO_ACCESS_TOKEN: cannot read pipelines and fields from Kommo to resolve the mapping: ${(err as Error).message}`]);
    }
  }
}

async function pickOrganization(zoho: ZohoBooksClient): Promise<string> {
  const orgs = await zoho.listOrganizations();
  if (orgs.length === 1) return orgs[0]!.organization_id;
  throw new ConfigError([
    orgs.length === 0
      ? 'ZOHO_ORGANIZATION_ID: the Zoho account has no Books organization.'
      : `ZOHO_ORGANIZATION_ID: is required because the Zoho account has several organizations: ${orgs.map((o) => `${o.organization_id} (${o.name})`).join(', ')}`,
  ]);
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.keepAliveTimeout = 5000;
  });
}
