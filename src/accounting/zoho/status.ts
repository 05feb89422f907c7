// What /connect and /readyz show of Zoho: connected or not, how (Self Client token or OAuth), data centre,
// API domain, organization, token expiry, the last error. Facts only, never a token.
import { errorOf, iso, type SideStatus } from '../../connect/status.js';
import type { Connections, Organization } from '../../store/connections.js';
import type { ZohoAuth } from './auth.js';
import type { ZohoConnection } from './connection.js';
import { zohoAuthMode, type ZohoSettings } from './settings.js';

export interface ZohoStatusDeps {
  settings: Pick<ZohoSettings, 'ZOHO_REFRESH_TOKEN' | 'ZOHO_DC' | 'ZOHO_ORGANIZATION_ID'>;
  connections: Connections;
  auth: ZohoAuth;
  connection: ZohoConnection;
}

export async function zohoStatus(deps: ZohoStatusDeps, unavailableNow: () => string | undefined): Promise<SideStatus> {
  const unavailable = unavailableNow();
  const authError = errorOf(deps.auth.lastError?.message, deps.auth.lastError?.at);
  if (zohoAuthMode(deps.settings) === 'self_client') {
    let organization: Organization | undefined;
    try {
      const id = deps.connection.organizationId();
      organization = id ? { id, name: id } : undefined;
    } catch {
      organization = undefined;
    }
    return {
      connected: true,
      method: 'Self Client refresh token (ZOHO_REFRESH_TOKEN)',
      dataCentre: deps.settings.ZOHO_DC,
      ...(deps.auth.apiDomain ? { apiDomain: deps.auth.apiDomain } : {}),
      ...(organization ? { organization } : {}),
      ...(unavailable ? { connectUnavailable: unavailable } : {}),
      ...(deps.auth.expiresAt ? { accessTokenExpiresAt: iso(deps.auth.expiresAt) } : {}),
      ...(authError ? { lastError: authError } : {}),
    };
  }
  const c = await deps.connections.describe('zoho');
  const configured = deps.settings.ZOHO_ORGANIZATION_ID;
  const organization = configured ? (c?.organizations.find((o) => o.id === configured) ?? { id: configured, name: configured }) : c?.organizationId ? { id: c.organizationId, name: c.organizationName ?? c.organizationId } : undefined;
  const lastError = errorOf(c?.lastError, c?.lastErrorAt) ?? authError;
  return {
    connected: c?.status === 'connected' && c.hasRefreshToken,
    method: 'OAuth',
    ...(c?.dataCentre ? { dataCentre: c.dataCentre } : {}),
    ...(c?.apiDomain ? { apiDomain: c.apiDomain } : {}),
    ...(organization ? { organization } : {}),
    ...(!organization && c && c.organizations.length > 1 ? { chooseFrom: c.organizations } : {}),
    ...(unavailable ? { connectUnavailable: unavailable } : {}),
    ...(c?.accessExpiresAt ? { accessTokenExpiresAt: iso(c.accessExpiresAt) } : {}),
    ...(lastError ? { lastError } : {}),
  };
}

/** Ready when connected and working in an organization. */
export function zohoReadiness(status: SideStatus): 'connected' | 'not_connected' | 'no_organization' {
  return !status.connected ? 'not_connected' : status.organization ? 'connected' : 'no_organization';
}
