// The two API clients and where their credentials come from, built the same way for the relay and the
// CLI: long-lived tokens from the environment, or the OAuth connections stored (encrypted) by /connect.
// Both processes share the store, so a token one of them refreshes is the one the other uses next.
import { ConfigError, zohoAccountsUrl, zohoDefaultApiDomain, type Env } from '../config/env.js';
import { KommoClient } from '../kommo/client.js';
import { kommoCredentials, type KommoCredentials } from '../kommo/credentials.js';
import { registerSecret, type Logger } from '../log.js';
import type { CallObserver } from '../net/http.js';
import { limiterFactory } from '../net/limits.js';
import { withMargin } from '../net/rate-limiter.js';
import { parseEncryptionKey, TokenCipher } from '../security/crypto.js';
import { checkEncryptionKey } from '../security/key-check.js';
import { Connections } from '../store/connections.js';
import type { Store } from '../store/db.js';
import { KeyValue } from '../store/kv.js';
import { ZohoAuth } from '../zoho/auth.js';
import { ZohoBooksClient } from '../zoho/client.js';
import { ZohoConnection } from '../zoho/connection.js';
import type { ZohoOrganization } from '../zoho/types.js';

export interface Clients {
  kv: KeyValue;
  connections: Connections;
  kommoAuth: KommoCredentials;
  kommo: KommoClient;
  zohoConnection: ZohoConnection;
  zohoAuth: ZohoAuth;
  zoho: ZohoBooksClient;
}

export async function createClients(env: Env, store: Store, log: Logger, observer?: CallObserver): Promise<Clients> {
  const kv = new KeyValue(store.db);
  // parseEnv has checked the key's format.
  const cipher = env.ENCRYPTION_KEY ? new TokenCipher(parseEncryptionKey(env.ENCRYPTION_KEY)!) : undefined;
  const connections = new Connections(store.db, cipher);
  await checkEncryptionKey(kv, connections, cipher, log);

  // On PostgreSQL each vendor limit is one budget for every relay on the database (README: Several relays).
  const limiter = limiterFactory(store, { httpTimeoutMs: env.HTTP_TIMEOUT_MS, log: log.child({ component: 'rate-budget' }) });
  const kommoAuth = kommoCredentials(env, connections, log.child({ component: 'kommo-auth' }));
  if (kommoAuth.tokens && env.KOMMO_REFRESH_TOKEN) await kommoAuth.tokens.seedFromEnvironment(env.KOMMO_REFRESH_TOKEN);
  const kommo = new KommoClient({
    baseUrl: env.KOMMO_BASE_URL,
    accessToken: kommoAuth.accessToken,
    ...(kommoAuth.onUnauthorized ? { onUnauthorized: kommoAuth.onUnauthorized } : {}),
    ratePerSecond: env.KOMMO_RATE_LIMIT_PER_SECOND,
    limiter: limiter({ name: 'kommo', limit: env.KOMMO_RATE_LIMIT_PER_SECOND, windowMs: withMargin(1000) }),
    timeoutMs: env.HTTP_TIMEOUT_MS,
    log: log.child({ component: 'kommo-client' }),
    ...(observer ? { observer } : {}),
  });
  const zohoConnection = new ZohoConnection(connections, env, log.child({ component: 'zoho-auth' }));
  const zohoAuth = new ZohoAuth({
    accountsUrl: zohoAccountsUrl(env),
    clientId: env.ZOHO_CLIENT_ID,
    clientSecret: env.ZOHO_CLIENT_SECRET,
    grant: zohoConnection.grant,
    onToken: zohoConnection.onToken,
    onRefused: zohoConnection.onRefused,
    apiDomainRule: { dataCentre: env.ZOHO_DC, override: env.ZOHO_API_URL },
    timeoutMs: env.HTTP_TIMEOUT_MS,
    log: log.child({ component: 'zoho-auth' }),
  });
  const zoho = new ZohoBooksClient({
    auth: zohoAuth,
    apiUrlOverride: env.ZOHO_API_URL,
    defaultApiDomain: zohoDefaultApiDomain(env.ZOHO_DC),
    organizationId: zohoConnection.organizationId,
    rateLimit: { requests: env.ZOHO_RATE_LIMIT_REQUESTS, windowMs: env.ZOHO_RATE_LIMIT_WINDOW_SECONDS * 1000 },
    limiter: limiter({ name: 'zoho', limit: env.ZOHO_RATE_LIMIT_REQUESTS, windowMs: withMargin(env.ZOHO_RATE_LIMIT_WINDOW_SECONDS * 1000) }),
    timeoutMs: env.HTTP_TIMEOUT_MS,
    log: log.child({ component: 'zoho-client' }),
    ...(observer ? { observer } : {}),
  });
  return { kv, connections, kommoAuth, kommo, zohoConnection, zohoAuth, zoho };
}

/** Which Books organization to work in: ZOHO_ORGANIZATION_ID, the stored connection's, or a Self Client's only one. */
export async function loadZohoOrganization(env: Env, clients: Pick<Clients, 'zoho' | 'zohoConnection'>): Promise<void> {
  const { zoho, zohoConnection } = clients;
  if (zohoConnection.mode === 'self_client' && !env.ZOHO_ORGANIZATION_ID) zohoConnection.useSelfClientOrganization(await pickOrganization(() => zoho.listOrganizations()));
  await zohoConnection.load();
}

async function pickOrganization(listOrganizations: () => Promise<ZohoOrganization[]>): Promise<string> {
  const orgs = await listOrganizations();
  if (orgs.length === 1) return orgs[0]!.organization_id;
  throw new ConfigError([
    orgs.length === 0
      ? 'ZOHO_ORGANIZATION_ID: the Zoho account has no Books organization.'
      : `ZOHO_ORGANIZATION_ID: is required because the Zoho account has several organizations: ${orgs.map((o) => `${o.organization_id} (${o.name})`).join(', ')}`,
  ]);
}

/** Every secret the environment holds is scrubbed from every log line of this process. */
export function registerEnvSecrets(env: Env): void {
  for (const s of [
    env.WEBHOOK_SECRET,
    env.KOMMO_ACCESS_TOKEN,
    env.KOMMO_CLIENT_SECRET,
    env.KOMMO_REFRESH_TOKEN,
    env.ZOHO_CLIENT_SECRET,
    env.ZOHO_REFRESH_TOKEN,
    env.ZOHO_WEBHOOK_SIGNING_SECRET,
    env.ENCRYPTION_KEY,
    env.ADMIN_TOKEN,
  ])
    registerSecret(s);
}
