// Zoho Books at work in one process: the credentials (a Self Client token in ZOHO_REFRESH_TOKEN, or the
// connection made on /connect, stored encrypted), the Books client, the port, and what /connect, /readyz,
// the webhook intake and the CLI ask of the backend.
import { ConfigError } from '../../config/config-error.js';
import type { AccountingDeps, AccountingSide } from '../backend.js';
import { ZohoAccounting } from './accounting.js';
import { ZohoAuth } from './auth.js';
import { zohoCheck, zohoDiscovery } from './cli.js';
import { ZohoBooksClient } from './client.js';
import { ZohoConnectFlow } from './connect-flow.js';
import { ZohoConnection } from './connection.js';
import type { ZohoMappingSection } from './mapping.js';
import { zohoAccountsUrl, zohoDefaultApiDomain, type ZohoSettings } from './settings.js';
import { ZohoStamps } from './stamp.js';
import { zohoReadiness, zohoStatus } from './status.js';
import type { ZohoOrganization } from './types.js';
import { zohoWebhookSource } from './webhook-source.js';
import { withMargin } from '../../net/rate-limiter.js';

/** What the Zoho side is made of: its tests and tools reach them through `side.parts`. */
export interface ZohoParts {
  client: ZohoBooksClient;
  auth: ZohoAuth;
  connection: ZohoConnection;
}

export function createZohoSide(deps: AccountingDeps<ZohoSettings>): AccountingSide<ZohoMappingSection> & { parts: ZohoParts } {
  const { settings, env, connections } = deps;
  const log = deps.log.child({ component: 'zoho-auth' });
  const connection = new ZohoConnection(connections, settings, log);
  const auth = new ZohoAuth({
    accountsUrl: zohoAccountsUrl(settings),
    clientId: settings.ZOHO_CLIENT_ID,
    clientSecret: settings.ZOHO_CLIENT_SECRET,
    grant: connection.grant,
    onToken: connection.onToken,
    onRefused: connection.onRefused,
    apiDomainRule: { dataCentre: settings.ZOHO_DC, override: settings.ZOHO_API_URL },
    timeoutMs: env.HTTP_TIMEOUT_MS,
    log,
  });
  const client = new ZohoBooksClient({
    auth,
    apiUrlOverride: settings.ZOHO_API_URL,
    defaultApiDomain: zohoDefaultApiDomain(settings.ZOHO_DC),
    organizationId: connection.organizationId,
    rateLimit: { requests: settings.ZOHO_RATE_LIMIT_REQUESTS, windowMs: settings.ZOHO_RATE_LIMIT_WINDOW_SECONDS * 1000 },
    limiter: deps.limiter({
      name: 'zoho',
      limit: settings.ZOHO_RATE_LIMIT_REQUESTS,
      windowMs: withMargin(settings.ZOHO_RATE_LIMIT_WINDOW_SECONDS * 1000),
      day: { name: 'zoho-day', limit: settings.ZOHO_DAILY_LIMIT, timeZone: settings.ZOHO_DAILY_LIMIT_TIME_ZONE, setting: 'ZOHO_DAILY_LIMIT', label: 'Zoho Books', service: 'zoho' },
    }),
    timeoutMs: env.HTTP_TIMEOUT_MS,
    log: deps.log.child({ component: 'zoho-client' }),
    ...(deps.observer ? { observer: deps.observer } : {}),
  });

  /** Which Books organization to work in: ZOHO_ORGANIZATION_ID, the stored connection's, or a Self Client's only one. */
  const start = async () => {
    if (connection.mode === 'self_client' && !settings.ZOHO_ORGANIZATION_ID) connection.useSelfClientOrganization(await onlyOrganization(await client.listOrganizations()));
    await connection.load();
  };
  const cli = { client, connection, settings, start };

  return {
    parts: { client, auth, connection },
    start,
    organizationId: () => {
      try {
        return connection.organizationId();
      } catch {
        return undefined; // not chosen or not connected yet
      }
    },
    awaitingConnection: async () => connection.mode === 'oauth' && (await connections.describe('zoho'))?.status !== 'connected',
    port: ({ section, retainerNameTemplate }) => new ZohoAccounting(client, new ZohoStamps(section, retainerNameTemplate), deps.log.child({ component: 'zoho-accounting' })),
    status: (unavailable) => zohoStatus({ settings, connections, auth, connection }, unavailable),
    readiness: zohoReadiness,
    connectFlow: ({ states, log: flowLog, onConnected }) => new ZohoConnectFlow({ env: { ...settings, HTTP_TIMEOUT_MS: env.HTTP_TIMEOUT_MS }, states, connections, auth, books: client, connection, log: flowLog, onConnected }),
    webhookSource: ({ owners, section, retainerNameTemplate }) =>
      zohoWebhookSource({ ...(settings.ZOHO_WEBHOOK_SIGNING_SECRET ? { signingSecret: settings.ZOHO_WEBHOOK_SIGNING_SECRET } : {}), owners, stamps: new ZohoStamps(section, retainerNameTemplate) }),
    waitingCodes: ['zoho_not_connected', 'zoho_organization_not_chosen', 'zoho_unauthorized'],
    discover: () => zohoDiscovery(cli),
    checkConnection: () => zohoCheck(cli),
  };
}

async function onlyOrganization(orgs: ZohoOrganization[]): Promise<string> {
  if (orgs.length === 1) return orgs[0]!.organization_id;
  throw new ConfigError([
    orgs.length === 0
      ? 'ZOHO_ORGANIZATION_ID: the Zoho account has no Books organization.'
      : `ZOHO_ORGANIZATION_ID: is required because the Zoho account has several organizations: ${orgs.map((o) => `${o.organization_id} (${o.name})`).join(', ')}`,
  ]);
}
