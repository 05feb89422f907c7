// Xero's identity server: authorize (redirect back with code and state), POST /connect/token
// (authorization_code and refresh_token grants, client credentials as HTTP Basic), GET/DELETE /connections.
// Access tokens live 30 minutes; every refresh returns a NEW refresh token, and the one just used keeps
// working for a 30-minute grace (in case the answer was lost), after which it is `invalid_grant`; an unused
// refresh token dies after 60 days (developer.xero.com/faq/oauth2, shared/reference/xero.md "OAuth 2.0").
import { randomBytes, randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { XeroState } from './state.js';
import type { Clock } from './time.js';

export interface IdentityOptions {
  clientId: string;
  clientSecret: string;
  accessTokenTtlSeconds: number;
  refreshGraceSeconds: number;
  refreshTokenTtlDays: number;
  /** Scopes the app may not request (answered `invalid_scope`), e.g. accounting.transactions for apps from March 2026. */
  refusedScopes: string[];
}

interface RefreshToken {
  scope: string;
  issuedMs: number;
  usedMs?: number;
}

export interface TokenPair {
  access_token: string;
  expires_in: number;
  token_type: 'Bearer';
  refresh_token?: string;
  scope: string;
}

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

export class XeroIdentity {
  readonly accessTokens = new Map<string, { expiresMs: number; scope: string }>();
  readonly refreshTokens = new Map<string, RefreshToken>();
  private readonly codes = new Map<string, { redirectUri: string; scope: string; expiresMs: number }>();
  /** Every /connect/token answer, for tests counting refreshes. */
  readonly grants: Array<{ at: number; grantType: string; ok: boolean; error?: string }> = [];

  constructor(
    readonly opts: IdentityOptions,
    private readonly state: XeroState,
    private readonly clock: Clock,
  ) {}

  /** 'ok', or why a Bearer token is refused. */
  authenticate(header: string | undefined): 'ok' | 'missing' | 'invalid' | 'expired' {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) return 'missing';
    const t = this.accessTokens.get(m[1]!);
    if (!t) return 'invalid';
    return t.expiresMs <= this.clock.now() ? 'expired' : 'ok';
  }

  /** The scopes the Bearer token in `header` was granted ([] for none). */
  scopesOf(header: string | undefined): string[] {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    return (m ? this.accessTokens.get(m[1]!)?.scope ?? '' : '').split(/\s+/).filter(Boolean);
  }

  /** A token pair as if a consent had just been given (tests and demos skip the browser). */
  issue(scope: string): TokenPair {
    const now = this.clock.now();
    const access = token(48);
    this.accessTokens.set(access, { expiresMs: now + this.opts.accessTokenTtlSeconds * 1000, scope });
    const pair: TokenPair = { access_token: access, expires_in: this.opts.accessTokenTtlSeconds, token_type: 'Bearer', scope };
    if (scope.split(/\s+/).includes('offline_access')) {
      pair.refresh_token = token(32);
      this.refreshTokens.set(pair.refresh_token, { scope, issuedMs: now });
    }
    return pair;
  }

  expireAccessTokens(): void {
    for (const t of this.accessTokens.values()) t.expiresMs = 0;
  }

  /** Connects every organisation under a new auth event (the user ticked them all on the consent screen). */
  connectAll(): string {
    const authEventId = randomUUID();
    const now = this.clock.now();
    for (const tenant of this.state.tenants.values()) {
      const existing = [...this.state.connections.values()].find((c) => c.tenantId === tenant.tenantId);
      if (existing) existing.authEventId = authEventId;
      else {
        const id = randomUUID();
        this.state.connections.set(id, { id, tenantId: tenant.tenantId, authEventId, createdMs: now });
      }
    }
    return authEventId;
  }

  private refresh(presented: string): TokenPair | string {
    const rt = this.refreshTokens.get(presented);
    const now = this.clock.now();
    if (!rt) return 'invalid_grant';
    if (rt.usedMs === undefined && now - rt.issuedMs > this.opts.refreshTokenTtlDays * 86_400_000) return 'invalid_grant';
    if (rt.usedMs !== undefined && now - rt.usedMs > this.opts.refreshGraceSeconds * 1000) return 'invalid_grant';
    rt.usedMs ??= now;
    return this.issue(rt.scope);
  }

  private clientOk(req: Request): boolean {
    const m = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 && decoded.slice(0, colon) === this.opts.clientId && decoded.slice(colon + 1) === this.opts.clientSecret;
  }

  router(): express.Router {
    const r = express.Router();
    r.get('/identity/connect/authorize', (req, res) => this.authorize(req, res));
    r.post('/connect/token', express.urlencoded({ extended: false, limit: '16kb' }), (req, res) => this.token(req, res));
    r.get('/connections', (req, res) => {
      if (this.authenticate(req.get('authorization')) !== 'ok') return void res.status(401).json({ Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' });
      const authEventId = typeof req.query.authEventId === 'string' ? req.query.authEventId : undefined;
      const list = [...this.state.connections.values()].filter((c) => !authEventId || c.authEventId === authEventId);
      res.json(
        list.map((c) => ({
          id: c.id,
          authEventId: c.authEventId,
          tenantId: c.tenantId,
          tenantType: 'ORGANISATION',
          tenantName: this.state.tenants.get(c.tenantId)?.name ?? '',
          createdDateUtc: new Date(c.createdMs).toISOString(),
          updatedDateUtc: new Date(c.createdMs).toISOString(),
        })),
      );
    });
    r.delete('/connections/:id', (req, res) => {
      if (this.authenticate(req.get('authorization')) !== 'ok') return void res.status(401).json({ Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' });
      if (!this.state.connections.delete(String(req.params.id))) return void res.status(404).end();
      res.status(204).end();
    });
    return r;
  }

  private authorize(req: Request, res: Response): void {
    const q = req.query as Record<string, string | undefined>;
    if (q.client_id !== this.opts.clientId || !q.redirect_uri || q.response_type !== 'code') {
      res.status(400).type('text/plain').send('unauthorized_client: unknown client_id, or no redirect_uri, or response_type is not code');
      return;
    }
    const back = new URL(q.redirect_uri);
    if (q.state !== undefined) back.searchParams.set('state', q.state);
    const scope = (q.scope ?? '').trim();
    const refused = scope.split(/\s+/).filter((s) => this.opts.refusedScopes.includes(s));
    if (refused.length > 0) {
      back.searchParams.set('error', 'invalid_scope');
      return void res.redirect(302, back.toString());
    }
    const code = token(32);
    this.codes.set(code, { redirectUri: q.redirect_uri, scope, expiresMs: this.clock.now() + 5 * 60_000 });
    this.connectAll();
    back.searchParams.set('code', code);
    back.searchParams.set('scope', scope);
    res.redirect(302, back.toString());
  }

  private token(req: Request, res: Response): void {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    const grantType = String(body.grant_type ?? '');
    const fail = (status: number, error: string) => {
      this.grants.push({ at: this.clock.now(), grantType, ok: false, error });
      res.status(status).json({ error });
    };
    if (!this.clientOk(req)) return fail(401, 'invalid_client');
    let result: TokenPair | string;
    if (grantType === 'authorization_code') {
      const code = this.codes.get(body.code ?? '');
      this.codes.delete(body.code ?? '');
      result = !code || code.expiresMs <= this.clock.now() || code.redirectUri !== body.redirect_uri ? 'invalid_grant' : this.issue(code.scope);
    } else if (grantType === 'refresh_token') {
      result = this.refresh(body.refresh_token ?? '');
    } else return fail(400, 'unsupported_grant_type');
    if (typeof result === 'string') return fail(400, result);
    this.grants.push({ at: this.clock.now(), grantType, ok: true });
    res.set('Cache-Control', 'no-store').json(result);
  }
}
