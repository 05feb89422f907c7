// Zoho OAuth access tokens: cached, refreshed single-flight shortly before expiry or after a 401, at the
// accounts server of the connection's data centre. Zoho limits how many access tokens a refresh token may
// mint (10 per 10 minutes), so we never refresh per request, reuse a still-valid token a previous process
// stored, and back off after a refused refresh.
import { retryable, type RelayError } from '../../errors.js';
import { registerSecret, type Logger } from '../../log.js';
import type { ZohoDataCentre } from './settings.js';
import { holdToken, isFresh, MIN_ADOPTABLE_MS, type HeldToken } from '../../oauth/refresh-margin.js';
import { isTooManyRequests, requestZohoToken, trustedApiDomain, type ZohoTokenBody } from './oauth.js';

/** What a refresh needs: where, with which refresh token, and what an earlier refresh left behind. */
export interface ZohoGrant {
  accountsUrl: string;
  refreshToken: string;
  apiDomain?: string;
  /** An access token minted earlier (by this or another process, or before a restart). */
  accessToken?: { value: string; expiresAt: number };
  /** The stored connection's generation, handed back to onToken so a stale token never lands on a newer connection. */
  generation?: number;
}

export interface ZohoAuthOptions {
  /** Accounts server of ZOHO_DC: with `refreshToken`, the simple form of a fixed grant. */
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken?: () => Promise<string> | string;
  /** The current grant (a stored connection, or the environment); undefined while Zoho is not connected. Wins over accountsUrl/refreshToken. */
  grant?: () => Promise<ZohoGrant | undefined>;
  timeoutMs: number;
  log: Logger;
  /** After a refused refresh, do not ask again for this long (no tight loop against Zoho's limits). */
  cooldownMs?: number;
  onRefresh?: (info: { apiDomain: string | undefined; expiresAt: number }) => void;
  /** A new access token was minted: store it for other processes and the next start. */
  onToken?: (grant: ZohoGrant, token: { accessToken: string; expiresAt: number; apiDomain?: string }) => Promise<void>;
  onRefused?: (grant: ZohoGrant, error: RelayError) => Promise<void> | void;
  /** Which api_domain a token answer may name (see trustedApiDomain): ZOHO_DC, used when the accounts server
   *  is an override, and ZOHO_API_URL. */
  apiDomainRule?: { dataCentre: ZohoDataCentre; override?: string | undefined };
}

export const zohoNotConnected = () =>
  retryable('zoho_not_connected', 'Zoho is not connected: an administrator must connect Zoho on the /connect page (or set ZOHO_REFRESH_TOKEN).', {
    service: 'zoho',
    retryAfterMs: 2 * 60_000,
  });

export class ZohoAuth {
  private token: HeldToken | undefined;
  /** The last token this process held, kept after `token` is dropped for a refresh. */
  private held: HeldToken | undefined;
  private inflight: Promise<HeldToken> | undefined;
  private cooldown: { until: number; error: RelayError } | undefined;
  apiDomain: string | undefined;
  refreshCount = 0;
  lastError: { code: string; message: string; at: number } | undefined;

  constructor(private readonly opts: ZohoAuthOptions) {}

  async accessToken(): Promise<string> {
    if (isFresh(this.token)) return this.token.value;
    return (await this.refresh()).value;
  }

  /** A call was refused with 401 using `rejected`: get a new token unless another call already did. */
  async onUnauthorized(rejected: string | undefined): Promise<boolean> {
    if (this.token && rejected && this.token.value !== rejected) return true;
    this.token = undefined;
    await this.refresh(rejected);
    return true;
  }

  get expiresAt(): number | undefined {
    return this.token?.expiresAt;
  }

  /** Forgets the token and any cooldown: the connection was replaced (reconnected on /connect). */
  reset(): void {
    this.token = this.held = undefined;
    this.cooldown = undefined;
    this.apiDomain = undefined;
    this.lastError = undefined;
  }

  private refresh(rejected?: string): Promise<HeldToken> {
    this.inflight ??= this.doRefresh(rejected).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async currentGrant(): Promise<ZohoGrant | undefined> {
    if (this.opts.grant) return this.opts.grant();
    if (!this.opts.refreshToken) return undefined;
    return { accountsUrl: this.opts.accountsUrl, refreshToken: await this.opts.refreshToken() };
  }

  private async doRefresh(rejected: string | undefined): Promise<HeldToken> {
    if (this.cooldown && this.cooldown.until > Date.now()) throw this.cooldown.error;
    const grant = await this.currentGrant();
    if (!grant) throw zohoNotConnected();
    if (grant.apiDomain) this.apiDomain = this.checkedApiDomain(grant.apiDomain, grant);
    const stored = grant.accessToken;
    // A stored token is adopted unless it is the one this process already holds (and now refreshes).
    if (stored && stored.value !== rejected && stored.value !== this.held?.value && stored.expiresAt - Date.now() > MIN_ADOPTABLE_MS) {
      registerSecret(stored.value);
      this.token = this.held = holdToken(stored.value, stored.expiresAt);
      return this.token;
    }
    this.refreshCount++;
    const { status, body } = await requestZohoToken(
      grant.accountsUrl,
      { grant_type: 'refresh_token', client_id: this.opts.clientId, client_secret: this.opts.clientSecret, refresh_token: grant.refreshToken },
      this.opts.timeoutMs,
    );
    // Zoho reports errors with HTTP 200 too: success is the presence of access_token, not the status.
    if (!body.access_token) {
      const error = this.refused(grant.accountsUrl, status, body);
      await Promise.resolve(this.opts.onRefused?.(grant, error)).catch((err) => this.opts.log.warn({ err }, 'could not record the refused Zoho refresh'));
      throw error;
    }
    if (body.api_domain) this.apiDomain = this.checkedApiDomain(body.api_domain, grant);
    const lifetimeMs = (body.expires_in ?? 3600) * 1000;
    const state = holdToken(body.access_token, Date.now() + lifetimeMs, lifetimeMs);
    this.token = this.held = state;
    this.cooldown = undefined;
    this.lastError = undefined;
    this.opts.log.info({ api_domain: this.apiDomain, expires_in: body.expires_in }, 'zoho access token refreshed');
    this.opts.onRefresh?.({ apiDomain: this.apiDomain, expiresAt: state.expiresAt });
    await this.opts
      .onToken?.(grant, { accessToken: state.value, expiresAt: state.expiresAt, ...(this.apiDomain ? { apiDomain: this.apiDomain } : {}) })
      .catch((err) => this.opts.log.warn({ err }, 'could not store the new Zoho access token; it is kept in memory'));
    return state;
  }

  /** The api_domain to use; otherwise the token is not kept and jobs wait, with the reason on /connect. */
  private checkedApiDomain(named: string, grant: ZohoGrant): string {
    const rule = this.opts.apiDomainRule;
    const trusted = trustedApiDomain(named, { accountsUrl: grant.accountsUrl, dataCentre: rule?.dataCentre ?? 'com', override: rule?.override });
    if ('origin' in trusted) return trusted.origin;
    const waitMs = Math.max(this.opts.cooldownMs ?? 60_000, 5 * 60_000);
    const error = retryable('zoho_untrusted_api_domain', trusted.problem, { retryAfterMs: waitMs, service: 'zoho' });
    this.token = undefined;
    this.cooldown = { until: Date.now() + waitMs, error };
    this.lastError = { code: error.code, message: error.message, at: Date.now() };
    this.opts.log.error({ code: error.code }, error.message);
    throw error;
  }

  private refused(accountsUrl: string, status: number, body: ZohoTokenBody): RelayError {
    const code = body.error ?? `http_${status}`;
    let message: string;
    let waitMs = this.opts.cooldownMs ?? 60_000;
    if (code === 'invalid_client') {
      message = `Zoho refused the client (invalid_client) at ${accountsUrl}: check ZOHO_CLIENT_ID / ZOHO_CLIENT_SECRET and that ZOHO_DC matches the data centre where the client was created (an EU account needs ZOHO_DC=eu).`;
    } else if (code === 'invalid_code' || code === 'invalid_grant') {
      message = `Zoho refused the refresh token (${code}): it was revoked or belongs to another client or data centre. Create a new one and set ZOHO_REFRESH_TOKEN (or reconnect Zoho).`;
    } else if (isTooManyRequests(body)) {
      message = 'Zoho accounts server says too many token requests: waiting before asking again.';
      waitMs = Math.max(waitMs, 5 * 60_000);
    } else {
      message = `Zoho token refresh failed (${code}${body.error_description ? `: ${body.error_description}` : ''}).`;
    }
    const error = retryable(`zoho_auth_${code.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`, message, { retryAfterMs: waitMs, service: 'zoho', status });
    this.cooldown = { until: Date.now() + waitMs, error };
    this.lastError = { code: error.code, message, at: Date.now() };
    this.opts.log.error({ code, status }, message);
    return error;
  }
}
