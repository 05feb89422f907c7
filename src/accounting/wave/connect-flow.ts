// Connecting Wave on /connect/wave: a consent redirect to Wave (the relay's scopes, a one-time state), and a
// callback that exchanges the code, stores the pair (encrypted) in the connection row before anything uses
// it, lists the businesses the token reaches and settles the one the relay works in: WAVE_BUSINESS_ID, else
// the one chosen before if still reached, else the only one; with several, the connection page asks.
// With WAVE_ACCESS_TOKEN (a Full Access Token) there is nothing to connect: the page says so. The flow itself
// is the shared one (src/oauth/organization-connect.ts); here are Wave's words and how businesses are listed.
import type { Logger } from '../../log.js';
import { OrganizationConnectFlow } from '../../oauth/organization-connect.js';
import type { Connections } from '../../store/connections.js';
import type { OAuthStates } from '../../store/oauth-states.js';
import type { AccountingConnectFlow } from '../backend.js';
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

const RESTART = 'Start again from the connection page.';

export class WaveConnectFlow extends OrganizationConnectFlow<'wave'> implements AccountingConnectFlow {
  constructor(deps: WaveConnectDeps) {
    const { settings, oauth } = deps;
    super({
      side: 'wave',
      label: 'Wave',
      callbackPath: WAVE_CALLBACK_PATH,
      words: { a: 'a business', one: 'business', many: 'businesses' },
      states: deps.states,
      connections: deps.connections,
      log: deps.log,
      onConnected: deps.onConnected,
      unavailable: () => unavailable(settings),
      authorizeUrl: (state) => oauth.authorizeUrl(state),
      exchangeCode: (code) => oauth.exchangeCode(code),
      refusal: (code) =>
        code === 'access_denied'
          ? "Wave was not given access (access_denied): the consent was cancelled on Wave's page. Start again from the connection page and allow access there."
          : `Wave did not grant access (${code}). Since May 2025 a Wave business needs Wave Pro to connect third-party applications. ${RESTART}`,
      organizations: async (accessToken) => businessesOf(await deps.businesses(accessToken)),
      settle: (organizations, previous) => settle(organizations, settings.WAVE_BUSINESS_ID, previous, false),
      configured: settings.WAVE_BUSINESS_ID,
      connectedTo: (org) => `business ${org.name}`,
      logFields: { settled: (count) => ({ businesses: count }), chosen: (org) => ({ business: org.name }) },
    });
  }
}

function unavailable(s: WaveSettings): string | undefined {
  if (s.WAVE_ACCESS_TOKEN) return 'Wave is reached with WAVE_ACCESS_TOKEN (a Full Access Token): there is nothing to connect here. Remove it and set WAVE_CLIENT_ID, WAVE_CLIENT_SECRET and WAVE_REDIRECT_URI to connect through OAuth.';
  if (!s.WAVE_CLIENT_ID || !s.WAVE_CLIENT_SECRET) return 'Set WAVE_CLIENT_ID and WAVE_CLIENT_SECRET (Wave > Manage Applications > your application) and restart, to connect Wave here.';
  if (!s.WAVE_REDIRECT_URI) {
    return `Set WAVE_REDIRECT_URI to https://<this relay>${WAVE_CALLBACK_PATH} (the same URI among the redirect URIs of your application in Wave's Manage Applications) and restart, to connect Wave here.`;
  }
  return undefined;
}
