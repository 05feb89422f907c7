// Xero end to end on the real relay (ACCOUNTING=xero, in-process, real SQLite file, every log line captured):
// the administrator connects Xero on /connect against the fake Xero (its identity server redirects back to the
// relay's public callback, replayed here against the relay's real port), chooses the organisation when the
// login reaches several, and the fake Xero's own webhook delivery — its intent-to-receive check and its signed
// INVOICE events — reaches the running relay, whose payment job then moves the deal.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OWN_WRITE_SKEW_MS } from '../../src/accounting/xero/webhook-source.js';
import type { Relay } from '../../src/relay.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY, RELAY_PUBLIC_URL, WEBHOOK_SECRET, startScenario, type Scenario } from '../../sandbox/scenario.js';
import { createFakeXero, type FakeXero, type FakeXeroOptions } from '../../sandbox/xero/server.js';
import { asAdmin, expectNoSecretIn, get, relayPath, startCapturedRelay } from '../support/connect.js';
import { waitFor } from '../support/e2e.js';
import { logLineProblems } from '../support/log-lines.js';
import { tempDir } from '../support/tmp.js';

const XERO_CALLBACK = `${RELAY_PUBLIC_URL}/connect/xero/callback`;
const WEBHOOK_KEY = 'xero-webhook-key-e2e-Qm9vZ2xlTWFwc0FQSUtleQ==';

interface Setup {
  s: Scenario;
  xero: FakeXero;
  relay: Relay;
  logs: string[];
  cleanup(): Promise<void>;
}

let current: Setup | undefined;
afterEach(async () => {
  if (!current) return;
  const { xero, relay, logs } = current;
  expect(xero.violations).toEqual([]);
  expect(logLineProblems(logs)).toEqual([]);
  // Nothing here is a failure of the relay's own: no error line (but /readyz's 503 before Xero is connected).
  const errors = logs.map((l) => JSON.parse(l) as { level: number; url?: string }).filter((l) => l.level >= 50 && l.url !== '/readyz');
  expect(errors).toEqual([]);
  const stored = await relay.connections.get('xero');
  const issued = [...xero.identity.accessTokens.keys(), ...xero.identity.refreshTokens.keys()];
  expectNoSecretIn(logs, [ADMIN_TOKEN, ENCRYPTION_KEY, WEBHOOK_KEY, xero.clientSecret, stored?.accessToken ?? '', stored?.refreshToken ?? '', ...issued].filter((v) => v.length >= 6));
  await current.cleanup();
  current = undefined;
});

/** Kommo with its long-lived token (the scenario's fake); Xero to be connected on the page. */
async function setup(xeroOptions: FakeXeroOptions = {}): Promise<Setup> {
  const dir = tempDir('relay-connect-xero-');
  const s = await startScenario({ dir: dir.path });
  const xero = createFakeXero({ tenants: [{ name: 'Acme Ltd', currencies: ['EUR'] }], ...xeroOptions });
  const origin = await xero.listen();
  const mappingFile = join(dir.path, 'xero-mapping.json');
  writeFileSync(
    mappingFile,
    JSON.stringify({
      invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoice' }] },
      dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' },
      payment: { stage: 'Payment Received', paidField: 'Paid' },
      tax: { rules: { '*': 'none' } },
      xero: {},
    }),
  );
  const logs: string[] = [];
  // The scenario's Zoho settings are cleared (empty means unset): this relay works with Xero.
  const zohoCleared = Object.fromEntries(Object.keys(s.env()).filter((k) => k.startsWith('ZOHO_')).map((k) => [k, '']));
  const env = s.env({
    ...zohoCleared,
    ACCOUNTING: 'xero',
    XERO_CLIENT_ID: xero.clientId,
    XERO_CLIENT_SECRET: xero.clientSecret,
    XERO_REDIRECT_URI: XERO_CALLBACK,
    XERO_API_URL: origin,
    XERO_WEBHOOK_KEY: WEBHOOK_KEY,
    MAPPING_FILE: mappingFile,
    ENCRYPTION_KEY,
    ADMIN_TOKEN,
    LOG_LEVEL: 'info',
  });
  const relay = await startCapturedRelay(env, { logs });
  s.connectRelay(relay.url);
  const setup: Setup = {
    s,
    xero,
    relay,
    logs,
    async cleanup() {
      await relay.stop();
      await xero.close();
      await s.close();
      dir.cleanup();
    },
  };
  current = setup;
  return setup;
}

/** The administrator clicks "Connect Xero"; the fake Xero consents at once; the callback page. */
async function connectXero(relay: Relay): Promise<{ status: number; page: string; consentUrl: URL }> {
  const start = await get(relay, '/connect/xero', asAdmin);
  expect(start.status).toBe(302);
  const consentUrl = new URL(start.headers.get('location')!);
  const consent = await fetch(consentUrl, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const res = await get(relay, relayPath(consent.headers.get('location')!));
  return { status: res.status, page: await res.text(), consentUrl };
}

async function statusOf(relay: Relay) {
  const res = await get(relay, '/connect/status', asAdmin);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, Record<string, unknown>>;
}

describe('connecting Xero on /connect', () => {
  it('consent with offline access, the pair stored encrypted, the only organisation chosen; /readyz and the page say so', async () => {
    const { xero, relay } = await setup();
    const before = await statusOf(relay);
    expect(before.xero).toMatchObject({ connected: false });
    expect((await fetch(`${relay.url}/readyz`)).status).toBe(503);
    const page0 = await (await get(relay, '/connect', asAdmin)).text();
    expect(page0).toContain('<a class="button" href="/connect/xero">Connect Xero</a>');

    const { status, page, consentUrl } = await connectXero(relay);
    expect(`${consentUrl.origin}${consentUrl.pathname}`).toBe(`${xero.baseUrl}/identity/connect/authorize`);
    expect(consentUrl.searchParams.get('redirect_uri')).toBe(XERO_CALLBACK);
    expect(consentUrl.searchParams.get('scope')!.split(' ')).toContain('offline_access');
    expect(status).toBe(200);
    expect(page).toContain(`Xero is connected (organisation Acme Ltd, ${xero.tenantId}).`);

    const stored = await relay.connections.get('xero');
    expect(stored).toMatchObject({ status: 'connected', organizationId: xero.tenantId, organizationName: 'Acme Ltd' });
    const row = await relay.store.db.selectFrom('connections').selectAll().where('side', '=', 'xero').executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(stored!.refreshToken!);
    expect((await statusOf(relay)).xero).toMatchObject({ connected: true, organization: { id: xero.tenantId, name: 'Acme Ltd' } });
    await waitFor(async () => (await fetch(`${relay.url}/readyz`)).status === 200, 'the relay to be ready');
  });

  it('a login with several organisations: the page asks (escaped), the choice is stored, a stranger or an anonymous choice is refused', async () => {
    const { xero, relay } = await setup({ tenants: [{ name: 'Acme Ltd', currencies: ['EUR'] }, { name: 'Acme <Holding> & "Co"', currencies: ['EUR'] }] });
    const [, holding] = xero.tenantIds as [string, string];
    const { status, page } = await connectXero(relay);
    expect(status).toBe(200);
    expect(page).toContain('It reaches several organisations: choose the one the relay works in.');
    expect(page).toContain('several organisations. Which one should the relay work in?');
    expect(page).toContain(`value="${holding}"> Acme &#60;Holding&#62; &#38; &#34;Co&#34; (${holding})`);
    expect(page).not.toContain('<Holding>');
    expect(page).toContain('action="/connect/xero/organization"');
    // Xero's own word, in the shared page too.
    expect(page).toContain('<button type="submit">Use this organisation</button>');
    expect(page).not.toMatch(/organization(?!"|_id)/i);
    expect((await statusOf(relay)).xero).toMatchObject({ connected: true, chooseFrom: expect.any(Array) });
    const readyz = await fetch(`${relay.url}/readyz`);
    expect([readyz.status, ((await readyz.json()) as Record<string, unknown>).xero]).toEqual([503, 'no_organization']);

    const login = await fetch(`${relay.url}/connect/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: ADMIN_TOKEN }) });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const choose = (id: string, headers: Record<string, string> = { cookie }) =>
      fetch(`${relay.url}/connect/xero/organization`, { method: 'POST', redirect: 'manual', headers, body: new URLSearchParams({ organization_id: id }) });
    const stranger = await choose('0b5f9a51-7c3e-4f0e-9f3a-2d6c8e1b4a77');
    expect(stranger.status).toBe(400);
    expect(await stranger.text()).toContain('That organisation is not one of the connected account&#39;s organisations.');
    expect((await choose(holding, {})).status).toBe(401);
    const chosen = await choose(holding);
    expect([chosen.status, chosen.headers.get('location')]).toEqual([303, '/connect']);
    expect(await relay.connections.describe('xero')).toMatchObject({ organizationId: holding, organizationName: 'Acme <Holding> & "Co"' });
    expect((await statusOf(relay)).xero).toMatchObject({ organization: { id: holding, name: 'Acme <Holding> & "Co"' } });
  });

  it('a replayed callback and a cancelled consent: pages that say what to do, and the connection unchanged', async () => {
    const { relay } = await setup();
    const start = await get(relay, '/connect/xero', asAdmin);
    const consent = await fetch(new URL(start.headers.get('location')!), { redirect: 'manual' });
    const callback = relayPath(consent.headers.get('location')!);
    expect((await get(relay, callback)).status).toBe(200);
    const replay = await get(relay, callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('This Xero connection link has expired or was already used. Start again from the connection page.');

    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const again = await get(relay, '/connect/xero', asAdmin);
    const freshState = new URL(again.headers.get('location')!).searchParams.get('state')!;
    expect(freshState).not.toBe(state);
    const denied = await get(relay, `/connect/xero/callback?${new URLSearchParams({ error: 'access_denied', state: freshState })}`);
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain('Xero was not given access (access_denied)');
    expect((await relay.connections.describe('xero'))?.status).toBe('connected');
  });
});

describe('the fake Xero\'s webhooks into the running relay', () => {
  it('pass the intent-to-receive check, and a payment\'s INVOICE event moves the deal it belongs to', async () => {
    const { s, xero, relay } = await setup();
    await connectXero(relay);
    xero.setWebhook({ url: `${relay.url}/webhooks/xero/${WEBHOOK_SECRET}`, key: WEBHOOK_KEY, retries: 2, retryDelayMs: 200 });
    expect(await xero.intentToReceive()).toMatchObject({ signedStatus: 200, badSignatureStatus: 401, passed: true });

    // The relay invoices a deal in Xero (its CREATE event reaches the relay too, and changes nothing).
    const { dealId } = s.addClientDeal({ price: 1200 });
    s.moveToInvoice(dealId);
    const invoice = await waitFor(() => [...xero.state.invoices.values()].find((i) => i.reference?.includes(String(dealId))), `deal ${dealId} to be invoiced in Xero`, 20_000);
    await waitFor(async () => (await relay.store.db.selectFrom('deal_invoices').select('state').where('deal_id', '=', String(dealId)).executeTakeFirst())?.state === 'linked', `deal ${dealId} to be linked`, 20_000);
    await xero.flushWebhooks();

    // A minute later the client pays in full: Xero's UPDATE event (dated past the window in which the relay
    // takes an event for its own create or email), and the payment job moves the deal.
    xero.advanceTime(OWN_WRITE_SKEW_MS + 30_000);
    xero.recordPayment(invoice.invoiceId, { amount: invoice.total ?? 1200 });
    await xero.flushWebhooks();
    const delivered = xero.webhookDeliveries.filter((d) => d.kind === 'events' && d.events.some((e) => e.resourceId === invoice.invoiceId));
    expect(delivered.length).toBeGreaterThanOrEqual(2);
    expect(delivered.every((d) => d.status === 200)).toBe(true);
    await waitFor(() => s.kommo.state.leads.get(dealId)?.statusId === s.stages.paymentReceived, `deal ${dealId} to reach Payment Received`, 20_000);
    const events = await relay.store.db.selectFrom('events').select(['source', 'kind', 'deal_id']).where('source', '=', 'xero').execute();
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.every((e) => e.kind === 'xero_invoice_changed' && e.deal_id === String(dealId))).toBe(true);
  });
});
