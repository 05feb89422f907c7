// Xero's OAuth 2.0 (authorization code, offline access): the consent URL, the code exchange and the refresh at
// the identity server (client id and secret as HTTP Basic), and the tenants a token reaches (GET /connections).
// Xero rotates refresh tokens: each refresh answers a NEW one, so refresh() hands the pair to the caller's
// `persist` and returns it only once stored (RotatingTokens in src/oauth/rotating-tokens.ts drives it).
import axios from 'axios';
import { permanent, retryable, type RelayError } from '../../errors.js';
import { registerSecret } from '../../log.js';
import type { Logger } from '../../log.js';
import { RotatingTokens, type RotatedPair, type RotateGrant, type RotationStore } from '../../oauth/rotating-tokens.js';
import type { XeroTokenAnswer } from './contract/overrides.js';
import { checked } from './errors.js';
import type { Unchecked, XeroTenant } from './types.js';

export const XERO_AUTHORIZE_URL = 'https://login.xero.com/identity/connect/authorize';
export const XERO_TOKEN_URL = 'https://identity.xero.com/connect/token';
export const XERO_CONNECTIONS_URL = 'https://api.xero.com/connections';

/**
 * The granular scopes apps created from 2 March 2026 must ask for (they cannot have accounting.transactions):
 * a refresh token (offline_access), contacts, tax rates and currencies, invoices with repeating invoices, and
 * payments to read. Older apps may set the broad ones instead (accounting.transactions, accounting.settings).
 * Not `paymentservices` (read for invoice.payOnline): Xero refuses the whole consent of an app not allowed that
 * restricted scope, so a person adds it to XERO_SCOPES (see ./contract/overrides.ts and the README).
 */
export const XERO_DEFAULT_SCOPES = ['offline_access', 'accounting.contacts', 'accounting.settings.read', 'accounting.invoices', 'accounting.payments.read'];

/** Unused Xero refresh tokens expire after 60 days (developer.xero.com/faq/oauth2). */
const REFRESH_TOKEN_LIFETIME_MS = 60 * 24 * 3600_000;

export interface XeroOAuthOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  timeoutMs: number;
  scopes?: readonly string[];
  /** Overrides for the fake Xero in tests. */
  authorizeUrl?: string;
  tokenUrl?: string;
  connectionsUrl?: string;
}

export class XeroOAuth {
  constructor(private readonly opts: XeroOAuthOptions) {
    registerSecret(opts.clientSecret);
  }

  /** Where the administrator is sent to consent; `state` comes back on the callback. */
  authorizeUrl(state: string): string {
    const url = new URL(this.opts.authorizeUrl ?? XERO_AUTHORIZE_URL);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.opts.clientId,
      redirect_uri: this.opts.redirectUri,
      scope: (this.opts.scopes ?? XERO_DEFAULT_SCOPES).join(' '),
      state,
    }).toString();
    return url.toString();
  }

  /** The callback's code for a first pair (stored by the /connect flow before anything uses it). */
  exchangeCode(code: string): Promise<RotatedPair> {
    return this.grant({ grant_type: 'authorization_code', code, redirect_uri: this.opts.redirectUri }, 'code');
  }

  /**
   * Spends `refreshToken`; the new pair goes to `persist` first and is returned only if it was stored (true).
   * If the answer is lost, the spent token still works for 30 minutes, so a retry can recover.
   */
  readonly refresh: RotateGrant = async (refreshToken, persist) => {
    const pair = await this.grant({ grant_type: 'refresh_token', refresh_token: refreshToken }, 'refresh');
    return (await persist(pair)) ? pair : undefined;
  };

  /** The organisations `accessToken` reaches; `authEventId` narrows them to those just connected. */
  async tenants(accessToken: string, authEventId?: string): Promise<XeroTenant[]> {
    const url = this.opts.connectionsUrl ?? XERO_CONNECTIONS_URL;
    let res;
    try {
      res = await axios.get<unknown>(url, {
        params: authEventId ? { authEventId } : undefined,
        headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
        timeout: this.opts.timeoutMs,
        validateStatus: () => true,
        maxRedirects: 0,
      });
    } catch (err) {
      throw retryable('xero_unreachable', `Xero (${url}) did not answer; will try again.`, { cause: err, service: 'xero' });
    }
    const opts = { status: res.status, service: 'xero' as const };
    if (res.status === 401) throw retryable('xero_unauthorized', 'Xero refused the access token when listing organisations; reconnect Xero on the /connect page.', opts);
    if (res.status === 429 || res.status >= 500) throw retryable('xero_unavailable', `Xero answered ${res.status} when listing organisations; will try again.`, opts);
    if (res.status !== 200 || !Array.isArray(res.data)) throw permanent('xero_rejected', `Xero answered ${res.status} to GET /connections.`, opts);
    return (res.data as Array<Unchecked<XeroTenant>>).slice(0, 1000).map((t) => checked(t, ['id', 'tenantId'], 'GET /connections'));
  }

  private async grant(params: Record<string, string>, kind: 'code' | 'refresh'): Promise<RotatedPair> {
    const url = this.opts.tokenUrl ?? XERO_TOKEN_URL;
    let status: number;
    let body: XeroTokenAnswer;
    try {
      const res = await axios.post<unknown>(url, new URLSearchParams(params).toString(), {
        headers: {
          Authorization: `Basic ${Buffer.from(`${this.opts.clientId}:${this.opts.clientSecret}`).toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        timeout: this.opts.timeoutMs,
        validateStatus: () => true,
        maxRedirects: 0,
      });
      status = res.status;
      body = typeof res.data === 'object' && res.data !== null ? (res.data as XeroTokenAnswer) : {};
    } catch (err) {
      throw retryable('xero_oauth_unreachable', `Xero's token endpoint (${url}) did not answer; will try again.`, { cause: err, service: 'xero' });
    }
    if (status === 200 && body.access_token && body.refresh_token) {
      registerSecret(body.access_token);
      registerSecret(body.refresh_token);
      const now = Date.now();
      return {
        accessToken: body.access_token,
        accessExpiresAt: now + (body.expires_in ?? 1800) * 1000,
        refreshToken: body.refresh_token,
        refreshExpiresAt: now + REFRESH_TOKEN_LIFETIME_MS,
      };
    }
    throw refusal(kind, status, body);
  }
}

/** The refusal RotatingTokens treats as a dead refresh token. */
export const isXeroRefreshRefused = (error: RelayError): boolean => error.code === 'xero_refresh_refused';

function refusal(kind: 'code' | 'refresh', status: number, body: XeroTokenAnswer): RelayError {
  const code = body.error ?? `http_${status}`;
  const reason = body.error_description ? `${code}: ${body.error_description}` : code;
  const opts = { status, service: 'xero' as const };
  if (status === 429 || status >= 500 || status === 200) {
    return retryable('xero_oauth_unavailable', `Xero's token endpoint answered ${status} (${reason}); will try again.`, opts);
  }
  // The client is checked before the grant: a refresh token refused this way is not spent.
  if (code === 'invalid_client' || code === 'unauthorized_client') {
    return retryable('xero_oauth_invalid_client', `Xero refused the app's credentials (${reason}): check the Xero client id and secret the relay is configured with (developer.xero.com > My Apps > your app > Configuration).`, {
      ...opts,
      retryAfterMs: 5 * 60_000,
    });
  }
  if (kind === 'code') {
    return permanent('xero_code_refused', `Xero refused the authorization code (${reason}): a code works once and only for minutes, and the redirect URI must equal the app's. Connect again.`, opts);
  }
  // invalid_grant in practice: the token was revoked, expired (60 days unused) or already replaced twice.
  return permanent('xero_refresh_refused', `Xero refused the refresh token (${reason})`, opts);
}

/** The retryable error jobs wait on while Xero is not connected. */
export const xeroNotConnected = (message = 'Xero is not connected: an administrator must connect Xero on the /connect page.') =>
  retryable('xero_not_connected', message, { service: 'xero', retryAfterMs: 2 * 60_000 });

/** Xero's tokens on the shared rotation (single-flight, cross-process lease, stored before use). */
export function xeroTokens(o: { store: RotationStore<'xero'>; oauth: XeroOAuth; log: Logger; leaseMs: number; pollMs?: number }): RotatingTokens<'xero'> {
  return new RotatingTokens({
    side: 'xero',
    label: 'Xero',
    store: o.store,
    rotate: o.oauth.refresh,
    isRefusal: isXeroRefreshRefused,
    notConnected: xeroNotConnected,
    log: o.log,
    leaseMs: o.leaseMs,
    ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
  });
}
