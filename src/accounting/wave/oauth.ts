// Wave's OAuth 2.0 (authorization code): the consent URL, the code exchange and the refresh at
// /oauth2/token/ (client id and secret in the form, as Wave's OAuth Guide shows; trailing slashes kept).
// Refresh tokens are taken to rotate (second-hand): each refresh's new pair is stored before it is used,
// through the shared RotatingTokens (single-flight, cross-process lease). A Full Access Token
// (WAVE_ACCESS_TOKEN) needs none of this: fullAccessToken() is its token source.
import axios from 'axios';
import { permanent, retryable, type RelayError } from '../../errors.js';
import { registerSecret, type Logger } from '../../log.js';
import { RotatingTokens, type RotatedPair, type RotateGrant, type RotationStore } from '../../oauth/rotating-tokens.js';
import type { WaveTokenSource } from './client.js';
import { WAVE_AUTHORIZE_URL, WAVE_DEFAULT_SCOPES, WAVE_TOKEN_URL } from './settings.js';

export interface WaveOAuthOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  timeoutMs: number;
  scopes?: readonly string[];
  authorizeUrl?: string;
  tokenUrl?: string;
}

interface TokenAnswer {
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/** Wave's access tokens live about two hours (second-hand); `expires_in` says, when given. */
const DEFAULT_EXPIRES_IN_S = 7200;

export class WaveOAuth {
  constructor(private readonly opts: WaveOAuthOptions) {
    if (opts.clientSecret) registerSecret(opts.clientSecret);
  }

  /** Where the administrator is sent to consent; `state` comes back on the callback. */
  authorizeUrl(state: string, businessId?: string): string {
    const url = new URL(this.opts.authorizeUrl ?? WAVE_AUTHORIZE_URL);
    url.search = new URLSearchParams({
      client_id: this.opts.clientId,
      response_type: 'code',
      scope: (this.opts.scopes ?? WAVE_DEFAULT_SCOPES).join(' '),
      redirect_uri: this.opts.redirectUri,
      state,
      ...(businessId ? { businessId } : {}),
    }).toString();
    return url.toString();
  }

  exchangeCode(code: string): Promise<RotatedPair> {
    return this.grant({ grant_type: 'authorization_code', code, redirect_uri: this.opts.redirectUri }, 'code');
  }

  /** Spends `refreshToken`; the new pair goes to `persist` first and is returned only if it was stored. */
  readonly refresh: RotateGrant = async (refreshToken, persist) => {
    const pair = await this.grant({ grant_type: 'refresh_token', refresh_token: refreshToken, redirect_uri: this.opts.redirectUri }, 'refresh');
    return (await persist(pair)) ? pair : undefined;
  };

  private async grant(params: Record<string, string>, kind: 'code' | 'refresh'): Promise<RotatedPair> {
    const url = this.opts.tokenUrl ?? WAVE_TOKEN_URL;
    let status: number;
    let body: TokenAnswer;
    try {
      const res = await axios.post<unknown>(url, new URLSearchParams({ client_id: this.opts.clientId, client_secret: this.opts.clientSecret, ...params }).toString(), {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        timeout: this.opts.timeoutMs,
        validateStatus: () => true,
        maxRedirects: 0,
      });
      status = res.status;
      body = typeof res.data === 'object' && res.data !== null ? (res.data as TokenAnswer) : {};
    } catch (err) {
      throw retryable('wave_oauth_unreachable', `Wave's token endpoint (${url}) did not answer; will try again.`, { cause: err, service: 'wave' });
    }
    if (status === 200 && typeof body.access_token === 'string' && body.access_token && typeof body.refresh_token === 'string' && body.refresh_token) {
      registerSecret(body.access_token);
      registerSecret(body.refresh_token);
      const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_IN_S;
      return { accessToken: body.access_token, accessExpiresAt: Date.now() + expiresIn * 1000, refreshToken: body.refresh_token };
    }
    throw refusal(kind, status, body);
  }
}

export const isWaveRefreshRefused = (error: RelayError): boolean => error.code === 'wave_refresh_refused';

function refusal(kind: 'code' | 'refresh', status: number, body: TokenAnswer): RelayError {
  const code = typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : `http_${status}`;
  const description = typeof body.error_description === 'string' ? body.error_description.slice(0, 200) : '';
  const reason = description ? `${code}: ${description}` : code;
  const opts = { status, service: 'wave' as const };
  if (status === 429 || status >= 500 || status === 200) {
    return retryable('wave_oauth_unavailable', `Wave's token endpoint answered ${status} (${reason}); will try again.`, opts);
  }
  if (code === 'invalid_client' || code === 'unauthorized_client') {
    return retryable('wave_oauth_invalid_client', `Wave refused the application's credentials (${reason}): check WAVE_CLIENT_ID and WAVE_CLIENT_SECRET (Wave > Manage Applications > your application).`, {
      ...opts,
      retryAfterMs: 5 * 60_000,
    });
  }
  if (kind === 'code') {
    return permanent('wave_code_refused', `Wave refused the authorization code (${reason}): a code works once and only for minutes, and the redirect URI must equal the application's. Connect again.`, opts);
  }
  return permanent('wave_refresh_refused', `Wave refused the refresh token (${reason})`, opts);
}

/** The retryable error jobs wait on while Wave is not connected. */
export const waveNotConnected = (message = 'Wave is not connected: an administrator must connect Wave on the /connect page (or set WAVE_ACCESS_TOKEN).') =>
  retryable('wave_not_connected', message, { service: 'wave', retryAfterMs: 2 * 60_000 });

/** Wave's OAuth tokens on the shared rotation (single-flight, cross-process lease, stored before use). */
export function waveTokens(o: { store: RotationStore<'wave'>; oauth: WaveOAuth; log: Logger; leaseMs: number; pollMs?: number }): RotatingTokens<'wave'> {
  return new RotatingTokens({
    side: 'wave',
    label: 'Wave',
    store: o.store,
    rotate: o.oauth.refresh,
    isRefusal: isWaveRefreshRefused,
    notConnected: waveNotConnected,
    log: o.log,
    leaseMs: o.leaseMs,
    ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
  });
}

/** A Full Access Token: nothing to refresh; a refusal is reported (jobs wait) until it is replaced. */
export function fullAccessToken(token: string): WaveTokenSource {
  registerSecret(token);
  return {
    accessToken: async () => token,
    onUnauthorized: async () => false,
  };
}
