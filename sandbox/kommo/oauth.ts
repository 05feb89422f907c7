// Kommo's OAuth 2 server as the relay meets it: codes and refresh tokens are single-use, a refresh revokes the
// previous access token too (league/oauth2-server, which Kommo runs, does so), and errors use Kommo's
// OAuthProblemJson. A long-lived token (private integrations) is always valid.
import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';

export interface OAuthConfig {
  longLivedToken: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  initialRefreshToken: string;
  accessTokenTtlSeconds: number;
}

const CODE_TTL_MS = 20 * 60_000; // Kommo's authorization codes live 20 minutes
const REFRESH_TTL_MS = 90 * 24 * 3600_000; // refresh tokens: 3 months

interface AccessToken {
  expiresAt: number;
  revoked: boolean;
}
interface RefreshToken {
  expiresAt: number;
  used: boolean;
  accessToken: string | null;
}

export class TokenStore {
  readonly access = new Map<string, AccessToken>();
  readonly refresh = new Map<string, RefreshToken>();
  readonly codes = new Map<string, { expiresAt: number; used: boolean }>();
  constructor(private cfg: OAuthConfig) {
    this.refresh.set(cfg.initialRefreshToken, { expiresAt: Date.now() + REFRESH_TTL_MS, used: false, accessToken: null });
  }

  isValid(token: string): boolean {
    if (token === this.cfg.longLivedToken) return true;
    const t = this.access.get(token);
    return !!t && !t.revoked && t.expiresAt > Date.now();
  }

  issueAuthCode(): string {
    const code = `def50200${randomBytes(24).toString('hex')}`;
    this.codes.set(code, { expiresAt: Date.now() + CODE_TTL_MS, used: false });
    return code;
  }

  /** Makes every OAuth access token expire now (tests of "401 -> refresh once -> retry"). */
  expireAccessTokens(): void {
    for (const t of this.access.values()) t.expiresAt = 0;
  }

  /** Issues a fresh pair; tests and the demo may also call it to start with valid tokens. */
  issuePair(): { token_type: 'Bearer'; expires_in: number; access_token: string; refresh_token: string } {
    const access = `kommo-at-${randomBytes(24).toString('hex')}`;
    const refresh = `kommo-rt-${randomBytes(24).toString('hex')}`;
    this.access.set(access, { expiresAt: Date.now() + this.cfg.accessTokenTtlSeconds * 1000, revoked: false });
    this.refresh.set(refresh, { expiresAt: Date.now() + REFRESH_TTL_MS, used: false, accessToken: access });
    return { token_type: 'Bearer', expires_in: this.cfg.accessTokenTtlSeconds, access_token: access, refresh_token: refresh };
  }

  router(onRefresh: () => void): Router {
    const r = Router();
    r.post('/oauth2/access_token', (req, res) => this.grant(req, res, onRefresh));
    return r;
  }

  private grant(req: Request, res: Response, onRefresh: () => void): void {
    const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    if (b.client_id !== this.cfg.clientId || b.client_secret !== this.cfg.clientSecret) {
      return fail(res, 401, 'Invalid client', 'Client authentication failed');
    }
    if (b.grant_type === 'authorization_code') {
      const code = typeof b.code === 'string' ? this.codes.get(b.code) : undefined;
      if (!code) return fail(res, 400, 'Invalid request', 'Cannot decrypt the authorization code');
      if (code.used) return fail(res, 400, 'Invalid request', 'Authorization code has been revoked');
      if (code.expiresAt <= Date.now()) return fail(res, 400, 'Invalid request', 'Authorization code has expired');
      if (b.redirect_uri !== this.cfg.redirectUri) return fail(res, 400, 'Invalid request', 'Invalid redirect URI');
      code.used = true;
      res.status(200).json(this.issuePair());
      return;
    }
    if (b.grant_type === 'refresh_token') {
      const rt = typeof b.refresh_token === 'string' ? this.refresh.get(b.refresh_token) : undefined;
      if (!rt) return fail(res, 401, 'Invalid request', 'Cannot decrypt the refresh token');
      // Real Kommo puts this text in `hint` with a generic `detail`; both carry it here.
      if (rt.used) return fail(res, 401, 'Invalid request', 'Token has been revoked');
      if (rt.expiresAt <= Date.now()) return fail(res, 401, 'Invalid request', 'Token has expired');
      rt.used = true;
      if (rt.accessToken) {
        const old = this.access.get(rt.accessToken);
        if (old) old.revoked = true;
      }
      onRefresh();
      res.status(200).json(this.issuePair());
      return;
    }
    fail(res, 400, 'Invalid request', 'The authorization grant type is not supported by the authorization server.');
  }
}

function fail(res: Response, status: number, title: string, detail: string): void {
  const body = { hint: detail, title, type: 'https://developers.amocrm.ru/v3/errors/OAuthProblemJson', status, detail };
  res.status(status).type('application/problem+json').send(JSON.stringify(body));
}
