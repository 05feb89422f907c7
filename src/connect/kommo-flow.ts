// Connecting Kommo: a consent redirect, and a callback that exchanges the code at our own account's token
// endpoint. The callback's `referer` names the account the user consented for; the code goes (with our
// client secret) only to KOMMO_BASE_URL, and only if the referer is that same account.
import type { Env } from '../config/env.js';
import { RelayError } from '../errors.js';
import type { KommoClient } from '../kommo/client.js';
import { kommoAuthorizeUrl, refererIsOurAccount, type KommoOAuth } from '../kommo/oauth.js';
import type { KommoTokens } from '../kommo/tokens.js';
import { registerSecret, type Logger } from '../log.js';
import type { Connections } from '../store/connections.js';
import type { OAuthStates } from '../store/oauth-states.js';
import { STATE_TTL_MS, type ConnectOutcome } from './outcome.js';

export interface KommoCallback {
  code?: string;
  state?: string;
  referer?: string;
  error?: string;
}

export interface KommoConnectDeps {
  env: Pick<Env, 'KOMMO_ACCESS_TOKEN' | 'KOMMO_CLIENT_ID' | 'KOMMO_BASE_URL' | 'KOMMO_AUTHORIZE_URL' | 'KOMMO_ACCOUNT_ID'>;
  states: OAuthStates;
  connections: Connections;
  /** Present in OAuth mode only. */
  oauth: KommoOAuth | undefined;
  tokens: KommoTokens | undefined;
  kommo: KommoClient;
  log: Logger;
  onConnected: () => Promise<void>;
}

export class KommoConnectFlow {
  constructor(private readonly deps: KommoConnectDeps) {}

  unavailable(): string | undefined {
    if (this.deps.env.KOMMO_ACCESS_TOKEN) return 'Kommo uses the long-lived token in KOMMO_ACCESS_TOKEN. To connect with OAuth instead, remove KOMMO_ACCESS_TOKEN and restart.';
    if (!this.deps.oauth || !this.deps.env.KOMMO_CLIENT_ID) return 'Set KOMMO_CLIENT_ID, KOMMO_CLIENT_SECRET and KOMMO_REDIRECT_URI to connect Kommo here.';
    return undefined;
  }

  async start(): Promise<string> {
    const state = await this.deps.states.create('kommo', STATE_TTL_MS);
    registerSecret(state);
    return kommoAuthorizeUrl(this.deps.env.KOMMO_AUTHORIZE_URL, { clientId: this.deps.env.KOMMO_CLIENT_ID!, state });
  }

  async complete(q: KommoCallback): Promise<ConnectOutcome> {
    const { env, log } = this.deps;
    // Both are secrets until spent: keep them out of every log line.
    registerSecret(q.code);
    registerSecret(q.state);
    const unavailable = this.unavailable();
    if (unavailable) return { ok: false, status: 409, message: unavailable };
    if (!(await this.deps.states.consume('kommo', q.state ?? ''))) {
      return { ok: false, status: 400, message: 'This Kommo connection link has expired or was already used. Start again from the connection page.' };
    }
    if (q.error) return { ok: false, status: 400, message: `Kommo did not grant access (${q.error}). Start again from the connection page.` };
    if (!q.code) return { ok: false, status: 400, message: 'Kommo sent no authorization code. Start again from the connection page.' };
    if (!refererIsOurAccount(q.referer, env.KOMMO_BASE_URL)) {
      log.warn({ referer: q.referer }, 'Kommo callback refused: another account');
      return {
        ok: false,
        status: 400,
        message: `Refused: access was granted for the Kommo account "${q.referer ?? '(none)'}", but this relay serves ${new URL(env.KOMMO_BASE_URL).host} (KOMMO_BASE_URL). Nothing was exchanged; choose that account when connecting.`,
      };
    }
    let pair;
    try {
      pair = await this.deps.oauth!.exchangeCode(q.code);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      log.error({ code: err.code }, err.message);
      return { ok: false, status: 502, message: err.message };
    }
    await this.deps.connections.connect('kommo', pair);
    this.deps.tokens?.reset();
    log.info('kommo connected');

    let problem: string | undefined;
    let accountLabel = new URL(env.KOMMO_BASE_URL).host;
    try {
      const account = await this.deps.kommo.getAccount();
      accountLabel = `${account.name ?? account.subdomain} (${account.subdomain}, ${account.id})`;
      await this.deps.connections.setAccount('kommo', { id: String(account.id), name: accountLabel });
      if (env.KOMMO_ACCOUNT_ID !== undefined && account.id !== env.KOMMO_ACCOUNT_ID) {
        problem = `Connected to Kommo account ${account.id}, but KOMMO_ACCOUNT_ID is ${env.KOMMO_ACCOUNT_ID}: webhooks of the other account will be refused.`;
        await this.deps.connections.recordError('kommo', problem);
      }
    } catch (err) {
      problem = `Connected, but the account could not be read: ${(err as Error).message}`;
      await this.deps.connections.recordError('kommo', problem);
    }
    await this.deps.onConnected();
    return { ok: true, message: `Kommo is connected (account ${accountLabel}).`, ...(problem ? { problem } : {}) };
  }
}
