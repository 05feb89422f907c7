// A provider's OAuth connection as the relay keeps it, for providers whose consent reaches organisations:
// the connections row of its side (tokens encrypted, made on /connect or seeded once from a refresh token in
// the settings) where its refresh tokens rotate (`store` is RotatingTokens' view of the row), and the
// organisation it works in: the configured one, else the one chosen for the stored connection, else the
// connection's only one. What the row says is kept in memory, because clients ask for the organisation
// synchronously, and read again now and then (another process may have connected or chosen), on every token
// read, and when the connection is made here.
import { createHash } from 'node:crypto';
import { registerSecret, type Logger } from '../log.js';
import type { Connections, Organization } from '../store/connections.js';
import type { ConnectionSide } from '../store/schema.js';
import type { Settled } from './organization-choice.js';
import type { RotatedPair, RotationStore, StoredGrant } from './rotating-tokens.js';

/** How stale the remembered row may get before the next organisation question reads it again. */
const RELOAD_AFTER_MS = 60_000;

export interface Remembered {
  connected: boolean;
  chosen?: Organization;
  organizations: Organization[];
  at: number;
}

/** The row as describe() and get() give it, as far as it is remembered. */
export type DescribedRow = { status: string; hasRefreshToken: boolean; organizationId?: string; organizationName?: string; organizations: Organization[] };

export interface StoredConnectionOptions<Side extends ConnectionSide> {
  side: Side;
  /** The provider's name as people read it: for log lines. */
  label: string;
  connections: Connections;
  /** The refresh token the settings seed the connection with (absent: nothing to seed), under its setting's name. */
  seed: { setting: string; refreshToken: string | undefined };
  /** The organisation the settings name: it wins over any choice. */
  configured: string | undefined;
  log: Logger;
  now?: () => number;
}

export class StoredConnection<Side extends ConnectionSide> {
  protected remembered: Remembered = { connected: false, organizations: [], at: 0 };
  private reloading: Promise<void> | undefined;
  protected readonly connections: Connections;
  protected readonly log: Logger;
  protected readonly now: () => number;

  constructor(private readonly opts: StoredConnectionOptions<Side>) {
    this.connections = opts.connections;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  /** The rotation's store: the connections table, each read also refreshing what is remembered of the row. */
  readonly store: RotationStore<Side> = {
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
   * The settings' refresh token seeds the stored connection once per distinct value: refresh tokens rotate, so
   * after the first refresh the stored one is current and the settings' is spent. True when it seeded.
   */
  async seedFromEnvironment(): Promise<boolean> {
    const { seed, side, label } = this.opts;
    const token = seed.refreshToken;
    if (!token) return false;
    registerSecret(token);
    const seedHash = createHash('sha256').update(token).digest('hex');
    const seeded = await this.connections.seedRefreshToken(side, token, seedHash);
    this.log.info(seeded ? `${seed.setting} seeded the ${label} connection` : `${seed.setting} was used before: continuing with the stored ${label} tokens`);
    return seeded;
  }

  /** Reads the stored connection into memory. */
  async load(): Promise<void> {
    this.remember(await this.connections.describe(this.opts.side));
  }

  protected remember(c: DescribedRow | undefined): void {
    this.remembered = {
      connected: c?.status === 'connected' && c.hasRefreshToken,
      ...(c?.organizationId ? { chosen: { id: c.organizationId, name: c.organizationName ?? c.organizationId } } : {}),
      organizations: c?.organizations ?? [],
      at: this.now(),
    };
  }

  get connected(): boolean {
    return this.remembered.connected;
  }

  /** The organisations known for the stored connection (as the connect flow or start-up stored them). */
  get organizations(): Organization[] {
    return this.remembered.organizations;
  }

  /** The organisation of every call; undefined while none is known (the client then refuses with a retryable error). */
  readonly organizationId = (): string | undefined => {
    if (this.now() - this.remembered.at > RELOAD_AFTER_MS) this.reloadSoon();
    if (this.opts.configured) return this.opts.configured;
    const id = this.remembered.chosen?.id ?? (this.remembered.organizations.length === 1 ? this.remembered.organizations[0]!.id : undefined);
    if (!id) {
      this.reloadSoon();
      this.organizationUnknown();
    }
    return id;
  };

  /** No organisation is known for a call: the row is read again; a provider may also look in its own way. */
  protected organizationUnknown(): void {}

  /** The organisation named for status pages: the chosen one with its name, when known. */
  organization(): Organization | undefined {
    const id = this.organizationId();
    if (!id) return undefined;
    return this.remembered.organizations.find((o) => o.id === id) ?? (this.remembered.chosen?.id === id ? this.remembered.chosen : { id, name: id });
  }

  /** Whether the organisations are still to be listed (a connection seeded from the settings). */
  get needsOrganizations(): boolean {
    return this.connected && this.remembered.organizations.length === 0;
  }

  /** Stores the organisations a token reaches with the one settled on, and its problem, if any (returned). */
  protected async storeOrganizations(organizations: Organization[], settled: Settled): Promise<string | undefined> {
    const { side } = this.opts;
    await this.connections.setOrganizations(side, organizations, settled.chosen);
    if (settled.problem) await this.connections.recordError(side, settled.problem);
    await this.load();
    return settled.problem;
  }

  private reloadSoon(): void {
    this.reloading ??= this.load()
      .catch((err: unknown) => this.log.warn({ err }, `could not read the ${this.opts.label} connection`))
      .finally(() => {
        this.reloading = undefined;
      });
  }
}
