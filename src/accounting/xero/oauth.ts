// Xero's OAuth 2.0 (authorization code, offline access): the consent URL, the code exchange and the refresh at
// the identity server (client id and secret as HTTP Basic), and the tenants a token reaches (GET /connections).
// Xero rotates refresh tokens: each refresh answers a NEW one, so refresh() hands the pair to the caller's
// `persist` and returns it only once stored (RotatingTokens in src/oauth/rotating-tokens.ts drives it). What
// every such token endpoint shares (the POST, what a refusal means, the rotation) is src/oauth/token-endpoint.ts.
import axios from 'axios';
import { permanent, retryable } from '../../errors.js';
import { registerSecret } from '../../log.js';
import type { Logger } from '../../log.js';
import { rotateThenPersist, type RotatedPair, type RotateGrant, type RotatingTokens, type RotationStore } from '../../oauth/rotating-tokens.js';
import { notConnectedError, postTokenForm, providerTokens, tokenRefusal, type CodeGrantOptions, type TokenProvider } from '../../oauth/token-endpoint.js';
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

/**
 * Unused Xero refresh tokens expire after 60 days (developer.xero.com/faq/oauth2); one refused (invalid_grant)
 * was revoked, expired or already replaced twice.
 */
const REFRESH_TOKEN_LIFETIME_MS = 60 * 24 * 3600_000;

const XERO: TokenProvider<'xero'> = {
  side: 'xero',
  label: 'Xero',
  app: 'app',
  checkCredentials: 'check the Xero client id and secret the relay is configured with (developer.xero.com > My Apps > your app > Configuration).',
  notConnected: 'Xero is not connected: an administrator must connect Xero on the /connect page.',
};

export interface XeroOAuthOptions extends CodeGrantOptions {
  /** GET /connections of the fake Xero, in tests. */
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
  readonly refresh: RotateGrant = rotateThenPersist((refreshToken) => this.grant({ grant_type: 'refresh_token', refresh_token: refreshToken }, 'refresh'));

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
    const { status, body } = await postTokenForm<XeroTokenAnswer>(XERO, this.opts.tokenUrl ?? XERO_TOKEN_URL, params, {
      timeoutMs: this.opts.timeoutMs,
      headers: { Authorization: `Basic ${Buffer.from(`${this.opts.clientId}:${this.opts.clientSecret}`).toString('base64')}` },
    });
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
    throw tokenRefusal(XERO, kind, status, body.error ?? `http_${status}`, body.error_description);
  }
}

/** The retryable error jobs wait on while Xero is not connected. */
export const xeroNotConnected = (message?: string) => notConnectedError(XERO, message);

/** Xero's tokens on the shared rotation (single-flight, cross-process lease, stored before use). */
export function xeroTokens(o: { store: RotationStore<'xero'>; oauth: XeroOAuth; log: Logger; leaseMs: number; pollMs?: number }): RotatingTokens<'xero'> {
  return providerTokens(XERO, o.oauth.refresh, o);
}
