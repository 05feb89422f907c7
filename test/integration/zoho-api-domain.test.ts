// Where the relay sends Zoho tokens: the api_domain of a token answer is taken only when it is Zoho's API
// host of the connection's data centre (https://www.zohoapis.eu for an EU account), or when ZOHO_API_URL
// overrides it. Anything else fails the connection with the reason and nothing is sent there. nock stands
// in for Zoho's hosts (nothing leaves the machine); the last test runs against the sandbox, whose fake
// accounts server names itself (loopback) as api_domain: admitted only through ZOHO_API_URL.
import { zohoOf } from '../support/zoho-side.js';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RelayError } from '../../src/errors.js';
import type { Relay } from '../../src/relay.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY, RELAY_PUBLIC_URL, startScenario, type Scenario } from '../../sandbox/scenario.js';
import { asAdmin, get, startCapturedRelay } from '../support/connect.js';
import { tempDir } from '../support/tmp.js';

const ACCOUNTS_EU = 'https://accounts.zoho.eu';
const API_EU = 'https://www.zohoapis.eu';
const ACCESS = '1000.eu-access-token-00000000000000000001';
const REFRESH = '1000.eu-refresh-token-0000000000000000001';
const ORG = '20071234567';

let dir: ReturnType<typeof tempDir>;
let s: Scenario;
let relay: Relay | undefined;
const logs: string[] = [];

beforeEach(async () => {
  dir = tempDir('relay-api-domain-');
  s = await startScenario({ dir: dir.path });
});
afterEach(async () => {
  nock.abortPendingRequests();
  nock.cleanAll();
  await relay?.stop();
  relay = undefined;
  await s.close();
  dir.cleanup();
});

const startOAuthRelay = async (overrides: Record<string, string> = {}) => {
  relay = await startCapturedRelay(
    s.env({
      ZOHO_DC: 'eu',
      ZOHO_ACCOUNTS_URL: '',
      ZOHO_API_URL: '',
      ZOHO_REFRESH_TOKEN: '',
      ZOHO_ORGANIZATION_ID: '',
      ZOHO_CLIENT_ID: '1000.EUCLIENT0000000000000000000000',
      ZOHO_CLIENT_SECRET: 'eu-client-secret-0123456789abcdef',
      ZOHO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/zoho/callback`,
      ENCRYPTION_KEY,
      ADMIN_TOKEN,
      ...overrides,
    }),
    { logs },
  );
  return relay;
};

/** The administrator connects Zoho; Zoho's token endpoint answers `answer`. */
async function connect(r: Relay, answer: Record<string, unknown>): Promise<{ status: number; page: string }> {
  const start = await get(r, '/connect/zoho', asAdmin);
  const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
  nock(ACCOUNTS_EU).post('/oauth/v2/token').reply(200, answer);
  const q = new URLSearchParams({ code: '1000.code', location: 'eu', 'accounts-server': ACCOUNTS_EU, state });
  const res = await get(r, `/connect/zoho/callback?${q}`);
  return { status: res.status, page: await res.text() };
}

const books = (host: string, path: string, body: unknown) => nock(host).get(`/books/v3${path}`).query(true).reply(200, body);
const granted = (apiDomain: string) => ({ access_token: ACCESS, refresh_token: REFRESH, api_domain: apiDomain, token_type: 'Bearer', expires_in: 3600 });

describe('the api_domain of a code exchange', () => {
  it.each([
    'https://evil.example',
    'https://www.zohoapis.com', // Zoho's, but another data centre than the accounts server's
    'http://www.zohoapis.eu',
    'https://www.zohoapis.eu.evil.example',
    'https://www.zohoapis.eu:8443',
    'https://user@www.zohoapis.eu',
    'https://www.zohoapis.eu/books',
    'not a url',
  ])('%s: the connection fails with the reason, nothing is stored or sent there', async (apiDomain) => {
    const r = await startOAuthRelay();
    const origin = URL.canParse(apiDomain) ? new URL(apiDomain).origin : undefined;
    const elsewhere = origin ? nock(origin).get(/.*/).reply(200, {}) : undefined;
    const { status, page } = await connect(r, granted(apiDomain));
    expect(status).toBe(502);
    expect(page).toContain('as the API domain, which is not Zoho&#39;s API host for data centre eu (https://www.zohoapis.eu): no token was sent there and the connection is not used.');
    expect(elsewhere?.isDone() ?? false).toBe(false);
    expect(await r.connections.describe('zoho')).toBeUndefined();
  });

  it("Zoho's EU host is taken (a trailing slash trimmed), and the Books calls go there", async () => {
    const r = await startOAuthRelay();
    const orgs = books(API_EU, '/organizations', { code: 0, organizations: [{ organization_id: ORG, name: 'Acme GmbH' }] });
    const reference = ['/settings/currencies', '/settings/taxes', '/items'].map((p) => books(API_EU, p, { code: 0, currencies: [], taxes: [], items: [], page_context: { has_more_page: false } }));
    const { status } = await connect(r, granted('https://www.zohoapis.eu/'));
    expect(status).toBe(200);
    expect(orgs.isDone()).toBe(true);
    expect(await r.connections.describe('zoho')).toMatchObject({ dataCentre: 'eu', apiDomain: API_EU });
    expect(reference.map((q) => q.isDone())).toEqual([true, true, true]);
  });
});

describe('the api_domain of a refresh', () => {
  it('another host fails the refresh: the token is not used, jobs wait (retryable) and /connect shows why', async () => {
    const r = await startOAuthRelay();
    books(API_EU, '/organizations', { code: 0, organizations: [{ organization_id: ORG, name: 'Acme GmbH' }] });
    for (const p of ['/settings/currencies', '/settings/taxes', '/items']) books(API_EU, p, { code: 0, currencies: [], taxes: [], items: [], page_context: { has_more_page: false } });
    expect((await connect(r, granted(API_EU))).status).toBe(200);
    nock.cleanAll();

    await r.store.db.updateTable('connections').set({ access_expires_at: Date.now() - 1000 }).where('side', '=', 'zoho').execute();
    zohoOf(r).auth.reset();
    nock(ACCOUNTS_EU).post('/oauth/v2/token').reply(200, { access_token: '1000.second', api_domain: 'https://books.evil.example', expires_in: 3600 });
    const evil = nock('https://books.evil.example').get(/.*/).reply(200, {});
    const err = (await zohoOf(r).client.listTaxes().catch((e: unknown) => e)) as RelayError;
    expect(err).toBeInstanceOf(RelayError);
    expect([err.code, err.retryable]).toEqual(['zoho_untrusted_api_domain', true]);
    expect(err.message).toContain('"https://books.evil.example" as the API domain');
    expect(evil.isDone()).toBe(false);
    // No second token is minted meanwhile: Zoho allows ten per ten minutes.
    expect(((await zohoOf(r).client.listTaxes().catch((e: unknown) => e)) as RelayError).code).toBe('zoho_untrusted_api_domain');
    expect(evil.isDone()).toBe(false);
    const status = (await (await get(r, '/connect/status', asAdmin)).json()) as { zoho: { lastError: { message: string } } };
    expect(status.zoho.lastError.message).toBe(err.message);
  });
});

describe('the sandbox', () => {
  it('names itself as api_domain: refused without ZOHO_API_URL, taken through it', async () => {
    relay = await startCapturedRelay(s.env({ ZOHO_API_URL: '' }), { logs }, { worker: false });
    const booksCalls = () => s.zoho.requests.filter((q) => q.path.startsWith('/books/')).length;
    const before = booksCalls();
    const err = (await zohoOf(relay).client.listOrganizations().catch((e: unknown) => e)) as RelayError;
    expect(err.code).toBe('zoho_untrusted_api_domain');
    expect(err.message).toContain(`Zoho's token answer names "${s.zohoUrl}" as the API domain, which is not Zoho's API host for data centre eu (https://www.zohoapis.eu)`);
    expect(booksCalls()).toBe(before);
    await relay.stop();

    relay = await startCapturedRelay(s.env(), { logs }, { worker: false });
    expect((await zohoOf(relay).client.listOrganizations()).map((o) => o.organization_id)).toEqual([s.zoho.organizationId]);
  });
});
