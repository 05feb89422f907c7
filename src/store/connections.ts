// The stored OAuth connections of both sides. Tokens are encrypted here and nowhere else: callers read
// and write plain values, the table only ever holds ciphertext. Every write that replaces tokens is a
// compare-and-swap on `generation`, so two processes never both act on the same single-use refresh token.
import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import { registerSecret } from '../log.js';
import type { TokenCipher } from '../security/crypto.js';
import type { Db } from './db.js';
import { KeyValue } from './kv.js';
import type { ConnectionSide, ConnectionsTable } from './schema.js';

export type ConnectionRow = Selectable<ConnectionsTable>;

export interface Organization {
  id: string;
  name: string;
}

export interface Connection {
  side: ConnectionSide;
  status: ConnectionRow['status'];
  generation: number;
  accessToken?: string;
  accessExpiresAt?: number;
  refreshToken?: string;
  refreshExpiresAt?: number;
  /** Known without decrypting: whether there is a refresh token at all. */
  hasRefreshToken: boolean;
  accountsServer?: string;
  dataCentre?: string;
  apiDomain?: string;
  organizationId?: string;
  organizationName?: string;
  organizations: Organization[];
  accountId?: string;
  accountName?: string;
  lastError?: string;
  lastErrorAt?: number;
  connectedAt: number;
  refreshedAt?: number;
}

/** What a completed code exchange stores; the rest of the row starts afresh. */
export interface NewConnection {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  refreshExpiresAt?: number;
  accountsServer?: string;
  dataCentre?: string;
  apiDomain?: string;
  organizationId?: string;
  organizationName?: string;
  organizations?: Organization[];
  accountId?: string;
  accountName?: string;
}

export interface TokenPair {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  refreshExpiresAt?: number;
}

export class Connections {
  constructor(
    private readonly db: Db,
    private readonly cipher: TokenCipher | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** The connection with its tokens decrypted (and registered as secrets, so no log line shows them). */
  async get(side: ConnectionSide): Promise<Connection | undefined> {
    const row = await this.row(side);
    return row ? this.decode(row) : undefined;
  }

  /** The connection without touching its tokens: for the connection page. */
  async describe(side: ConnectionSide): Promise<Omit<Connection, 'accessToken' | 'refreshToken'> | undefined> {
    const row = await this.row(side);
    return row ? this.decode(row, false) : undefined;
  }

  /** True when any row holds an encrypted token (start-up refuses to run without the right key then). */
  async holdsTokens(): Promise<boolean> {
    const row = await this.db
      .selectFrom('connections')
      .select('side')
      .where((eb) => eb.or([eb('access_token', 'is not', null), eb('refresh_token', 'is not', null)]))
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Stores a new connection (a completed code exchange), replacing the previous one of that side. */
  async connect(side: ConnectionSide, c: NewConnection): Promise<void> {
    const now = this.now();
    const fields = {
      status: 'connected' as const,
      access_token: this.seal(side, 'access_token', c.accessToken),
      refresh_token: this.seal(side, 'refresh_token', c.refreshToken),
      access_expires_at: c.accessExpiresAt,
      refresh_expires_at: c.refreshExpiresAt ?? null,
      refresh_lease_until: null,
      refresh_lease_owner: null,
      accounts_server: c.accountsServer ?? null,
      data_centre: c.dataCentre ?? null,
      api_domain: c.apiDomain ?? null,
      organization_id: c.organizationId ?? null,
      organization_name: c.organizationName ?? null,
      organizations: c.organizations ? JSON.stringify(c.organizations) : null,
      account_id: c.accountId ?? null,
      account_name: c.accountName ?? null,
      last_error: null,
      last_error_at: null,
      connected_at: now,
      refreshed_at: now,
      updated_at: now,
    };
    // env_seed_hash is kept: a spent KOMMO_REFRESH_TOKEN must stay spent after a reconnect.
    await this.db
      .insertInto('connections')
      .values({ side, generation: 1, env_seed_hash: null, ...fields })
      .onConflict((oc) => oc.column('side').doUpdateSet((eb) => ({ ...fields, generation: eb('connections.generation', '+', 1) })))
      .execute();
  }

  /**
   * Seeds a refresh token given in the environment, once per distinct value: if this value (by its hash)
   * seeded the row before, it is spent or about to be, and the stored pair wins. Conditional writes keep two
   * processes starting together from both seeding.
   */
  async seedRefreshToken(side: ConnectionSide, refreshToken: string, seedHash: string): Promise<boolean> {
    const now = this.now();
    const fields = {
      status: 'connected' as const,
      access_token: null,
      refresh_token: this.seal(side, 'refresh_token', refreshToken),
      access_expires_at: null,
      refresh_expires_at: null,
      refresh_lease_until: null,
      refresh_lease_owner: null,
      env_seed_hash: seedHash,
      last_error: null,
      last_error_at: null,
      connected_at: now,
      refreshed_at: null,
      updated_at: now,
    };
    const inserted = await this.db
      .insertInto('connections')
      .values({ side, generation: 1, accounts_server: null, data_centre: null, api_domain: null, organization_id: null, organization_name: null, organizations: null, account_id: null, account_name: null, ...fields })
      .onConflict((oc) => oc.column('side').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return true;
    const updated = await this.db
      .updateTable('connections')
      .set((eb) => ({ ...fields, generation: eb('generation', '+', 1) }))
      .where('side', '=', side)
      .where((eb) => eb.or([eb('env_seed_hash', 'is', null), eb('env_seed_hash', '!=', seedHash)]))
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  /** Takes the refresh lease of `generation`; false when another process holds it or already rotated. */
  async claimRefresh(side: ConnectionSide, generation: number, owner: string, leaseMs: number): Promise<boolean> {
    const now = this.now();
    const result = await this.db
      .updateTable('connections')
      .set({ refresh_lease_until: now + leaseMs, refresh_lease_owner: owner })
      .where('side', '=', side)
      .where('generation', '=', generation)
      .where('status', '=', 'connected')
      .where((eb) => eb.or([eb('refresh_lease_until', 'is', null), eb('refresh_lease_until', '<', now), eb('refresh_lease_owner', '=', owner)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Persists a rotated pair before anyone uses the new access token: one UPDATE, which is one transaction
   * on SQLite and PostgreSQL alike, so the pair is never half-written. It is a compare-and-swap on the
   * generation and this process's lease; false when the row moved on meanwhile (a reconnect), which wins.
   */
  async rotate(side: ConnectionSide, generation: number, owner: string, pair: TokenPair): Promise<boolean> {
    const now = this.now();
    const access = this.seal(side, 'access_token', pair.accessToken);
    const refresh = this.seal(side, 'refresh_token', pair.refreshToken);
    const result = await this.db
      .updateTable('connections')
      .set((eb) => ({
        access_token: access,
        refresh_token: refresh,
        access_expires_at: pair.accessExpiresAt,
        refresh_expires_at: pair.refreshExpiresAt ?? null,
        generation: eb('generation', '+', 1),
        refresh_lease_until: null,
        refresh_lease_owner: null,
        status: 'connected' as const,
        last_error: null,
        last_error_at: null,
        refreshed_at: now,
        updated_at: now,
      }))
      .where('side', '=', side)
      .where('generation', '=', generation)
      .where('refresh_lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async releaseLease(side: ConnectionSide, owner: string): Promise<void> {
    await this.db
      .updateTable('connections')
      .set({ refresh_lease_until: null, refresh_lease_owner: null })
      .where('side', '=', side)
      .where('refresh_lease_owner', '=', owner)
      .execute();
  }

  /** Caches an access token minted from the stored refresh token, unless the connection changed. */
  async saveAccessToken(side: ConnectionSide, generation: number, accessToken: string, expiresAt: number, apiDomain?: string): Promise<void> {
    const now = this.now();
    await this.db
      .updateTable('connections')
      .set({
        access_token: this.seal(side, 'access_token', accessToken),
        access_expires_at: expiresAt,
        ...(apiDomain ? { api_domain: apiDomain } : {}),
        last_error: null,
        last_error_at: null,
        refreshed_at: now,
        updated_at: now,
      })
      .where('side', '=', side)
      .where('generation', '=', generation)
      .execute();
  }

  /** The provider refused the refresh token of `generation`: only a reconnect helps now. */
  async markLost(side: ConnectionSide, generation: number, message: string): Promise<void> {
    const now = this.now();
    await this.db
      .updateTable('connections')
      .set({ status: 'lost', last_error: message, last_error_at: now, refresh_lease_until: null, refresh_lease_owner: null, updated_at: now })
      .where('side', '=', side)
      .where('generation', '=', generation)
      .execute();
  }

  async recordError(side: ConnectionSide, message: string): Promise<void> {
    const now = this.now();
    await this.db.updateTable('connections').set({ last_error: message, last_error_at: now, updated_at: now }).where('side', '=', side).execute();
  }

  /** The organizations the connection can work in, and the chosen one (or none yet). */
  async setOrganizations(side: ConnectionSide, organizations: Organization[], chosen: Organization | undefined): Promise<void> {
    await this.db
      .updateTable('connections')
      .set({ organizations: JSON.stringify(organizations), organization_id: chosen?.id ?? null, organization_name: chosen?.name ?? null, updated_at: this.now() })
      .where('side', '=', side)
      .execute();
  }

  /** The account the tokens belong to, for the connection page. */
  async setAccount(side: ConnectionSide, account: { id: string; name: string }): Promise<void> {
    await this.db.updateTable('connections').set({ account_id: account.id, account_name: account.name, updated_at: this.now() }).where('side', '=', side).execute();
  }

  async chooseOrganization(side: ConnectionSide, org: Organization): Promise<void> {
    await this.db
      .updateTable('connections')
      .set({ organization_id: org.id, organization_name: org.name, last_error: null, last_error_at: null, updated_at: this.now() })
      .where('side', '=', side)
      .execute();
  }

  /**
   * The access token minted from a refresh token given in the environment (no connection row), sealed
   * like every other token and bound to that refresh token, so a restart reuses it instead of minting
   * another (a provider may refuse the 11th access token within 10 minutes). Without ENCRYPTION_KEY nothing
   * is kept (each start mints one).
   */
  async saveEnvRefreshedToken(side: ConnectionSide, refreshToken: string, token: { accessToken: string; expiresAt: number; apiDomain?: string }): Promise<void> {
    if (!this.cipher) return;
    const value: EnvRefreshedToken = {
      accessToken: this.cipher.encrypt(token.accessToken, envTokenPurpose(side, refreshToken)),
      expiresAt: token.expiresAt,
      ...(token.apiDomain ? { apiDomain: token.apiDomain } : {}),
    };
    await new KeyValue(this.db).set(envTokenKey(side), value);
  }

  /** The stored token of this refresh token; undefined if none, or of another token or key. */
  async envRefreshedToken(side: ConnectionSide, refreshToken: string): Promise<{ value: string; expiresAt: number; apiDomain?: string } | undefined> {
    if (!this.cipher) return undefined;
    const stored = await new KeyValue(this.db).get<EnvRefreshedToken>(envTokenKey(side));
    if (!stored) return undefined;
    let value: string;
    try {
      value = this.cipher.decrypt(stored.accessToken, envTokenPurpose(side, refreshToken));
    } catch {
      return undefined; // another refresh token (or ENCRYPTION_KEY) since: mint a new one
    }
    registerSecret(value);
    return { value, expiresAt: stored.expiresAt, ...(stored.apiDomain ? { apiDomain: stored.apiDomain } : {}) };
  }

  private row(side: ConnectionSide): Promise<ConnectionRow | undefined> {
    return this.db.selectFrom('connections').selectAll().where('side', '=', side).executeTakeFirst();
  }

  private seal(side: ConnectionSide, column: string, value: string): string {
    if (!this.cipher) throw new Error('ENCRYPTION_KEY is not set: tokens cannot be stored');
    return this.cipher.encrypt(value, `${side}:${column}`);
  }

  private open(side: ConnectionSide, column: string, value: string | null): string | undefined {
    if (value === null) return undefined;
    if (!this.cipher) throw new Error('ENCRYPTION_KEY is not set: stored tokens cannot be read');
    const plain = this.cipher.decrypt(value, `${side}:${column}`);
    registerSecret(plain);
    return plain;
  }

  private decode(row: ConnectionRow, withTokens = true): Connection {
    const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
    return {
      side: row.side,
      status: row.status,
      generation: Number(row.generation),
      ...(withTokens ? { accessToken: this.open(row.side, 'access_token', row.access_token), refreshToken: this.open(row.side, 'refresh_token', row.refresh_token) } : {}),
      hasRefreshToken: row.refresh_token !== null,
      accessExpiresAt: opt(row.access_expires_at),
      refreshExpiresAt: opt(row.refresh_expires_at),
      accountsServer: opt(row.accounts_server),
      dataCentre: opt(row.data_centre),
      apiDomain: opt(row.api_domain),
      organizationId: opt(row.organization_id),
      organizationName: opt(row.organization_name),
      organizations: row.organizations ? (JSON.parse(row.organizations) as Organization[]) : [],
      accountId: opt(row.account_id),
      accountName: opt(row.account_name),
      lastError: opt(row.last_error),
      lastErrorAt: opt(row.last_error_at),
      connectedAt: row.connected_at,
      refreshedAt: opt(row.refreshed_at),
    };
  }
}

/** The names predate other backends (a "Self Client" token): kept, so stored tokens are found after an upgrade. */
const envTokenKey = (side: ConnectionSide) => `${side}:self_client_token`;

interface EnvRefreshedToken {
  accessToken: string;
  expiresAt: number;
  apiDomain?: string;
}

/** The token's authenticated purpose names its refresh token (by hash): another one cannot open it. */
function envTokenPurpose(side: ConnectionSide, refreshToken: string): string {
  return `${side}:self_client_access_token:${createHash('sha256').update(refreshToken).digest('base64url')}`;
}
