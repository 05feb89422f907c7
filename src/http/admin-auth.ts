// ADMIN_TOKEN guards the admin pages, /connect and /metrics. Scripts send `Authorization: Bearer <token>`;
// a browser logs in once with a form and gets a session cookie: HttpOnly (no script reads it),
// SameSite=Strict (never sent with a request another site starts), Secure whenever the request came over
// HTTPS (req.secure: with TRUST_PROXY, as the proxy says). The cookie holds a random session ID the store
// knows (hashed); logging out deletes it there, so a copied cookie stops working too.
// Wrong tokens are rate-limited (failure-limiter.ts); a cross-site request is refused before any of this
// (same-origin.ts).
import type { NextFunction, Request, Response } from 'express';
import { registerSecret } from '../log.js';
import type { AdminSessions } from '../store/admin-sessions.js';
import { FailureLimiter } from './failure-limiter.js';
import { secretMatches } from './secret.js';

export const SESSION_COOKIE = 'relay_admin';
export const SESSION_MS = 12 * 3600_000;

/** What a token check found: an administrator, nobody, or a client that must wait. */
export interface AdminCheck {
  ok: boolean;
  /** Set when the client must wait before trying a token again. */
  retryAfterMs?: number;
}

export class AdminAuth {
  constructor(
    private readonly token: string,
    private readonly sessions: AdminSessions,
    private readonly limiter: FailureLimiter = new FailureLimiter(),
  ) {}

  /** A token typed into the login form: constant-time, rate-limited per address and overall. */
  checkToken(req: Request, given: string): AdminCheck {
    const address = req.ip ?? 'unknown';
    const wait = this.limiter.blockedFor(address);
    if (wait > 0) return { ok: false, retryAfterMs: wait };
    if (secretMatches(given, this.token)) return { ok: true };
    this.limiter.fail(address);
    return { ok: false };
  }

  async check(req: Request): Promise<AdminCheck> {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (bearer !== undefined) return this.checkToken(req, bearer);
    const session = cookieValue(req.get('cookie'), SESSION_COOKIE);
    if (session && (await this.sessions.isValid(session))) return { ok: true };
    return { ok: false };
  }

  /** Sets the session cookie after a successful login. */
  async startSession(req: Request, res: Response): Promise<void> {
    const id = await this.sessions.create(SESSION_MS);
    registerSecret(id);
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${SESSION_MS / 1000}; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`);
  }

  /** Ends the session on the server and in the browser. */
  async endSession(req: Request, res: Response): Promise<void> {
    const session = cookieValue(req.get('cookie'), SESSION_COOKIE);
    if (session) await this.sessions.revoke(session);
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`);
  }

  /** Middleware: lets administrators through; `refuse` answers everyone else (a login page, or 401 JSON). */
  require(refuse: (req: Request, res: Response) => void) {
    return async (req: Request, res: Response, next: NextFunction) => {
      const result = await this.check(req);
      if (result.ok) return next();
      if (result.retryAfterMs) return tooManyAttempts(res, result.retryAfterMs);
      refuse(req, res);
    };
  }
}

/** 429 for a client that guessed wrong too often. */
export function tooManyAttempts(res: Response, retryAfterMs: number): void {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  res
    .status(429)
    .set('Retry-After', String(seconds))
    .json({ error: 'too_many_attempts', message: `Too many wrong admin tokens: try again in ${seconds} seconds.` });
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
