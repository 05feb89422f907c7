// Kommo OAuth tokens: single-use refresh tokens, rotated by the one provider-neutral rotation
// (src/oauth/rotating-tokens.ts: single-flight, cross-process lease, the new pair stored before use, a
// refused refresh re-read before the connection is declared lost). What is Kommo's own: the refresh call,
// which refusal means "reconnect", and seeding the stored pair from KOMMO_REFRESH_TOKEN.
import { createHash } from 'node:crypto';
import { retryable } from '../errors.js';
import { registerSecret, type Logger } from '../log.js';
import { RotatingTokens, rotateThenPersist } from '../oauth/rotating-tokens.js';
import type { Connections } from '../store/connections.js';
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

export class KommoTokens extends RotatingTokens<'kommo'> {
  private readonly connections: Connections;
  private readonly log: Logger;

  constructor(opts: KommoTokensOptions) {
    super({
      side: 'kommo',
      label: 'Kommo',
      store: opts.connections,
      rotate: rotateThenPersist((refreshToken) => opts.oauth.refresh(refreshToken)),
      isRefusal: (err) => err.code === 'kommo_refresh_refused',
      notConnected: kommoNotConnected,
      log: opts.log,
      leaseMs: opts.leaseMs,
      ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    });
    this.connections = opts.connections;
    this.log = opts.log;
  }

  /**
   * KOMMO_REFRESH_TOKEN seeds the stored pair once per distinct value. After the relay has refreshed, that
   * value is spent: the stored pair wins over it on every later start. A value never seen before (the
   * operator pasted a new one) replaces the stored pair.
   */
  async seedFromEnvironment(refreshToken: string): Promise<boolean> {
    registerSecret(refreshToken);
    const seedHash = createHash('sha256').update(refreshToken).digest('hex');
    const seeded = await this.connections.seedRefreshToken('kommo', refreshToken, seedHash);
    if (seeded) this.reset();
    this.log.info(seeded ? 'KOMMO_REFRESH_TOKEN seeded the Kommo connection' : 'KOMMO_REFRESH_TOKEN was used before: continuing with the stored Kommo tokens');
    return seeded;
  }
}
