// Connecting Kommo with OAuth, end to end against the stateful fake Kommo (single-use codes and refresh
// tokens; a refresh revokes the access token it replaces), with the relay in-process on a real SQLite file
// and every log line captured. Zoho uses its Self Client token here.
import { afterEach, describe, expect, it } from 'vitest';
import type { Relay, RelayOptions } from '../../src/relay.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY, RELAY_PUBLIC_URL, startScenario, type Scenario } from '../../sandbox/scenario.js';
import { asAdmin, connectKommoThroughFake, expectNoSecretIn, get, secretsOf, startCapturedRelay } from '../support/connect.js';
import { invoicesOf, waitFor } from '../support/e2e.js';
import { tempDir } from '../support/tmp.js';

const INITIAL_REFRESH = 'kommo-initial-refresh-token';

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

async function setup(overrides: Record<string, string> = {}, opts: RelayOptions = {}): Promise<Setup> {
  const dir = tempDir('relay-connect-kommo-');
  const s = await startScenario({ dir: dir.path });
  const logs: string[] = [];
  const env = s.env({
    KOMMO_ACCESS_TOKEN: '',
    KOMMO_CLIENT_ID: 'kommo-client-id',
    KOMMO_CLIENT_SECRET: 'kommo-client-secret',
    KOMMO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/kommo/callback`,
    ENCRYPTION_KEY,
    ADMIN_TOKEN,
    ...overrides,
  });
  const start = async () => {
    const relay = await startCapturedRelay(env, { logs }, opts);
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

const tokenRequests = (s: Scenario) => s.kommo.requests.filter((r) => r.path === '/oauth2/access_token');
const refused = (s: Scenario) => tokenRequests(s).filter((r) => r.status !== 200);

async function invoiceOneDeal(s: Scenario): Promise<void> {
  const { dealId } = s.addClientDeal();
  s.moveToInvoice(dealId);
  await waitFor(() => invoicesOf(s, dealId).length === 1 && s.kommo.state.leads.get(dealId)?.customFields.some((f) => f.fieldId === s.fields.invoiceUrl), `deal ${dealId} to be invoiced`);
}

async function statusOf(relay: Relay) {
  return (await (await get(relay, '/connect/status', asAdmin)).json()) as { kommo: Record<string, unknown>; mapping: Record<string, unknown> };
}

describe('connecting Kommo with OAuth', () => {
  it('not connected at start: the relay starts, stores and acknowledges webhooks, and once Kommo is connected resolves the mapping and invoices', async () => {
    const { s, relay, logs } = await setup();
    expect(relay.mappingState.current).toBeUndefined();
    expect(() => relay.worker).toThrow('The mapping is not resolved yet: Kommo is not connected (open /connect).');
    expect(await statusOf(relay)).toMatchObject({ kommo: { connected: false, method: 'OAuth' }, mapping: { state: 'waiting_for_kommo', stages: [] } });
    expect(logs.some((l) => l.includes('Kommo is not connected: log in on /connect with ADMIN_TOKEN and connect Kommo.'))).toBe(true);

    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    await s.kommo.flushWebhooks();
    const hooks = s.kommo.deliveries.filter((d) => d.events.includes('status_lead'));
    expect(hooks.map((d) => d.status)).toEqual([200]);
    const parked = await relay.store.db.selectFrom('events').select(['kind', 'source']).execute();
    expect(parked).toEqual([{ kind: 'kommo_webhook_parked', source: 'kommo' }]);
    expect(await relay.store.db.selectFrom('jobs').selectAll().execute()).toEqual([]);

    const { status, page, consentUrl } = await connectKommoThroughFake(relay, s);
    expect(consentUrl.origin + consentUrl.pathname).toBe('https://www.kommo.com/oauth');
    expect(Object.fromEntries(consentUrl.searchParams)).toEqual({ client_id: 'kommo-client-id', state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), mode: 'post_message' });
    expect(status).toBe(200);
    expect(page).toContain('Kommo is connected (account acme (acme, 30011223)).');
    const exchange = tokenRequests(s);
    expect(exchange).toHaveLength(1);
    expect(exchange[0]!.body).toEqual({
      client_id: 'kommo-client-id',
      client_secret: 'kommo-client-secret',
      redirect_uri: `${RELAY_PUBLIC_URL}/connect/kommo/callback`,
      grant_type: 'authorization_code',
      code: [...s.kommo.tokens.codes.keys()][0],
    });

    await waitFor(() => invoicesOf(s, dealId).length === 1, `the parked deal ${dealId} to be invoiced`);
    expect(relay.mappingState.current?.from).toBe('kommo');
    expect(await statusOf(relay)).toMatchObject({ kommo: { connected: true, account: 'acme (acme, 30011223)' }, mapping: { state: 'resolved', stages: ['Sales / Invoice'] } });
    const stored = await relay.connections.get('kommo');
    expectNoSecretIn(logs, secretsOf(s, [stored?.accessToken, stored?.refreshToken, ADMIN_TOKEN, ENCRYPTION_KEY]));
  });

  it('a relay waiting for Kommo notices a connection another process made, and starts its work', async () => {
    const { s, relay: waiting, env, logs } = await setup({}, { connectionWatchMs: 100 });
    const other = await startCapturedRelay({ ...env, WORKER_CONCURRENCY: '0' }, { logs });
    try {
      expect((await connectKommoThroughFake(other, s)).status).toBe(200);
      await waitFor(() => waiting.mappingState.current, 'the waiting relay to resolve its mapping', 5000);
      expect(waiting.mappingState.current?.from).toBe('kommo');
      await invoiceOneDeal(s);
      expect(s.kommo.state.refreshCount).toBe(0); // both use the pair from the code exchange
    } finally {
      await other.stop();
    }
  });

  it('a consent given for another Kommo account is refused: the code is not exchanged anywhere', async () => {
    const { s, relay } = await setup();
    const { status, page } = await connectKommoThroughFake(relay, s, 'other.kommo.com');
    expect(status).toBe(400);
    expect(page).toContain(`Refused: access was granted for the Kommo account &#34;other.kommo.com&#34;, but this relay serves ${new URL(s.kommoUrl).host} (KOMMO_BASE_URL).`);
    expect(tokenRequests(s)).toEqual([]);
    expect([...s.kommo.tokens.codes.values()].map((c) => c.used)).toEqual([false]);
    expect(await relay.connections.describe('kommo')).toBeUndefined();
  });

  it('KOMMO_REFRESH_TOKEN seeds the pair; every rotation is stored; after a restart the stored pair wins over the spent value', async () => {
    const { s, restart, logs } = await setup({ KOMMO_REFRESH_TOKEN: INITIAL_REFRESH });
    expect(s.kommo.state.refreshCount).toBe(1); // start-up resolved the mapping with a fresh pair
    await invoiceOneDeal(s);
    s.kommo.expireAccessTokens();
    await invoiceOneDeal(s);
    expect(s.kommo.state.refreshCount).toBe(2);

    const relay = await restart(); // same environment: KOMMO_REFRESH_TOKEN is spent by now
    expect(s.kommo.state.refreshCount).toBe(2); // the stored access token was still good
    await invoiceOneDeal(s);
    s.kommo.expireAccessTokens();
    await invoiceOneDeal(s);
    expect(s.kommo.state.refreshCount).toBe(3);
    expect(refused(s)).toEqual([]);

    const row = await relay.store.db.selectFrom('connections').selectAll().where('side', '=', 'kommo').executeTakeFirstOrThrow();
    const pair = await relay.connections.get('kommo');
    expect(row.generation).toBe(4); // seeded, then three rotations
    expect(pair!.refreshToken).toBe([...s.kommo.tokens.refresh.entries()].find(([, t]) => !t.used)![0]);
    expect(JSON.stringify(row)).not.toContain(pair!.refreshToken!);
    const st = await statusOf(relay);
    expect(st.kommo).toEqual({
      connected: true,
      method: 'OAuth',
      account: 'acme (acme, 30011223)',
      accessTokenExpiresAt: new Date(pair!.accessExpiresAt!).toISOString(),
      refreshTokenExpiresAt: new Date(pair!.refreshExpiresAt!).toISOString(),
    });
    expectNoSecretIn(logs, secretsOf(s, [INITIAL_REFRESH, ADMIN_TOKEN, ENCRYPTION_KEY]));
  });

  it('a lost connection: jobs wait with kommo_not_connected, the page shows why, reconnecting resumes them', async () => {
    const { s, relay } = await setup({ KOMMO_REFRESH_TOKEN: INITIAL_REFRESH });
    const pair = await relay.connections.get('kommo');
    s.kommo.tokens.refresh.get(pair!.refreshToken!)!.used = true; // e.g. the integration was reinstalled
    s.kommo.expireAccessTokens();
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    const waiting = await waitFor(async () => {
      const job = await relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'invoice_for_deal').executeTakeFirst();
      return job?.last_error_code ? job : undefined;
    }, 'the job to fail for want of Kommo');
    expect([waiting.state, waiting.last_error_code]).toEqual(['queued', 'kommo_not_connected']);
    const lost = 'Kommo refused the refresh token (Token has been revoked): the Kommo connection is lost. Reconnect Kommo on the /connect page.';
    expect(await statusOf(relay)).toMatchObject({ kommo: { connected: false, lastError: { message: lost } } });
    const html = await (await get(relay, '/connect', asAdmin)).text();
    expect(html).toContain(lost);
    expect(html).toContain('<a class="button" href="/connect/kommo">Connect Kommo</a>');

    expect((await connectKommoThroughFake(relay, s)).status).toBe(200);
    await waitFor(() => invoicesOf(s, dealId).length === 1, `deal ${dealId} to be invoiced after reconnecting`);
    expect(await statusOf(relay)).toMatchObject({ kommo: { connected: true } });
  });

  it('not connected, but the mapping was resolved before: the cached resolution serves, jobs wait for Kommo', async () => {
    const dir = tempDir('relay-connect-cache-');
    const s = await startScenario({ dir: dir.path });
    const logs: string[] = [];
    const longLived = await startCapturedRelay(s.env(), { logs }); // resolves and caches the mapping
    await longLived.stop();
    const relay = await startCapturedRelay(
      s.env({ KOMMO_ACCESS_TOKEN: '', KOMMO_CLIENT_ID: 'kommo-client-id', KOMMO_CLIENT_SECRET: 'kommo-client-secret', KOMMO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/kommo/callback`, ENCRYPTION_KEY, ADMIN_TOKEN }),
      { logs },
    );
    current = { s, relay, logs, env: {}, restart: async () => relay, cleanup: async () => (await relay.stop(), await s.close(), dir.cleanup()) };
    s.connectRelay(relay.url);
    expect(relay.mappingState.current?.from).toBe('cache');
    expect(relay.mapping.invoiceStages.map((x) => x.label)).toEqual(['Sales / Invoice']);
    const { dealId } = s.addClientDeal();
    s.moveToInvoice(dealId);
    const waiting = await waitFor(async () => {
      const job = await relay.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'invoice_for_deal').executeTakeFirst();
      return job?.last_error_code ? job : undefined;
    }, 'the job to wait for Kommo');
    expect([waiting.state, waiting.last_error_code, waiting.deal_id]).toEqual(['queued', 'kommo_not_connected', String(dealId)]);
    expect(await statusOf(relay)).toMatchObject({ mapping: { state: 'cached' } });
  });
});
