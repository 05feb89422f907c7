// Where the Kommo access token comes from: the long-lived KOMMO_ACCESS_TOKEN when set (the simplest
// option), otherwise the OAuth pair stored by the connection page (or seeded from KOMMO_REFRESH_TOKEN).
import type { Env } from '../config/env.js';
import type { Logger } from '../log.js';
import type { Connections } from '../store/connections.js';
import { KommoOAuth } from './oauth.js';
import { KommoTokens } from './tokens.js';

export interface KommoCredentials {
  accessToken: () => Promise<string>;
  onUnauthorized?: (rejected: string | undefined) => Promise<boolean>;
  /** True when there are credentials to try (a long-lived token, or a stored pair not known to be lost). */
  connected: () => Promise<boolean>;
  oauth?: KommoOAuth;
  tokens?: KommoTokens;
}

type KommoEnv = Pick<Env, 'KOMMO_ACCESS_TOKEN' | 'KOMMO_BASE_URL' | 'KOMMO_CLIENT_ID' | 'KOMMO_CLIENT_SECRET' | 'KOMMO_REDIRECT_URI' | 'HTTP_TIMEOUT_MS'>;

export function kommoCredentials(env: KommoEnv, connections: Connections, log: Logger): KommoCredentials {
  const longLived = env.KOMMO_ACCESS_TOKEN;
  if (longLived) return { accessToken: async () => longLived, connected: async () => true };
  // parseEnv guarantees the client settings in this mode.
  const oauth = new KommoOAuth({
    baseUrl: env.KOMMO_BASE_URL,
    clientId: env.KOMMO_CLIENT_ID!,
    clientSecret: env.KOMMO_CLIENT_SECRET!,
    redirectUri: env.KOMMO_REDIRECT_URI!,
    timeoutMs: env.HTTP_TIMEOUT_MS,
  });
  // The lease outlives one token request, so a slow refresh is never taken over while it is still running.
  const tokens = new KommoTokens({ connections, oauth, log, leaseMs: env.HTTP_TIMEOUT_MS + 10_000 });
  return {
    oauth,
    tokens,
    accessToken: () => tokens.accessToken(),
    onUnauthorized: (rejected) => tokens.onUnauthorized(rejected),
    connected: async () => {
      const c = await connections.describe('kommo');
      return c?.status === 'connected' && c.hasRefreshToken;
    },
  };
}
