// What /readyz says about the two connections: a side is ready when it has credentials and, where the
// backend works in one of several organizations, one chosen. Until both are, webhooks are stored but no
// job can finish.
import type { AccountingSide } from '../accounting/backend.js';
import type { ConnectionsStatus } from './status.js';

export type SideReadiness = 'connected' | 'not_connected' | 'no_organization';

/** Keyed by side: `kommo` and the backend's ID. */
export function sidesReadiness(status: Pick<ConnectionsStatus, 'kommo' | 'accounting'>, accounting: Pick<AccountingSide, 'readiness'>): Record<string, SideReadiness> {
  return {
    kommo: status.kommo.connected ? 'connected' : 'not_connected',
    [status.accounting.names.id]: accounting.readiness(status.accounting.status),
  };
}
