// Xero at work in one process: the stored connection (made on /connect, or seeded once from
// XERO_REFRESH_TOKEN) and its rotating tokens, the organisation (tenant) worked in, the API client with
// Xero's limits, the port, and what /connect, /readyz, /admin, /metrics, the webhook intake and the CLI ask
// of the backend. A relay whose Xero is not connected starts all the same: jobs wait on `xero_not_connected`.
import type { AccountingDeps, AccountingQuota, AccountingSide } from '../backend.js';
import { withMargin } from '../../net/rate-limiter.js';
import { XeroAccounting } from './accounting.js';
import { xeroCheck, xeroDiscovery } from './cli.js';
import { XeroClient } from './client.js';
import { XeroConnectFlow } from './connect-flow.js';
import { XeroConnection } from './connection.js';
import type { XeroMappingSection } from './mapping.js';
import { XeroOAuth, xeroTokens } from './oauth.js';
import type { RotatingTokens } from '../../oauth/rotating-tokens.js';
import { xeroUrls, type XeroSettings } from './settings.js';
import { XeroStamps } from './stamp.js';
import { xeroReadiness, xeroStatus } from './status.js';
import { xeroWebhookSource } from './webhook-source.js';

/** What the Xero side is made of: its tests and tools reach them through `side.parts`. */
export interface XeroParts {
  client: XeroClient;
  oauth: XeroOAuth;
  tokens: RotatingTokens<'xero'>;
  connection: XeroConnection;
}

export function createXeroSide(deps: AccountingDeps<XeroSettings>): AccountingSide<XeroMappingSection> & { parts: XeroParts } {
  const { settings, env, connections } = deps;
  const log = deps.log.child({ component: 'xero-auth' });
  const urls = xeroUrls(settings);
  const connection = new XeroConnection(connections, settings, log);
  const oauth = new XeroOAuth({
    clientId: settings.XERO_CLIENT_ID,
    clientSecret: settings.XERO_CLIENT_SECRET,
    redirectUri: settings.XERO_REDIRECT_URI ?? '',
    timeoutMs: env.HTTP_TIMEOUT_MS,
    scopes: settings.XERO_SCOPES,
    authorizeUrl: urls.authorize,
    tokenUrl: urls.token,
    connectionsUrl: urls.connections,
  });
  const tokens = xeroTokens({ store: connection.store, oauth, log, leaseMs: env.HTTP_TIMEOUT_MS + 10_000 });
  const perMinute = settings.XERO_RATE_LIMIT_PER_MINUTE;
  const client = new XeroClient({
    tokens,
    tenantId: connection.tenantId,
    ...(urls.api ? { baseUrl: urls.api } : {}),
    limits: { perMinute, concurrent: settings.XERO_CONCURRENT_CALLS },
    limiter: deps.limiter({ name: 'xero', limit: perMinute, windowMs: withMargin(60_000), maxInFlight: settings.XERO_CONCURRENT_CALLS }),
    timeoutMs: env.HTTP_TIMEOUT_MS,
    log: deps.log.child({ component: 'xero-client' }),
    ...(deps.observer ? { observer: deps.observer } : {}),
  });

  /**
   * Before jobs run: XERO_REFRESH_TOKEN into the store (once per value), the stored connection read, and, for
   * a connection just seeded or whose organisations are not known yet, GET /connections to learn them. Xero
   * unreachable or not connected is no reason not to start: jobs wait.
   */
  const start = async () => {
    const seeded = await connection.seedFromEnvironment();
    if (seeded) tokens.reset();
    await connection.load();
    // A new seed may be another login's: its organisations are listed again.
    if (!seeded && !connection.needsOrganizations) return;
    try {
      await connection.settleTenants(await oauth.tenants(await tokens.accessToken()));
    } catch (err) {
      log.warn({ reason: (err as Error).message }, 'could not list the organisations of the Xero connection; jobs wait until they are known');
    }
  };
  const cli = { client, connections, settings, start };

  return {
    parts: { client, oauth, tokens, connection },
    start,
    organizationId: connection.tenantId,
    awaitingConnection: async () => {
      const c = await connections.describe('xero');
      return !(c?.status === 'connected' && c.hasRefreshToken);
    },
    port: ({ section, retainerNameTemplate }) => new XeroAccounting(client, new XeroStamps(section, retainerNameTemplate), section, connection),
    status: (unavailable) => xeroStatus({ settings, connections, tokens, connection }, unavailable),
    readiness: xeroReadiness,
    connectFlow: ({ states, log: flowLog, onConnected }) =>
      new XeroConnectFlow({
        settings,
        timeoutMs: env.HTTP_TIMEOUT_MS,
        states,
        connections,
        oauth,
        log: flowLog,
        // A new connection (or organisation): forget the old token, read the row again, then let the relay go on.
        onConnected: async () => {
          tokens.reset();
          await connection.load();
          await onConnected();
        },
      }),
    webhookSource: ({ owners }) => xeroWebhookSource({ ...(settings.XERO_WEBHOOK_KEY ? { webhookKey: settings.XERO_WEBHOOK_KEY } : {}), owners, tenantId: connection.tenantId }),
    waitingCodes: ['xero_not_connected', 'xero_no_tenant', 'xero_unauthorized', 'xero_oauth_invalid_client'],
    discover: () => xeroDiscovery(cli),
    checkConnection: () => xeroCheck(cli),
    quotas: (): AccountingQuota[] => {
      const q = client.quotaSnapshot();
      return [{ name: 'day', label: 'Xero API calls left today', remaining: q.dayRemaining, limit: settings.XERO_DAY_LIMIT, ...(q.pausedUntil ? { pausedUntil: q.pausedUntil } : {}) }];
    },
  };
}
