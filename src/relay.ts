// Composition root: config -> store -> clients (Kommo, and the configured accounting backend) -> http app
// + worker. main.ts runs it as a process; tests and the demo run it in-process.
//
// A side that is not connected yet does not stop start-up: the relay must be reachable on /connect.
// Webhooks are stored and acknowledged either way; jobs that need the missing side fail as retryable
// (`kommo_not_connected`, or the backend's own codes, see its waitingCodes) and are made due again
// the moment the side is connected. The work that needs the resolved mapping (worker, reconciler) starts
// once the mapping is known: at start-up, or when Kommo gets connected (see startup/mapping-state.ts).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccountingBackend, AccountingSide } from './accounting/backend.js';
import { ConfigError, databaseTarget, type Env } from './config/env.js';
import { loadMappingFile } from './config/mapping.js';
import type { ResolvedMapping } from './config/resolve-mapping.js';
import { connectionRoutes } from './connect/connection-routes.js';
import { clusterReadiness, sidesReadiness } from './connect/readiness.js';
import { connectionsStatus } from './connect/status.js';
import { wakeJobsWaitingFor } from './connect/wake-jobs.js';
import { AdminAuth } from './http/admin-auth.js';
import { adminRoutes } from './http/admin.js';
import { createApp } from './http/app.js';
import { listen } from './http/server.js';
import { kommoSourceUntilMapped, replayParked } from './intake/kommo-parked.js';
import { kommoWebhookSource } from './intake/kommo-source.js';
import { stageTriggers } from './intake/triggers.js';
import type { WebhookSource } from './intake/webhook-source.js';
import { joinCluster, SEEN_WITHIN_MS, type Cluster } from './jobs/cluster.js';
import { clusterStatus } from './store/cluster-status.js';
import { dayBudgetStatus } from './store/day-budgets.js';
import { JobQueue } from './jobs/queue.js';
import { Worker } from './jobs/worker.js';
import { KommoCrm } from './kommo/crm.js';
import type { KommoClient } from './kommo/client.js';
import type { KommoTokens } from './kommo/tokens.js';
import { createLogger, type Logger } from './log.js';
import { RelayMetrics } from './metrics.js';
import { queueFigures } from './ops/queue-figures.js';
import { createClients, registerEnvSecrets } from './startup/clients.js';
import { MappingState, type MappingResolution } from './startup/mapping-state.js';
import { AdminSessions } from './store/admin-sessions.js';
import type { Connections } from './store/connections.js';
import { openStore, type Store } from './store/db.js';
import { CustomerLinks, DealInvoices } from './store/invoice-records.js';
import { DealNotes, InvoiceLinks } from './store/payment-records.js';
import { DealRecurringProfiles } from './store/recurring-records.js';
import { InvoiceOwners } from './sync/invoice-owner.js';
import { RetentionSweep } from './store/retention.js';
import { NoteOnce } from './sync/deal-notes.js';
import { DealWriter } from './sync/deal-writer.js';
import { DealWrites } from './store/deal-write-records.js';
import { PaymentToDeal } from './sync/payment-to-deal.js';
import { BillingParty } from './sync/billing-party.js';
import { BillingSettings } from './sync/billing-settings.js';
import { RetainerForDeal } from './sync/retainer-for-deal.js';
import { EARLY_SWEEP_DELAY_MS, Reconciler, RECONCILER_TASK } from './sync/reconciler.js';
import { InvoiceForDeal } from './sync/invoice-for-deal.js';
import { createJobHandlers } from './sync/jobs.js';
import { LostDeal } from './sync/lost-deal.js';
import { InvoiceReview } from './sync/invoice-review.js';
import { DealLostRecords } from './store/lost-records.js';

/** Exchange rates and items change: re-read the accounting reference data hourly. */
const REFERENCE_REFRESH_MS = 3600_000;
/** Old settled jobs and events are looked for hourly, the first time a minute after start. */
const RETENTION_SWEEP_MS = 3600_000;

export interface RelayOptions {
  log?: Logger;
  /** Skip starting the worker (tests of the intake alone). */
  worker?: boolean;
  /** Retry budget for reaching Kommo at start-up. */
  startupAttempts?: number;
  /** While the mapping waits for Kommo, how often to look for a connection another process made. */
  connectionWatchMs?: number;
  /** When the first retention sweep runs (tests). */
  retentionFirstSweepMs?: number;
}

export interface Relay {
  url: string;
  server: Server;
  store: Store;
  queue: JobQueue;
  /** The next three throw while the mapping waits for Kommo (see mappingState). */
  readonly worker: Worker;
  readonly reconciler: Reconciler;
  readonly mapping: ResolvedMapping;
  mappingState: MappingState;
  kommo: KommoClient;
  /** Kommo OAuth tokens; undefined with a long-lived KOMMO_ACCESS_TOKEN. */
  kommoTokens: KommoTokens | undefined;
  /** The configured accounting backend (ACCOUNTING) and its side at work in this process. */
  backend: AccountingBackend;
  accounting: AccountingSide;
  connections: Connections;
  metrics: RelayMetrics;
  retention: RetentionSweep;
  log: Logger;
  stop(): Promise<void>;
}

interface Processing {
  mapping: ResolvedMapping;
  worker: Worker;
  reconciler: Reconciler;
  billing: BillingSettings;
}

export async function startRelay(env: Env, opts: RelayOptions = {}): Promise<Relay> {
  const log = opts.log ?? createLogger({ level: env.LOG_LEVEL, pretty: env.LOG_FORMAT === 'pretty' });
  registerEnvSecrets(env);

  const backend = env.accounting.backend;
  const names = backend.names;
  const mappingFile = loadMappingFile(env.MAPPING_FILE, backend);
  const target = databaseTarget(env.DATABASE_URL);
  const store = await openStore(target);
  let mappingState: MappingState | undefined;
  let cluster: Cluster | undefined;
  try {
    const metrics = new RelayMetrics(() => queueFigures(store.db), () => dayBudgetStatus(store.db));
    const { kv, connections, kommoAuth, kommo, accounting: side } = await createClients(env, store, log, metrics.observer);
    const quotas = () => side.quotas?.() ?? [];
    metrics.watchQuotas(names.id, quotas);

    mappingState = new MappingState({ file: mappingFile, kommo, kv, log, attempts: opts.startupAttempts ?? 6, kommoConnected: kommoAuth.connected });
    await mappingState.atStartup();
    await side.start();
    if (!(await kommoAuth.connected())) log.warn('Kommo is not connected: log in on /connect with ADMIN_TOKEN and connect Kommo. Webhooks are stored meanwhile; jobs that need Kommo wait.');
    if (await side.awaitingConnection()) {
      log.warn(`${names.short} is not connected: log in on /connect with ADMIN_TOKEN and connect ${names.short}. Webhooks are stored meanwhile; jobs that need ${names.short} wait.`);
    }

    const queue = new JobQueue(store.db, {
      maxAttempts: env.JOB_MAX_ATTEMPTS,
      leaseMs: env.JOB_LEASE_SECONDS * 1000,
      backoffBaseMs: env.JOB_BACKOFF_BASE_MS,
      backoffMaxMs: env.JOB_BACKOFF_MAX_MS,
    });
    const invoices = new DealInvoices(store.db);
    const owners = new InvoiceOwners(store.db);
    const section = {
      section: mappingFile.accounting,
      sendInvoice: mappingFile.invoice.send,
      ...(mappingFile.retainer ? { retainerNameTemplate: mappingFile.retainer.nameTemplate } : {}),
      ...(mappingFile.invoice.number ? { numberTemplate: mappingFile.invoice.number.template } : {}),
    };
    const runWorker = opts.worker !== false && env.WORKER_CONCURRENCY > 0;
    // Heartbeat, leases of the periodic tasks, NOTIFY wake-ups: several relays may share this database.
    cluster = await joinCluster({ store, target, queue, role: runWorker ? 'intake+worker' : 'intake', leaseMs: env.SINGLETON_LEASE_SECONDS * 1000, log });
    const singletons = cluster.singletons;

    const createProcessing = async ({ mapping, account }: MappingResolution): Promise<Processing> => {
      const crm = new KommoCrm(kommo);
      const accounting = side.port(section);
      // Without the backend connected yet, init() only warns: invoice jobs wait (retryable) until it can load.
      const billing = new BillingSettings(accounting, mappingFile.tax, kv, log.child({ component: 'billing-settings' }), () => side.organizationId(), account?.currency, mappingFile.invoice.payOnline);
      // A start reads the data again behind the stored copy, once (a restart is how an operator makes the
      // relay see a tax or currency just added in the accounting system; a few calls per start, with one
      // relay or several); the periodic read after that runs under a lease in one process (startRefresh below).
      await billing.init();
      const links = new InvoiceLinks(store.db);
      const profiles = new DealRecurringProfiles(store.db);
      const notes = new NoteOnce(crm, new DealNotes(store.db));
      const party = new BillingParty({
        crm,
        accounting,
        customers: new CustomerLinks(store.db),
        mapping,
        settings: billing,
        customerClaimStaleMs: env.JOB_LEASE_SECONDS * 1000,
      });
      const writer = new DealWriter(crm, new DealWrites(store.db));
      const invoiceForDeal = new InvoiceForDeal({ crm, accounting, invoices, party, writer, mapping, notes });
      const review = mapping.review ? { review: new InvoiceReview({ crm, accounting, invoices, party, notes, writer, mapping }), invoices } : undefined;
      const retainerForDeal = new RetainerForDeal({ crm, accounting, profiles, party, mapping });
      const paymentToDeal = new PaymentToDeal({ crm, accounting, links, owners, notes, writer, mapping });
      const lostDeal = mapping.onLost ? new LostDeal({ crm, accounting, invoices, lost: new DealLostRecords(store.db), notes, retainer: retainerForDeal, mapping }) : undefined;
      const worker = new Worker(queue, createJobHandlers({ invoiceForDeal, paymentToDeal, retainerForDeal, ...(lostDeal ? { lostDeal } : {}), ...(review ? { review } : {}), notes, queue }), {
        concurrency: env.WORKER_CONCURRENCY,
        log: log.child({ component: 'worker' }),
        onAttempt: metrics.jobAttempt,
      });
      const reconciler = new Reconciler({ db: store.db, queue, crm, accounting, invoices, links, profiles, owners, kv, mapping, log: log.child({ component: 'reconciler' }) });
      return { mapping, worker, reconciler, billing };
    };

    let processing: Processing | undefined;
    let kommoSource: WebhookSource | undefined;
    let stopped = false;
    await mappingState.onResolved(async (resolution) => {
      if (stopped) return;
      processing = await createProcessing(resolution);
      const account = resolution.account;
      kommoSource = kommoWebhookSource({ triggers: stageTriggers(resolution.mapping), account: { id: env.KOMMO_ACCOUNT_ID ?? account?.id, subdomain: account?.subdomain } });
      await replayParked({ db: store.db, queue, kv, log }, kommoSource);
      if (runWorker) {
        processing.worker.start();
        processing.reconciler.start(env.RECONCILE_INTERVAL_SECONDS * 1000, singletons);
        processing.billing.startRefresh(REFERENCE_REFRESH_MS, singletons);
      }
    });
    if (!mappingState.current) mappingState.watch(opts.connectionWatchMs ?? 30_000);

    const currentMapping = mappingState;
    // One login and one count of wrong tokens for /connect, /admin and /metrics.
    const adminAuth = env.ADMIN_TOKEN ? new AdminAuth(env.ADMIN_TOKEN, new AdminSessions(store.db, env.ADMIN_TOKEN)) : undefined;
    const connect = connectionRoutes({
      auth: adminAuth,
      env,
      db: store.db,
      connections,
      kommo: { client: kommo, credentials: kommoAuth },
      accounting: { side, names },
      mapping: currentMapping,
      log,
      onKommoConnected: async () => {
        await currentMapping.resolveNow();
        await wakeJobsWaitingFor(store.db, queue, 'kommo');
      },
      onAccountingConnected: async () => {
        // Another account or organization has other currencies, taxes and items: read them before jobs resume.
        await processing?.billing.reload().catch(async (err: unknown) => {
          const message = err instanceof ConfigError ? err.problems.join(' ') : (err as Error).message;
          log.error({ reason: message }, `the accounting reference data of the new ${names.short} connection could not be loaded`);
          await connections.recordError(names.id, message);
        });
        await wakeJobsWaitingFor(store.db, queue, names.id, side.waitingCodes);
      },
    });

    let accepting = true;
    const app = createApp({
      db: store.db,
      log,
      trustProxy: env.TRUST_PROXY,
      accepting: () => accepting,
      webhooks: {
        route: {
          db: store.db,
          queue,
          secret: env.WEBHOOK_SECRET,
          bodyLimit: env.WEBHOOK_BODY_LIMIT,
          onOutcome: metrics.webhook,
          // Whichever relay holds the reconciler's lease runs the sweep (this one or another on the database).
          ...(env.RECONCILE_INTERVAL_SECONDS > 0
            ? {
                sweepSoon: () =>
                  void singletons.soon(RECONCILER_TASK, env.RECONCILE_INTERVAL_SECONDS * 1000, EARLY_SWEEP_DELAY_MS).catch((err: unknown) => log.warn({ err }, 'an early reconcile sweep could not be asked for; the next one runs as scheduled')),
              }
            : {}),
        },
        sources: [
          kommoSourceUntilMapped(() => kommoSource, { id: env.KOMMO_ACCOUNT_ID }),
          side.webhookSource({ owners, ...section }),
        ],
      },
      connect,
      admin: adminRoutes({ auth: adminAuth, db: store.db, queue, metrics, log, accounting: names, quotas }),
      connections: async () => ({
        ...(await clusterReadiness(() => clusterStatus(store.db, store.dialect, SEEN_WITHIN_MS))),
        sides: sidesReadiness(
          await connectionsStatus({
            env,
            connections,
            accounting: { side, names },
            kommoTokens: kommoAuth.tokens,
            mapping: currentMapping,
            unavailable: { kommo: () => undefined, accounting: () => undefined },
          }),
          side,
        ),
      }),
    });
    const server = await listen(app, env, log);
    const retention = new RetentionSweep(store.db, { days: env.RETENTION_DAYS, log: log.child({ component: 'retention' }) });
    retention.start(RETENTION_SWEEP_MS, opts.retentionFirstSweepMs, singletons);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    log.info({ port: (server.address() as AddressInfo).port, stages: processing?.mapping.invoiceStages.map((s) => s.label) ?? 'waiting for Kommo' }, 'relay started');

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        accepting = false;
        stopped = true;
        currentMapping.stop();
        log.info('shutting down: no new webhooks, finishing running jobs');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await processing?.reconciler.stop();
        await retention.stop();
        await processing?.billing.stop();
        await processing?.worker.stop(env.SHUTDOWN_TIMEOUT_SECONDS * 1000);
        await cluster?.stop();
        server.closeAllConnections();
        await closed;
        await store.close();
        log.info('stopped');
      })());
    const ready = (): Processing => {
      if (!processing) throw new Error('The mapping is not resolved yet: Kommo is not connected (open /connect).');
      return processing;
    };
    return {
      url,
      server,
      store,
      queue,
      get worker() {
        return ready().worker;
      },
      get reconciler() {
        return ready().reconciler;
      },
      get mapping() {
        return ready().mapping;
      },
      mappingState,
      kommo,
      kommoTokens: kommoAuth.tokens,
      backend,
      accounting: side,
      connections,
      metrics,
      retention,
      log,
      stop,
    };
  } catch (err) {
    mappingState?.stop();
    await cluster?.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}
