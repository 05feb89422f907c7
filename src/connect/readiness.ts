// What /readyz says about the two connections: a side is ready when it has credentials and, where the
// backend works in one of several organizations, one chosen. Until both are, webhooks are stored but no
// job can finish.
import type { AccountingSide } from '../accounting/backend.js';
import type { ClusterStatus } from '../store/cluster-status.js';
import type { ConnectionsStatus } from './status.js';

export type SideReadiness = 'connected' | 'not_connected' | 'no_organization';

/** Keyed by side: `kommo` and the backend's ID. */
export function sidesReadiness(status: Pick<ConnectionsStatus, 'kommo' | 'accounting'>, accounting: Pick<AccountingSide, 'readiness'>): Record<string, SideReadiness> {
  return {
    kommo: status.kommo.connected ? 'connected' : 'not_connected',
    [status.accounting.names.id]: accounting.readiness(status.accounting.status),
  };
}

/** What /readyz adds about the relays sharing the database: never a reason to be unready, so a failure to
 *  read it leaves it out rather than failing the probe. */
export async function clusterReadiness(read: () => Promise<ClusterStatus>): Promise<{ cluster?: ClusterStatus }> {
  try {
    return { cluster: await read() };
  } catch {
    return {};
  }
}
