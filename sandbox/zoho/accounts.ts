// Zoho Accounts (OAuth 2) on the same port: authorize, token (refresh and authorization-code grants),
// revoke. Like the real server it answers most errors with HTTP 200 and `{"error": …}` (clients must
// look for access_token, not the status), caps access tokens per refresh token per window, and keeps
// at most 20 refresh tokens (the 21st silently deletes the oldest).
import express, { type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import { WindowRateLimiter } from '../common.js';
import type { ZohoState } from './state.js';

export interface AccountsOptions {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  scope: string;
  accessTokenTtlSeconds: number;
  dc: string;
  tokenMintLimit: { limit: number; windowMs: number };
  publicUrl?: string;
}

interface AccessToken {
  /** Undefined for an online grant (authorization code without access_type=offline). */
  refreshToken: string | undefined;
  scopes: string[];
  expiresAt: number;
}

const CODE_TTL_MS = 60_000;
const MAX_REFRESH_TOKENS = 20;

export const zohoToken = () => `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;

export function baseUrlOf(req: Request, publicUrl?: string): string {
  return publicUrl ?? `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;
}

export class ZohoAccounts {
  /** Refresh token -> scope, in creation order (Map keeps it) so the oldest can be evicted. */
  readonly refreshTokens = new Map<string, { scope: string; createdAt: number }>();
  readonly accessTokens = new Map<string, AccessToken>();
  private codes = new Map<string, { redirectUri: string; scope: string; offline: boolean; expiresAt: number }>();
  private mintLimiter: WindowRateLimiter;

  constructor(
    private readonly opts: AccountsOptions,
    private readonly state: ZohoState,
  ) {
    this.refreshTokens.set(opts.refreshToken, { scope: opts.scope, createdAt: Date.now() });
    this.mintLimiter = new WindowRateLimiter(opts.tokenMintLimit.limit, opts.tokenMintLimit.windowMs);
  }

  /** Scopes of a live access token, or undefined for a missing, unknown or expired one. */
  authenticate(accessToken: string | undefined): string[] | undefined {
    if (!accessToken) return undefined;
    const t = this.accessTokens.get(accessToken);
    if (!t || t.expiresAt <= Date.now()) return undefined;
    if (t.refreshToken !== undefined && !this.refreshTokens.has(t.refreshToken)) return undefined; // revoked
    return t.scopes;
  }

  expireAccessTokens(): void {
    for (const t of this.accessTokens.values()) t.expiresAt = 0;
  }

  router(): express.Router {
    const r = express.Router();
    r.get('/v2/auth', (req, res) => this.authorize(req, res));
    r.post('/v2/token', (req, res) => this.token(req, res));
    r.post('/v2/token/revoke', (req, res) => this.revoke(req, res));
    return r;
  }

  /** Consent is implied: the fake redirects straight back, as a user clicking "Accept" would. */
  private authorize(req: Request, res: Response): void {
    const p = params(req);
    if (p.client_id !== this.opts.clientId) {
      res.status(400).json({ error: 'invalid_client' });
      return;
    }
    if (p.response_type !== 'code' || !p.redirect_uri) {
      res.status(400).json({ error: 'invalid_request' });
      return;
    }
    if (!p.scope) {
      res.status(400).json({ error: 'invalid_scope' });
      return;
    }
    const code = zohoToken();
    this.codes.set(code, {
      redirectUri: p.redirect_uri,
      scope: p.scope,
      offline: p.access_type === 'offline',
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    let target: URL;
    try {
      target = new URL(p.redirect_uri);
    } catch {
      res.status(400).json({ error: 'invalid_redirect_uri' });
      return;
    }
    target.searchParams.set('code', code);
    target.searchParams.set('location', this.opts.dc);
    target.searchParams.set('accounts-server', baseUrlOf(req, this.opts.publicUrl));
    if (p.state !== undefined) target.searchParams.set('state', p.state);
    res.redirect(302, target.toString());
  }

  private token(req: Request, res: Response): void {
    const p = params(req);
    if (p.grant_type !== 'refresh_token' && p.grant_type !== 'authorization_code') {
      res.json({ error: 'unsupported_grant_type' });
      return;
    }
    if (p.client_id !== this.opts.clientId || p.client_secret !== this.opts.clientSecret) {
      res.json({ error: 'invalid_client' });
      return;
    }
    let refreshToken: string | undefined;
    let scope: string;
    let limiterKey: string;
    if (p.grant_type === 'refresh_token') {
      const known = p.refresh_token ? this.refreshTokens.get(p.refresh_token) : undefined;
      if (!known) {
        res.json({ error: 'invalid_code' });
        return;
      }
      refreshToken = p.refresh_token!;
      scope = known.scope;
      limiterKey = refreshToken;
    } else {
      const code = p.code ? this.codes.get(p.code) : undefined;
      if (!code || code.expiresAt <= Date.now()) {
        if (p.code) this.codes.delete(p.code);
        res.json({ error: 'invalid_code' });
        return;
      }
      if (p.redirect_uri !== code.redirectUri) {
        res.json({ error: 'invalid_redirect_uri' });
        return;
      }
      this.codes.delete(p.code!); // single use
      refreshToken = code.offline ? this.addRefreshToken(code.scope) : undefined;
      scope = code.scope;
      limiterKey = refreshToken ?? p.code!;
    }
    if (!this.mintLimiter.take(limiterKey).allowed) {
      res.status(400).json({
        error: 'Access Denied',
        error_description: 'You have made too many requests continuously. Please try again after some time.',
      });
      return;
    }
    const accessToken = zohoToken();
    this.accessTokens.set(accessToken, {
      refreshToken,
      scopes: scope.split(/[,\s]+/).filter(Boolean),
      expiresAt: Date.now() + this.opts.accessTokenTtlSeconds * 1000,
    });
    this.state.tokenGrants += 1;
    res.json({
      access_token: accessToken,
      ...(p.grant_type === 'authorization_code' && refreshToken ? { refresh_token: refreshToken } : {}),
      scope,
      api_domain: baseUrlOf(req, this.opts.publicUrl),
      token_type: 'Bearer',
      expires_in: this.opts.accessTokenTtlSeconds,
    });
  }

  private revoke(req: Request, res: Response): void {
    const token = params(req).token;
    if (!token || !this.refreshTokens.delete(token)) {
      res.json({ error: 'invalid_token' });
      return;
    }
    for (const [k, t] of this.accessTokens) if (t.refreshToken === token) this.accessTokens.delete(k);
    res.json({ status: 'success' });
  }

  private addRefreshToken(scope: string): string {
    const token = zohoToken();
    this.refreshTokens.set(token, { scope, createdAt: Date.now() });
    while (this.refreshTokens.size > MAX_REFRESH_TOKENS) {
      const oldest = this.refreshTokens.keys().next().value as string;
      this.refreshTokens.delete(oldest);
    }
    return token;
  }
}

/** Zoho reads OAuth parameters from the query string or a form body; the body wins. */
function params(req: Request): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const sources = [req.query as Record<string, unknown>, (req.body ?? {}) as Record<string, unknown>];
  for (const src of sources)
    for (const [k, v] of Object.entries(src)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Does a token's scope list cover `module` and `operation` (READ, CREATE, UPDATE, DELETE)? */
export function scopeAllows(scopes: string[], module: string, operation: string): boolean {
  const wanted = new Set(['zohobooks.fullaccess.all', `zohobooks.${module}.all`, `zohobooks.${module}.${operation}`.toLowerCase()]);
  return scopes.some((s) => wanted.has(s.toLowerCase()));
}
