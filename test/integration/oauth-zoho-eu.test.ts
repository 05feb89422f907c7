// Zoho's real hosts, through the whole relay: the consent goes to accounts.zoho.eu (ZOHO_DC=eu), the
// callback names https://accounts.zoho.eu as its accounts server, the code is exchanged exactly there and
// the Books calls go to the api_domain it answers (https://www.zohoapis.eu). nock stands in for those two
// hosts (no request leaves the machine; an unexpected host fails the request), so every URL, header and
// form field the relay sends there is asserted. Kommo is the fake, with its long-lived token.
import { zohoOf } from '../support/zoho-side.js';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RelayError } from '../../src/errors.js';
import type { Relay } from '../../src/relay.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY, RELAY_PUBLIC_URL, startScenario, type Scenario } from '../../sandbox/scenario.js';
import { asAdmin, expectNoSecretIn, get, startCapturedRelay } from '../support/connect.js';
import { waitFor } from '../support/e2e.js';
import { tempDir } from '../support/tmp.js';

const ACCOUNTS_EU = 'https://accounts.zoho.eu';
const API_EU = 'https://www.zohoapis.eu';
const CLIENT_ID = '1000.EUCLIENT0000000000000000000000';
const CLIENT_SECRET = 'eu-client-secret-0123456789abcdef';
const CODE = '1000.9f8e7d6c5b4a39281706f5e4d3c2b1a0.aabbccddeeff00112233445566778899';
const ACCESS = '1000.eu-access-token-00000000000000000001';
const REFRESH = '1000.eu-refresh-token-0000000000000000001';
const ORG = '20071234567';
const CALLBACK = `${RELAY_PUBLIC_URL}/connect/zoho/callback`;

let dir: ReturnType<typeof tempDir>;
let s: Scenario;
let relay: Relay | undefined;
let logs: string[];
let env: Record<string, string>;

beforeEach(async () => {
  dir = tempDir('relay-zoho-eu-');
  s = await startScenario({ dir: dir.path });
  logs = [];
  env = s.env({
    ZOHO_DC: 'eu',
    ZOHO_ACCOUNTS_URL: '',
    ZOHO_API_URL: '',
    ZOHO_REFRESH_TOKEN: '',
    ZOHO_ORGANIZATION_ID: '',
    ZOHO_CLIENT_ID: CLIENT_ID,
    ZOHO_CLIENT_SECRET: CLIENT_SECRET,
    ZOHO_REDIRECT_URI: CALLBACK,
    ENCRYPTION_KEY,
    ADMIN_TOKEN,
  });
  relay = await startCapturedRelay(env, { logs });
});
afterEach(async () => {
  nock.abortPendingRequests();
  nock.cleanAll();
  await relay?.stop();
  relay = undefined;
  await s.close();
  dir.cleanup();
});

async function consentState(): Promise<{ location: URL; state: string }> {
  const res = await get(relay!, '/connect/zoho', asAdmin);
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location')!);
  return { location, state: location.searchParams.get('state')! };
}

function callback(state: string, accountsServer: string, code = CODE): Promise<Response> {
  const q = new URLSearchParams({ code, location: 'eu', 'accounts-server': accountsServer, state });
  return get(relay!, `/connect/zoho/callback?${q}`);
}

/** The token endpoint at `host`, recording each form it receives. */
function tokenEndpoint(host: string, answers: Array<[number, unknown]>) {
  const forms: Array<Record<string, string>> = [];
  const scope = nock(host)
    .post('/oauth/v2/token', (body: Record<string, string>) => {
      forms.push({ ...body });
      return true;
    })
    .times(answers.length)
    .reply(() => answers[forms.length - 1]!);
  return { scope, forms };
}

const books = (path: string, token: string, body: unknown, times = 1) =>
  nock(API_EU).get(`/books/v3${path}`).query(true).matchHeader('authorization', `Zoho-oauthtoken ${token}`).times(times).reply(200, body);

/** What the relay reads of a newly connected organization (currencies, taxes, items). */
const referenceData = (token: string) => [
  books('/settings/currencies', token, { code: 0, currencies: [{ currency_id: '1', currency_code: 'EUR', is_base_currency: true, price_precision: 2, exchange_rate: 1 }] }),
  books('/settings/taxes', token, { code: 0, taxes: [] }),
  books('/items', token, { code: 0, items: [], page_context: { has_more_page: false } }),
];

const granted = { access_token: ACCESS, refresh_token: REFRESH, api_domain: API_EU, token_type: 'Bearer', expires_in: 3600 };

describe('the EU flow end to end', () => {
  it('consent at accounts.zoho.eu, exchange at the accounts server the callback names, Books calls to the EU api_domain, also after a restart', async () => {
    const { location, state } = await consentState();
    expect(location.origin + location.pathname).toBe(`${ACCOUNTS_EU}/oauth/v2/auth`);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      scope: 'ZohoBooks.invoices.ALL,ZohoBooks.contacts.ALL,ZohoBooks.customerpayments.READ,ZohoBooks.settings.READ',
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: CALLBACK,
      access_type: 'offline',
      prompt: 'consent',
      state,
    });

    const exchange = tokenEndpoint(ACCOUNTS_EU, [[200, granted]]);
    const orgs = books('/organizations', ACCESS, { code: 0, organizations: [{ organization_id: ORG, name: 'Acme GmbH' }] });
    const loaded = referenceData(ACCESS);
    const res = await callback(state, ACCOUNTS_EU);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Zoho is connected (data centre eu, organization Acme GmbH (20071234567)).');
    expect(exchange.forms).toEqual([{ grant_type: 'authorization_code', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: CALLBACK, code: CODE }]);
    expect(orgs.isDone()).toBe(true);
    expect(loaded.map((r) => r.isDone())).toEqual([true, true, true]);
    expect(await relay!.connections.describe('zoho')).toMatchObject({ accountsServer: ACCOUNTS_EU, dataCentre: 'eu', apiDomain: API_EU, organizationId: ORG });

    const taxes = books('/settings/taxes', ACCESS, { code: 0, taxes: [{ tax_id: '9834000000000000101', tax_name: 'VAT 19', tax_percentage: 19 }] });
    expect(await zohoOf(relay!).client.listTaxes()).toEqual([{ tax_id: '9834000000000000101', tax_name: 'VAT 19', tax_percentage: 19 }]);
    expect(taxes.isDone()).toBe(true);

    // Restart: start-up uses the stored reference data and reads it again behind, through the stored
    // connection (its api_domain and still-valid token).
    const reference = referenceData(ACCESS);
    await relay!.stop();
    relay = await startCapturedRelay(env, { logs });
    await waitFor(() => reference.every((r) => r.isDone()), 'the reference data to be read again after the restart');

    // Once the token has expired, the refresh goes to the stored EU accounts server with the stored refresh token.
    await relay.store.db.updateTable('connections').set({ access_expires_at: Date.now() - 1000 }).where('side', '=', 'zoho').execute();
    zohoOf(relay).auth.reset();
    const refresh = tokenEndpoint(ACCOUNTS_EU, [[200, { access_token: '1000.eu-access-token-00000000000000000002', api_domain: API_EU, token_type: 'Bearer', expires_in: 3600 }]]);
    const after = books('/settings/taxes', '1000.eu-access-token-00000000000000000002', { code: 0, taxes: [] });
    expect(await zohoOf(relay).client.listTaxes()).toEqual([]);
    expect(refresh.forms).toEqual([{ grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: REFRESH }]);
    expect(after.isDone()).toBe(true);
    expect(nock.pendingMocks()).toEqual([]);

    // The callback's request log line keeps code and state out.
    expect(logs.some((l) => l.includes(`"url":"/connect/zoho/callback?code=[redacted]&location=eu&accounts-server=https%3A%2F%2Faccounts.zoho.eu&state=[redacted]"`))).toBe(true);
    expectNoSecretIn(logs, [CODE, ACCESS, REFRESH, CLIENT_SECRET, '1000.eu-access-token-00000000000000000002', ADMIN_TOKEN, ENCRYPTION_KEY, state]);
  });
});

describe('callbacks the relay refuses', () => {
  it.each([
    'https://accounts.zoho.eu.evil.example',
    'http://accounts.zoho.eu',
    'https://evil.example',
  ])('accounts-server=%s: refused, nothing is sent there, nothing stored, the state is spent', async (host) => {
    const { state } = await consentState();
    const elsewhere = nock(host).post('/oauth/v2/token').reply(200, granted);
    const res = await callback(state, host);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(
      `Refused: the callback names &#34;${host}&#34; as the accounts server, which is not a Zoho accounts server. Nothing was sent to it; the connection is unchanged.`,
    );
    expect(elsewhere.isDone()).toBe(false);
    expect(await relay!.connections.describe('zoho')).toBeUndefined();
    const again = await callback(state, ACCOUNTS_EU);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('This Zoho connection link has expired or was already used.');
  });

  it('invalid_client in an HTTP 200 body of the code exchange is an error: shown, nothing stored', async () => {
    const { state } = await consentState();
    const exchange = tokenEndpoint(ACCOUNTS_EU, [[200, { error: 'invalid_client' }]]);
    const res = await callback(state, ACCOUNTS_EU);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain(
      'Zoho refused the client (invalid_client) at https://accounts.zoho.eu: check ZOHO_CLIENT_ID / ZOHO_CLIENT_SECRET, and that the client exists in this data centre (api-console of the same region).',
    );
    expect(exchange.forms).toHaveLength(1);
    expect(await relay!.connections.describe('zoho')).toBeUndefined();
    const status = (await (await get(relay!, '/connect/status', asAdmin)).json()) as { zoho: { connected: boolean } };
    expect(status.zoho.connected).toBe(false);
  });

  it('invalid_client in an HTTP 200 body of a refresh is an error: retryable with a pause, recorded as the last error', async () => {
    const { state } = await consentState();
    tokenEndpoint(ACCOUNTS_EU, [[200, granted]]);
    books('/organizations', ACCESS, { code: 0, organizations: [{ organization_id: ORG, name: 'Acme GmbH' }] });
    referenceData(ACCESS);
    expect((await callback(state, ACCOUNTS_EU)).status).toBe(200);

    await relay!.store.db.updateTable('connections').set({ access_expires_at: Date.now() - 1000 }).where('side', '=', 'zoho').execute();
    zohoOf(relay!).auth.reset();
    const refresh = tokenEndpoint(ACCOUNTS_EU, [[200, { error: 'invalid_client' }]]);
    const err = (await zohoOf(relay!).client.listTaxes().catch((e: unknown) => e)) as RelayError;
    expect(err).toBeInstanceOf(RelayError);
    expect([err.code, err.retryable, err.retryAfterMs]).toEqual(['zoho_auth_invalid_client', true, 60_000]);
    expect(err.message).toBe(
      'Zoho refused the client (invalid_client) at https://accounts.zoho.eu: check ZOHO_CLIENT_ID / ZOHO_CLIENT_SECRET and that ZOHO_DC matches the data centre where the client was created (an EU account needs ZOHO_DC=eu).',
    );
    expect(((await zohoOf(relay!).client.listTaxes().catch((e: unknown) => e)) as RelayError).code).toBe('zoho_auth_invalid_client');
    expect(refresh.forms).toHaveLength(1); // the second call did not ask again
    const status = (await (await get(relay!, '/connect/status', asAdmin)).json()) as { zoho: { lastError: { message: string } } };
    expect(status.zoho.lastError.message).toBe(err.message);
  });
});
