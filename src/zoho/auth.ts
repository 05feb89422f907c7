// Zoho OAuth access tokens: cached, refreshed single-flight shortly before expiry or after a 401, at the
// accounts server of the connection's data centre. Zoho limits how many access tokens a refresh token may
// mint (10 per 10 minutes), so we never refresh per request and back off after a refused refresh.
import axios from 'axios';
import { retryable, type RelayError } from '../errors.js';
import { registerSecret, type Logger } from '../log.js';

export interface ZohoAuthOptions {
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: () => Promise<string> | string;
  timeoutMs: number;
  log: Logger;
  /** Refresh this long before the token expires. */
  refreshMarginMs?: number;
  /** After a refused refresh, do not ask again for this long (no tight loop against Zoho's limits). */
  cooldownMs?: number;
  onRefresh?: (info: { apiDomain: string | undefined; expiresAt: number }) => void;
}

interface TokenState {
  accessToken: string;
  expiresAt: number;
}

interface TokenResponse {
  access_token?: string;
  expires_in?: number;
  api_domain?: string;
  error?: string;
  error_description?: string;
}

export class ZohoAuth {
  private token: TokenState | undefined;
  private inflight: Promise<TokenState> | undefined;
  private cooldown: { until: number; error: RelayError } | undefined;
  apiDomain: string | undefined;
  refreshCount = 0;

  constructor(private readonly opts: ZohoAuthOptions) {}

  async accessToken(): Promise<string> {
    const margin = this.opts.refreshMarginMs ?? 5 * 60_000;
    if (this.token && this.token.expiresAt - margin > Date.now()) return this.token.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** A call was refused with 401 using `rejected`: get a new token unless another call already did. */
  async onUnauthorized(rejected: string | undefined): Promise<boolean> {
    if (this.token && rejected && this.token.accessToken !== rejected) return true;
    this.token = undefined;
    await this.refresh();
    return true;
  }

  get expiresAt(): number | undefined {
    return this.token?.expiresAt;
  }

  private refresh(): Promise<TokenState> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async doRefresh(): Promise<TokenState> {
    if (this.cooldown && this.cooldown.until > Date.now()) throw this.cooldown.error;
    const params = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      refresh_token: await this.opts.refreshToken(),
    });
    this.refreshCount++;
    let status: number;
    let body: TokenResponse;
    try {
      const res = await axios.post<TokenResponse>(`${this.opts.accountsUrl}/oauth/v2/token`, params.toString(), {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        timeout: this.opts.timeoutMs,
        validateStatus: () => true,
      });
      status = res.status;
      body = typeof res.data === 'object' && res.data ? res.data : {};
    } catch (err) {
      throw retryable('zoho_accounts_unreachable', `Zoho accounts server ${this.opts.accountsUrl} did not answer the token refresh; will try again.`, {
        cause: err,
        service: 'zoho',
      });
    }
    // Zoho reports errors with HTTP 200 too: success is the presence of access_token, not the status.
    if (!body.access_token) throw this.refused(status, body);
    registerSecret(body.access_token);
    const state = { accessToken: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
    this.token = state;
    this.cooldown = undefined;
    if (body.api_domain) this.apiDomain = body.api_domain.replace(/\/+$/, '');
    this.opts.log.info({ api_domain: this.apiDomain, expires_in: body.expires_in }, 'zoho access token refreshed');
    this.opts.onRefresh?.({ apiDomain: this.apiDomain, expiresAt: state.expiresAt });
    return state;
  }

  private refused(status: number, body: TokenResponse): RelayError {
    const code = body.error ?? `http_${status}`;
    let message: string;
    let waitMs = this.opts.cooldownMs ?? 60_000;
    if (code === 'invalid_client') {
      message = `Zoho refused the client (invalid_client) at ${this.opts.accountsUrl}: check ZOHO_CLIENT_ID / ZOHO_CLIENT_SECRET and that ZOHO_DC matches the data centre where the client was created (an EU account needs ZOHO_DC=eu).`;
    } else if (code === 'invalid_code' || code === 'invalid_grant') {
      message = `Zoho refused the refresh token (${code}): it was revoked or belongs to another client or data centre. Create a new one and set ZOHO_REFRESH_TOKEN (or reconnect Zoho).`;
    } else if (/access denied/i.test(code) || /too many requests/i.test(body.error_description ?? '')) {
      message = 'Zoho accounts server says too many token requests: waiting before asking again.';
      waitMs = Math.max(waitMs, 5 * 60_000);
    } else {
      message = `Zoho token refresh failed (${code}${body.error_description ? `: ${body.error_description}` : ''}).`;
    }
    const error = retryable(`zoho_auth_${code.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`, message, { retryAfterMs: waitMs, service: 'zoho', status });
    this.cooldown = { until: Date.now() + waitMs, error };
    this.opts.log.error({ code, status }, message);
    return error;
  }
}
