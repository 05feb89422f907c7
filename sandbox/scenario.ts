// A ready-made account on both fake servers: a Sales pipeline with an invoicing stage, the deal fields
// the relay writes, a Zoho organization with its custom field, and the relay's environment pointing at
// them. Serves the e2e tests, the demo and the benchmarks alike.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFakeKommo, type FakeKommo, type FakeKommoOptions } from './kommo/server.js';
import { createFakeZoho, type FakeZoho, type FakeZohoOptions } from './zoho/server.js';

export const WEBHOOK_SECRET = 'sandbox-webhook-secret-0123456789';
/** For connecting through /connect instead of tokens in the environment (see Scenario.oauthEnv). Made
 *  with `openssl rand -hex 32`, as the relay refuses a short or repetitive one. */
export const ADMIN_TOKEN = '7ce3b9ed9ae8dce54356b72b06685e635e692e179b7f55a3f35a08ad09ea44bc';
export const ENCRYPTION_KEY = 'a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01';
/** The relay's public URL as the OAuth providers know it; tests replay the redirect against the real port. */
export const RELAY_PUBLIC_URL = 'https://relay.example.com';

export interface ScenarioOptions {
  /** Where the mapping file (and, by default, the relay's database) go. */
  dir: string;
  kommo?: FakeKommoOptions;
  zoho?: FakeZohoOptions;
}

export interface Scenario {
  kommo: FakeKommo;
  zoho: FakeZoho;
  kommoUrl: string;
  zohoUrl: string;
  pipelineId: number;
  stages: { incoming: number; proposal: number; invoice: number; paymentReceived: number; retainerActive: number; completed: number };
  fields: { invoiceId: number; invoiceUrl: number; paid: number; recurringId: number; billingFrequency: number };
  mappingFile: string;
  /** The relay's environment for this scenario; `overrides` win. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** The same, with both sides to be connected through /connect (OAuth) instead of tokens in the environment. */
  oauthEnv(overrides?: Record<string, string>): Record<string, string>;
  /** Kommo sends stage-change webhooks, and Zoho's payment workflow its webhook, to this relay from now on. */
  connectRelay(relayUrl: string): void;
  /** A client (contact with an email) and a deal of theirs in the Incoming stage. */
  addClientDeal(d?: { name?: string; price?: number; email?: string | null; contactName?: string; companyId?: number; contactId?: number }): { dealId: number; contactId: number };
  /** Moves deals into the invoicing stage the way a manager does in the Kommo UI. */
  moveToInvoice(...dealIds: number[]): void;
  close(): Promise<void>;
}

export async function startScenario(opts: ScenarioOptions): Promise<Scenario> {
  const kommo = createFakeKommo({ currency: 'EUR', country: 'DE', webhookRetryDelayMs: 200, redirectUri: `${RELAY_PUBLIC_URL}/connect/kommo/callback`, ...opts.kommo });
  const zoho = createFakeZoho({ validateOas: true, dc: 'eu', ...opts.zoho });
  const [kommoUrl, zohoUrl] = await Promise.all([kommo.listen(), zoho.listen()]);

  const pipeline = kommo.addPipeline('Sales', ['Incoming', 'Proposal', 'Invoice', 'Payment Received', 'Retainer Active', 'Completed']);
  const stageId = (name: string) => pipeline.statuses.find((s) => s.name === name)!.id;
  const stages = {
    incoming: stageId('Incoming'),
    proposal: stageId('Proposal'),
    invoice: stageId('Invoice'),
    paymentReceived: stageId('Payment Received'),
    retainerActive: stageId('Retainer Active'),
    completed: stageId('Completed'),
  };
  const fields = {
    invoiceId: kommo.addLeadField({ name: 'Invoice ID', type: 'text' }),
    invoiceUrl: kommo.addLeadField({ name: 'Invoice URL', type: 'url' }),
    paid: kommo.addLeadField({ name: 'Paid', type: 'checkbox' }),
    recurringId: kommo.addLeadField({ name: 'Recurring invoice ID', type: 'text' }),
    billingFrequency: kommo.addLeadField({ name: 'Billing frequency', type: 'select', enums: ['Monthly', 'Quarterly', 'Every 2 weeks'] }),
  };
  zoho.addCustomField({ entity: 'invoice', label: 'Kommo deal ID', apiName: 'cf_kommo_deal_id' });

  const mappingFile = join(opts.dir, 'mapping.json');
  writeFileSync(
    mappingFile,
    JSON.stringify(
      {
        invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoice' }] },
        dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' },
        payment: { stage: 'Payment Received', paidField: 'Paid' },
        retainer: { startStages: ['Retainer Active'], stopStages: ['Completed', 143], frequencyField: 'Billing frequency', recurringIdField: 'Recurring invoice ID' },
        zoho: { dealIdField: 'cf_kommo_deal_id' },
      },
      null,
      2,
    ),
  );

  let clients = 0;
  return {
    kommo,
    zoho,
    kommoUrl,
    zohoUrl,
    pipelineId: pipeline.id,
    stages,
    fields,
    mappingFile,
    env: (overrides = {}) => ({
      PORT: '0',
      DATABASE_URL: `sqlite:${join(opts.dir, 'relay.db')}`,
      WEBHOOK_SECRET,
      KOMMO_BASE_URL: kommoUrl,
      KOMMO_ACCESS_TOKEN: 'kommo-long-lived-token',
      ZOHO_DC: 'eu',
      ZOHO_CLIENT_ID: zoho.clientId,
      ZOHO_CLIENT_SECRET: zoho.clientSecret,
      ZOHO_REFRESH_TOKEN: zoho.refreshToken,
      ZOHO_ORGANIZATION_ID: zoho.organizationId,
      ZOHO_ACCOUNTS_URL: zohoUrl,
      // The fake names itself as api_domain; the relay takes only Zoho's own API host, or this override.
      ZOHO_API_URL: zohoUrl,
      MAPPING_FILE: mappingFile,
      JOB_BACKOFF_BASE_MS: '100',
      JOB_BACKOFF_MAX_MS: '2000',
      JOB_LEASE_SECONDS: '3',
      HTTP_TIMEOUT_MS: '3000',
      SHUTDOWN_TIMEOUT_SECONDS: '5',
      LOG_LEVEL: 'warn',
      ...overrides,
    }),
    oauthEnv: (overrides = {}) => ({
      PORT: '0',
      DATABASE_URL: `sqlite:${join(opts.dir, 'relay.db')}`,
      WEBHOOK_SECRET,
      KOMMO_BASE_URL: kommoUrl,
      ZOHO_DC: 'eu',
      ZOHO_CLIENT_ID: zoho.clientId,
      ZOHO_CLIENT_SECRET: zoho.clientSecret,
      ZOHO_ACCOUNTS_URL: zohoUrl,
      // The fake names itself as api_domain; the relay takes only Zoho's own API host, or this override.
      ZOHO_API_URL: zohoUrl,
      MAPPING_FILE: mappingFile,
      JOB_BACKOFF_BASE_MS: '100',
      JOB_BACKOFF_MAX_MS: '2000',
      JOB_LEASE_SECONDS: '3',
      HTTP_TIMEOUT_MS: '3000',
      SHUTDOWN_TIMEOUT_SECONDS: '5',
      LOG_LEVEL: 'warn',
      // Both sides connect on /connect: no token in the environment.
      KOMMO_CLIENT_ID: 'kommo-client-id',
      KOMMO_CLIENT_SECRET: 'kommo-client-secret',
      KOMMO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/kommo/callback`,
      ZOHO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/zoho/callback`,
      ENCRYPTION_KEY,
      ADMIN_TOKEN,
      ...overrides,
    }),
    connectRelay: (relayUrl) => {
      kommo.subscribe(`${relayUrl}/webhooks/kommo/${WEBHOOK_SECRET}`, ['status_lead']);
      zoho.setWorkflowWebhook({ url: `${relayUrl}/webhooks/zoho/${WEBHOOK_SECRET}`, format: 'json', retries: 3, retryDelayMs: 200 });
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
      await Promise.all([kommo.close(), zoho.close()]);
    },
  };
}
