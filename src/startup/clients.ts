// The API clients and where their credentials come from, built the same way for the relay and the CLI:
// Kommo's here, the accounting side's by the configured backend (src/accounting/registry.ts). Long-lived
// tokens come from the environment, OAuth connections from the store (encrypted), so a token one process
// refreshes is the one the other uses next.
import type { AccountingBackend, AccountingSide } from '../accounting/backend.js';
import type { Env } from '../config/env.js';
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

export interface Clients {
  kv: KeyValue;
  connections: Connections;
  kommoAuth: KommoCredentials;
  kommo: KommoClient;
  backend: AccountingBackend;
  accounting: AccountingSide;
}

export async function createClients(env: Env, store: Store, log: Logger, observer?: CallObserver): Promise<Clients> {
  const kv = new KeyValue(store.db);
  // parseEnv has checked the key's format.
  const cipher = env.ENCRYPTION_KEY ? new TokenCipher(parseEncryptionKey(env.ENCRYPTION_KEY)!) : undefined;
  const connections = new Connections(store.db, cipher);
  const backend = env.accounting.backend;
  await checkEncryptionKey(kv, connections, cipher, log, ['kommo', backend.names.id]);

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
  const accounting = await backend.create({ settings: env.accounting.settings, env, connections, log, limiter, kv, ...(observer ? { observer } : {}) });
  return { kv, connections, kommoAuth, kommo, backend, accounting };
}

/** Every secret the environment holds is scrubbed from every log line of this process. */
export function registerEnvSecrets(env: Env): void {
  for (const s of [env.WEBHOOK_SECRET, env.KOMMO_ACCESS_TOKEN, env.KOMMO_CLIENT_SECRET, env.KOMMO_REFRESH_TOKEN, env.ENCRYPTION_KEY, env.ADMIN_TOKEN, ...env.accounting.backend.settings.secrets(env.accounting.settings)]) registerSecret(s);
}
