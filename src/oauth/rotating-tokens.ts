// OAuth tokens whose refresh token is replaced on every refresh (Kommo's are single-use; some accounting backends' rotate and the
// previous one lives 30 minutes more). Losing the newest one loses the connection, so:
// - a refresh is single-flight in the process (one promise) and across processes (a lease on the stored row,
//   taken by compare-and-swap on its generation), so the same refresh token is never sent twice;
// - the new pair is written in one transaction before the new access token is handed to any caller;
// - a process that finds the row rotated by another adopts the stored pair instead of refreshing;
// - a refused refresh re-reads the store before declaring the connection lost (another process may have won).
// Provider-neutral: the side, the grant, the refusal and the "not connected" error are parameters (Kommo:
// src/kommo/tokens.ts; each backend that rotates: its oauth.ts under src/accounting/).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { RelayError, retryable } from '../errors.js';
import { registerSecret, type Logger } from '../log.js';
import { holdToken, isFresh, MIN_ADOPTABLE_MS, type HeldToken } from './refresh-margin.js';

export interface RotatedPair {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  refreshExpiresAt?: number;
}

/** The stored connection as the rotation reads it (src/store/connections.ts's Connection has these fields). */
export interface StoredGrant {
  status: 'connected' | 'lost';
  generation: number;
  accessToken?: string;
  accessExpiresAt?: number;
  refreshToken?: string;
  lastError?: string;
}

/** The compare-and-swap operations of src/store/connections.ts, for one side. */
export interface RotationStore<Side extends string> {
  get(side: Side): Promise<StoredGrant | undefined>;
  claimRefresh(side: Side, generation: number, owner: string, leaseMs: number): Promise<boolean>;
  /** Persists the new pair if `generation` is still current and `owner` holds the lease; false otherwise. */
  rotate(side: Side, generation: number, owner: string, pair: RotatedPair): Promise<boolean>;
  releaseLease(side: Side, owner: string): Promise<void>;
  markLost(side: Side, generation: number, message: string): Promise<void>;
  recordError(side: Side, message: string): Promise<void>;
}

/**
 * Spends `refreshToken` at the provider and hands the new pair to `persist` BEFORE returning it: undefined when
 * `persist` says the stored row moved on (the pair is then not used). See rotateThenPersist for a plain grant.
 */
export type RotateGrant = (refreshToken: string, persist: (pair: RotatedPair) => Promise<boolean>) => Promise<RotatedPair | undefined>;

/** Adapts a grant that only returns the pair (Kommo's KommoOAuth.refresh) to the persist-first shape. */
export const rotateThenPersist =
  (grant: (refreshToken: string) => Promise<RotatedPair>): RotateGrant =>
  async (refreshToken, persist) => {
    const pair = await grant(refreshToken);
    return (await persist(pair)) ? pair : undefined;
  };

export interface RotatingTokensOptions<Side extends string> {
  side: Side;
  /** The provider's name as people read it ('Kommo', a backend's system name): for messages. */
  label: string;
  store: RotationStore<Side>;
  rotate: RotateGrant;
  /** The refusal that means the refresh token is dead (invalid_grant): only a reconnect helps. */
  isRefusal(error: RelayError): boolean;
  /** The retryable "connect on /connect" error jobs wait on. */
  notConnected(message?: string): RelayError;
  log: Logger;
  /** How long one refresh may take before another process may try: above the HTTP timeout. */
  leaseMs: number;
  /** How often a process waiting for another's refresh looks at the store. */
  pollMs?: number;
}

export class RotatingTokens<Side extends string> {
  /** Identifies this process's lease on the stored row. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Refreshes this instance sent to the provider. */
  refreshCount = 0;
  lastError: { code: string; message: string; at: number } | undefined;
  private token: HeldToken | undefined;
  private inflight: Promise<string> | undefined;

  constructor(private readonly opts: RotatingTokensOptions<Side>) {}

  async accessToken(): Promise<string> {
    if (isFresh(this.token)) return this.token.value;
    return this.refresh();
  }

  /** A call was refused with 401 carrying `rejected`: get a newer token (stored by another process, or refreshed). */
  async onUnauthorized(rejected: string | undefined): Promise<boolean> {
    if (this.token && rejected && this.token.value !== rejected) return true;
    this.token = undefined;
    await this.refresh(rejected);
    return true;
  }

  get expiresAt(): number | undefined {
    return this.token?.expiresAt;
  }

  /** Forgets the in-memory token: the connection was replaced (reconnected on /connect). */
  reset(): void {
    this.token = undefined;
    this.lastError = undefined;
  }

  private refresh(rejected?: string): Promise<string> {
    this.inflight ??= this.doRefresh(rejected).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async doRefresh(rejected: string | undefined): Promise<string> {
    const { store, side, label } = this.opts;
    const deadline = Date.now() + this.opts.leaseMs + 5_000;
    for (;;) {
      const stored = await store.get(side);
      if (!stored?.refreshToken) throw this.opts.notConnected();
      if (stored.status === 'lost') throw this.opts.notConnected(`${label} connection lost: ${stored.lastError ?? 'the refresh token was refused.'}`);
      const held = stored.accessToken ? holdToken(stored.accessToken, stored.accessExpiresAt ?? 0) : undefined;
      // A token this process holds, or one another process stored, is used until its own refresh moment.
      const adoptable = held?.value === this.token?.value ? this.token : held;
      if (adoptable && adoptable.value !== rejected && adoptable.expiresAt - Date.now() > MIN_ADOPTABLE_MS && isFresh(adoptable)) {
        this.token = adoptable;
        return adoptable.value;
      }
      if (await store.claimRefresh(side, stored.generation, this.owner, this.opts.leaseMs)) {
        const token = await this.spend(stored, stored.refreshToken);
        if (token) return token;
        continue; // another process rotated meanwhile: adopt its pair
      }
      if (Date.now() > deadline) {
        throw retryable(`${side}_refresh_busy`, `Another relay process has held the ${label} token refresh for too long; will try again.`);
      }
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 100));
    }
  }

  /** Spends the stored refresh token; undefined when the stored row moved on and should be read again. */
  private async spend(stored: StoredGrant, refreshToken: string): Promise<string | undefined> {
    const { store, side, label, log } = this.opts;
    let pair: RotatedPair | undefined;
    try {
      this.refreshCount++;
      pair = await this.opts.rotate(refreshToken, (fresh) => store.rotate(side, stored.generation, this.owner, fresh));
    } catch (err) {
      await store.releaseLease(side, this.owner).catch(() => undefined);
      if (!(err instanceof RelayError)) throw err;
      if (!this.opts.isRefusal(err)) {
        this.note(err.code, err.message);
        await store.recordError(side, err.message).catch(() => undefined);
        throw err;
      }
      const now = await store.get(side);
      if (now && now.generation !== stored.generation) return undefined;
      const message = `${err.message}: the ${label} connection is lost. Reconnect ${label} on the /connect page.`;
      await store.markLost(side, stored.generation, message);
      this.note(`${side}_connection_lost`, message);
      log.error({ code: `${side}_connection_lost` }, message);
      throw this.opts.notConnected(message);
    }
    if (!pair) {
      log.warn(`the ${label} connection was replaced while refreshing; using the stored one`);
      return undefined;
    }
    registerSecret(pair.accessToken);
    registerSecret(pair.refreshToken);
    this.token = holdToken(pair.accessToken, pair.accessExpiresAt, pair.accessExpiresAt - Date.now());
    this.lastError = undefined;
    log.info({ expires_at: new Date(pair.accessExpiresAt).toISOString() }, `${label.toLowerCase()} access token refreshed`);
    return pair.accessToken;
  }

  private note(code: string, message: string): void {
    this.lastError = { code, message, at: Date.now() };
  }
}
