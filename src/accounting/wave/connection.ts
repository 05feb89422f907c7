// Where this relay's Wave credentials are and which business it works in. Two ways in:
// - a Full Access Token (WAVE_ACCESS_TOKEN): no stored connection; the businesses it reaches are listed at
//   start-up and kept in memory; WAVE_BUSINESS_ID, else the only one (several without it: start-up says so);
// - OAuth: the connections row of side 'wave' (encrypted tokens, made on /connect or seeded once from
//   WAVE_REFRESH_TOKEN) rotates there; its businesses are the row's organizations, the chosen one the row's
//   organization; WAVE_BUSINESS_ID wins, else the chosen one, else the only one. The shared StoredConnection
//   (src/oauth/stored-connection.ts) keeps the row in memory; this file adds the Full Access Token, Wave's
//   words, and listing the businesses again while none is known.
import type { Logger } from '../../log.js';
import { settleOrganization, type Settled } from '../../oauth/organization-choice.js';
import { StoredConnection, type DescribedRow } from '../../oauth/stored-connection.js';
import type { Connections, Organization } from '../../store/connections.js';
import type { WaveBusiness } from './documents.js';
import type { WaveSettings } from './settings.js';

type WaveEnv = Pick<WaveSettings, 'WAVE_ACCESS_TOKEN' | 'WAVE_REFRESH_TOKEN' | 'WAVE_BUSINESS_ID'>;

/** How often businesses that could not be listed (Wave down at start-up) are asked for again. */
const RELIST_AFTER_MS = 30_000;

export class WaveConnection extends StoredConnection<'wave'> {
  private relisting: Promise<void> | undefined;
  private relistedAt = 0;
  /** Lists the businesses the credentials reach (set by the side once its client exists). */
  lister: (() => Promise<WaveBusiness[]>) | undefined;

  constructor(
    connections: Connections,
    private readonly env: WaveEnv,
    log: Logger,
    now: () => number = Date.now,
  ) {
    // A Full Access Token is used as it is: a WAVE_REFRESH_TOKEN beside it seeds nothing.
    const seed = { setting: 'WAVE_REFRESH_TOKEN', refreshToken: env.WAVE_ACCESS_TOKEN === undefined ? env.WAVE_REFRESH_TOKEN : undefined };
    super({ side: 'wave', label: 'Wave', connections, seed, configured: env.WAVE_BUSINESS_ID, log, now });
  }

  /** A Full Access Token is used as it is: nothing stored, nothing to connect. */
  get fullAccess(): boolean {
    return this.env.WAVE_ACCESS_TOKEN !== undefined;
  }

  override async load(): Promise<void> {
    if (this.fullAccess) return;
    await super.load();
  }

  protected override remember(c: DescribedRow | undefined): void {
    if (this.fullAccess) return;
    super.remember(c);
  }

  override get connected(): boolean {
    return this.fullAccess || super.connected;
  }

  /** The business of every call; undefined while none is known (the client then refuses with a retryable error). */
  readonly businessId = this.organizationId;

  /** The businesses were not listed (Wave unreachable at start-up): ask again, now and then, in the background. */
  protected override organizationUnknown(): void {
    if (!this.needsOrganizations || !this.lister || this.relisting || this.now() - this.relistedAt < RELIST_AFTER_MS) return;
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

  /**
   * The businesses a token reaches, remembered (and for OAuth stored as the connection's organizations) with
   * the one to work in: WAVE_BUSINESS_ID, else the one chosen before if still reached, else the only one.
   * Returns a problem to show, if any.
   */
  async settleBusinesses(businesses: WaveBusiness[]): Promise<string | undefined> {
    const organizations = businessesOf(businesses);
    const previous = this.fullAccess ? undefined : (await this.connections.describe('wave'))?.organizationId;
    const settled = settle(organizations, this.env.WAVE_BUSINESS_ID, previous, this.fullAccess);
    if (!this.fullAccess) return this.storeOrganizations(organizations, settled);
    this.remembered = { connected: true, organizations, ...(settled.chosen ? { chosen: settled.chosen } : {}), at: this.now() };
    return settled.problem;
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
export function settle(organizations: Organization[], configured: string | undefined, previous: string | undefined, fullAccess: boolean): Settled {
  const credentials = fullAccess ? 'token' : 'connection';
  return settleOrganization(organizations, configured, previous, {
    notReached: (id, list) => `WAVE_BUSINESS_ID ${id} is not one of the businesses this Wave ${credentials} reaches (${list}). Change WAVE_BUSINESS_ID (relay discover lists them).`,
    none: `The Wave ${credentials} reaches no business.`,
    ...(fullAccess ? { several: (list: string) => `WAVE_ACCESS_TOKEN reaches several Wave businesses (${list}): set WAVE_BUSINESS_ID to the one the relay works in.` } : {}),
  });
}
