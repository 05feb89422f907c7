// Connecting a provider on /connect/<side> by OAuth 2 authorization code, when one consent may reach several
// organisations (a provider's organisations, tenants or businesses): a consent redirect with a one-time state,
// and a callback that exchanges the code, stores the pair (encrypted) in the connection row before anything
// uses it, lists the organisations the token reaches and settles the one the relay works in (see
// organization-choice.ts); with several and none configured, the connection page asks. What differs between
// providers is given: their words, the consent URL and code exchange, how organisations are listed and
// settled, and what their refusals on the callback mean.
import { STATE_TTL_MS, type ConnectOutcome } from '../connect/outcome.js';
import { RelayError } from '../errors.js';
import { registerSecret, type Logger } from '../log.js';
import type { Connections, Organization } from '../store/connections.js';
import type { OAuthStates } from '../store/oauth-states.js';
import type { ConnectionSide } from '../store/schema.js';
import type { Settled } from './organization-choice.js';
import type { RotatedPair } from './rotating-tokens.js';

export interface OrganizationConnectOptions<Side extends ConnectionSide> {
  side: Side;
  /** The provider's name as people read it. */
  label: string;
  callbackPath: string;
  /** What the provider calls an organisation, as the messages say it: 'an organisation', 'organisation', 'organisations'. */
  words: { a: string; one: string; many: string };
  states: OAuthStates;
  connections: Connections;
  log: Logger;
  onConnected: () => Promise<void>;
  /** Why the relay cannot connect the provider on the page, if it cannot. */
  unavailable(): string | undefined;
  authorizeUrl(state: string): string;
  exchangeCode(code: string): Promise<RotatedPair>;
  /** The page's message for the `error` the callback carried (a short word, or 'an unknown error'). */
  refusal(code: string): string;
  /** The organisations a fresh access token reaches, as they are stored. */
  organizations(accessToken: string): Promise<Organization[]>;
  /** Which one to work in, `previous` being the one chosen before this reconnect. */
  settle(organizations: Organization[], previous: string | undefined): Settled;
  /** The organisation the settings name: it is the choice, so the page offers no picker. */
  configured: string | undefined;
  /** How "… is connected (…)" names the organisation worked in. */
  connectedTo(org: Organization): string;
  /** The fields of the log line of the settled connection, and of a choice made on the page. */
  logFields: { settled(count: number, chosenId: string | undefined): Record<string, unknown>; chosen(org: Organization): Record<string, unknown> };
  /** How an ID picked on the page is written as stored (default: as given). */
  storedId?(id: string): string;
}

/** The provider's own error codes on the callback are short words; anything else is not shown as given. */
const ERROR_CODE = /^[a-z_]{1,64}$/;
const RESTART = 'Start again from the connection page.';

export class OrganizationConnectFlow<Side extends ConnectionSide> {
  readonly callbackPath: string;

  constructor(private readonly o: OrganizationConnectOptions<Side>) {
    this.callbackPath = o.callbackPath;
  }

  /** Why this relay cannot connect the provider on the page, if it cannot. */
  unavailable(): string | undefined {
    return this.o.unavailable();
  }

  async start(): Promise<string> {
    const state = await this.o.states.create(this.o.side, STATE_TTL_MS);
    registerSecret(state);
    return this.o.authorizeUrl(state);
  }

  async complete(q: Record<string, string>): Promise<ConnectOutcome> {
    const { side, label, words, log, connections } = this.o;
    // Both are secrets until spent: keep them out of every log line.
    registerSecret(q.code);
    registerSecret(q.state);
    const unavailable = this.unavailable();
    if (unavailable) return { ok: false, status: 409, message: unavailable };
    if (!(await this.o.states.consume(side, q.state ?? ''))) {
      return { ok: false, status: 400, message: `This ${label} connection link has expired or was already used. ${RESTART}` };
    }
    if (q.error) {
      const code = ERROR_CODE.test(q.error) ? q.error : 'an unknown error';
      log.warn({ error: code }, `${label} did not grant access`);
      return { ok: false, status: 400, message: this.o.refusal(code) };
    }
    if (!q.code) return { ok: false, status: 400, message: `${label} sent no authorization code. ${RESTART}` };

    let pair;
    try {
      pair = await this.o.exchangeCode(q.code);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      log.error({ code: err.code }, err.message);
      return { ok: false, status: 502, message: err.message };
    }
    const before = await connections.describe(side);
    // Stored before anything uses it: the refresh token rotates, and this pair is the only copy.
    await connections.connect(side, pair);
    log.info(`${side} connected`);

    let problem: string | undefined;
    let organizations: Organization[] = [];
    try {
      organizations = await this.o.organizations(pair.accessToken);
      const settled = this.o.settle(organizations, before?.organizationId);
      problem = settled.problem;
      await connections.setOrganizations(side, organizations, settled.chosen);
      if (problem) await connections.recordError(side, problem);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      problem = `Connected, but the ${words.many} could not be listed: ${err.message}`;
      await connections.recordError(side, problem);
    }
    await this.o.onConnected();
    const c = await connections.describe(side);
    // A configured organisation is the choice: a picker would change nothing.
    const chooseFrom = !c?.organizationId && !this.o.configured && organizations.length > 1 ? organizations : undefined;
    const where = c?.organizationId ? ` (${this.o.connectedTo({ id: c.organizationId, name: c.organizationName ?? c.organizationId })})` : '';
    log.info(this.o.logFields.settled(organizations.length, c?.organizationId), chooseFrom ? `${side} connected: ${words.a} is to be chosen` : `${side} ${words.one} settled`);
    return {
      ok: true,
      message: chooseFrom ? `${label} is connected. It reaches several ${words.many}: choose the one the relay works in.` : `${label} is connected${where}.`,
      ...(problem ? { problem } : {}),
      ...(chooseFrom ? { chooseFrom } : {}),
    };
  }

  /** The administrator picked the organisation; jobs that waited for one are made due. */
  async choose(organizationId: string): Promise<boolean> {
    const { side, connections } = this.o;
    const c = await connections.describe(side);
    const id = this.o.storedId ? this.o.storedId(organizationId) : organizationId;
    const org = c?.organizations.find((o) => o.id === id);
    if (!org) return false;
    await connections.chooseOrganization(side, org);
    this.o.log.info(this.o.logFields.chosen(org), `${side} ${this.o.words.one} chosen`);
    await this.o.onConnected();
    return true;
  }
}
