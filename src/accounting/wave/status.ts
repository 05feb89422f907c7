// What /connect and /readyz show of Wave: connected or not (and how: a Full Access Token or OAuth), the
// business worked in or those to choose from, token expiry, the last error. Facts only, never a token.
import { errorOf, iso, type SideStatus } from '../../connect/status.js';
import type { RotatingTokens } from '../../oauth/rotating-tokens.js';
import type { Connections } from '../../store/connections.js';
import type { WaveConnection } from './connection.js';
import type { WaveSettings } from './settings.js';

export interface WaveStatusDeps {
  settings: Pick<WaveSettings, 'WAVE_REFRESH_TOKEN' | 'WAVE_ACCESS_TOKEN'>;
  connections: Connections;
  tokens: RotatingTokens<'wave'> | undefined;
  connection: WaveConnection;
  /** What start-up found wrong with a Full Access Token's businesses, if anything. */
  problem: () => string | undefined;
}

export async function waveStatus(deps: WaveStatusDeps, unavailableNow: () => string | undefined): Promise<SideStatus> {
  const organization = deps.connection.organization();
  if (deps.connection.fullAccess) {
    const problem = deps.problem();
    return {
      connected: true,
      method: 'Full Access Token (WAVE_ACCESS_TOKEN)',
      ...(organization ? { organization } : {}),
      connectUnavailable: 'Wave is reached with WAVE_ACCESS_TOKEN: there is nothing to connect here.',
      ...(problem ? { lastError: { message: problem } } : {}),
    };
  }
  const unavailable = unavailableNow();
  const c = await deps.connections.describe('wave');
  await deps.connection.load();
  const current = deps.connection.organization();
  const tokenError = errorOf(deps.tokens?.lastError?.message, deps.tokens?.lastError?.at);
  const lastError = errorOf(c?.lastError, c?.lastErrorAt) ?? tokenError;
  const expiresAt = deps.tokens?.expiresAt ?? c?.accessExpiresAt;
  return {
    connected: c?.status === 'connected' && c.hasRefreshToken,
    method: deps.settings.WAVE_REFRESH_TOKEN ? 'OAuth (seeded from WAVE_REFRESH_TOKEN, rotated in the store)' : 'OAuth',
    ...(current ? { organization: current } : {}),
    ...(!current && c && c.organizations.length > 1 ? { chooseFrom: c.organizations } : {}),
    ...(unavailable ? { connectUnavailable: unavailable } : {}),
    ...(expiresAt ? { accessTokenExpiresAt: iso(expiresAt) } : {}),
    ...(lastError ? { lastError } : {}),
  };
}

/** Ready when connected and working in a business. */
export function waveReadiness(status: SideStatus): 'connected' | 'not_connected' | 'no_organization' {
  return !status.connected ? 'not_connected' : status.organization ? 'connected' : 'no_organization';
}
