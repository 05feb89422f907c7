// Connecting Xero through the connect flow, against the fake Xero listening on a port (its identity server
// redirects back with a code and the state, exchanges codes, lists the tenants on GET /connections) and a
// real SQLite file: the pair is stored encrypted before anything uses it, the organisations come from
// GET /connections (one is chosen at once, several are offered), every refusal has a message a person can act
// on, a state works once, and the stored pair is the one that rotates later.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XeroClient } from '../../src/accounting/xero/client.js';
import { authEventIdOf, XeroConnectFlow } from '../../src/accounting/xero/connect-flow.js';
import { XERO_DEFAULT_SCOPES, XeroOAuth, xeroTokens } from '../../src/accounting/xero/oauth.js';
import { xeroSettingsSchema, xeroUrls } from '../../src/accounting/xero/settings.js';
import { createLogger } from '../../src/log.js';
import { TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import { OAuthStates } from '../../src/store/oauth-states.js';
import { createFakeXero, type FakeXero, type FakeXeroOptions } from '../../sandbox/xero/server.js';
import { tempStore } from '../support/tmp.js';

const KEY = Buffer.from('5c2e8a1f0b3d4c6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6', 'hex');
const REDIRECT = 'https://relay.example.com/connect/xero/callback';
const silent = createLogger({ level: 'silent' });

describe('Xero connect flow against the fake Xero', () => {
  let fake: FakeXero;
  let store: Awaited<ReturnType<typeof tempStore>>;
  let connections: Connections;
  let connectedCalls: number;

  beforeEach(async () => {
    store = await tempStore();
    connections = new Connections(store.db, new TokenCipher(KEY));
    connectedCalls = 0;
  });
  afterEach(async () => {
    await fake?.close();
    await store.cleanup();
  });

  async function setUp(opts: FakeXeroOptions = {}, env: Record<string, string> | ((fake: FakeXero) => Record<string, string>) = {}) {
    fake = createFakeXero(opts);
    const origin = await fake.listen();
    const extra = typeof env === 'function' ? env(fake) : env;
    const settings = xeroSettingsSchema.parse({ XERO_CLIENT_ID: fake.clientId, XERO_CLIENT_SECRET: fake.clientSecret, XERO_REDIRECT_URI: REDIRECT, XERO_API_URL: origin, ...extra });
    const urls = xeroUrls(settings);
    const oauth = new XeroOAuth({
      clientId: settings.XERO_CLIENT_ID,
      clientSecret: settings.XERO_CLIENT_SECRET,
      redirectUri: REDIRECT,
      timeoutMs: 5000,
      scopes: settings.XERO_SCOPES,
      authorizeUrl: urls.authorize,
      tokenUrl: urls.token,
      connectionsUrl: urls.connections,
    });
    const flow = new XeroConnectFlow({
      settings,
      timeoutMs: 5000,
      states: new OAuthStates(store.db),
      connections,
      oauth,
      log: silent,
      onConnected: async () => void connectedCalls++,
    });
    return { flow, oauth, settings, origin };
  }

  /** The administrator's browser: to Xero's consent (the fake consents at once) and back to our callback. */
  async function consent(flow: XeroConnectFlow): Promise<{ consentUrl: URL; query: Record<string, string> }> {
    const consentUrl = new URL(await flow.start());
    const res = await fetch(consentUrl, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    return { consentUrl, query: Object.fromEntries(back.searchParams) };
  }

  const rawRow = () => store.db.selectFrom('connections').selectAll().where('side', '=', 'xero').executeTakeFirst();

  it('asks for offline access and the configured scopes with a one-time state; one organisation is chosen at once and the pair is stored encrypted', async () => {
    const { flow, origin } = await setUp({ tenants: [{ name: 'Acme Ltd' }] });
    expect(flow.unavailable()).toBeUndefined();
    const { consentUrl, query } = await consent(flow);
    expect(`${consentUrl.origin}${consentUrl.pathname}`).toBe(`${origin}/identity/connect/authorize`);
    const params = Object.fromEntries(consentUrl.searchParams);
    expect(params).toMatchObject({ response_type: 'code', client_id: fake.clientId, redirect_uri: REDIRECT, scope: XERO_DEFAULT_SCOPES.join(' ') });
    expect(params.scope!.split(' ')).toContain('offline_access');
    expect(params.state!.length).toBeGreaterThanOrEqual(40);
    // Only a hash of the state is stored.
    const states = await store.db.selectFrom('oauth_states').selectAll().execute();
    expect(states).toHaveLength(1);
    expect(JSON.stringify(states)).not.toContain(params.state);

    const outcome = await flow.complete(query);
    expect(outcome).toEqual({ ok: true, message: `Xero is connected (organisation Acme Ltd, ${fake.tenantId}).` });
    expect(connectedCalls).toBe(1);

    const c = await connections.get('xero');
    expect(c).toMatchObject({ status: 'connected', organizationId: fake.tenantId, organizationName: 'Acme Ltd', organizations: [{ id: fake.tenantId, name: 'Acme Ltd' }] });
    // The stored pair is the one Xero issued for this code: the fake knows both tokens.
    expect(fake.identity.accessTokens.has(c!.accessToken!)).toBe(true);
    expect(fake.identity.refreshTokens.has(c!.refreshToken!)).toBe(true);
    const row = await rawRow();
    expect(row!.access_token).toMatch(/^v1:/);
    expect(row!.refresh_token).toMatch(/^v1:/);
    expect(JSON.stringify(row)).not.toContain(c!.accessToken!);
    expect(JSON.stringify(row)).not.toContain(c!.refreshToken!);
    expect(fake.identity.grants).toEqual([expect.objectContaining({ grantType: 'authorization_code', ok: true })]);
    expect(fake.violations).toEqual([]);
  });

  it('several organisations: none is chosen, the page is given them, and the choice is stored (a stranger\'s ID is refused)', async () => {
    const { flow } = await setUp({ tenants: [{ name: 'Acme Ltd' }, { name: 'Acme Pty', countryCode: 'AU', baseCurrency: 'AUD' }] });
    const [uk, au] = fake.tenantIds as [string, string];
    const outcome = await flow.complete((await consent(flow)).query);
    expect(outcome).toEqual({
      ok: true,
      message: 'Xero is connected. It reaches several organisations: choose the one the relay works in.',
      chooseFrom: [
        { id: uk, name: 'Acme Ltd' },
        { id: au, name: 'Acme Pty' },
      ],
    });
    expect((await connections.describe('xero'))?.organizationId).toBeUndefined();
    expect(connectedCalls).toBe(1);

    expect(await flow.choose('00000000-0000-4000-8000-000000000000')).toBe(false);
    expect(connectedCalls).toBe(1);
    expect(await flow.choose(au.toUpperCase())).toBe(true);
    expect(await connections.describe('xero')).toMatchObject({ organizationId: au, organizationName: 'Acme Pty' });
    expect(connectedCalls).toBe(2);

    // A reconnect keeps the organisation chosen before, since the new consent still reaches it.
    expect(await flow.complete((await consent(flow)).query)).toEqual({ ok: true, message: `Xero is connected (organisation Acme Pty, ${au}).` });
    expect(fake.violations).toEqual([]);
  });

  it('XERO_TENANT_ID picks among several; one the connection does not reach is a problem to fix, and no picker is offered', async () => {
    const tenants = { tenants: [{ name: 'Acme Ltd' }, { name: 'Acme Pty' }] };
    const { flow } = await setUp(tenants, { XERO_TENANT_ID: '11111111-2222-4333-8444-555555555555' });
    const outcome = await flow.complete((await consent(flow)).query);
    expect(outcome).toEqual({
      ok: true,
      message: 'Xero is connected.',
      problem: expect.stringMatching(/^XERO_TENANT_ID 11111111-2222-4333-8444-555555555555 is not one of the organisations this Xero connection reaches \(.*Acme Ltd.*Acme Pty\)\. Tick it/),
    });
    expect((await connections.describe('xero'))?.lastError).toMatch(/^XERO_TENANT_ID/);
    expect(fake.violations).toEqual([]);
    await fake.close();

    // Given in capitals, as copied from Xero: it is the same GUID.
    const chosen = await setUp(tenants, (f) => ({ XERO_TENANT_ID: f.tenantIds[1]!.toUpperCase() }));
    const pty = fake.tenantIds[1]!;
    expect(await chosen.flow.complete((await consent(chosen.flow)).query)).toEqual({ ok: true, message: `Xero is connected (organisation Acme Pty, ${pty}).` });
    expect(await connections.describe('xero')).toMatchObject({ organizationId: pty, lastError: undefined });
    expect(fake.violations).toEqual([]);
  });

  it('a refused code (spent or made up) is a 502 with what to do, and nothing is stored', async () => {
    const { flow } = await setUp();
    const { query } = await consent(flow);
    const outcome = await flow.complete({ ...query, code: 'not-a-code-xero-issued' });
    expect(outcome).toEqual({ ok: false, status: 502, message: expect.stringMatching(/^Xero refused the authorization code \(invalid_grant\).*Connect again\.$/) });
    expect(await rawRow()).toBeUndefined();
    expect(connectedCalls).toBe(0);
    expect(fake.violations).toEqual([]);
  });

  it('a state works once: the replayed callback is refused without a second exchange', async () => {
    const { flow } = await setUp();
    const { query } = await consent(flow);
    expect((await flow.complete(query)).ok).toBe(true);
    const replay = await flow.complete(query);
    expect(replay).toEqual({ ok: false, status: 400, message: 'This Xero connection link has expired or was already used. Start again from the connection page.' });
    expect(await flow.complete({ ...query, state: 'made-up-state' })).toMatchObject({ ok: false, status: 400 });
    expect(fake.identity.grants.filter((g) => g.grantType === 'authorization_code')).toHaveLength(1);
    expect(connectedCalls).toBe(1);
    expect(fake.violations).toEqual([]);
  });

  it('the administrator cancels on Xero\'s page (access_denied), or the app asks for a scope Xero refuses (invalid_scope)', async () => {
    const { flow } = await setUp({ refusedScopes: ['accounting.transactions'] }, { XERO_SCOPES: 'offline_access accounting.transactions accounting.contacts' });
    const { query } = await consent(flow);
    expect(query.error).toBe('invalid_scope');
    expect(query.code).toBeUndefined();
    const outcome = await flow.complete(query);
    expect(outcome).toMatchObject({ ok: false, status: 400 });
    expect(!outcome.ok && outcome.message).toMatch(/^Xero refused the scopes the relay asked for \(invalid_scope: offline_access accounting\.transactions accounting\.contacts\)\..*remove XERO_SCOPES/);

    const state = new URL(await flow.start()).searchParams.get('state')!;
    const denied = await flow.complete({ error: 'access_denied', state });
    expect(denied).toEqual({ ok: false, status: 400, message: 'Xero was not given access (access_denied): the consent was cancelled on Xero\'s page. Start again from the connection page and choose "Allow access" there.' });
    const odd = await flow.complete({ error: '<script>', state: new URL(await flow.start()).searchParams.get('state')! });
    expect(odd).toEqual({ ok: false, status: 400, message: 'Xero did not grant access (an unknown error). Start again from the connection page.' });
    expect(await rawRow()).toBeUndefined();
    expect(fake.violations).toEqual([]);
  });

  it('without XERO_REDIRECT_URI the page says what to set, and a callback is refused', async () => {
    fake = createFakeXero();
    const origin = await fake.listen();
    const settings = xeroSettingsSchema.parse({ XERO_CLIENT_ID: fake.clientId, XERO_CLIENT_SECRET: fake.clientSecret, XERO_REFRESH_TOKEN: fake.refreshToken, XERO_API_URL: origin });
    const flow = new XeroConnectFlow({
      settings,
      timeoutMs: 5000,
      states: new OAuthStates(store.db),
      connections,
      oauth: new XeroOAuth({ clientId: fake.clientId, clientSecret: fake.clientSecret, redirectUri: '', timeoutMs: 5000 }),
      log: silent,
      onConnected: async () => undefined,
    });
    expect(flow.unavailable()).toMatch(/^Set XERO_REDIRECT_URI to https:\/\/<this relay>\/connect\/xero\/callback/);
    expect(await flow.complete({ code: 'x', state: 'y' })).toMatchObject({ ok: false, status: 409 });
    expect(fake.violations).toEqual([]);
  });

  it('the stored pair is what rotates later: a refused access token is refreshed and the new pair replaces it, encrypted', async () => {
    const { flow, oauth, origin } = await setUp();
    await flow.complete((await consent(flow)).query);
    const first = (await connections.get('xero'))!;
    const tokens = xeroTokens({ store: connections, oauth, log: silent, leaseMs: 10_000 });
    const client = new XeroClient({ tokens, tenantId: () => first.organizationId, baseUrl: `${origin}/api.xro/2.0`, timeoutMs: 5000, log: silent, retryBaseMs: 1 });
    expect((await client.organisation()).OrganisationID).toBe(fake.tenantId);
    expect(fake.identity.grants.filter((g) => g.grantType === 'refresh_token')).toEqual([]);

    fake.expireAccessTokens();
    expect((await client.organisation()).OrganisationID).toBe(fake.tenantId);
    const second = (await connections.get('xero'))!;
    expect(fake.identity.grants.filter((g) => g.grantType === 'refresh_token')).toEqual([expect.objectContaining({ ok: true })]);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.generation).toBe(first.generation + 1);
    expect(second.organizationId).toBe(first.organizationId);
    const row = await rawRow();
    expect(JSON.stringify(row)).not.toContain(second.refreshToken!);
    expect(JSON.stringify(row)).not.toContain(second.accessToken!);
    expect(fake.violations).toEqual([]);
  });
});

describe('the access token\'s auth event', () => {
  const jwt = (claims: unknown) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
  it('is read from a JWT\'s authentication_event_id when it is a GUID, and from nothing else', () => {
    expect(authEventIdOf(jwt({ authentication_event_id: 'e1b2c3d4-0000-4000-8000-000000000001' }))).toBe('e1b2c3d4-0000-4000-8000-000000000001');
    expect(authEventIdOf(jwt({ authentication_event_id: 'last' }))).toBeUndefined();
    expect(authEventIdOf(jwt({}))).toBeUndefined();
    expect(authEventIdOf('opaque-token')).toBeUndefined();
    expect(authEventIdOf('a.!!!.b')).toBeUndefined();
  });
});
