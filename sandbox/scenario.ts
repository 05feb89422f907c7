// A ready-made account on both sides: a fake Kommo with a Sales pipeline, an invoicing stage and the deal
// fields the relay writes, and a fake accounting system — Zoho Books (an organization with its custom
// field), Xero (an organisation set up like it: EUR, Germany) or Wave (a business "Acme" kept in EUR) — with
// the relay's environment pointing at them. Serves the e2e tests, the demo and the benchmarks alike.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BooksFacts, FakeBooks } from './books/view.js';
import { WAVE_FACTS, waveBooks } from './books/wave.js';
import { XERO_FACTS, xeroBooks } from './books/xero.js';
import { ZOHO_FACTS, zohoBooks } from './books/zoho.js';
import { createFakeKommo, type FakeKommo, type FakeKommoOptions } from './kommo/server.js';
import { createFakeWave, type FakeWave, type FakeWaveOptions } from './wave/server.js';
import { createFakeXero, type FakeXero, type FakeXeroOptions } from './xero/server.js';
import { createFakeZoho, type FakeZoho, type FakeZohoOptions } from './zoho/server.js';

export const WEBHOOK_SECRET = 'sandbox-webhook-secret-0123456789';
/** For connecting through /connect instead of tokens in the environment (see Scenario.oauthEnv). Made
 *  with `openssl rand -hex 32`, as the relay refuses a short or repetitive one. */
export const ADMIN_TOKEN = '7ce3b9ed9ae8dce54356b72b06685e635e692e179b7f55a3f35a08ad09ea44bc';
export const ENCRYPTION_KEY = 'a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01';
/** The relay's public URL as the OAuth providers know it; tests replay the redirect against the real port. */
export const RELAY_PUBLIC_URL = 'https://relay.example.com';
/** The webhook key Xero's developer portal shows for the app (XERO_WEBHOOK_KEY). */
export const XERO_WEBHOOK_KEY = 'qn9e5ReZU5lFg3DRY4eUfsUNg7V2sk/mwRfSOEOrFItzFkLfejqJ7xK4jDC/MauhCuQV/QpuiNIiuQmiyL53PA==';

/** The accounting systems the sandbox has a fake of. */
export type SandboxAccounting = 'zoho' | 'xero' | 'wave';
export const SANDBOX_ACCOUNTING: readonly SandboxAccounting[] = ['zoho', 'xero', 'wave'];

/** Each fake's facts (books.facts) before any is started: for suites that differ by them in what they start. */
export const SANDBOX_FACTS: Record<SandboxAccounting, BooksFacts> = { zoho: ZOHO_FACTS, xero: XERO_FACTS, wave: WAVE_FACTS };

/** The mapping's retainer section, written where the system has recurring invoices (books.facts.recurringInvoices). */
export const RETAINER_SECTION = { startStages: ['Retainer Active'], stopStages: ['Completed', 143], frequencyField: 'Billing frequency', recurringIdField: 'Recurring invoice ID' };

export interface ScenarioOptions {
  /** Where the mapping file (and, by default, the relay's database) go. */
  dir: string;
  kommo?: FakeKommoOptions;
  /** Which accounting system the relay works with (default zoho). */
  accounting?: SandboxAccounting;
  zoho?: FakeZohoOptions;
  xero?: FakeXeroOptions;
  wave?: FakeWaveOptions;
  /**
   * 'roomy': the accounting system's per-minute limit raised tenfold, the relay told so, for runs about
   * something else that make more calls in a minute than the system allows (Xero: 60 per organisation).
   * Default 'real': the system's own limits (they have their own tests).
   */
  apiLimits?: 'real' | 'roomy';
  /**
   * A stage after 'Invoice' that a mapping may name in invoice.review.approvalStages (e.g. 'Invoice approved'),
   * as a manager adds one in Kommo's pipeline settings; scenario.stages.approval is its ID. Default: none.
   */
  approvalStage?: string;
  /** Kommo also sends the relay each change of a deal (update_lead; invoice.review follows the deal's amount). Default: stage changes only. */
  dealChanges?: boolean;
}

export interface Scenario {
  kommo: FakeKommo;
  accounting: SandboxAccounting;
  /** The accounting side, whichever system it is (see sandbox/books/view.ts). */
  books: FakeBooks;
  /** The fake Zoho; only in a Zoho scenario (reading it in another throws). */
  zoho: FakeZoho;
  /** The fake Xero; only in a Xero scenario (reading it in another throws). */
  xero: FakeXero;
  /** The fake Wave; only in a Wave scenario (reading it in another throws). */
  wave: FakeWave;
  kommoUrl: string;
  /** The fake Zoho's origin; only in a Zoho scenario. */
  zohoUrl: string;
  /** The accounting fake's origin. */
  accountingUrl: string;
  pipelineId: number;
  /** `approval`: ScenarioOptions.approvalStage's ID (undefined without). */
  stages: { incoming: number; proposal: number; invoice: number; paymentReceived: number; retainerActive: number; completed: number; approval: number | undefined };
  fields: { invoiceId: number; invoiceUrl: number; paid: number; recurringId: number; billingFrequency: number };
  mappingFile: string;
  /** Settings that give the accounting side a refresh token the system has revoked. */
  revokedTokenEnv: Record<string, string>;
  /** The setting holding the secret the accounting system's webhooks are checked with, and a value for it (none: Wave's are refused). */
  webhookSecretSetting: { name: string; value: string } | undefined;
  /** The backend's section of the scenario's mapping file (e.g. `{ "zoho": { "dealIdField": … } }`). */
  mappingSection: Record<string, unknown>;
  /** The relay's environment for this scenario; `overrides` win. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** The same, with both sides to be connected through /connect (OAuth) instead of tokens in the environment. */
  oauthEnv(overrides?: Record<string, string>): Record<string, string>;
  /** Kommo sends stage-change webhooks, and the accounting system its own (Zoho's payment workflow, Xero's
   *  signed INVOICE events), to this relay from now on. */
  connectRelay(relayUrl: string): void;
  /** A client (contact with an email) and a deal of theirs in the Incoming stage. */
  addClientDeal(d?: { name?: string; price?: number; email?: string | null; contactName?: string; companyId?: number; contactId?: number }): { dealId: number; contactId: number };
  /** Moves deals into the invoicing stage the way a manager does in the Kommo UI. */
  moveToInvoice(...dealIds: number[]): void;
  close(): Promise<void>;
}

export async function startScenario(opts: ScenarioOptions): Promise<Scenario> {
  const accounting = opts.accounting ?? 'zoho';
  const kommo = createFakeKommo({ currency: 'EUR', country: 'DE', webhookRetryDelayMs: 200, redirectUri: `${RELAY_PUBLIC_URL}/connect/kommo/callback`, ...opts.kommo });
  const roomy = opts.apiLimits === 'roomy';
  const side = accounting === 'xero' ? await startXero(opts.xero, roomy) : accounting === 'wave' ? await startWave(opts.wave, roomy, join(opts.dir, 'mapping.json')) : await startZoho(opts.zoho, roomy);
  const kommoUrl = await kommo.listen();

  const pipeline = kommo.addPipeline('Sales', ['Incoming', 'Proposal', 'Invoice', ...(opts.approvalStage ? [opts.approvalStage] : []), 'Payment Received', 'Retainer Active', 'Completed']);
  const stageId = (name: string) => pipeline.statuses.find((s) => s.name === name)!.id;
  const stages = {
    incoming: stageId('Incoming'),
    proposal: stageId('Proposal'),
    invoice: stageId('Invoice'),
    paymentReceived: stageId('Payment Received'),
    retainerActive: stageId('Retainer Active'),
    completed: stageId('Completed'),
    approval: opts.approvalStage ? stageId(opts.approvalStage) : undefined,
  };
  const fields = {
    invoiceId: kommo.addLeadField({ name: 'Invoice ID', type: 'text' }),
    invoiceUrl: kommo.addLeadField({ name: 'Invoice URL', type: 'url' }),
    paid: kommo.addLeadField({ name: 'Paid', type: 'checkbox' }),
    recurringId: kommo.addLeadField({ name: 'Recurring invoice ID', type: 'text' }),
    billingFrequency: kommo.addLeadField({ name: 'Billing frequency', type: 'select', enums: ['Monthly', 'Quarterly', 'Every 2 weeks'] }),
  };

  const mappingFile = join(opts.dir, 'mapping.json');
  writeFileSync(
    mappingFile,
    JSON.stringify(
      {
        invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoice' }] },
        dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' },
        payment: { stage: 'Payment Received', paidField: 'Paid' },
        ...(side.books.facts.recurringInvoices === false ? {} : { retainer: RETAINER_SECTION }),
        ...side.mapping,
      },
      null,
      2,
    ),
  );
  const common = {
    PORT: '0',
    DATABASE_URL: `sqlite:${join(opts.dir, 'relay.db')}`,
    WEBHOOK_SECRET,
    KOMMO_BASE_URL: kommoUrl,
    MAPPING_FILE: mappingFile,
    JOB_BACKOFF_BASE_MS: '100',
    JOB_BACKOFF_MAX_MS: '2000',
    JOB_LEASE_SECONDS: '3',
    HTTP_TIMEOUT_MS: '3000',
    SHUTDOWN_TIMEOUT_SECONDS: '5',
    LOG_LEVEL: 'warn',
  };
  const only = <T>(name: SandboxAccounting, value: T | undefined): T => {
    if (value === undefined) throw new Error(`this scenario runs ${accounting}, not ${name}: use scenario.books, or start the scenario with accounting: '${name}'`);
    return value;
  };

  let clients = 0;
  return {
    kommo,
    accounting,
    books: side.books,
    get zoho() {
      return only('zoho', side.zoho);
    },
    get xero() {
      return only('xero', side.xero);
    },
    get wave() {
      return only('wave', side.wave);
    },
    kommoUrl,
    get zohoUrl() {
      return only('zoho', side.zoho).baseUrl!;
    },
    accountingUrl: side.url,
    pipelineId: pipeline.id,
    stages,
    fields,
    mappingFile,
    mappingSection: side.mapping,
    revokedTokenEnv: side.revokedTokenEnv,
    webhookSecretSetting: side.webhookSecretSetting,
    env: (overrides = {}) => ({
      ...common,
      KOMMO_ACCESS_TOKEN: 'kommo-long-lived-token',
      ...side.env,
      ...overrides,
    }),
    oauthEnv: (overrides = {}) => ({
      ...common,
      ...side.oauthEnv,
      // Both sides connect on /connect: no token in the environment.
      KOMMO_CLIENT_ID: 'kommo-client-id',
      KOMMO_CLIENT_SECRET: 'kommo-client-secret',
      KOMMO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/kommo/callback`,
      ENCRYPTION_KEY,
      ADMIN_TOKEN,
      ...overrides,
    }),
    connectRelay: (relayUrl) => {
      kommo.subscribe(`${relayUrl}/webhooks/kommo/${WEBHOOK_SECRET}`, opts.dealChanges ? ['status_lead', 'update_lead'] : ['status_lead']);
      side.books.connect(relayUrl);
    },
    addClientDeal(d = {}) {
      clients++;
      const contactId =
        d.contactId ??
        kommo.addContact({
          name: d.contactName ?? `Client ${clients}`,
          firstName: 'Client',
          lastName: String(clients),
          ...(d.email === null ? {} : { email: d.email ?? `client${clients}@example.com` }),
          phone: '+49 30 1234567',
          companyId: d.companyId,
        });
      const dealId = kommo.addLead({
        name: d.name ?? `Website redesign #${clients}`,
        price: d.price ?? 4800,
        pipelineId: pipeline.id,
        statusId: stages.incoming,
        contacts: [{ id: contactId, isMain: true }],
      });
      return { dealId, contactId };
    },
    moveToInvoice: (...dealIds) => kommo.moveLeads(dealIds, stages.invoice, pipeline.id),
    close: async () => {
      await Promise.all([kommo.close(), side.books.close()]);
    },
  };
}

interface AccountingSandbox {
  books: FakeBooks;
  url: string;
  zoho?: FakeZoho;
  xero?: FakeXero;
  wave?: FakeWave;
  /** The mapping file's backend section. */
  mapping: Record<string, unknown>;
  /** The relay's settings for this side, connected by tokens in the environment. */
  env: Record<string, string>;
  /** The same, to be connected on /connect. */
  oauthEnv: Record<string, string>;
  revokedTokenEnv: Record<string, string>;
  webhookSecretSetting: { name: string; value: string } | undefined;
}

async function startZoho(options: FakeZohoOptions | undefined, roomy: boolean): Promise<AccountingSandbox> {
  const zoho = createFakeZoho({ validateOas: true, dc: 'eu', ...(roomy ? { rateLimit: { limit: 1000, windowMs: 60_000 } } : {}), ...options });
  const url = await zoho.listen();
  zoho.addCustomField({ entity: 'invoice', label: 'Kommo deal ID', apiName: 'cf_kommo_deal_id' });
  const shared = {
    ZOHO_DC: 'eu',
    ZOHO_CLIENT_ID: zoho.clientId,
    ZOHO_CLIENT_SECRET: zoho.clientSecret,
    ZOHO_ACCOUNTS_URL: url,
    // The fake names itself as api_domain; the relay takes only Zoho's own API host, or this override.
    ZOHO_API_URL: url,
  };
  return {
    books: zohoBooks(zoho, { webhookSecret: WEBHOOK_SECRET, dealIdField: 'cf_kommo_deal_id' }),
    url,
    zoho,
    mapping: { zoho: { dealIdField: 'cf_kommo_deal_id' } },
    env: { ...shared, ZOHO_REFRESH_TOKEN: zoho.refreshToken, ZOHO_ORGANIZATION_ID: zoho.organizationId },
    oauthEnv: { ...shared, ZOHO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/zoho/callback` },
    revokedTokenEnv: { ZOHO_REFRESH_TOKEN: '1000.revoked.revoked' },
    webhookSecretSetting: { name: 'ZOHO_WEBHOOK_SIGNING_SECRET', value: 'zoho-signing-secret-123456' },
  };
}

/** An organisation set up like the Zoho one: Acme, in Germany, kept in EUR; no tax rate but "no tax" until a test adds some. */
async function startXero(options: FakeXeroOptions | undefined, roomy: boolean): Promise<AccountingSandbox> {
  const xero = createFakeXero({
    tenants: [{ name: 'Acme', countryCode: 'DE', baseCurrency: 'EUR', taxRates: [{ name: 'Tax Exempt', taxType: 'NONE', rate: 0 }] }],
    ...(roomy ? { limits: { perMinute: 600 } } : {}),
    ...options,
  });
  const url = await xero.listen();
  const shared = {
    ACCOUNTING: 'xero',
    XERO_CLIENT_ID: xero.clientId,
    XERO_CLIENT_SECRET: xero.clientSecret,
    // All of Xero (identity, connections, API) is under the fake's origin.
    XERO_API_URL: url,
    XERO_WEBHOOK_KEY,
    XERO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/xero/callback`,
    // Xero's refresh tokens rotate: they are kept in the database, encrypted; /connect is behind the admin token.
    ENCRYPTION_KEY,
    ADMIN_TOKEN,
    ...(roomy ? { XERO_RATE_LIMIT_PER_MINUTE: '600' } : {}),
  };
  return {
    books: xeroBooks(xero, { webhookSecret: WEBHOOK_SECRET, webhookKey: XERO_WEBHOOK_KEY }),
    url,
    xero,
    mapping: { xero: {} },
    env: { ...shared, XERO_REFRESH_TOKEN: xero.refreshToken, XERO_TENANT_ID: xero.tenantId },
    oauthEnv: shared,
    revokedTokenEnv: { XERO_REFRESH_TOKEN: 'revoked-xero-refresh-token-0000000000000000000' },
    webhookSecretSetting: { name: 'XERO_WEBHOOK_KEY', value: XERO_WEBHOOK_KEY },
  };
}

/**
 * A business set up like the Zoho organization: Acme, kept in EUR, email sending on, new invoicing, an INCOME
 * account "Sales" (the mapping's incomeAccount), and no sales tax until a test adds some (the mapping's tax
 * rules name them). Connected by an OAuth refresh token seeded once (WAVE_REFRESH_TOKEN) rather than a Full
 * Access Token: the relay refreshes and rotates it in its store, encrypted, as a real install does.
 */
async function startWave(options: FakeWaveOptions | undefined, roomy: boolean, mappingFile: string): Promise<AccountingSandbox> {
  const wave = createFakeWave({
    businesses: [{ name: 'Acme', currency: 'EUR', emailSendEnabled: true, isClassicInvoicing: false, salesTaxes: [], paymentTermsDays: 30 }],
    // A used refresh token keeps working a few minutes (Wave's grace is unconfirmed; Xero's is 30 min): a second
    // relay on a database of its own (relay check, a bad-mapping start) seeds from the same WAVE_REFRESH_TOKEN.
    refreshGraceSeconds: 600,
    ...(roomy ? { limits: { perMinute: 600 } } : {}),
    ...options,
  });
  const url = await wave.listen();
  // Wave keeps no list of currencies: books.addCurrency(code, rate) adds the rate to the mapping's wave section
  // (here, and in the mapping file as it is then), as an operator enables a currency for Wave.
  const exchangeRates: Record<string, number> = {};
  const onExchangeRates = () => {
    if (!existsSync(mappingFile)) return;
    const mapping = JSON.parse(readFileSync(mappingFile, 'utf8')) as { wave?: { exchangeRates?: Record<string, number> } };
    if (!mapping.wave) return;
    mapping.wave.exchangeRates = { ...mapping.wave.exchangeRates, ...exchangeRates };
    writeFileSync(mappingFile, JSON.stringify(mapping, null, 2));
  };
  const shared = {
    ACCOUNTING: 'wave',
    WAVE_CLIENT_ID: wave.clientId,
    WAVE_CLIENT_SECRET: wave.clientSecret,
    // All of Wave (GraphQL API and OAuth) is under the fake's origin.
    WAVE_API_URL: url,
    WAVE_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/wave/callback`,
    ENCRYPTION_KEY,
    ADMIN_TOKEN,
    ...(roomy ? { WAVE_RATE_LIMIT_PER_MINUTE: '600' } : {}),
  };
  return {
    books: waveBooks(wave, { webhookSecret: WEBHOOK_SECRET, exchangeRates, onExchangeRates }),
    url,
    wave,
    mapping: { wave: { incomeAccount: 'Sales', exchangeRates } },
    env: { ...shared, WAVE_REFRESH_TOKEN: wave.refreshToken, WAVE_BUSINESS_ID: wave.businessId },
    oauthEnv: shared,
    revokedTokenEnv: { WAVE_REFRESH_TOKEN: 'revoked-wave-refresh-token-000000000000000000' },
    // Wave's webhooks are refused whatever they carry: no setting holds a secret to check them with.
    webhookSecretSetting: undefined,
  };
}
