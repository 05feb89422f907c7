// Wave at work in one process: the credentials (a Full Access Token, or the stored OAuth connection made on
// /connect or seeded once from WAVE_REFRESH_TOKEN, its refresh tokens rotating in the store), the business
// worked in, the API client with Wave's limits, the product catalogue, the port, and what /connect, /readyz,
// the intake and the CLI ask of the backend. A relay whose Wave is not connected starts all the same: jobs
// wait on `wave_not_connected`.
import type { AccountingDeps, AccountingSide } from '../backend.js';
import { withMargin } from '../../net/rate-limiter.js';
import type { RotatingTokens } from '../../oauth/rotating-tokens.js';
import { WaveAccounting } from './accounting.js';
import { waveCheck, waveDiscovery } from './cli.js';
import { WaveClient, type WaveTokenSource } from './client.js';
import { WaveConnectFlow } from './connect-flow.js';
import { WaveConnection } from './connection.js';
import type { WaveMappingSection } from './mapping.js';
import { fullAccessToken, WaveOAuth, waveTokens } from './oauth.js';
import { WaveProducts, type ProductStore } from './products.js';
import { waveUrls, type WaveSettings } from './settings.js';
import { WaveStamps } from './stamp.js';
import { waveReadiness, waveStatus } from './status.js';
import { waveWebhookSource } from './webhook-source.js';

export interface WaveParts {
  client: WaveClient;
  oauth: WaveOAuth;
  /** undefined with a Full Access Token. */
  tokens: RotatingTokens<'wave'> | undefined;
  connection: WaveConnection;
  products: WaveProducts;
}

export function createWaveSide(deps: AccountingDeps<WaveSettings>): AccountingSide<WaveMappingSection> & { parts: WaveParts } {
  const { settings, env, connections } = deps;
  const log = deps.log.child({ component: 'wave-auth' });
  const urls = waveUrls(settings);
  const connection = new WaveConnection(connections, settings, log);
  const oauth = new WaveOAuth({
    clientId: settings.WAVE_CLIENT_ID ?? '',
    clientSecret: settings.WAVE_CLIENT_SECRET ?? '',
    redirectUri: settings.WAVE_REDIRECT_URI ?? '',
    timeoutMs: env.HTTP_TIMEOUT_MS,
    scopes: settings.WAVE_SCOPES,
    authorizeUrl: urls.authorize,
    tokenUrl: urls.token,
  });
  const tokens = settings.WAVE_ACCESS_TOKEN ? undefined : waveTokens({ store: connection.store, oauth, log, leaseMs: env.HTTP_TIMEOUT_MS + 10_000 });
  const source: WaveTokenSource = settings.WAVE_ACCESS_TOKEN ? fullAccessToken(settings.WAVE_ACCESS_TOKEN) : tokens!;
  const perMinute = settings.WAVE_RATE_LIMIT_PER_MINUTE;
  const concurrent = settings.WAVE_CONCURRENT_CALLS;
  // One budget for every client of this process (and, on PostgreSQL, of every relay on the database).
  const limiter = deps.limiter({ name: 'wave', limit: perMinute, windowMs: withMargin(60_000), maxInFlight: concurrent });
  const clientFor = (tokenSource: WaveTokenSource, businessId: () => string | undefined) =>
    new WaveClient({
      tokens: tokenSource,
      businessId,
      url: urls.api,
      limits: { perMinute, concurrent },
      limiter,
      timeoutMs: env.HTTP_TIMEOUT_MS,
      log: deps.log.child({ component: 'wave-client' }),
      ...(deps.observer ? { observer: deps.observer } : {}),
    });
  const client = clientFor(source, connection.businessId);
  connection.lister = () => client.businesses();
  const memory = new Map<string, unknown>();
  const store: ProductStore = deps.kv ?? { get: async <T>(key: string) => memory.get(key) as T | undefined, set: async (key, value) => void memory.set(key, value) };
  const products = new WaveProducts(client, store);
  let problem: string | undefined;

  /**
   * Before jobs run: WAVE_REFRESH_TOKEN into the store (once per value), the stored connection read, and the
   * businesses listed when they are not known yet (a Full Access Token at every start, a connection just
   * seeded). Wave unreachable or not connected is no reason not to start: jobs wait.
   */
  const start = async () => {
    const seeded = await connection.seedFromEnvironment();
    if (seeded) tokens?.reset();
    await connection.load();
    if (!seeded && !connection.needsOrganizations) return;
    try {
      problem = await connection.settleBusinesses(await client.businesses());
      if (problem) log.warn({ problem }, 'the Wave business is not settled; jobs wait');
    } catch (err) {
      log.warn({ reason: (err as Error).message }, 'could not list the businesses of the Wave credentials; jobs wait until they are known');
    }
  };
  const cli = { client, connections, connection, settings, start };

  return {
    parts: { client, oauth, tokens, connection, products },
    start,
    organizationId: connection.businessId,
    awaitingConnection: async () => {
      if (connection.fullAccess) return false;
      const c = await connections.describe('wave');
      return !(c?.status === 'connected' && c.hasRefreshToken);
    },
    port: ({ section, sendInvoice, numberTemplate }) => new WaveAccounting(client, new WaveStamps(section, numberTemplate), section, products, connection, sendInvoice, store),
    status: (unavailable) => waveStatus({ settings, connections, tokens, connection, problem: () => problem }, unavailable),
    readiness: waveReadiness,
    connectFlow: ({ states, log: flowLog, onConnected }) =>
      new WaveConnectFlow({
        settings,
        states,
        connections,
        oauth,
        // The token just received, for this one question: the businesses it reaches.
        businesses: (accessToken) => clientFor(fullAccessToken(accessToken), () => undefined).businesses(),
        log: flowLog,
        onConnected: async () => {
          tokens?.reset();
          products.reset();
          await connection.load();
          await onConnected();
        },
      }),
    webhookSource: () => waveWebhookSource(),
    // Wave keeps no list of currencies: another one is the mapping's, with its rate.
    addCurrencyHint: 'Give it a rate to the business\'s currency in the mapping file\'s wave.exchangeRates (e.g. "CHF": 1.05)',
    waitingCodes: ['wave_not_connected', 'wave_no_business', 'wave_unauthorized', 'wave_oauth_invalid_client'],
    discover: (mapping) => waveDiscovery(cli, mapping?.section),
    checkConnection: () => waveCheck(cli),
  };
}
