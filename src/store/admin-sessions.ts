// Admin sessions on the server, so that logging out (or a stolen cookie being revoked) really ends one.
// The cookie carries 32 random bytes; the store keeps HMAC-SHA256(ADMIN_TOKEN, id), so a copy of the
// database yields no usable cookie and changing ADMIN_TOKEN ends every session at once.
import { createHmac, randomBytes } from 'node:crypto';
import type { Db } from './db.js';

export class AdminSessions {
  constructor(
    private readonly db: Db,
    private readonly key: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session valid for `ttlMs`; returns the ID for the cookie. Expired sessions are pruned on the way. */
  async create(ttlMs: number): Promise<string> {
    const now = this.now();
    const id = randomBytes(32).toString('base64url');
    await this.pruneExpired();
    await this.db.insertInto('admin_sessions').values({ id_hash: this.hash(id), expires_at: now + ttlMs, created_at: now }).execute();
    return id;
  }

  async isValid(id: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return false;
    const row = await this.db.selectFrom('admin_sessions').select('expires_at').where('id_hash', '=', this.hash(id)).executeTakeFirst();
    return row !== undefined && Number(row.expires_at) > this.now();
  }

  async revoke(id: string): Promise<void> {
    await this.db.deleteFrom('admin_sessions').where('id_hash', '=', this.hash(id)).execute();
  }

  /** Deletes every expired session; returns how many. */
  async pruneExpired(): Promise<number> {
    const result = await this.db.deleteFrom('admin_sessions').where('expires_at', '<=', this.now()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private hash(id: string): string {
    return createHmac('sha256', this.key).update(`relay-admin-session:${id}`).digest('base64url');
  }
}
