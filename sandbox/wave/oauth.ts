// Wave's OAuth 2 (OAuth Guide; reference "Auth"): GET /oauth2/authorize/ (client_id, response_type=code,
// space-separated scope, redirect_uri, state, approval_prompt, businessId pinning one business) redirects back
// with `code` and `state`; POST /oauth2/token/ takes a form (client_id, client_secret, grant_type
// authorization_code|refresh_token, code|refresh_token, redirect_uri) and answers {access_token, token_type,
// expires_in, refresh_token, scope}. Refresh tokens rotate (unconfirmed, modelled): each refresh returns a new
// one and the one used is refused afterwards (`invalid_grant`). Full Access Tokens never expire. The trailing
// slashes are part of the paths (a path without one is 404 here).
import { randomBytes } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { AuthProblem, Grant } from './access.js';
import { WAVE_RESOURCES } from './options.js';
import type { WaveState } from './state.js';

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  redirectUris?: string[];
  accessTokenTtlSeconds: number;
  refreshGraceSeconds: number;
  consent: 'grant' | 'deny';
}

export interface TokenPair {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

interface AccessToken extends Grant {
  expiresMs?: number;
}

interface RefreshToken {
  scope: string;
  businessId?: string;
  usedMs?: number;
}

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

/** A scope Wave lists: `resource:read|write|*` or `invoice:send` / `estimate:send`. */
function knownScope(s: string): boolean {
  const m = /^([a-z_]{1,20}):(read|write|\*|send)$/.exec(s);
  if (!m || !WAVE_RESOURCES.includes(m[1]!)) return false;
  return m[2] !== 'send' || m[1] === 'invoice' || m[1] === 'estimate';
}

export class WaveOAuth {
  readonly accessTokens = new Map<string, AccessToken>();
  readonly refreshTokens = new Map<string, RefreshToken>();
  private readonly codes = new Map<string, { redirectUri: string; scope: string; businessId?: string; expiresMs: number }>();
  /** Every /oauth2/token/ answer, for tests counting refreshes. */
  readonly grants: Array<{ at: number; grantType: string; ok: boolean; error?: string }> = [];
  /** Every authorize request's parameters (tests check what the relay asked for). */
  readonly authorizations: Array<Record<string, string>> = [];

  constructor(
    readonly settings: OAuthSettings,
    private readonly state: WaveState,
    private readonly now: () => number,
  ) {}

  /** The grant behind an Authorization header, or why there is none. */
  authenticate(header: string | undefined): { grant?: Grant; problem?: AuthProblem } {
    const m = /^Bearer\s+(\S{1,512})$/i.exec(header ?? '');
    if (!m) return { problem: 'missing' };
    const t = this.accessTokens.get(m[1]!);
    if (!t) return { problem: 'invalid' };
    if (t.expiresMs !== undefined && t.expiresMs <= this.now()) return { problem: 'expired' };
    return { grant: { kind: t.kind, scope: t.scope, ...(t.businessId ? { businessId: t.businessId } : {}) } };
  }

  /** A Full Access Token: acts as the user on every business, never expires. */
  addFullAccessToken(value: string): void {
    this.accessTokens.set(value, { kind: 'full', scope: '*' });
  }

  /** A token pair as if a consent had just been given (tests and demos skip the browser). */
  issue(scope: string, businessId?: string): TokenPair {
    const access = token(30);
    this.accessTokens.set(access, { kind: 'oauth', scope, expiresMs: this.now() + this.settings.accessTokenTtlSeconds * 1000, ...(businessId ? { businessId } : {}) });
    const refresh = token(30);
    this.refreshTokens.set(refresh, { scope, ...(businessId ? { businessId } : {}) });
    return { access_token: access, token_type: 'Bearer', expires_in: this.settings.accessTokenTtlSeconds, refresh_token: refresh, scope };
  }

  expireAccessTokens(): void {
    for (const t of this.accessTokens.values()) if (t.kind === 'oauth') t.expiresMs = 0;
  }

  router(): express.Router {
    const r = express.Router({ strict: true, caseSensitive: true });
    r.get('/oauth2/authorize/', (req, res) => this.authorize(req, res));
    r.post('/oauth2/token/', express.urlencoded({ extended: false, limit: '16kb' }), (req, res) => this.token(req, res));
    return r;
  }

  private authorize(req: Request, res: Response): void {
    const q: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') q[k] = v.slice(0, 2000);
    this.authorizations.push(q);
    const registered = this.settings.redirectUris;
    if (q.client_id !== this.settings.clientId || !q.redirect_uri || !/^https?:\/\//.test(q.redirect_uri) || (registered && !registered.includes(q.redirect_uri))) {
      // No redirect to an unverified address: Wave shows an error page.
      res.status(400).type('text/plain').send('Invalid client_id or redirect_uri.');
      return;
    }
    const back = new URL(q.redirect_uri);
    const fail = (error: string) => {
      back.searchParams.set('error', error);
      if (q.state !== undefined) back.searchParams.set('state', q.state);
      res.redirect(302, back.toString());
    };
    if (q.response_type !== 'code') return fail('unsupported_response_type');
    const scopes = (q.scope ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0 || !scopes.every(knownScope)) return fail('invalid_scope');
    if (q.approval_prompt !== undefined && q.approval_prompt !== 'auto' && q.approval_prompt !== 'force') return fail('invalid_request');
    if (q.businessId !== undefined && !this.state.businesses.has(q.businessId)) return fail('invalid_request');
    if (this.settings.consent === 'deny') return fail('access_denied');
    const code = token(24);
    this.codes.set(code, { redirectUri: q.redirect_uri, scope: scopes.join(' '), ...(q.businessId ? { businessId: q.businessId } : {}), expiresMs: this.now() + 10 * 60_000 });
    back.searchParams.set('code', code);
    if (q.state !== undefined) back.searchParams.set('state', q.state);
    res.redirect(302, back.toString());
  }

  private refresh(presented: string): TokenPair | string {
    const rt = this.refreshTokens.get(presented);
    const now = this.now();
    if (!rt) return 'invalid_grant';
    if (rt.usedMs !== undefined && now - rt.usedMs >= this.settings.refreshGraceSeconds * 1000) return 'invalid_grant';
    rt.usedMs ??= now;
    return this.issue(rt.scope, rt.businessId);
  }

  private token(req: Request, res: Response): void {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    const grantType = String(body.grant_type ?? '').slice(0, 40);
    const fail = (status: number, error: string, description: string) => {
      this.grants.push({ at: this.now(), grantType, ok: false, error });
      res.status(status).json({ error, error_description: description });
    };
    if (body.client_id !== this.settings.clientId || body.client_secret !== this.settings.clientSecret) return fail(401, 'invalid_client', 'Invalid client_id or client_secret (sent as form fields).');
    let result: TokenPair | string;
    if (grantType === 'authorization_code') {
      const code = this.codes.get(body.code ?? '');
      this.codes.delete(body.code ?? '');
      result = !code || code.expiresMs <= this.now() || code.redirectUri !== body.redirect_uri ? 'invalid_grant' : this.issue(code.scope, code.businessId);
    } else if (grantType === 'refresh_token') {
      result = this.refresh(body.refresh_token ?? '');
    } else return fail(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token.');
    if (typeof result === 'string') return fail(400, result, grantType === 'refresh_token' ? 'The refresh token is unknown or was already used.' : 'The code is unknown, used, expired, or for another redirect_uri.');
    this.grants.push({ at: this.now(), grantType, ok: true });
    res.set('Cache-Control', 'no-store').json(result);
  }
}
