// Connecting Wave on /connect/wave: a consent redirect to Wave (the relay's scopes, a one-time state), and a
// callback that exchanges the code, stores the pair (encrypted) in the connection row before anything uses
// it, lists the businesses the token reaches and settles the one the relay works in: WAVE_BUSINESS_ID, else
// the one chosen before if still reached, else the only one; with several, the connection page asks.
// With WAVE_ACCESS_TOKEN (a Full Access Token) there is nothing to connect: the page says so.
import { RelayError } from '../../errors.js';
import { registerSecret, type Logger } from '../../log.js';
import type { Connections, Organization } from '../../store/connections.js';
import type { OAuthStates } from '../../store/oauth-states.js';
import type { AccountingConnectFlow } from '../backend.js';
import { STATE_TTL_MS, type ConnectOutcome } from '../../connect/outcome.js';
import { businessesOf, settle } from './connection.js';
import type { WaveBusiness } from './documents.js';
import type { WaveOAuth } from './oauth.js';
import { WAVE_CALLBACK_PATH, type WaveSettings } from './settings.js';

export interface WaveConnectDeps {
  settings: WaveSettings;
  states: OAuthStates;
  connections: Connections;
  oauth: WaveOAuth;
  /** The businesses an access token reaches (GraphQL `businesses`). */
  businesses: (accessToken: string) => Promise<WaveBusiness[]>;
  log: Logger;
  onConnected: () => Promise<void>;
}

const ERROR_CODE = /^[a-z_]{1,64}$/;
const RESTART = 'Start again from the connection page.';

export class WaveConnectFlow implements AccountingConnectFlow {
  readonly callbackPath = WAVE_CALLBACK_PATH;

  constructor(private readonly deps: WaveConnectDeps) {}

  unavailable(): string | undefined {
    const s = this.deps.settings;
    if (s.WAVE_ACCESS_TOKEN) return 'Wave is reached with WAVE_ACCESS_TOKEN (a Full Access Token): there is nothing to connect here. Remove it and set WAVE_CLIENT_ID, WAVE_CLIENT_SECRET and WAVE_REDIRECT_URI to connect through OAuth.';
    if (!s.WAVE_CLIENT_ID || !s.WAVE_CLIENT_SECRET) return 'Set WAVE_CLIENT_ID and WAVE_CLIENT_SECRET (Wave > Manage Applications > your application) and restart, to connect Wave here.';
    if (!s.WAVE_REDIRECT_URI) {
      return `Set WAVE_REDIRECT_URI to https://<this relay>${WAVE_CALLBACK_PATH} (the same URI among the redirect URIs of your application in Wave's Manage Applications) and restart, to connect Wave here.`;
    }
    return undefined;
  }

  async start(): Promise<string> {
    const state = await this.deps.states.create('wave', STATE_TTL_MS);
    registerSecret(state);
    return this.deps.oauth.authorizeUrl(state);
  }

  async complete(q: Record<string, string>): Promise<ConnectOutcome> {
    const { log, connections } = this.deps;
    registerSecret(q.code);
    registerSecret(q.state);
    const unavailable = this.unavailable();
    if (unavailable) return { ok: false, status: 409, message: unavailable };
    if (!(await this.deps.states.consume('wave', q.state ?? ''))) {
      return { ok: false, status: 400, message: `This Wave connection link has expired or was already used. ${RESTART}` };
    }
    if (q.error) {
      const code = ERROR_CODE.test(q.error) ? q.error : 'an unknown error';
      log.warn({ error: code }, 'Wave did not grant access');
      return {
        ok: false,
        status: 400,
        message:
          code === 'access_denied'
            ? "Wave was not given access (access_denied): the consent was cancelled on Wave's page. Start again from the connection page and allow access there."
            : `Wave did not grant access (${code}). Since May 2025 a Wave business needs Wave Pro to connect third-party applications. ${RESTART}`,
      };
    }
    if (!q.code) return { ok: false, status: 400, message: `Wave sent no authorization code. ${RESTART}` };

    let pair;
    try {
      pair = await this.deps.oauth.exchangeCode(q.code);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      log.error({ code: err.code }, err.message);
      return { ok: false, status: 502, message: err.message };
    }
    const before = await connections.describe('wave');
    // Stored before anything uses it: the refresh token rotates, and this pair is the only copy.
    await connections.connect('wave', pair);
    log.info('wave connected');

    let problem: string | undefined;
    let organizations: Organization[] = [];
    try {
      organizations = businessesOf(await this.deps.businesses(pair.accessToken));
      const settled = settle(organizations, this.deps.settings.WAVE_BUSINESS_ID, before?.organizationId, false);
      problem = settled.problem;
      await connections.setOrganizations('wave', organizations, settled.chosen);
      if (problem) await connections.recordError('wave', problem);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      problem = `Connected, but the businesses could not be listed: ${err.message}`;
      await connections.recordError('wave', problem);
    }
    await this.deps.onConnected();
    const c = await connections.describe('wave');
    const chooseFrom = !c?.organizationId && !this.deps.settings.WAVE_BUSINESS_ID && organizations.length > 1 ? organizations : undefined;
    const where = c?.organizationId ? ` (business ${c.organizationName ?? c.organizationId})` : '';
    log.info({ businesses: organizations.length }, chooseFrom ? 'wave connected: a business is to be chosen' : 'wave business settled');
    return {
      ok: true,
      message: chooseFrom ? 'Wave is connected. It reaches several businesses: choose the one the relay works in.' : `Wave is connected${where}.`,
      ...(problem ? { problem } : {}),
      ...(chooseFrom ? { chooseFrom } : {}),
    };
  }

  async choose(organizationId: string): Promise<boolean> {
    const c = await this.deps.connections.describe('wave');
    const org = c?.organizations.find((o) => o.id === organizationId);
    if (!org) return false;
    await this.deps.connections.chooseOrganization('wave', org);
    this.deps.log.info({ business: org.name }, 'wave business chosen');
    await this.deps.onConnected();
    return true;
  }
}
