// ADMIN_TOKEN guards the connection page. Scripts send `Authorization: Bearer <token>`; a browser logs in
// once with a form and gets a session cookie: HttpOnly (no script reads it), SameSite=Strict (never sent
// with a request another site starts, which is what protects the page's forms), Secure over HTTPS. The
// cookie is not the token itself but an expiring HMAC keyed by it, so changing ADMIN_TOKEN ends every session.
import { createHmac } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { registerSecret } from '../log.js';
import { secretMatches } from './secret.js';

export const SESSION_COOKIE = 'relay_admin';
const SESSION_MS = 12 * 3600_000;

export class AdminAuth {
  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Constant-time check of a token typed into the login form. */
  tokenMatches(given: string): boolean {
    return secretMatches(given, this.token);
  }

  isAdmin(req: Request): boolean {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (bearer !== undefined) return this.tokenMatches(bearer);
    const session = cookieValue(req.get('cookie'), SESSION_COOKIE);
    if (!session) return false;
    const [expires, mac] = session.split('.');
    if (!expires || !mac || !/^\d+$/.test(expires) || Number(expires) <= this.now()) return false;
    return secretMatches(mac, this.mac(expires));
  }

  /** Sets the session cookie after a successful login. */
  startSession(req: Request, res: Response): void {
    const expires = String(this.now() + SESSION_MS);
    const value = `${expires}.${this.mac(expires)}`;
    registerSecret(value);
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${SESSION_MS / 1000}; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`);
  }

  endSession(req: Request, res: Response): void {
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`);
  }

  /** Middleware: lets administrators through; `refuse` answers everyone else (a login page, or 401 JSON). */
  require(refuse: (req: Request, res: Response) => void) {
    return (req: Request, res: Response, next: NextFunction) => (this.isAdmin(req) ? next() : refuse(req, res));
  }

  private mac(expires: string): string {
    return createHmac('sha256', this.token).update(`relay-admin-session:${expires}`).digest('base64url');
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
