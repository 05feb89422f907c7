// Where this relay's Xero connection is and which organisation (tenant) it works in. The tokens live in the
// connections row of side 'xero' (encrypted), made on /connect or seeded once from XERO_REFRESH_TOKEN, and
// rotate there (oauth.ts xeroTokens over this store). The tenant is XERO_TENANT_ID, else the one chosen for
// the stored connection, else the connection's only one. What the row says is kept in memory, because the
// client asks for the tenant synchronously, and read again now and then (another process may have connected
// or chosen), on every token read, and when the connection is made here.
import { createHash } from 'node:crypto';
import type { Logger } from '../../log.js';
import { registerSecret } from '../../log.js';
import type { RotatedPair, RotationStore, StoredGrant } from '../../oauth/rotating-tokens.js';
import type { Connections, Organization } from '../../store/connections.js';
import type { XeroSettings } from './settings.js';
import type { XeroTenant } from './types.js';

type XeroEnv = Pick<XeroSettings, 'XERO_REFRESH_TOKEN' | 'XERO_TENANT_ID'>;

/** How stale the remembered row may get before the next tenant question reads it again. */
const RELOAD_AFTER_MS = 60_000;

interface Remembered {
  connected: boolean;
  chosen?: Organization;
  organizations: Organization[];
  at: number;
}

export class XeroConnection {
  private stored: Remembered = { connected: false, organizations: [], at: 0 };
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly connections: Connections,
    private readonly env: XeroEnv,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The rotation's store: the connections table, each read also refreshing what is remembered of the row. */
  readonly store: RotationStore<'xero'> = {
    get: async (side) => {
      const c = await this.connections.get(side);
      this.remember(c);
      return c as StoredGrant | undefined;
    },
    claimRefresh: (side, generation, owner, leaseMs) => this.connections.claimRefresh(side, generation, owner, leaseMs),
    rotate: (side, generation, owner, pair: RotatedPair) => this.connections.rotate(side, generation, owner, pair),
    releaseLease: (side, owner) => this.connections.releaseLease(side, owner),
    markLost: (side, generation, message) => this.connections.markLost(side, generation, message),
    recordError: (side, message) => this.connections.recordError(side, message),
  };

  /**
   * XERO_REFRESH_TOKEN seeds the stored connection once per distinct value: Xero rotates refresh tokens, so
   * after the first refresh the stored one is current and the environment's is spent. True when it seeded.
   */
  async seedFromEnvironment(): Promise<boolean> {
    const token = this.env.XERO_REFRESH_TOKEN;
    if (!token) return false;
    registerSecret(token);
    const seedHash = createHash('sha256').update(token).digest('hex');
    const seeded = await this.connections.seedRefreshToken('xero', token, seedHash);
    this.log.info(seeded ? 'XERO_REFRESH_TOKEN seeded the Xero connection' : 'XERO_REFRESH_TOKEN was used before: continuing with the stored Xero tokens');
    return seeded;
  }

  /** Reads the stored connection into memory. */
  async load(): Promise<void> {
    this.remember(await this.connections.describe('xero'));
  }

  private remember(c: { status: string; hasRefreshToken: boolean; organizationId?: string; organizationName?: string; organizations: Organization[] } | undefined): void {
    this.stored = {
      connected: c?.status === 'connected' && c.hasRefreshToken,
      ...(c?.organizationId ? { chosen: { id: c.organizationId, name: c.organizationName ?? c.organizationId } } : {}),
      organizations: c?.organizations ?? [],
      at: this.now(),
    };
  }

  get connected(): boolean {
    return this.stored.connected;
  }

  /** The tenants known for the stored connection (GET /connections, as the connect flow or start-up stored them). */
  get organizations(): Organization[] {
    return this.stored.organizations;
  }

  /** The organisation of every call; undefined while none is known (the client then refuses with a retryable error). */
  readonly tenantId = (): string | undefined => {
    if (this.now() - this.stored.at > RELOAD_AFTER_MS) this.reloadSoon();
    if (this.env.XERO_TENANT_ID) return this.env.XERO_TENANT_ID;
    const id = this.stored.chosen?.id ?? (this.stored.organizations.length === 1 ? this.stored.organizations[0]!.id : undefined);
    if (!id) this.reloadSoon();
    return id;
  };

  /** The organisation named for status pages: the chosen one with its name, when known. */
  organization(): Organization | undefined {
    const id = this.tenantId();
    if (!id) return undefined;
    return this.stored.organizations.find((o) => o.id === id) ?? (this.stored.chosen?.id === id ? this.stored.chosen : { id, name: id });
  }

  /** Whether the tenants of the stored connection are still to be listed (a connection seeded from the environment). */
  get needsTenants(): boolean {
    return this.stored.connected && this.stored.organizations.length === 0;
  }

  /**
   * The tenants a token reaches, stored as the connection's organizations, with the one to work in:
   * XERO_TENANT_ID, else the only one. Returns a problem to show, if any.
   */
  async settleTenants(tenants: XeroTenant[]): Promise<string | undefined> {
    const organizations = tenants.map((t) => ({ id: t.tenantId.toLowerCase(), name: t.tenantName ?? t.tenantId }));
    const configured = this.env.XERO_TENANT_ID;
    let chosen: Organization | undefined;
    let problem: string | undefined;
    if (configured) {
      chosen = organizations.find((o) => o.id === configured);
      if (!chosen) problem = `XERO_TENANT_ID ${configured} is not one of the organisations this Xero connection reaches (${describe(organizations)}).`;
    } else if (organizations.length === 1) {
      chosen = organizations[0];
    } else if (organizations.length === 0) {
      problem = 'The Xero connection reaches no organisation: connect Xero again on the /connect page and tick an organisation.';
    }
    await this.connections.setOrganizations('xero', organizations, chosen);
    if (problem) await this.connections.recordError('xero', problem);
    await this.load();
    return problem;
  }

  private reloadSoon(): void {
    this.reloading ??= this.load()
      .catch((err: unknown) => this.log.warn({ err }, 'could not read the Xero connection'))
      .finally(() => {
        this.reloading = undefined;
      });
  }
}

const describe = (orgs: Organization[]) => (orgs.length ? orgs.map((o) => `${o.id} ${o.name}`).join(', ') : 'none');
