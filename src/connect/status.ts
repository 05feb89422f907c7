// What the connection page shows for each side: connected or not, how, data centre, organization or
// account, when the token expires, the last error. Built from settings, the store and the token holders;
// it never carries a token or a secret, only facts about them.
import { kommoAuthMode, zohoAuthMode, type Env } from '../config/env.js';
import type { KommoTokens } from '../kommo/tokens.js';
import type { Connections, Organization } from '../store/connections.js';
import type { MappingState } from '../startup/mapping-state.js';
import type { ZohoAuth } from '../accounting/zoho/auth.js';
import type { ZohoConnection } from '../accounting/zoho/connection.js';

export interface SideStatus {
  connected: boolean;
  /** How the credentials are provided. */
  method: string;
  /** Why the page cannot (re)connect this side, when it cannot. */
  connectUnavailable?: string;
  dataCentre?: string;
  apiDomain?: string;
  organization?: Organization;
  /** Organizations to choose from, when none is chosen yet. */
  chooseFrom?: Organization[];
  account?: string;
  accessTokenExpiresAt?: string;
  refreshTokenExpiresAt?: string;
  lastError?: { message: string; at?: string };
}

export interface ConnectionsStatus {
  kommo: SideStatus;
  zoho: SideStatus;
  mapping: { state: 'resolved' | 'cached' | 'waiting_for_kommo'; stages: string[] };
}

export interface StatusDeps {
  env: Pick<Env, 'KOMMO_ACCESS_TOKEN' | 'KOMMO_BASE_URL' | 'ZOHO_REFRESH_TOKEN' | 'ZOHO_DC' | 'ZOHO_ORGANIZATION_ID'>;
  connections: Connections;
  zohoAuth: ZohoAuth;
  zohoConnection: ZohoConnection;
  kommoTokens: KommoTokens | undefined;
  mapping: MappingState;
  unavailable: { kommo: () => string | undefined; zoho: () => string | undefined };
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);
const errorOf = (message: string | undefined, at: number | undefined) => (message ? { message, ...(at ? { at: iso(at) } : {}) } : undefined);

export async function connectionsStatus(deps: StatusDeps): Promise<ConnectionsStatus> {
  const current = deps.mapping.current;
  return {
    kommo: await kommoStatus(deps),
    zoho: await zohoStatus(deps),
    mapping: {
      state: !current ? 'waiting_for_kommo' : current.from === 'cache' ? 'cached' : 'resolved',
      stages: current?.mapping.invoiceStages.map((s) => s.label) ?? [],
    },
  };
}

async function kommoStatus(deps: StatusDeps): Promise<SideStatus> {
  const account = deps.mapping.current?.account;
  const accountLabel = account ? `${account.name ?? account.subdomain} (${account.subdomain}, ${account.id})` : new URL(deps.env.KOMMO_BASE_URL).host;
  const unavailable = deps.unavailable.kommo();
  if (kommoAuthMode(deps.env) === 'long_lived') {
    const expires = jwtExpiry(deps.env.KOMMO_ACCESS_TOKEN!);
    return { connected: true, method: 'Long-lived token (KOMMO_ACCESS_TOKEN)', account: accountLabel, ...(unavailable ? { connectUnavailable: unavailable } : {}), ...(expires ? { accessTokenExpiresAt: iso(expires) } : {}) };
  }
  const c = await deps.connections.describe('kommo');
  const lastError = errorOf(c?.lastError, c?.lastErrorAt) ?? errorOf(deps.kommoTokens?.lastError?.message, deps.kommoTokens?.lastError?.at);
  return {
    connected: c?.status === 'connected' && c.hasRefreshToken,
    method: 'OAuth',
    account: c?.accountName ?? accountLabel,
    ...(unavailable ? { connectUnavailable: unavailable } : {}),
    ...(c?.accessExpiresAt ? { accessTokenExpiresAt: iso(c.accessExpiresAt) } : {}),
    ...(c?.refreshExpiresAt ? { refreshTokenExpiresAt: iso(c.refreshExpiresAt) } : {}),
    ...(lastError ? { lastError } : {}),
  };
}

async function zohoStatus(deps: StatusDeps): Promise<SideStatus> {
  const unavailable = deps.unavailable.zoho();
  const authError = errorOf(deps.zohoAuth.lastError?.message, deps.zohoAuth.lastError?.at);
  if (zohoAuthMode(deps.env) === 'self_client') {
    let organization: Organization | undefined;
    try {
      const id = deps.zohoConnection.organizationId();
      organization = id ? { id, name: id } : undefined;
    } catch {
      organization = undefined;
    }
    return {
      connected: true,
      method: 'Self Client refresh token (ZOHO_REFRESH_TOKEN)',
      dataCentre: deps.env.ZOHO_DC,
      ...(deps.zohoAuth.apiDomain ? { apiDomain: deps.zohoAuth.apiDomain } : {}),
      ...(organization ? { organization } : {}),
      ...(unavailable ? { connectUnavailable: unavailable } : {}),
      ...(deps.zohoAuth.expiresAt ? { accessTokenExpiresAt: iso(deps.zohoAuth.expiresAt) } : {}),
      ...(authError ? { lastError: authError } : {}),
    };
  }
  const c = await deps.connections.describe('zoho');
  const configured = deps.env.ZOHO_ORGANIZATION_ID;
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

/** The `exp` claim of a JWT (Kommo's long-lived tokens are JWTs), read without trusting it: display only. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
