// Connecting Zoho: a consent redirect to the accounts server of ZOHO_DC, and a callback that exchanges the
// code at the accounts server the redirect names (Zoho's multi-DC flow) — but only at a Zoho host we trust,
// since the exchange carries our client secret — then stores the connection and settles its organization.
import type { Env } from '../../config/env.js';
import type { AccountingConnectFlow } from '../backend.js';
import { RelayError } from '../../errors.js';
import { registerSecret, type Logger } from '../../log.js';
import type { Connections } from '../../store/connections.js';
import type { OAuthStates } from '../../store/oauth-states.js';
import type { ZohoAuth } from './auth.js';
import type { ZohoBooksClient } from './client.js';
import type { ZohoConnection } from './connection.js';
import { exchangeZohoCode, trustedAccountsServer, zohoAuthorizeUrl } from './oauth.js';
import { ZOHO_CALLBACK_PATH, zohoAccountsUrl, zohoDefaultApiDomain, type ZohoSettings } from './settings.js';
import { STATE_TTL_MS, type ConnectOutcome } from '../../connect/outcome.js';

export interface ZohoCallback {
  code?: string;
  state?: string;
  'accounts-server'?: string;
  location?: string;
  error?: string;
}

export interface ZohoConnectDeps {
  env: Pick<ZohoSettings, 'ZOHO_CLIENT_ID' | 'ZOHO_CLIENT_SECRET' | 'ZOHO_REDIRECT_URI' | 'ZOHO_REFRESH_TOKEN' | 'ZOHO_DC' | 'ZOHO_ACCOUNTS_URL' | 'ZOHO_API_URL'> & Pick<Env, 'HTTP_TIMEOUT_MS'>;
  states: OAuthStates;
  connections: Connections;
  auth: ZohoAuth;
  books: ZohoBooksClient;
  connection: ZohoConnection;
  log: Logger;
  onConnected: () => Promise<void>;
}

export class ZohoConnectFlow implements AccountingConnectFlow {
  readonly callbackPath = ZOHO_CALLBACK_PATH;

  constructor(private readonly deps: ZohoConnectDeps) {}

  /** Why this relay cannot connect Zoho on the page, if it cannot. */
  unavailable(): string | undefined {
    if (this.deps.env.ZOHO_REFRESH_TOKEN) return 'Zoho uses the refresh token in ZOHO_REFRESH_TOKEN (a Self Client). To connect here instead, remove ZOHO_REFRESH_TOKEN and restart.';
    if (!this.deps.env.ZOHO_REDIRECT_URI) return 'Set ZOHO_REDIRECT_URI to connect Zoho here.';
    return undefined;
  }

  async start(): Promise<string> {
    const state = await this.deps.states.create('zoho', STATE_TTL_MS);
    registerSecret(state);
    return zohoAuthorizeUrl(zohoAccountsUrl(this.deps.env), { clientId: this.deps.env.ZOHO_CLIENT_ID, redirectUri: this.deps.env.ZOHO_REDIRECT_URI!, state });
  }

  async complete(q: ZohoCallback): Promise<ConnectOutcome> {
    const { env, log } = this.deps;
    // Both are secrets until spent: keep them out of every log line.
    registerSecret(q.code);
    registerSecret(q.state);
    const unavailable = this.unavailable();
    if (unavailable) return { ok: false, status: 409, message: unavailable };
    if (!(await this.deps.states.consume('zoho', q.state ?? ''))) {
      return { ok: false, status: 400, message: 'This Zoho connection link has expired or was already used. Start again from the connection page.' };
    }
    if (q.error) return { ok: false, status: 400, message: `Zoho did not grant access (${q.error}). Start again from the connection page.` };
    if (!q.code) return { ok: false, status: 400, message: 'Zoho sent no authorization code. Start again from the connection page.' };
    const accounts = trustedAccountsServer(q['accounts-server'], zohoAccountsUrl(env));
    if (!accounts) {
      log.warn({ accounts_server: q['accounts-server'] }, 'Zoho callback refused: not a Zoho accounts server');
      return {
        ok: false,
        status: 400,
        message: `Refused: the callback names "${q['accounts-server']}" as the accounts server, which is not a Zoho accounts server. Nothing was sent to it; the connection is unchanged.`,
      };
    }
    let grant;
    try {
      grant = await exchangeZohoCode(accounts.url, q.code, {
        clientId: env.ZOHO_CLIENT_ID,
        clientSecret: env.ZOHO_CLIENT_SECRET,
        redirectUri: env.ZOHO_REDIRECT_URI!,
        timeoutMs: env.HTTP_TIMEOUT_MS,
        // The token answer's api_domain must be Zoho's API host of this accounts server's data centre.
        dataCentre: accounts.dataCentre ?? env.ZOHO_DC,
        apiUrlOverride: env.ZOHO_API_URL,
      });
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      log.error({ code: err.code, accounts_server: accounts.url }, err.message);
      return { ok: false, status: 502, message: err.message };
    }
    const dataCentre = accounts.dataCentre ?? (q.location && /^[a-z.]{2,10}$/.test(q.location) ? q.location : undefined);
    await this.deps.connections.connect('zoho', {
      ...grant,
      accountsServer: accounts.url,
      ...(dataCentre ? { dataCentre } : {}),
      apiDomain: grant.apiDomain ?? zohoDefaultApiDomain(accounts.dataCentre ?? env.ZOHO_DC),
    });
    this.deps.auth.reset();
    await this.deps.connection.load();
    log.info({ data_centre: dataCentre, accounts_server: accounts.url }, 'zoho connected');

    let problem: string | undefined;
    try {
      const orgs = await this.deps.books.listOrganizations();
      problem = await this.deps.connection.settleOrganization(orgs.map((o) => ({ id: o.organization_id, name: o.name })));
    } catch (err) {
      problem = `Connected, but the organizations could not be listed: ${(err as Error).message}`;
      await this.deps.connections.recordError('zoho', problem);
    }
    await this.deps.onConnected();
    const c = await this.deps.connections.describe('zoho');
    const chooseFrom = !c?.organizationId && c && c.organizations.length > 1 ? c.organizations : undefined;
    const where = `data centre ${dataCentre ?? 'unknown'}${c?.organizationName ? `, organization ${c.organizationName} (${c.organizationId})` : ''}`;
    return { ok: true, message: `Zoho is connected (${where}).`, ...(problem ? { problem } : {}), ...(chooseFrom ? { chooseFrom } : {}) };
  }

  /** The administrator picked the organization; jobs that waited for one are made due. */
  async choose(organizationId: string): Promise<boolean> {
    const org = await this.deps.connection.choose(organizationId);
    if (!org) return false;
    this.deps.log.info({ organization_id: org.id }, 'zoho organization chosen');
    await this.deps.onConnected();
    return true;
  }
}
