// Kommo's OAuth protocol: the consent URL, the check that a callback's `referer` is our own account (the code
// is exchanged there, with our client secret), and the token endpoint for both grants.
import axios from 'axios';
import { permanent, retryable, type RelayError } from '../errors.js';
import { registerSecret } from '../log.js';
import type { TokenPair } from '../store/connections.js';

/** Kommo refresh tokens last three months from issue (kommo.md, Auth). */
const REFRESH_TOKEN_LIFETIME_MS = 90 * 24 * 3600_000;

export function kommoAuthorizeUrl(authorizeUrl: string, p: { clientId: string; state: string }): string {
  const url = new URL(authorizeUrl);
  // post_message: the consent opens in this window and comes back to the redirect URI in it (unconfirmed beyond amoCRM's docs).
  url.search = new URLSearchParams({ client_id: p.clientId, state: p.state, mode: 'post_message' }).toString();
  return url.toString();
}

/** True when `referer` (e.g. `acme.kommo.com`, as Kommo sends it) names the host of KOMMO_BASE_URL. */
export function refererIsOurAccount(referer: string | undefined, baseUrl: string): boolean {
  if (!referer) return false;
  const host = referer.replace(/^https?:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  return host !== '' && host === new URL(baseUrl).host.toLowerCase();
}

export interface KommoOAuthOptions {
  /** KOMMO_BASE_URL: the token endpoint is the account's own `/oauth2/access_token`. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  timeoutMs: number;
}

interface KommoTokenBody {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  title?: string;
  detail?: string;
  hint?: string;
}

export class KommoOAuth {
  constructor(private readonly opts: KommoOAuthOptions) {}

  exchangeCode(code: string): Promise<TokenPair> {
    return this.grant({ grant_type: 'authorization_code', code }, 'code');
  }

  /** Spends `refreshToken` (single use): the caller must persist the returned pair before using it. */
  refresh(refreshToken: string): Promise<TokenPair> {
    return this.grant({ grant_type: 'refresh_token', refresh_token: refreshToken }, 'refresh');
  }

  private async grant(params: Record<string, string>, kind: 'code' | 'refresh'): Promise<TokenPair> {
    let status: number;
    let body: KommoTokenBody;
    try {
      const res = await axios.post<KommoTokenBody>(
        `${this.opts.baseUrl}/oauth2/access_token`,
        { client_id: this.opts.clientId, client_secret: this.opts.clientSecret, redirect_uri: this.opts.redirectUri, ...params },
        { timeout: this.opts.timeoutMs, validateStatus: () => true, maxRedirects: 0, headers: { 'Content-Type': 'application/json', Accept: 'application/json' } },
      );
      status = res.status;
      body = typeof res.data === 'object' && res.data ? res.data : {};
    } catch (err) {
      throw retryable('kommo_oauth_unreachable', `Kommo's token endpoint (${this.opts.baseUrl}/oauth2/access_token) did not answer; will try again.`, { cause: err, service: 'kommo' });
    }
    if (status >= 200 && status < 300 && body.access_token && body.refresh_token) {
      registerSecret(body.access_token);
      registerSecret(body.refresh_token);
      const now = Date.now();
      return {
        accessToken: body.access_token,
        accessExpiresAt: now + (body.expires_in ?? 86_400) * 1000,
        refreshToken: body.refresh_token,
        refreshExpiresAt: now + REFRESH_TOKEN_LIFETIME_MS,
      };
    }
    throw refusal(kind, status, body);
  }
}

function refusal(kind: 'code' | 'refresh', status: number, body: KommoTokenBody): RelayError {
  const reason = body.hint ?? body.detail ?? body.title ?? `HTTP ${status}`;
  const opts = { status, service: 'kommo' as const };
  if (status === 429 || status >= 500 || (status >= 200 && status < 300)) {
    return retryable('kommo_oauth_unavailable', `Kommo's token endpoint answered ${status} (${reason}); will try again.`, opts);
  }
  // Client authentication is checked before the grant: a refresh token refused this way is not spent.
  if (/invalid client|client authentication/i.test(`${body.title ?? ''} ${body.detail ?? ''}`)) {
    return retryable('kommo_oauth_invalid_client', 'Kommo refused the integration credentials: check KOMMO_CLIENT_ID and KOMMO_CLIENT_SECRET (Kommo > Settings > Integrations > your integration > Keys).', {
      ...opts,
      retryAfterMs: 5 * 60_000,
    });
  }
  if (kind === 'code') {
    return permanent('kommo_code_refused', `Kommo refused the authorization code (${reason}): a code works once and for 20 minutes, and KOMMO_REDIRECT_URI must equal the integration's redirect URI. Connect again.`, opts);
  }
  return permanent('kommo_refresh_refused', `Kommo refused the refresh token (${reason})`, opts);
}
