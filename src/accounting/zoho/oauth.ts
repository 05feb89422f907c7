// Zoho's OAuth protocol: the consent URL, which accounts servers may be trusted with our client secret,
// and the token endpoint, whose errors may arrive with HTTP 200 (success is the presence of access_token).
import axios from 'axios';
import type { ZohoDataCentre } from './settings.js';
import { permanent, retryable, type RelayError } from '../../errors.js';
import { registerSecret } from '../../log.js';

/** The least the relay needs: invoices (recurring ones included), contacts, reading payments, and settings
 *  (organizations, taxes, currencies, items) read-only. */
export const ZOHO_SCOPES = ['ZohoBooks.invoices.ALL', 'ZohoBooks.contacts.ALL', 'ZohoBooks.customerpayments.READ', 'ZohoBooks.settings.READ'] as const;

const ACCOUNTS_HOSTS: Record<string, ZohoDataCentre> = {
  'accounts.zoho.com': 'com',
  'accounts.zoho.eu': 'eu',
  'accounts.zoho.in': 'in',
  'accounts.zoho.com.au': 'com.au',
  'accounts.zoho.jp': 'jp',
  'accounts.zoho.sa': 'sa',
  'accounts.zoho.com.cn': 'com.cn',
  'accounts.zohocloud.ca': 'ca',
};

export function zohoAuthorizeUrl(accountsUrl: string, p: { clientId: string; redirectUri: string; state: string }): string {
  const url = new URL('/oauth/v2/auth', accountsUrl);
  url.search = new URLSearchParams({
    scope: ZOHO_SCOPES.join(','),
    client_id: p.clientId,
    response_type: 'code',
    redirect_uri: p.redirectUri,
    access_type: 'offline',
    prompt: 'consent',
    state: p.state,
  }).toString();
  return url.toString();
}

/**
 * The accounts server a callback names, if it may receive our client secret: one of Zoho's own (https only),
 * or the configured ZOHO_ACCOUNTS_URL (a proxy, the sandbox). Without one, the configured server is used.
 */
export function trustedAccountsServer(named: string | undefined, configured: string): { url: string; dataCentre?: ZohoDataCentre } | undefined {
  if (named === undefined || named === '') return { url: configured, dataCentre: dataCentreOf(configured) };
  let url: URL;
  try {
    url = new URL(named);
  } catch {
    return undefined;
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return undefined;
  const dc = ACCOUNTS_HOSTS[url.host.toLowerCase()];
  if (url.protocol === 'https:' && dc) return { url: url.origin, dataCentre: dc };
  if (url.origin === new URL(configured).origin) return { url: url.origin, dataCentre: dataCentreOf(configured) };
  return undefined;
}

function dataCentreOf(accountsUrl: string): ZohoDataCentre | undefined {
  const url = new URL(accountsUrl);
  return url.protocol === 'https:' ? ACCOUNTS_HOSTS[url.host.toLowerCase()] : undefined;
}

/**
 * The API domain a token answer may send the relay's tokens to. With ZOHO_API_URL set, every Books call goes
 * there and the answer's api_domain is not used at all. Otherwise it must be Zoho's API host of the data
 * centre whose accounts server issued the token (https://www.zohoapis.<dc>; ZOHO_DC when that server is an
 * override), exactly: no other scheme, port, path or credentials. Returns the origin to use, or why not.
 */
export function trustedApiDomain(named: string, rule: { accountsUrl: string; dataCentre: ZohoDataCentre; override?: string | undefined }): { origin: string } | { problem: string } {
  if (rule.override) return { origin: rule.override };
  const dataCentre = dataCentreOf(rule.accountsUrl) ?? rule.dataCentre;
  const expected = `https://www.zohoapis.${dataCentre}`;
  let url: URL | undefined;
  try {
    url = new URL(named);
  } catch {
    url = undefined;
  }
  const clean = url && !url.username && !url.password && !url.search && !url.hash && (url.pathname === '/' || url.pathname === '');
  if (url && clean && url.origin === expected) return { origin: expected };
  return {
    problem: `Zoho's token answer names "${named.slice(0, 200)}" as the API domain, which is not Zoho's API host for data centre ${dataCentre} (${expected}): no token was sent there and the connection is not used. Check ZOHO_DC (or reconnect Zoho in the right data centre); a proxy in front of Zoho's API is set with ZOHO_API_URL.`,
  };
}

export interface ZohoTokenBody {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  api_domain?: string;
  error?: string;
  error_description?: string;
}

/** POSTs a grant to `{accountsUrl}/oauth/v2/token`; throws only when the server did not answer. */
export async function requestZohoToken(accountsUrl: string, params: Record<string, string>, timeoutMs: number): Promise<{ status: number; body: ZohoTokenBody }> {
  try {
    const res = await axios.post<ZohoTokenBody>(`${accountsUrl}/oauth/v2/token`, new URLSearchParams(params).toString(), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      timeout: timeoutMs,
      validateStatus: () => true,
      maxRedirects: 0,
    });
    const body = typeof res.data === 'object' && res.data ? res.data : {};
    if (body.access_token) registerSecret(body.access_token);
    if (body.refresh_token) registerSecret(body.refresh_token);
    return { status: res.status, body };
  } catch (err) {
    throw retryable('zoho_accounts_unreachable', `Zoho accounts server ${accountsUrl} did not answer the token request; will try again.`, { cause: err, service: 'zoho' });
  }
}

/** Zoho's "too many requests" from the accounts server: a 400 "Access Denied" with that description. */
export function isTooManyRequests(body: ZohoTokenBody): boolean {
  return /access denied/i.test(body.error ?? '') || /too many requests/i.test(body.error_description ?? '');
}

export interface ZohoCodeGrant {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  apiDomain?: string;
}

/** Exchanges an authorization code at the accounts server that issued it. */
export async function exchangeZohoCode(
  accountsUrl: string,
  code: string,
  client: { clientId: string; clientSecret: string; redirectUri: string; timeoutMs: number; dataCentre: ZohoDataCentre; apiUrlOverride?: string | undefined },
): Promise<ZohoCodeGrant> {
  const { status, body } = await requestZohoToken(
    accountsUrl,
    { grant_type: 'authorization_code', client_id: client.clientId, client_secret: client.clientSecret, redirect_uri: client.redirectUri, code },
    client.timeoutMs,
  );
  if (!body.access_token) throw codeRefused(accountsUrl, status, body);
  if (!body.refresh_token) {
    throw permanent('zoho_no_refresh_token', 'Zoho issued no refresh token (the consent was not an offline grant): connect Zoho again.', { service: 'zoho', status });
  }
  const apiDomain = body.api_domain || client.apiUrlOverride ? trustedApiDomain(body.api_domain ?? '', { accountsUrl, dataCentre: client.dataCentre, override: client.apiUrlOverride }) : undefined;
  if (apiDomain && 'problem' in apiDomain) throw permanent('zoho_untrusted_api_domain', apiDomain.problem, { service: 'zoho', status });
  return {
    accessToken: body.access_token,
    accessExpiresAt: Date.now() + (body.expires_in ?? 3600) * 1000,
    refreshToken: body.refresh_token,
    ...(apiDomain ? { apiDomain: apiDomain.origin } : {}),
  };
}

function codeRefused(accountsUrl: string, status: number, body: ZohoTokenBody): RelayError {
  const error = body.error ?? `http_${status}`;
  const code = `zoho_connect_${error.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
  const opts = { service: 'zoho' as const, status };
  if (isTooManyRequests(body)) {
    return retryable(code, 'Zoho accounts server says too many requests: wait a few minutes, then connect again.', { ...opts, retryAfterMs: 5 * 60_000 });
  }
  if (error === 'invalid_client') {
    return permanent(code, `Zoho refused the client (invalid_client) at ${accountsUrl}: check ZOHO_CLIENT_ID / ZOHO_CLIENT_SECRET, and that the client exists in this data centre (api-console of the same region).`, opts);
  }
  if (error === 'invalid_code') return permanent(code, 'Zoho refused the authorization code (invalid_code): a code works once and for 60 seconds. Connect again.', opts);
  if (error === 'invalid_redirect_uri') return permanent(code, 'Zoho refused the redirect URI: ZOHO_REDIRECT_URI must equal the redirect URI registered for the client in the Zoho API console.', opts);
  return permanent(code, `Zoho refused the code exchange (${error}${body.error_description ? `: ${body.error_description}` : ''}).`, opts);
}
