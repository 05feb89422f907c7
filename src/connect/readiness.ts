// What /readyz says about the two connections: a side is ready when it has credentials and, for Zoho, an
// organization to work in. Until both are, webhooks are stored but no job can finish.
import type { ConnectionsStatus } from './status.js';

export type SideReadiness = 'connected' | 'not_connected' | 'no_organization';

export function sidesReadiness(status: Pick<ConnectionsStatus, 'kommo' | 'zoho'>): Record<'kommo' | 'zoho', SideReadiness> {
  return {
    kommo: status.kommo.connected ? 'connected' : 'not_connected',
    zoho: !status.zoho.connected ? 'not_connected' : status.zoho.organization ? 'connected' : 'no_organization',
  };
}
