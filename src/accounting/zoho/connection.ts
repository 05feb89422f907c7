// Where the Zoho credentials of this relay come from, and which Books organization it works in.
// ZOHO_REFRESH_TOKEN (a Self Client) wins when set; otherwise the connection made on /connect, stored with
// its accounts server, data centre and api_domain. The organization is ZOHO_ORGANIZATION_ID, else the one
// chosen for the stored connection, else (Self Client) the account's only one.
import { zohoAccountsUrl, zohoAuthMode, type ZohoSettings } from './settings.js';
import { retryable } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Connections, Organization } from '../../store/connections.js';
import { zohoNotConnected, type ZohoGrant } from './auth.js';

type ZohoEnv = Pick<ZohoSettings, 'ZOHO_REFRESH_TOKEN' | 'ZOHO_ORGANIZATION_ID' | 'ZOHO_DC' | 'ZOHO_ACCOUNTS_URL'>;

export class ZohoConnection {
  /** The organization as last read from the store (the Books client asks for it synchronously). */
  private stored: { organization?: Organization; connected: boolean } = { connected: false };
  private selfClientOrganization: string | undefined;
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly connections: Connections,
    private readonly env: ZohoEnv,
    private readonly log: Logger,
  ) {}

  get mode() {
    return zohoAuthMode(this.env);
  }

  /** Reads the stored connection's organization into memory. */
  async load(): Promise<void> {
    if (this.mode !== 'oauth') return;
    this.remember(await this.connections.describe('zoho'));
  }

  private remember(c: { status: string; organizationId?: string; organizationName?: string } | undefined): void {
    this.stored = {
      connected: c?.status === 'connected',
      ...(c?.organizationId ? { organization: { id: c.organizationId, name: c.organizationName ?? c.organizationId } } : {}),
    };
  }

  /** For ZohoAuth: the grant to refresh with; undefined while Zoho is not connected. */
  readonly grant = async (): Promise<ZohoGrant | undefined> => {
    if (this.env.ZOHO_REFRESH_TOKEN) {
      const refreshToken = this.env.ZOHO_REFRESH_TOKEN;
      const stored = await this.connections.envRefreshedToken('zoho', refreshToken);
      return {
        accountsUrl: zohoAccountsUrl(this.env),
        refreshToken,
        ...(stored?.apiDomain ? { apiDomain: stored.apiDomain } : {}),
        ...(stored ? { accessToken: { value: stored.value, expiresAt: stored.expiresAt } } : {}),
      };
    }
    const c = await this.connections.get('zoho');
    // Every refresh reads the row anyway: an organization another process chose is picked up here too.
    this.remember(c);
    if (!c?.refreshToken || !c.accountsServer) return undefined;
    return {
      accountsUrl: c.accountsServer,
      refreshToken: c.refreshToken,
      generation: c.generation,
      ...(c.apiDomain ? { apiDomain: c.apiDomain } : {}),
      ...(c.accessToken && c.accessExpiresAt ? { accessToken: { value: c.accessToken, expiresAt: c.accessExpiresAt } } : {}),
    };
  };

  /** For ZohoAuth: a token minted from the refresh token is stored too (other processes, next start). */
  readonly onToken = async (grant: ZohoGrant, token: { accessToken: string; expiresAt: number; apiDomain?: string }): Promise<void> => {
    if (grant.generation === undefined) {
      // A Self Client's (kept only with ENCRYPTION_KEY set).
      if (grant.refreshToken === this.env.ZOHO_REFRESH_TOKEN) await this.connections.saveEnvRefreshedToken('zoho', grant.refreshToken, token);
      return;
    }
    await this.connections.saveAccessToken('zoho', grant.generation, token.accessToken, token.expiresAt, token.apiDomain);
  };

  readonly onRefused = async (grant: ZohoGrant, error: Error): Promise<void> => {
    if (grant.generation !== undefined) await this.connections.recordError('zoho', error.message);
  };

  /** For the Books client: the organization of every call, or a retryable reason why there is none yet. */
  readonly organizationId = (): string | undefined => {
    const id = this.env.ZOHO_ORGANIZATION_ID ?? (this.mode === 'self_client' ? this.selfClientOrganization : this.stored.organization?.id);
    if (id) return id;
    // Another process may have connected or chosen meanwhile: look again for the next attempt.
    this.reloading ??= this.load()
      .catch((err) => this.log.warn({ err }, 'could not read the Zoho connection'))
      .finally(() => {
        this.reloading = undefined;
      });
    if (this.mode === 'oauth' && !this.stored.connected) throw zohoNotConnected();
    throw retryable('zoho_organization_not_chosen', 'No Zoho Books organization is chosen: choose one on the /connect page (or set ZOHO_ORGANIZATION_ID).', {
      service: 'zoho',
      retryAfterMs: 2 * 60_000,
    });
  };

  useSelfClientOrganization(id: string): void {
    this.selfClientOrganization = id;
  }

  /**
   * After a connection: which organization to work in. ZOHO_ORGANIZATION_ID wins; an account with one
   * organization needs no choice; with several, the connection page asks. Returns a problem to show, if any.
   */
  async settleOrganization(organizations: Organization[]): Promise<string | undefined> {
    const configured = this.env.ZOHO_ORGANIZATION_ID;
    let chosen: Organization | undefined;
    let problem: string | undefined;
    if (configured) {
      chosen = organizations.find((o) => o.id === configured) ?? { id: configured, name: configured };
      if (!organizations.some((o) => o.id === configured)) {
        problem = `ZOHO_ORGANIZATION_ID ${configured} is not one of this Zoho account's organizations (${describe(organizations)}).`;
      }
    } else if (organizations.length === 1) {
      chosen = organizations[0];
    } else if (organizations.length === 0) {
      problem = 'The Zoho account has no Zoho Books organization: create one in Zoho Books, then connect again.';
    }
    await this.connections.setOrganizations('zoho', organizations, chosen);
    if (problem) await this.connections.recordError('zoho', problem);
    await this.load();
    return problem;
  }

  /** The administrator picked one of the connection's organizations on the page. */
  async choose(organizationId: string): Promise<Organization | undefined> {
    const c = await this.connections.describe('zoho');
    const org = c?.organizations.find((o) => o.id === organizationId);
    if (!org) return undefined;
    await this.connections.chooseOrganization('zoho', org);
    await this.load();
    return org;
  }
}

const describe = (orgs: Organization[]) => (orgs.length ? orgs.map((o) => `${o.id} ${o.name}`).join(', ') : 'none');
