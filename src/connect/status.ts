// What the connection page shows for each side: connected or not, how, data centre, organization or
// account, when the token expires, the last error. Built from settings, the store and the token holders
// (the accounting side's by its backend); it never carries a token or a secret, only facts about them.
import type { AccountingSide } from '../accounting/backend.js';
import { kommoAuthMode, type Env } from '../config/env.js';
import type { KommoTokens } from '../kommo/tokens.js';
import type { Connections, Organization } from '../store/connections.js';
import type { MappingState } from '../startup/mapping-state.js';
import type { AccountingNames } from '../sync/ports.js';

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
  accounting: { names: AccountingNames; status: SideStatus };
  mapping: { state: 'resolved' | 'cached' | 'waiting_for_kommo'; stages: string[] };
}

export interface StatusDeps {
  env: Pick<Env, 'KOMMO_ACCESS_TOKEN' | 'KOMMO_BASE_URL'>;
  connections: Connections;
  accounting: { side: AccountingSide; names: AccountingNames };
  kommoTokens: KommoTokens | undefined;
  mapping: MappingState;
  unavailable: { kommo: () => string | undefined; accounting: () => string | undefined };
}

export const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);
export const errorOf = (message: string | undefined, at: number | undefined) => (message ? { message, ...(at ? { at: iso(at) } : {}) } : undefined);

/** As /connect/status answers it: each side under its ID ("kommo", and the backend's). */
export function statusJson(status: ConnectionsStatus): Record<string, unknown> {
  return { kommo: status.kommo, [status.accounting.names.id]: status.accounting.status, mapping: status.mapping };
}

export async function connectionsStatus(deps: StatusDeps): Promise<ConnectionsStatus> {
  const current = deps.mapping.current;
  return {
    kommo: await kommoStatus(deps),
    accounting: { names: deps.accounting.names, status: await deps.accounting.side.status(deps.unavailable.accounting) },
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
