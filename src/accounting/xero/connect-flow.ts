// Connecting Xero on /connect/xero: a consent redirect to Xero's login (offline access and the configured
// scopes, a one-time state), and a callback that exchanges the code, stores the pair (encrypted) in the
// connection row before anything uses it, lists the organisations (tenants) this consent connected and
// settles the one the relay works in: XERO_TENANT_ID, else the one chosen before if it is still there, else
// the only one; with several, the connection page asks.
import { RelayError } from '../../errors.js';
import { registerSecret, type Logger } from '../../log.js';
import type { Connections, Organization } from '../../store/connections.js';
import type { OAuthStates } from '../../store/oauth-states.js';
import type { AccountingConnectFlow } from '../backend.js';
import { STATE_TTL_MS, type ConnectOutcome } from '../../connect/outcome.js';
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
/** Xero's own error codes on the callback are short words; anything else is not shown as given. */
const ERROR_CODE = /^[a-z_]{1,64}$/;
const RESTART = 'Start again from the connection page.';

export class XeroConnectFlow implements AccountingConnectFlow {
  readonly callbackPath = XERO_CALLBACK_PATH;

  constructor(private readonly deps: XeroConnectDeps) {}

  /** Why this relay cannot connect Xero on the page, if it cannot. */
  unavailable(): string | undefined {
    if (!this.deps.settings.XERO_REDIRECT_URI) {
      return `Set XERO_REDIRECT_URI to https://<this relay>${XERO_CALLBACK_PATH} (the same URI among the redirect URIs of the app in developer.xero.com > My Apps > your app > Configuration) and restart, to connect Xero here.`;
    }
    return undefined;
  }

  async start(): Promise<string> {
    const state = await this.deps.states.create('xero', STATE_TTL_MS);
    registerSecret(state);
    return this.deps.oauth.authorizeUrl(state);
  }

  async complete(q: Record<string, string>): Promise<ConnectOutcome> {
    const { log, connections } = this.deps;
    // Both are secrets until spent: keep them out of every log line.
    registerSecret(q.code);
    registerSecret(q.state);
    const unavailable = this.unavailable();
    if (unavailable) return { ok: false, status: 409, message: unavailable };
    if (!(await this.deps.states.consume('xero', q.state ?? ''))) {
      return { ok: false, status: 400, message: `This Xero connection link has expired or was already used. ${RESTART}` };
    }
    if (q.error) {
      const code = ERROR_CODE.test(q.error) ? q.error : 'an unknown error';
      log.warn({ error: code }, 'Xero did not grant access');
      return { ok: false, status: 400, message: refusalMessage(code, this.deps.settings) };
    }
    if (!q.code) return { ok: false, status: 400, message: `Xero sent no authorization code. ${RESTART}` };

    let pair;
    try {
      pair = await this.deps.oauth.exchangeCode(q.code);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      log.error({ code: err.code }, err.message);
      return { ok: false, status: 502, message: err.message };
    }
    const before = await connections.describe('xero');
    // Stored before anything uses it: Xero's refresh tokens rotate, and this pair is the only copy.
    await connections.connect('xero', pair);
    log.info('xero connected');

    let problem: string | undefined;
    let organizations: Organization[] = [];
    try {
      organizations = organisationsOf(await this.tenants(pair.accessToken));
      const settled = settle(organizations, this.deps.settings.XERO_TENANT_ID, before?.organizationId);
      problem = settled.problem;
      await connections.setOrganizations('xero', organizations, settled.chosen);
      if (problem) await connections.recordError('xero', problem);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      problem = `Connected, but the organisations could not be listed: ${err.message}`;
      await connections.recordError('xero', problem);
    }
    await this.deps.onConnected();
    const c = await connections.describe('xero');
    // XERO_TENANT_ID, when set, is the choice: a picker would change nothing.
    const chooseFrom = !c?.organizationId && !this.deps.settings.XERO_TENANT_ID && organizations.length > 1 ? organizations : undefined;
    const where = c?.organizationId ? ` (organisation ${c.organizationName ?? c.organizationId}, ${c.organizationId})` : '';
    log.info({ tenants: organizations.length, tenant_id: c?.organizationId }, chooseFrom ? 'xero connected: an organisation is to be chosen' : 'xero organisation settled');
    return {
      ok: true,
      message: chooseFrom ? 'Xero is connected. It reaches several organisations: choose the one the relay works in.' : `Xero is connected${where}.`,
      ...(problem ? { problem } : {}),
      ...(chooseFrom ? { chooseFrom } : {}),
    };
  }

  /** The administrator picked the organisation; jobs that waited for one are made due. */
  async choose(organizationId: string): Promise<boolean> {
    const c = await this.deps.connections.describe('xero');
    const org = c?.organizations.find((o) => o.id === organizationId.toLowerCase());
    if (!org) return false;
    await this.deps.connections.chooseOrganization('xero', org);
    this.deps.log.info({ tenant_id: org.id }, 'xero organisation chosen');
    await this.deps.onConnected();
    return true;
  }

  /** The tenants this consent connected (by the token's auth event), or all the token reaches. */
  private async tenants(accessToken: string): Promise<XeroTenant[]> {
    const authEventId = authEventIdOf(accessToken);
    if (authEventId) {
      const connected = await this.deps.oauth.tenants(accessToken, authEventId);
      if (connected.length > 0) return connected;
    }
    return this.deps.oauth.tenants(accessToken);
  }
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
export function settle(organizations: Organization[], configured: string | undefined, previous: string | undefined): { chosen?: Organization; problem?: string } {
  if (configured) {
    const chosen = organizations.find((o) => o.id === configured);
    if (chosen) return { chosen };
    return { problem: `XERO_TENANT_ID ${configured} is not one of the organisations this Xero connection reaches (${describe(organizations)}). Tick it on Xero's consent page when connecting, or change XERO_TENANT_ID.` };
  }
  if (organizations.length === 0) {
    return { problem: 'The Xero connection reaches no organisation: connect Xero again on the /connect page and tick the organisation the relay should work in.' };
  }
  const kept = previous ? organizations.find((o) => o.id === previous) : undefined;
  if (kept) return { chosen: kept };
  if (organizations.length === 1) return { chosen: organizations[0]! };
  return {};
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

const describe = (orgs: Organization[]) => (orgs.length ? orgs.map((o) => `${o.id} ${o.name}`).join(', ') : 'none');
