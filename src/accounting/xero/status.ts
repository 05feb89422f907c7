// What /connect and /readyz show of Xero: connected or not (and how), the organisation worked in or those to
// choose from, token expiry, the last error, and the day quota when it is running low. Facts only, never a token.
import { errorOf, iso, type SideStatus } from '../../connect/status.js';
import type { RotatingTokens } from '../../oauth/rotating-tokens.js';
import type { Connections } from '../../store/connections.js';
import type { XeroConnection } from './connection.js';
import type { XeroSettings } from './settings.js';

export interface XeroStatusDeps {
  settings: Pick<XeroSettings, 'XERO_REFRESH_TOKEN' | 'XERO_TENANT_ID'>;
  connections: Connections;
  tokens: RotatingTokens<'xero'>;
  connection: XeroConnection;
}

export async function xeroStatus(deps: XeroStatusDeps, unavailableNow: () => string | undefined): Promise<SideStatus> {
  const unavailable = unavailableNow();
  const c = await deps.connections.describe('xero');
  await deps.connection.load();
  const organization = deps.connection.organization();
  const tokenError = errorOf(deps.tokens.lastError?.message, deps.tokens.lastError?.at);
  const lastError = errorOf(c?.lastError, c?.lastErrorAt) ?? tokenError;
  const expiresAt = deps.tokens.expiresAt ?? c?.accessExpiresAt;
  return {
    connected: c?.status === 'connected' && c.hasRefreshToken,
    method: deps.settings.XERO_REFRESH_TOKEN ? 'OAuth (seeded from XERO_REFRESH_TOKEN, rotated in the store)' : 'OAuth',
    ...(organization ? { organization } : {}),
    ...(!organization && c && c.organizations.length > 1 ? { chooseFrom: c.organizations } : {}),
    ...(unavailable ? { connectUnavailable: unavailable } : {}),
    ...(expiresAt ? { accessTokenExpiresAt: iso(expiresAt) } : {}),
    ...(c?.refreshExpiresAt ? { refreshTokenExpiresAt: iso(c.refreshExpiresAt) } : {}),
    ...(lastError ? { lastError } : {}),
  };
}

/** Ready when connected and working in an organisation. */
export function xeroReadiness(status: SideStatus): 'connected' | 'not_connected' | 'no_organization' {
  return !status.connected ? 'not_connected' : status.organization ? 'connected' : 'no_organization';
}
