// Kommo OAuth tokens with single-use refresh tokens. Losing one loses the connection, so:
// - a refresh is single-flight in the process (one promise) and across processes (a lease on the stored row,
//   taken by compare-and-swap on its generation), so the same refresh token is never sent twice;
// - the new pair is written in one transaction before the new access token is handed to any caller;
// - a process that finds the row rotated by another adopts the stored pair instead of refreshing;
// - a refused refresh re-reads the store before declaring the connection lost (another process may have won).
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { RelayError, retryable } from '../errors.js';
import { registerSecret, type Logger } from '../log.js';
import type { Connection, Connections } from '../store/connections.js';
import { holdToken, isFresh, MIN_ADOPTABLE_MS, type HeldToken } from '../oauth/refresh-margin.js';
import type { KommoOAuth } from './oauth.js';

export interface KommoTokensOptions {
  connections: Connections;
  oauth: KommoOAuth;
  log: Logger;
  /** How long one refresh may take before another process may try: above the HTTP timeout. */
  leaseMs: number;
  /** How often a process waiting for another's refresh looks at the store. */
  pollMs?: number;
}

export const kommoNotConnected = (message = 'Kommo is not connected: an administrator must connect Kommo on the /connect page.') =>
  retryable('kommo_not_connected', message, { service: 'kommo', retryAfterMs: 2 * 60_000 });

export class KommoTokens {
  /** Identifies this process's lease on the stored row. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Refreshes this instance sent to Kommo. */
  refreshCount = 0;
  lastError: { code: string; message: string; at: number } | undefined;
  private token: HeldToken | undefined;
  private inflight: Promise<string> | undefined;

  constructor(private readonly opts: KommoTokensOptions) {}

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

  /**
   * KOMMO_REFRESH_TOKEN seeds the stored pair once per distinct value. After the relay has refreshed, that
   * value is spent: the stored pair wins over it on every later start. A value never seen before (the
   * operator pasted a new one) replaces the stored pair.
   */
  async seedFromEnvironment(refreshToken: string): Promise<boolean> {
    registerSecret(refreshToken);
    const seedHash = createHash('sha256').update(refreshToken).digest('hex');
    const seeded = await this.opts.connections.seedRefreshToken('kommo', refreshToken, seedHash);
    if (seeded) this.token = undefined;
    this.opts.log.info(seeded ? 'KOMMO_REFRESH_TOKEN seeded the Kommo connection' : 'KOMMO_REFRESH_TOKEN was used before: continuing with the stored Kommo tokens');
    return seeded;
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
    const { connections } = this.opts;
    const deadline = Date.now() + this.opts.leaseMs + 5_000;
    for (;;) {
      const stored = await connections.get('kommo');
      if (!stored?.refreshToken) throw kommoNotConnected();
      if (stored.status === 'lost') throw kommoNotConnected(`Kommo connection lost: ${stored.lastError ?? 'the refresh token was refused.'}`);
      const held = stored.accessToken ? holdToken(stored.accessToken, stored.accessExpiresAt ?? 0) : undefined;
      // A token this process holds, or one another process stored, is used until its own refresh moment.
      const adoptable = held?.value === this.token?.value ? this.token : held;
      if (adoptable && adoptable.value !== rejected && adoptable.expiresAt - Date.now() > MIN_ADOPTABLE_MS && isFresh(adoptable)) {
        this.token = adoptable;
        return adoptable.value;
      }
      if (await connections.claimRefresh('kommo', stored.generation, this.owner, this.opts.leaseMs)) {
        const token = await this.rotate(stored);
        if (token) return token;
        continue; // another process rotated meanwhile: adopt its pair
      }
      if (Date.now() > deadline) {
        throw retryable('kommo_refresh_busy', 'Another relay process has held the Kommo token refresh for too long; will try again.', { service: 'kommo' });
      }
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 100));
    }
  }

  /** Spends the stored refresh token; undefined when the stored row moved on and should be read again. */
  private async rotate(stored: Connection): Promise<string | undefined> {
    const { connections, oauth, log } = this.opts;
    let pair;
    try {
      this.refreshCount++;
      pair = await oauth.refresh(stored.refreshToken!);
    } catch (err) {
      await connections.releaseLease('kommo', this.owner).catch(() => undefined);
      if (!(err instanceof RelayError)) throw err;
      if (err.code !== 'kommo_refresh_refused') {
        this.note(err.code, err.message);
        await connections.recordError('kommo', err.message).catch(() => undefined);
        throw err;
      }
      const now = await connections.get('kommo');
      if (now && now.generation !== stored.generation) return undefined;
      const message = `${err.message}: the Kommo connection is lost. Reconnect Kommo on the /connect page.`;
      await connections.markLost('kommo', stored.generation, message);
      this.note('kommo_connection_lost', message);
      log.error({ code: 'kommo_connection_lost' }, message);
      throw kommoNotConnected(message);
    }
    if (!(await connections.rotate('kommo', stored.generation, this.owner, pair))) {
      log.warn('the Kommo connection was replaced while refreshing; using the stored one');
      return undefined;
    }
    registerSecret(pair.accessToken);
    this.token = holdToken(pair.accessToken, pair.accessExpiresAt, pair.accessExpiresAt - Date.now());
    this.lastError = undefined;
    log.info({ expires_at: new Date(pair.accessExpiresAt).toISOString() }, 'kommo access token refreshed');
    return pair.accessToken;
  }

  private note(code: string, message: string): void {
    this.lastError = { code, message, at: Date.now() };
  }
}
