// Connecting Zoho on /connect, end to end against the stateful fake Zoho Accounts and Books (real codes,
// single use, 60 s; scopes enforced on every Books call; the mint limit), with the relay in-process on a
// real SQLite file and every log line captured. ZOHO_ACCOUNTS_URL points at the fake, which names itself
// as the accounts server in its redirect (test/integration/oauth-zoho-eu.test.ts covers Zoho's real hosts).
import { zohoOf } from '../support/zoho-side.js';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayError } from '../../src/errors.js';
import type { Relay } from '../../src/relay.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY, RELAY_PUBLIC_URL, startScenario, type Scenario } from '../../sandbox/scenario.js';
import type { FakeZohoOptions } from '../../sandbox/zoho/server.js';
import { asAdmin, connectZohoThroughFake, expectNoSecretIn, get, relayPath, secretsOf, startCapturedRelay } from '../support/connect.js';
import { invoicesOf, waitFor } from '../support/e2e.js';
import { tempDir } from '../support/tmp.js';

const ZOHO_CALLBACK = `${RELAY_PUBLIC_URL}/connect/zoho/callback`;

interface Setup {
  s: Scenario;
  relay: Relay;
  logs: string[];
  env: Record<string, string>;
  restart(): Promise<Relay>;
}

let current: (Setup & { cleanup(): Promise<void> }) | undefined;
afterEach(async () => {
  if (!current) return;
  expect(current.s.zoho.violations).toEqual([]);
  // Whatever the test did: no token the fakes issued, and no configured secret, in any captured log line.
  const stored = await Promise.all([current.relay.connections.get('kommo'), current.relay.connections.get('zoho')]);
  expectNoSecretIn(current.logs, secretsOf(current.s, [ADMIN_TOKEN, ENCRYPTION_KEY, ...stored.flatMap((c) => [c?.accessToken, c?.refreshToken])]));
  await current.cleanup();
  current = undefined;
});

/** Kommo with its long-lived token; Zoho to be connected on the page. */
async function setup(zoho: FakeZohoOptions = {}, overrides: Record<string, string> = {}): Promise<Setup> {
  const dir = tempDir('relay-connect-zoho-');
  const s = await startScenario({ dir: dir.path, zoho });
  const logs: string[] = [];
  const env = s.env({ ZOHO_REFRESH_TOKEN: '', ZOHO_ORGANIZATION_ID: '', ZOHO_REDIRECT_URI: ZOHO_CALLBACK, ENCRYPTION_KEY, ADMIN_TOKEN, ...overrides });
  const start = async () => {
    const relay = await startCapturedRelay(env, { logs });
    s.connectRelay(relay.url);
    return relay;
  };
  const setup: Setup & { cleanup(): Promise<void> } = {
    s,
    logs,
    env,
    relay: await start(),
    async restart() {
      await setup.relay.stop();
      setup.relay = await start();
      return setup.relay;
    },
    async cleanup() {
      await setup.relay.stop();
      await s.close();
      dir.cleanup();
    },
  };
  current = setup;
  return setup;
}

const tokenRequests = (s: Scenario) => s.zoho.requests.filter((r) => r.path === '/oauth/v2/token');
const booksAuth = (s: Scenario) => s.zoho.requests.filter((r) => r.path.startsWith('/books/v3')).map((r) => r.headers.authorization);

async function statusOf(relay: Relay) {
  const res = await get(relay, '/connect/status', asAdmin);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, Record<string, unknown>>;
}

describe('connecting Zoho on /connect', () => {
  it('consent at the data centre, exchange at the accounts server the redirect names, tokens stored encrypted, then an invoice with the minimal scopes', async () => {
    const { s, relay, logs } = await setup();
    const { status, page, consentUrl, callback } = await connectZohoThroughFake(relay);

    expect(consentUrl.origin + consentUrl.pathname).toBe(`${s.zohoUrl}/oauth/v2/auth`);
    expect(Object.fromEntries(consentUrl.searchParams)).toEqual({
      scope: 'ZohoBooks.invoices.ALL,ZohoBooks.contacts.ALL,ZohoBooks.customerpayments.READ,ZohoBooks.settings.READ',
      client_id: s.zoho.clientId,
      response_type: 'code',
      redirect_uri: ZOHO_CALLBACK,
      access_type: 'offline',
      prompt: 'consent',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(callback.searchParams.get('accounts-server')).toBe(s.zohoUrl);
    expect(status).toBe(200);
    expect(page).toContain('Zoho is connected (data centre eu, organization Acme (20099887766)).');

    const exchange = tokenRequests(s);
    expect(exchange).toHaveLength(1);
    expect(exchange[0]!.body).toEqual({
      grant_type: 'authorization_code',
      client_id: s.zoho.clientId,
      client_secret: s.zoho.clientSecret,
      redirect_uri: ZOHO_CALLBACK,
      code: callback.searchParams.get('code'),
    });
    const stored = await relay.connections.get('zoho');
    expect(stored).toMatchObject({ status: 'connected', dataCentre: 'eu', accountsServer: s.zohoUrl, apiDomain: s.zohoUrl, organizationId: '20099887766', organizationName: 'Acme' });
    // The organizations, then the new organization's reference data (currencies, taxes…), all with the exchanged token.
    expect(s.zoho.requests.filter((r) => r.path.startsWith('/books/v3'))[0]?.path).toBe('/books/v3/organizations');
    expect(new Set(booksAuth(s))).toEqual(new Set([`Zoho-oauthtoken ${stored!.accessToken}`]));
    const row = await relay.store.db.selectFrom('connections').selectAll().where('side', '=', 'zoho').executeTakeFirstOrThrow();
    expect(row.refresh_token).toMatch(/^v1:/);
    expect(JSON.stringify(row)).not.toContain(stored!.refreshToken!);
    expect(JSON.stringify(row)).not.toContain(stored!.accessToken!);

    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    await waitFor(() => invoicesOf(s, dealId).length === 1, `deal ${dealId} to be invoiced`);
    expect(s.zoho.state.tokenGrants).toBe(1); // the stored access token served every call
    expect(new Set(booksAuth(s))).toEqual(new Set([`Zoho-oauthtoken ${stored!.accessToken}`]));

    const st = await statusOf(relay);
    expect(st.zoho).toEqual({
      connected: true,
      method: 'OAuth',
      dataCentre: 'eu',
      apiDomain: s.zohoUrl,
      organization: { id: '20099887766', name: 'Acme' },
      accessTokenExpiresAt: new Date(stored!.accessExpiresAt!).toISOString(),
    });
    const html = await (await get(relay, '/connect', asAdmin)).text();
    const secrets = secretsOf(s, [stored!.refreshToken, stored!.accessToken, ADMIN_TOKEN, ENCRYPTION_KEY]);
    expectNoSecretIn([html, JSON.stringify(st)], secrets);
    expectNoSecretIn(logs, secrets);
  });

  it('not connected at start: the relay starts, webhooks are stored and acknowledged, the job waits with zoho_not_connected, connecting resumes it', async () => {
    const { s, relay, logs } = await setup();
    expect(logs.some((l) => l.includes('Zoho is not connected: log in on /connect with ADMIN_TOKEN and connect Zoho.'))).toBe(true);
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    const waiting = await waitFor(async () => {
      const job = await relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'invoice_for_deal').executeTakeFirst();
      return job?.last_error_code ? job : undefined;
    }, 'the invoice job to wait for Zoho');
    expect([waiting.state, waiting.last_error_code]).toEqual(['queued', 'zoho_not_connected']);
    expect(waiting.last_error).toBe('Zoho is not connected: an administrator must connect Zoho on the /connect page (or set ZOHO_REFRESH_TOKEN).');
    expect(waiting.run_at - Date.now()).toBeGreaterThan(60_000); // waits minutes, not a tight loop
    expect(s.kommo.deliveries.filter((d) => d.events.includes('status_lead')).map((d) => d.status)).toEqual([200]);
    expect(tokenRequests(s)).toEqual([]);

    await connectZohoThroughFake(relay);
    await waitFor(() => invoicesOf(s, dealId).length === 1, `deal ${dealId} to be invoiced once Zoho is connected`);
  });

  it('an account with several organizations: the page asks, jobs wait with a reason, choosing one on the page resumes them', async () => {
    const { s, relay } = await setup();
    const second = s.zoho.addOrganization({ name: 'Acme <Holding> & "Co"' });
    const { status, page } = await connectZohoThroughFake(relay);
    expect(status).toBe(200);
    expect(page).toContain('several Books organizations');
    expect(page).toContain(`value="20099887766"`);
    expect(page).toContain(`value="${second}"> Acme &#60;Holding&#62; &#38; &#34;Co&#34; (${second})`);
    expect(page).not.toContain('<Holding>');

    const err = (await zohoOf(relay).client.listTaxes().catch((e: unknown) => e)) as RelayError;
    expect(err).toBeInstanceOf(RelayError);
    expect([err.code, err.retryable]).toEqual(['zoho_organization_not_chosen', true]);

    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    const waiting = await waitFor(async () => {
      const job = await relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'invoice_for_deal').executeTakeFirst();
      return job?.last_error_code ? job : undefined;
    }, 'the invoice job to wait for an organization');
    expect([waiting.state, waiting.last_error_code]).toEqual(['queued', 'zoho_organization_not_chosen']);

    // The browser: log in with the form, then choose with the session cookie.
    const login = await fetch(`${relay.url}/connect/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: ADMIN_TOKEN }) });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const chosen = await fetch(`${relay.url}/connect/zoho/organization`, { method: 'POST', redirect: 'manual', headers: { cookie }, body: new URLSearchParams({ organization_id: second }) });
    expect([chosen.status, chosen.headers.get('location')]).toEqual([303, '/connect']);

    await waitFor(() => invoicesOf(s, dealId).length === 1, `deal ${dealId} to be invoiced`);
    expect(invoicesOf(s, dealId)[0]!.organizationId).toBe(second);
    expect((await statusOf(relay)).zoho!.organization).toEqual({ id: second, name: 'Acme <Holding> & "Co"' });

    const foreign = await fetch(`${relay.url}/connect/zoho/organization`, { method: 'POST', redirect: 'manual', headers: { cookie }, body: new URLSearchParams({ organization_id: '123' }) });
    expect(foreign.status).toBe(400);
    const anonymous = await fetch(`${relay.url}/connect/zoho/organization`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ organization_id: '20099887766' }) });
    expect(anonymous.status).toBe(401);
    expect((await relay.connections.describe('zoho'))?.organizationId).toBe(second);
  });

  it('20 concurrent calls with an expired token cause exactly one refresh (refused token, and expiry known from the store)', async () => {
    const { s, relay } = await setup();
    await connectZohoThroughFake(relay);
    expect(s.zoho.state.tokenGrants).toBe(1);

    s.zoho.expireAccessTokens(); // Zoho refuses the token (401): one refresh between all of them
    const taxes = await Promise.all(Array.from({ length: 20 }, () => zohoOf(relay).client.listTaxes()));
    expect(taxes).toHaveLength(20);
    expect(s.zoho.state.tokenGrants).toBe(2);

    // The stored token has expired and nothing is in memory (as in a process just started): one refresh
    // before the first call, shared by all twenty, and stored for the next.
    await relay.store.db.updateTable('connections').set({ access_expires_at: Date.now() - 1000 }).where('side', '=', 'zoho').execute();
    zohoOf(relay).auth.reset();
    await Promise.all(Array.from({ length: 20 }, () => zohoOf(relay).client.listTaxes()));
    expect(s.zoho.state.tokenGrants).toBe(3);
    const refreshes = tokenRequests(s).filter((r) => (r.body as { grant_type: string }).grant_type === 'refresh_token');
    expect(refreshes).toHaveLength(2);
    const stored = await relay.connections.get('zoho');
    expect(stored!.accessExpiresAt).toBeGreaterThan(Date.now() + 3500_000);
    expect(booksAuth(s).at(-1)).toBe(`Zoho-oauthtoken ${stored!.accessToken}`);
  });

  it('the accounts server says "too many requests": a clear error, a pause instead of a tight loop, the reason on the page', async () => {
    const { s, relay } = await setup({ tokenMintLimit: { limit: 2, windowMs: 600_000 } });
    await connectZohoThroughFake(relay); // 1 of 2
    s.zoho.expireAccessTokens();
    await zohoOf(relay).client.listTaxes(); // 2 of 2
    s.zoho.expireAccessTokens();
    const err = (await zohoOf(relay).client.listTaxes().catch((e: unknown) => e)) as RelayError;
    expect(err).toBeInstanceOf(RelayError);
    expect(err.code).toBe('zoho_auth_access_denied');
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(300_000);
    expect(err.message).toBe('Zoho accounts server says too many token requests: waiting before asking again.');
    const asked = tokenRequests(s).length;
    for (let i = 0; i < 5; i++) expect(((await zohoOf(relay).client.listTaxes().catch((e: unknown) => e)) as RelayError).code).toBe('zoho_auth_access_denied');
    expect(tokenRequests(s).length).toBe(asked);
    expect((await statusOf(relay)).zoho!.lastError).toEqual({ message: err.message, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it('the OAuth state is single-use, expires, belongs to one side, and survives a restart between redirect and callback', async () => {
    const { relay, restart } = await setup();
    const start = await get(relay, '/connect/zoho', asAdmin);
    const consentUrl = new URL(start.headers.get('location')!);
    const restarted = await restart();
    const consent = await fetch(consentUrl, { redirect: 'manual' });
    const callbackPath = relayPath(consent.headers.get('location')!);
    const done = await get(restarted, callbackPath);
    expect(done.status).toBe(200);

    const replay = await get(restarted, callbackPath);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('This Zoho connection link has expired or was already used. Start again from the connection page.');

    const expiring = new URL((await get(restarted, '/connect/zoho', asAdmin)).headers.get('location')!);
    await restarted.store.db.updateTable('oauth_states').set({ expires_at: Date.now() - 1 }).execute();
    const late = await get(restarted, relayPath((await fetch(expiring, { redirect: 'manual' })).headers.get('location')!));
    expect(late.status).toBe(400);

    const kommoState = new URL((await get(restarted, '/connect/zoho', asAdmin)).headers.get('location')!).searchParams.get('state')!;
    await restarted.store.db.updateTable('oauth_states').set({ side: 'kommo' }).execute();
    const wrongSide = await get(restarted, `/connect/zoho/callback?code=x&state=${encodeURIComponent(kommoState)}`);
    expect(wrongSide.status).toBe(400);
  });

  it('a refresh token in ZOHO_REFRESH_TOKEN (Self Client) keeps working; the page says where the credentials come from', async () => {
    const dir = tempDir('relay-connect-self-');
    const s = await startScenario({ dir: dir.path });
    const logs: string[] = [];
    const relay = await startCapturedRelay(s.env({ ADMIN_TOKEN }), { logs });
    current = { s, logs, env: {}, relay, restart: async () => relay, cleanup: async () => (await relay.stop(), await s.close(), dir.cleanup()) };
    expect(await zohoOf(relay).client.listTaxes()).toEqual([]);
    const st = await statusOf(relay);
    expect(st.zoho).toMatchObject({
      connected: true,
      method: 'Self Client refresh token (ZOHO_REFRESH_TOKEN)',
      dataCentre: 'eu',
      organization: { id: s.zoho.organizationId, name: s.zoho.organizationId },
      connectUnavailable: 'Zoho uses the refresh token in ZOHO_REFRESH_TOKEN (a Self Client). To connect here instead, remove ZOHO_REFRESH_TOKEN and restart.',
    });
    expect((await get(relay, '/connect/zoho', asAdmin)).status).toBe(409);
    expect(await relay.connections.describe('zoho')).toBeUndefined();
  });
});
