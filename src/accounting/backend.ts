// What an accounting backend is to the rest of the relay: one module object per folder
// (src/accounting/<backend>/index.ts), listed in registry.ts. The object is light (names, capabilities,
// settings and mapping schemas); `create` loads the backend's runtime — client, port, connection status,
// connect flow, webhook source, CLI contributions — when the relay or the CLI starts.
import type { z } from 'zod';
import type { Env } from '../config/env.js';
import type { SideStatus } from '../connect/status.js';
import type { ConnectOutcome } from '../connect/outcome.js';
import type { WebhookSource } from '../intake/webhook-source.js';
import type { Logger } from '../log.js';
import type { CallObserver } from '../net/http.js';
import type { Connections } from '../store/connections.js';
import type { OAuthStates } from '../store/oauth-states.js';
import type { InvoiceOwners } from '../sync/invoice-owner.js';
import type { AccountingNames, AccountingPort } from '../sync/ports.js';
import type { LimiterFactory } from '../net/limits.js';

/** What a backend can do; start-up checks the mapping and settings against it (capabilities.ts). */
export interface AccountingCapabilities {
  /** `webhooks`: the backend tells the relay about changed invoices; `polling`: only the reconciler finds them. */
  changes: 'webhooks' | 'polling';
  /** Recurring invoices (a retainer section in the mapping needs them). */
  recurringInvoices: boolean;
  /** The create call can also email the invoice; otherwise the relay sends it in a separate call. */
  emailOnCreate: boolean;
  /** Invoices have an online link to write on the deal (dealFields.invoiceUrl). */
  onlineLink: boolean;
  /** Writes carry an idempotency key the backend honours, so a resent write is done once. */
  idempotencyKeys: boolean;
  /** Unpaid invoices can be voided and drafts deleted (the port's voidInvoice / deleteDraftInvoice): `invoice.onLost: "void"`. */
  cancelInvoices?: boolean;
  /** Drafts can be updated and approved (the port's updateDraftInvoice / approveInvoice): `invoice.review`. */
  reviewDrafts?: boolean;
  /** Invoices can be made payable online and the reference lists the ways (AccountingReference.payOnline): `invoice.payOnline`. */
  payOnline?: boolean;
  /** Why recurring invoices cannot repeat on this schedule (undefined: they can); absent: any schedule. */
  recurrence?(frequency: 'days' | 'weeks' | 'months' | 'years', every: number): string | undefined;
}

/** A budget of API calls the backend's vendor sets (e.g. calls a day), as last reported by its answers. */
export interface AccountingQuota {
  /** Short and stable: a metric label ("day"). */
  name: string;
  /** For a person: "API calls left today". */
  label: string;
  /** undefined until an answer has said. */
  remaining: number | undefined;
  limit?: number;
  /** Work that needs the backend waits until then (epoch ms) when the budget is spent. */
  pausedUntil?: number;
}

export type CustomerFields = Record<string, string | boolean>;

export interface AccountingBackend<Settings = unknown, Section = unknown> {
  readonly id: string;
  readonly names: AccountingNames;
  readonly capabilities: AccountingCapabilities;
  readonly settings: {
    /** Its environment settings, parsed only when it is the configured backend. */
    schema: z.ZodObject<z.ZodRawShape> & z.ZodType<Settings>;
    /** Problems of the combination of settings given (e.g. neither a token nor a redirect URI). */
    problems(given: Set<string>): string[];
    /** Whether its tokens come through /connect (so ENCRYPTION_KEY and ADMIN_TOKEN are needed). */
    usesOAuth(given: Set<string>): boolean;
    /** Every secret among them, scrubbed from every log line. */
    secrets(settings: Settings): Array<string | undefined>;
  };
  readonly mapping: {
    /** Its section of the mapping file (e.g. `zoho`). */
    key: string;
    schema: z.ZodType<Section>;
    /** What a tax rule's `customer` may hold for this backend. */
    customerFields: z.ZodType<CustomerFields>;
  };
  /** The relay's public URL, when its settings show it (an OAuth redirect URI). */
  publicUrl(settings: Settings): string | undefined;
  /** How to point the backend at the relay (`relay webhooks`); no API call. */
  webhookSetup(settings: Settings, base: { url: string; secret: string }): { json: unknown; lines: string[] };
  create(deps: AccountingDeps<Settings>): Promise<AccountingSide<Section>>;
}

export interface AccountingDeps<Settings> {
  settings: Settings;
  env: Env;
  connections: Connections;
  log: Logger;
  /** Limiters for the backend's API limits, shared by every relay on a PostgreSQL database (src/net/limits.ts). */
  limiter: LimiterFactory;
  observer?: CallObserver;
  /** Small persisted values the backend keeps for itself (e.g. catalogue entries it created), keys prefixed with its ID. */
  kv?: { get<T>(key: string): Promise<T | undefined>; set(key: string, value: unknown): Promise<unknown> };
}

/** The connect flow of /connect/<id>: consent, callback, and the organization (tenant) when there are several. */
export interface AccountingConnectFlow {
  readonly callbackPath: string;
  /** Why this relay cannot connect the backend on the page, if it cannot. */
  unavailable(): string | undefined;
  start(): Promise<string>;
  complete(query: Record<string, string>): Promise<ConnectOutcome>;
  choose(organizationId: string): Promise<boolean>;
}

export interface AccountingCheck {
  ok: boolean;
  detail?: string;
  problems: string[];
}

export interface AccountingDiscovery {
  /** Under the backend's ID in `relay discover --json`. */
  json: unknown;
  lines: string[];
  /** Its taxes, for the starter mapping's tax rule. */
  taxes: Array<{ name: string; percentage: number; isDefault: boolean }>;
}

/** A backend at work: built once per process from its settings and the store. */
export interface AccountingSide<Section = unknown> {
  /** What start-up needs before jobs run (e.g. the only organization of a Self Client); may call the API. */
  start(): Promise<void>;
  /** The organization (tenant) calls go to now, if one is chosen; reference data is kept per organization. */
  organizationId(): string | undefined;
  /** Whether a connection made on /connect is missing (start-up warns; jobs wait). */
  awaitingConnection(): Promise<boolean>;
  /**
   * `sendInvoice`: whether the mapping emails invoices (a backend may check at start-up that it can).
   * `numberTemplate`: the mapping's invoice.number.template, when set (a backend whose stamp is the number uses it).
   */
  port(mapping: { section: Section; retainerNameTemplate?: string; sendInvoice?: boolean; numberTemplate?: string }): AccountingPort;
  status(unavailable: () => string | undefined): Promise<SideStatus>;
  /** connected, not_connected or no_organization, for /readyz. */
  readiness(status: SideStatus): 'connected' | 'not_connected' | 'no_organization';
  connectFlow(deps: { states: OAuthStates; log: Logger; onConnected: () => Promise<void> }): AccountingConnectFlow;
  webhookSource(deps: { owners: InvoiceOwners; section: Section; retainerNameTemplate?: string }): WebhookSource;
  /** Codes of jobs that failed for want of a connection: woken when it is made. */
  readonly waitingCodes: string[];
  /**
   * What a person does to make another currency usable, said where one is missing ("… or change the mapping.").
   * Absent: add it in the system's settings (Settings › Currencies).
   */
  readonly addCurrencyHint?: string;
  /** `section`: the backend's section of the mapping file, when one is there already (what it adds to the books, e.g. rates). */
  discover(mapping?: { section?: Section }): Promise<AccountingDiscovery>;
  checkConnection(): Promise<AccountingCheck>;
  /** The vendor's call budgets as last seen, for /admin and /metrics; absent when the vendor reports none. */
  quotas?(): AccountingQuota[];
  /** The backend's own objects (client, auth, connection), for its tests and tools. */
  readonly parts: unknown;
}
