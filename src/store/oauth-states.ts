// OAuth `state` values between the redirect and the callback. Stored (hashed) rather than kept in memory,
// so a restart between the two still completes the connection; consumed by a single DELETE, so a state
// works once, and only before it expires.
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './db.js';
import type { ConnectionSide } from './schema.js';

const hash = (state: string) => createHash('sha256').update(state).digest('hex');

export class OAuthStates {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new random state for `side`, valid for `ttlMs`. */
  async create(side: ConnectionSide, ttlMs: number): Promise<string> {
    const now = this.now();
    const state = randomBytes(32).toString('base64url');
    await this.db.deleteFrom('oauth_states').where('expires_at', '<=', now).execute();
    await this.db.insertInto('oauth_states').values({ state_hash: hash(state), side, expires_at: now + ttlMs, created_at: now }).execute();
    return state;
  }

  /** True once for a state issued for `side` that has not expired; false for anything else. */
  async consume(side: ConnectionSide, state: string): Promise<boolean> {
    if (!state) return false;
    const result = await this.db
      .deleteFrom('oauth_states')
      .where('state_hash', '=', hash(state))
      .where('side', '=', side)
      .where('expires_at', '>', this.now())
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
