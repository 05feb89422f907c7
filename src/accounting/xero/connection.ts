// Where this relay's Xero connection is and which organisation (tenant) it works in: the connections row of
// side 'xero', made on /connect or seeded once from XERO_REFRESH_TOKEN, its tokens rotating there (oauth.ts
// xeroTokens over `store`); the tenant is XERO_TENANT_ID, else the one chosen for the stored connection, else
// the connection's only one. The shared StoredConnection (src/oauth/stored-connection.ts) keeps the row in
// memory; this file adds Xero's words and how tenants become organisations.
import type { Logger } from '../../log.js';
import { settleOrganization } from '../../oauth/organization-choice.js';
import { StoredConnection } from '../../oauth/stored-connection.js';
import type { Connections } from '../../store/connections.js';
import type { XeroSettings } from './settings.js';
import type { XeroTenant } from './types.js';

type XeroEnv = Pick<XeroSettings, 'XERO_REFRESH_TOKEN' | 'XERO_TENANT_ID'>;

export class XeroConnection extends StoredConnection<'xero'> {
  constructor(
    connections: Connections,
    private readonly env: XeroEnv,
    log: Logger,
    now: () => number = Date.now,
  ) {
    super({ side: 'xero', label: 'Xero', connections, seed: { setting: 'XERO_REFRESH_TOKEN', refreshToken: env.XERO_REFRESH_TOKEN }, configured: env.XERO_TENANT_ID, log, now });
  }

  /** The organisation of every call; undefined while none is known (the client then refuses with a retryable error). */
  readonly tenantId = this.organizationId;

  /**
   * The tenants a token reaches, stored as the connection's organizations, with the one to work in:
   * XERO_TENANT_ID, else the only one. Returns a problem to show, if any.
   */
  async settleTenants(tenants: XeroTenant[]): Promise<string | undefined> {
    const organizations = tenants.map((t) => ({ id: t.tenantId.toLowerCase(), name: t.tenantName ?? t.tenantId }));
    const settled = settleOrganization(organizations, this.env.XERO_TENANT_ID, undefined, {
      notReached: (configured, list) => `XERO_TENANT_ID ${configured} is not one of the organisations this Xero connection reaches (${list}).`,
      none: 'The Xero connection reaches no organisation: connect Xero again on the /connect page and tick an organisation.',
    });
    return this.storeOrganizations(organizations, settled);
  }
}
