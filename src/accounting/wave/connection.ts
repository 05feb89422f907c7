// Where this relay's Wave credentials are and which business it works in. Two ways in:
// - a Full Access Token (WAVE_ACCESS_TOKEN): no stored connection; the businesses it reaches are listed at
//   start-up and kept in memory; WAVE_BUSINESS_ID, else the only one (several without it: start-up says so);
// - OAuth: the connections row of side 'wave' (encrypted tokens, made on /connect or seeded once from
//   WAVE_REFRESH_TOKEN) rotates there; its businesses are the row's organizations, the chosen one the row's
//   organization; WAVE_BUSINESS_ID wins, else the chosen one, else the only one.
// What the row says is kept in memory (the client asks for the business synchronously) and read again now
// and then, on every token read, and when a connection is made here.
import { createHash } from 'node:crypto';
import type { Logger } from '../../log.js';
import { registerSecret } from '../../log.js';
import type { RotatedPair, RotationStore, StoredGrant } from '../../oauth/rotating-tokens.js';
import type { Connections, Organization } from '../../store/connections.js';
import type { WaveBusiness } from './documents.js';
import type { WaveSettings } from './settings.js';

type WaveEnv = Pick<WaveSettings, 'WAVE_ACCESS_TOKEN' | 'WAVE_REFRESH_TOKEN' | 'WAVE_BUSINESS_ID'>;

const RELOAD_AFTER_MS = 60_000;

interface Remembered {
  connected: boolean;
  chosen?: Organization;
  organizations: Organization[];
  at: number;
}

/** How often businesses that could not be listed (Wave down at start-up) are asked for again. */
const RELIST_AFTER_MS = 30_000;

export class WaveConnection {
  private stored: Remembered = { connected: false, organizations: [], at: 0 };
  private reloading: Promise<void> | undefined;
  private relisting: Promise<void> | undefined;
  private relistedAt = 0;
  /** Lists the businesses the credentials reach (set by the side once its client exists). */
  lister: (() => Promise<WaveBusiness[]>) | undefined;

  constructor(
    private readonly connections: Connections,
    private readonly env: WaveEnv,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A Full Access Token is used as it is: nothing stored, nothing to connect. */
  get fullAccess(): boolean {
    return this.env.WAVE_ACCESS_TOKEN !== undefined;
  }

  readonly store: RotationStore<'wave'> = {
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

  /** WAVE_REFRESH_TOKEN seeds the stored connection once per distinct value. True when it seeded. */
  async seedFromEnvironment(): Promise<boolean> {
    const token = this.env.WAVE_REFRESH_TOKEN;
    if (!token || this.fullAccess) return false;
    registerSecret(token);
    const seedHash = createHash('sha256').update(token).digest('hex');
    const seeded = await this.connections.seedRefreshToken('wave', token, seedHash);
    this.log.info(seeded ? 'WAVE_REFRESH_TOKEN seeded the Wave connection' : 'WAVE_REFRESH_TOKEN was used before: continuing with the stored Wave tokens');
    return seeded;
  }

  async load(): Promise<void> {
    if (this.fullAccess) return;
    this.remember(await this.connections.describe('wave'));
  }

  private remember(c: { status: string; hasRefreshToken: boolean; organizationId?: string; organizationName?: string; organizations: Organization[] } | undefined): void {
    if (this.fullAccess) return;
    this.stored = {
      connected: c?.status === 'connected' && c.hasRefreshToken,
      ...(c?.organizationId ? { chosen: { id: c.organizationId, name: c.organizationName ?? c.organizationId } } : {}),
      organizations: c?.organizations ?? [],
      at: this.now(),
    };
  }

  get connected(): boolean {
    return this.fullAccess || this.stored.connected;
  }

  get organizations(): Organization[] {
    return this.stored.organizations;
  }

  /** The business of every call; undefined while none is known (the client then refuses with a retryable error). */
  readonly businessId = (): string | undefined => {
    if (!this.fullAccess && this.now() - this.stored.at > RELOAD_AFTER_MS) this.reloadSoon();
    if (this.env.WAVE_BUSINESS_ID) return this.env.WAVE_BUSINESS_ID;
    const id = this.stored.chosen?.id ?? (this.stored.organizations.length === 1 ? this.stored.organizations[0]!.id : undefined);
    if (!id && !this.fullAccess) this.reloadSoon();
    if (!id && this.needsBusinesses) this.relistSoon();
    return id;
  };

  /** The businesses were not listed (Wave unreachable at start-up): ask again, now and then, in the background. */
  private relistSoon(): void {
    if (!this.lister || this.relisting || this.now() - this.relistedAt < RELIST_AFTER_MS) return;
    this.relistedAt = this.now();
    const lister = this.lister;
    this.relisting = (async () => {
      const problem = await this.settleBusinesses(await lister());
      if (problem) this.log.warn({ problem }, 'the Wave business is not settled; jobs wait');
    })()
      .catch((err: unknown) => this.log.warn({ reason: (err as Error).message }, 'could not list the businesses of the Wave credentials; jobs wait'))
      .finally(() => {
        this.relisting = undefined;
      });
  }

  /** The business named for status pages. */
  organization(): Organization | undefined {
    const id = this.businessId();
    if (!id) return undefined;
    return this.stored.organizations.find((o) => o.id === id) ?? (this.stored.chosen?.id === id ? this.stored.chosen : { id, name: id });
  }

  /** Whether the businesses are still to be listed (a seeded connection, or a Full Access Token at start-up). */
  get needsBusinesses(): boolean {
    return this.connected && this.stored.organizations.length === 0;
  }

  /**
   * The businesses a token reaches, remembered (and for OAuth stored as the connection's organizations) with
   * the one to work in: WAVE_BUSINESS_ID, else the one chosen before if still reached, else the only one.
   * Returns a problem to show, if any.
   */
  async settleBusinesses(businesses: WaveBusiness[]): Promise<string | undefined> {
    const organizations = businessesOf(businesses);
    const previous = this.fullAccess ? undefined : (await this.connections.describe('wave'))?.organizationId;
    const { chosen, problem } = settle(organizations, this.env.WAVE_BUSINESS_ID, previous, this.fullAccess);
    if (this.fullAccess) {
      this.stored = { connected: true, organizations, ...(chosen ? { chosen } : {}), at: this.now() };
      return problem;
    }
    await this.connections.setOrganizations('wave', organizations, chosen);
    if (problem) await this.connections.recordError('wave', problem);
    await this.load();
    return problem;
  }

  private reloadSoon(): void {
    this.reloading ??= this.load()
      .catch((err: unknown) => this.log.warn({ err }, 'could not read the Wave connection'))
      .finally(() => {
        this.reloading = undefined;
      });
  }
}

/** The businesses that can invoice through the API (not archived), by ID. */
export function businessesOf(businesses: WaveBusiness[]): Organization[] {
  const seen = new Set<string>();
  const out: Organization[] = [];
  for (const b of businesses) {
    if (b.isArchived || seen.has(b.id)) continue;
    seen.add(b.id);
    out.push({ id: b.id, name: b.name?.trim() || b.id });
  }
  return out;
}

/** WAVE_BUSINESS_ID wins; then the business chosen before, if still reached; then the only one. */
export function settle(organizations: Organization[], configured: string | undefined, previous: string | undefined, fullAccess: boolean): { chosen?: Organization; problem?: string } {
  if (configured) {
    const chosen = organizations.find((o) => o.id === configured);
    if (chosen) return { chosen };
    return { problem: `WAVE_BUSINESS_ID ${configured} is not one of the businesses this Wave ${fullAccess ? 'token' : 'connection'} reaches (${describe(organizations)}). Change WAVE_BUSINESS_ID (relay discover lists them).` };
  }
  if (organizations.length === 0) return { problem: `The Wave ${fullAccess ? 'token' : 'connection'} reaches no business.` };
  const kept = previous ? organizations.find((o) => o.id === previous) : undefined;
  if (kept) return { chosen: kept };
  if (organizations.length === 1) return { chosen: organizations[0]! };
  return fullAccess ? { problem: `WAVE_ACCESS_TOKEN reaches several Wave businesses (${describe(organizations)}): set WAVE_BUSINESS_ID to the one the relay works in.` } : {};
}

const describe = (orgs: Organization[]) => (orgs.length ? orgs.map((o) => `${o.id} ${o.name}`).join(', ') : 'none');
