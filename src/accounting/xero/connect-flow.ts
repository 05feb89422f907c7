// Connecting Xero on /connect/xero: a consent redirect to Xero's login (offline access and the configured
// scopes, a one-time state), and a callback that exchanges the code, stores the pair (encrypted) in the
// connection row before anything uses it, lists the organisations (tenants) this consent connected and
// settles the one the relay works in: XERO_TENANT_ID, else the one chosen before if it is still there, else
// the only one; with several, the connection page asks. The flow itself is the shared one
// (src/oauth/organization-connect.ts); here are Xero's words, its tenants and what its refusals mean.
import type { Logger } from '../../log.js';
import { settleOrganization, type Settled } from '../../oauth/organization-choice.js';
import { OrganizationConnectFlow } from '../../oauth/organization-connect.js';
import type { Connections, Organization } from '../../store/connections.js';
import type { OAuthStates } from '../../store/oauth-states.js';
import type { AccountingConnectFlow } from '../backend.js';
import type { XeroOAuth } from './oauth.js';
import { XERO_CALLBACK_PATH, type XeroSettings } from './settings.js';
import type { XeroTenant } from './types.js';

export interface XeroConnectDeps {
  settings: XeroSettings;
  timeoutMs: number;
  states: OAuthStates;
  connections: Connections;
  oauth: XeroOAuth;
  log: Logger;
  onConnected: () => Promise<void>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESTART = 'Start again from the connection page.';

/** The shared organisation connect flow (src/oauth/organization-connect.ts) in Xero's words, over GET /connections. */
export class XeroConnectFlow extends OrganizationConnectFlow<'xero'> implements AccountingConnectFlow {
  constructor(deps: XeroConnectDeps) {
    const { settings, oauth } = deps;
    super({
      side: 'xero',
      label: 'Xero',
      callbackPath: XERO_CALLBACK_PATH,
      words: { a: 'an organisation', one: 'organisation', many: 'organisations' },
      states: deps.states,
      connections: deps.connections,
      log: deps.log,
      onConnected: deps.onConnected,
      unavailable: () =>
        settings.XERO_REDIRECT_URI
          ? undefined
          : `Set XERO_REDIRECT_URI to https://<this relay>${XERO_CALLBACK_PATH} (the same URI among the redirect URIs of the app in developer.xero.com > My Apps > your app > Configuration) and restart, to connect Xero here.`,
      authorizeUrl: (state) => oauth.authorizeUrl(state),
      exchangeCode: (code) => oauth.exchangeCode(code),
      refusal: (code) => refusalMessage(code, settings),
      organizations: async (accessToken) => organisationsOf(await tenants(oauth, accessToken)),
      settle: (organizations, previous) => settle(organizations, settings.XERO_TENANT_ID, previous),
      configured: settings.XERO_TENANT_ID,
      connectedTo: (org) => `organisation ${org.name}, ${org.id}`,
      logFields: { settled: (count, chosenId) => ({ tenants: count, tenant_id: chosenId }), chosen: (org) => ({ tenant_id: org.id }) },
      // Tenant IDs are stored in lower case, as settings hold them.
      storedId: (id) => id.toLowerCase(),
    });
  }
}

/** The tenants this consent connected (by the token's auth event), or all the token reaches. */
async function tenants(oauth: XeroOAuth, accessToken: string): Promise<XeroTenant[]> {
  const authEventId = authEventIdOf(accessToken);
  if (authEventId) {
    const connected = await oauth.tenants(accessToken, authEventId);
    if (connected.length > 0) return connected;
  }
  return oauth.tenants(accessToken);
}

/** Organisations only (a practice-manager tenant has no Accounting API), IDs in lower case as settings hold them. */
function organisationsOf(tenants: XeroTenant[]): Organization[] {
  const seen = new Set<string>();
  const out: Organization[] = [];
  for (const t of tenants) {
    if (t.tenantType !== undefined && t.tenantType !== 'ORGANISATION') continue;
    const id = t.tenantId.toLowerCase();
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ id, name: t.tenantName?.trim() || id });
  }
  return out;
}

/** XERO_TENANT_ID wins; then the organisation chosen before this reconnect, if still reached; then the only one. */
export function settle(organizations: Organization[], configured: string | undefined, previous: string | undefined): Settled {
  return settleOrganization(organizations, configured, previous, {
    notReached: (id, list) => `XERO_TENANT_ID ${id} is not one of the organisations this Xero connection reaches (${list}). Tick it on Xero's consent page when connecting, or change XERO_TENANT_ID.`,
    none: 'The Xero connection reaches no organisation: connect Xero again on the /connect page and tick the organisation the relay should work in.',
  });
}

/**
 * Xero's access tokens are JWTs whose `authentication_event_id` names the consent that issued them; GET
 * /connections?authEventId= then lists only the organisations that consent connected. Read without trusting
 * it (it only narrows a list the token may see anyway); undefined for a token that is not such a JWT.
 */
export function authEventIdOf(accessToken: string): string | undefined {
  const payload = accessToken.split('.')[1];
  if (!payload || payload.length > 8192) return undefined;
  try {
    const claim = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { authentication_event_id?: unknown }).authentication_event_id;
    return typeof claim === 'string' && GUID.test(claim) ? claim : undefined;
  } catch {
    return undefined;
  }
}

function refusalMessage(code: string, settings: Pick<XeroSettings, 'XERO_SCOPES'>): string {
  switch (code) {
    case 'access_denied':
      return `Xero was not given access (access_denied): the consent was cancelled on Xero's page. Start again from the connection page and choose "Allow access" there.`;
    case 'invalid_scope':
      return `Xero refused the scopes the relay asked for (invalid_scope: ${settings.XERO_SCOPES.join(' ')}). Xero apps created from March 2026 cannot ask for accounting.transactions: remove XERO_SCOPES (the default is the granular scopes) or correct it, restart the relay, and connect again.`;
    case 'unauthorized_client':
      return 'Xero does not accept this app or its redirect URI (unauthorized_client): check XERO_CLIENT_ID, and that XERO_REDIRECT_URI is among the redirect URIs of the app in developer.xero.com > My Apps > your app > Configuration. Then connect again.';
    default:
      return `Xero did not grant access (${code}). ${RESTART}`;
  }
}
