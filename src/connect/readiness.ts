// What /readyz says about the two connections: a side is ready when it has credentials and, for Zoho, an
// organization to work in. Until both are, webhooks are stored but no job can finish.
import type { ClusterStatus } from '../store/cluster-status.js';
import type { ConnectionsStatus } from './status.js';

export type SideReadiness = 'connected' | 'not_connected' | 'no_organization';

export function sidesReadiness(status: Pick<ConnectionsStatus, 'kommo' | 'zoho'>): Record<'kommo' | 'zoho', SideReadiness> {
  return {
    kommo: status.kommo.connected ? 'connected' : 'not_connected',
    zoho: !status.zoho.connected ? 'not_connected' : status.zoho.organization ? 'connected' : 'no_organization',
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
