// Wave's OAuth 2.0 (authorization code): the consent URL, the code exchange and the refresh at
// /oauth2/token/ (client id and secret in the form, as Wave's OAuth Guide shows; trailing slashes kept).
// Refresh tokens are taken to rotate (second-hand): each refresh's new pair is stored before it is used,
// through the shared RotatingTokens (single-flight, cross-process lease). A Full Access Token
// (WAVE_ACCESS_TOKEN) needs none of this: fullAccessToken() is its token source. What every such token
// endpoint shares (the POST, what a refusal means, the rotation) is src/oauth/token-endpoint.ts.
import { registerSecret, type Logger } from '../../log.js';
import { rotateThenPersist, type RotatedPair, type RotateGrant, type RotatingTokens, type RotationStore } from '../../oauth/rotating-tokens.js';
import { notConnectedError, postTokenForm, providerTokens, tokenRefusal, type CodeGrantOptions, type TokenProvider } from '../../oauth/token-endpoint.js';
import type { WaveTokenSource } from './client.js';
import { WAVE_AUTHORIZE_URL, WAVE_DEFAULT_SCOPES, WAVE_TOKEN_URL } from './settings.js';

interface TokenAnswer {
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/** Wave's access tokens live about two hours (second-hand); `expires_in` says, when given. */
const DEFAULT_EXPIRES_IN_S = 7200;

const WAVE: TokenProvider<'wave'> = {
  side: 'wave',
  label: 'Wave',
  app: 'application',
  checkCredentials: 'check WAVE_CLIENT_ID and WAVE_CLIENT_SECRET (Wave > Manage Applications > your application).',
  notConnected: 'Wave is not connected: an administrator must connect Wave on the /connect page (or set WAVE_ACCESS_TOKEN).',
};

export class WaveOAuth {
  constructor(private readonly opts: CodeGrantOptions) {
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
  readonly refresh: RotateGrant = rotateThenPersist((refreshToken) => this.grant({ grant_type: 'refresh_token', refresh_token: refreshToken, redirect_uri: this.opts.redirectUri }, 'refresh'));

  private async grant(params: Record<string, string>, kind: 'code' | 'refresh'): Promise<RotatedPair> {
    const form = { client_id: this.opts.clientId, client_secret: this.opts.clientSecret, ...params };
    const { status, body } = await postTokenForm<TokenAnswer>(WAVE, this.opts.tokenUrl ?? WAVE_TOKEN_URL, form, { timeoutMs: this.opts.timeoutMs });
    if (status === 200 && typeof body.access_token === 'string' && body.access_token && typeof body.refresh_token === 'string' && body.refresh_token) {
      registerSecret(body.access_token);
      registerSecret(body.refresh_token);
      const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_IN_S;
      return { accessToken: body.access_token, accessExpiresAt: Date.now() + expiresIn * 1000, refreshToken: body.refresh_token };
    }
    const code = typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : `http_${status}`;
    throw tokenRefusal(WAVE, kind, status, code, typeof body.error_description === 'string' ? body.error_description.slice(0, 200) : '');
  }
}

/** The retryable error jobs wait on while Wave is not connected. */
export const waveNotConnected = (message?: string) => notConnectedError(WAVE, message);

/** Wave's OAuth tokens on the shared rotation (single-flight, cross-process lease, stored before use). */
export function waveTokens(o: { store: RotationStore<'wave'>; oauth: WaveOAuth; log: Logger; leaseMs: number; pollMs?: number }): RotatingTokens<'wave'> {
  return providerTokens(WAVE, o.oauth.refresh, o);
}

/** A Full Access Token: nothing to refresh; a refusal is reported (jobs wait) until it is replaced. */
export function fullAccessToken(token: string): WaveTokenSource {
  registerSecret(token);
  return {
    accessToken: async () => token,
    onUnauthorized: async () => false,
  };
}
