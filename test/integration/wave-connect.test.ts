// Connecting Wave, against the fake Wave listening on a port (its /oauth2/authorize/ consents and redirects
// back with a code and the state, /oauth2/token/ exchanges codes and rotates refresh tokens) and a real SQLite
// file, through the side the relay builds (createWaveSide): the pair is stored encrypted before anything uses
// it, the businesses come from the token (one is chosen at once, several are offered, WAVE_BUSINESS_ID wins),
// a state works once, refusals say what to do, an expired token is refreshed once and the new pair kept, a
// refused refresh loses the connection; and a Full Access Token needs none of it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waveSettingsSchema } from '../../src/accounting/wave/settings.js';
import { createWaveSide } from '../../src/accounting/wave/side.js';
import { waveMappingSection } from '../../src/accounting/wave/mapping.js';
import type { Env } from '../../src/config/env.js';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { SlidingWindowLimiter } from '../../src/net/rate-limiter.js';
import { TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import { OAuthStates } from '../../src/store/oauth-states.js';
import { createFakeWave, type FakeWave, type FakeWaveOptions } from '../../sandbox/wave/server.js';
import { table } from '../../src/cli/format.js';
import { tempStore } from '../support/tmp.js';

const KEY = Buffer.from('5c2e8a1f0b3d4c6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6', 'hex');
const REDIRECT = 'https://relay.example.com/connect/wave/callback';
const silent = createLogger({ level: 'silent' });

const cleanups: Array<() => Promise<void>> = [];
let fakes: FakeWave[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const f of fakes) expect(f.violations).toEqual([]);
  for (const f of fakes) await f.close();
  fakes = [];
});

async function setUp(opts: FakeWaveOptions = {}, env: (fake: FakeWave) => Record<string, string> = (fake) => ({ WAVE_CLIENT_ID: fake.clientId, WAVE_CLIENT_SECRET: fake.clientSecret, WAVE_REDIRECT_URI: REDIRECT })) {
  const fake = createFakeWave(opts);
  fakes.push(fake);
  const origin = await fake.listen();
  const store = await tempStore();
  cleanups.push(() => store.cleanup());
  const connections = new Connections(store.db, new TokenCipher(KEY));
  const settings = waveSettingsSchema.parse({ WAVE_API_URL: origin, ...env(fake) });
  const side = createWaveSide({ settings, env: { HTTP_TIMEOUT_MS: 3000 } as Env, connections, log: silent, limiter: (spec) => new SlidingWindowLimiter(spec.limit, spec.windowMs) });
  let connected = 0;
  const flow = side.connectFlow({ states: new OAuthStates(store.db), log: silent, onConnected: async () => void connected++ });
  await side.start();
  const rawRow = () => store.db.selectFrom('connections').selectAll().where('side', '=', 'wave').executeTakeFirst();
  return { fake, origin, store, connections, side, flow, rawRow, connected: () => connected };
}

/** The administrator's browser: to Wave's consent (the fake answers at once) and back to our callback. */
async function consent(flow: { start(): Promise<string> }): Promise<{ consentUrl: URL; query: Record<string, string> }> {
  const consentUrl = new URL(await flow.start());
  const res = await fetch(consentUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const back = new URL(res.headers.get('location')!);
  expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
  return { consentUrl, query: Object.fromEntries(back.searchParams) };
}

const port = (side: ReturnType<typeof createWaveSide>) => side.port({ section: waveMappingSection.parse({}), sendInvoice: true });

describe('Wave connect flow (OAuth) against the fake Wave', () => {
  it("asks for the relay's scopes with a one-time state; one business is chosen at once; the pair is stored encrypted; the state does not work twice", async () => {
    const w = await setUp();
    expect(await w.side.awaitingConnection()).toBe(true);
    await expect(port(w.side).reference({ exemptions: false })).rejects.toMatchObject({ code: 'wave_not_connected' });
    const { consentUrl, query } = await consent(w.flow);
    expect(`${consentUrl.origin}${consentUrl.pathname}`).toBe(`${w.origin}/oauth2/authorize/`);
    expect(consentUrl.searchParams.get('scope')).toBe('business:read customer:read customer:write product:read product:write invoice:read invoice:write invoice:send sales_tax:read account:read');
    expect(consentUrl.searchParams.get('redirect_uri')).toBe(REDIRECT);
    const outcome = await w.flow.complete(query);
    expect(outcome).toEqual({ ok: true, message: 'Wave is connected (business Demo Agency).' });
    expect(w.connected()).toBe(1);
    const row = await w.rawRow();
    expect(row?.organization_id).toBe(w.fake.businessId);
    for (const t of w.fake.oauth.accessTokens.keys()) expect(JSON.stringify(row)).not.toContain(t);
    for (const t of w.fake.oauth.refreshTokens.keys()) expect(JSON.stringify(row)).not.toContain(t);
    expect(await w.side.awaitingConnection()).toBe(false);
    await expect(port(w.side).reference({ exemptions: false })).resolves.toMatchObject({ baseCurrency: 'USD' });
    expect(await w.flow.complete(query)).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/expired or was already used/) });
    const status = await w.side.status(() => undefined);
    expect(status).toMatchObject({ connected: true, method: 'OAuth', organization: { id: w.fake.businessId, name: 'Demo Agency' } });
  });

  it('several businesses: the page asks; jobs wait on wave_no_business until one is chosen', async () => {
    const w = await setUp({ businesses: [{ name: 'Demo Agency' }, { name: 'Second Shop', currency: 'CAD' }] });
    const outcome = await w.flow.complete((await consent(w.flow)).query);
    expect(outcome).toMatchObject({ ok: true, message: 'Wave is connected. It reaches several businesses: choose the one the relay works in.' });
    expect((outcome as { chooseFrom: unknown[] }).chooseFrom).toEqual([
      { id: w.fake.businessIds[0], name: 'Demo Agency' },
      { id: w.fake.businessIds[1], name: 'Second Shop' },
    ]);
    expect(w.side.readiness(await w.side.status(() => undefined))).toBe('no_organization');
    await expect(port(w.side).reference({ exemptions: false })).rejects.toMatchObject({ kind: 'retryable', code: 'wave_no_business' });
    expect(await w.flow.choose('not-a-business')).toBe(false);
    expect(await w.flow.choose(w.fake.businessIds[1]!)).toBe(true);
    await w.side.parts.connection.load();
    await expect(port(w.side).reference({ exemptions: false })).resolves.toMatchObject({ baseCurrency: 'CAD' });
    expect(w.side.readiness(await w.side.status(() => undefined))).toBe('connected');
  });

  it('WAVE_BUSINESS_ID wins over the choice, and one the login does not reach is named', async () => {
    const fakeOpts = { businesses: [{ name: 'Demo Agency' }, { name: 'Second Shop' }] };
    let second = '';
    const w = await setUp(fakeOpts, (fake) => ((second = fake.businessIds[1]!), { WAVE_CLIENT_ID: fake.clientId, WAVE_CLIENT_SECRET: fake.clientSecret, WAVE_REDIRECT_URI: REDIRECT, WAVE_BUSINESS_ID: second }));
    expect(await w.flow.complete((await consent(w.flow)).query)).toEqual({ ok: true, message: 'Wave is connected (business Second Shop).' });
    expect(w.side.organizationId()).toBe(second);
    const v = await setUp(fakeOpts, (fake) => ({ WAVE_CLIENT_ID: fake.clientId, WAVE_CLIENT_SECRET: fake.clientSecret, WAVE_REDIRECT_URI: REDIRECT, WAVE_BUSINESS_ID: 'QnVzaW5lc3M6bm9wZQ==' }));
    const outcome = await v.flow.complete((await consent(v.flow)).query);
    expect(outcome).toMatchObject({ ok: true, problem: expect.stringMatching(/^WAVE_BUSINESS_ID QnVzaW5lc3M6bm9wZQ== is not one of the businesses this Wave connection reaches/) });
  });

  it('a refused consent and a page without the settings say what to do', async () => {
    const w = await setUp({ consent: 'deny' });
    const { query } = await consent(w.flow);
    expect(await w.flow.complete(query)).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/access_denied/) });
    const v = await setUp({}, (fake) => ({ WAVE_CLIENT_ID: fake.clientId, WAVE_CLIENT_SECRET: fake.clientSecret, WAVE_REFRESH_TOKEN: fake.refreshToken }));
    expect(v.flow.unavailable()).toMatch(/^Set WAVE_REDIRECT_URI to https:\/\/<this relay>\/connect\/wave\/callback/);
  });

  it('an expired access token is refreshed once (UNAUTHENTICATED answer), the rotated pair stored; a refused refresh loses the connection', async () => {
    const w = await setUp({}, (fake) => ({ WAVE_CLIENT_ID: fake.clientId, WAVE_CLIENT_SECRET: fake.clientSecret, WAVE_REFRESH_TOKEN: fake.refreshToken }));
    // Seeded: the businesses were listed with a token from the seed, and the seed is spent.
    expect(w.side.organizationId()).toBe(w.fake.businessId);
    const generation = Number((await w.rawRow())!.generation);
    w.fake.advanceTime(3 * 3600_000);
    await expect(port(w.side).reference({ exemptions: false })).resolves.toMatchObject({ baseCurrency: 'USD' });
    const refreshes = w.fake.oauth.grants.filter((g) => g.grantType === 'refresh_token' && g.ok).length;
    expect(refreshes).toBe(2);
    expect(Number((await w.rawRow())!.generation)).toBe(generation + 1);
    // Wave revokes the app: the stored refresh token is refused.
    w.fake.oauth.refreshTokens.clear();
    w.fake.advanceTime(3 * 3600_000);
    const err = await port(w.side).reference({ exemptions: false }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect(err).toMatchObject({ kind: 'retryable', code: 'wave_not_connected' });
    expect((err as Error).message).toMatch(/Wave refused the refresh token.*Reconnect Wave on the \/connect page/);
    expect((await w.rawRow())!.status).toBe('lost');
  });
});

describe('Wave with a Full Access Token (WAVE_ACCESS_TOKEN)', () => {
  it('needs no connection: the only business is used, /connect says there is nothing to connect', async () => {
    const w = await setUp({}, (fake) => ({ WAVE_ACCESS_TOKEN: fake.fullAccessToken }));
    expect(await w.side.awaitingConnection()).toBe(false);
    expect(w.flow.unavailable()).toMatch(/WAVE_ACCESS_TOKEN/);
    expect(await w.side.status(() => undefined)).toMatchObject({ connected: true, method: 'Full Access Token (WAVE_ACCESS_TOKEN)', organization: { id: w.fake.businessId, name: 'Demo Agency' } });
    await expect(port(w.side).reference({ exemptions: false })).resolves.toMatchObject({ baseCurrency: 'USD' });
    expect(await w.rawRow()).toBeUndefined();
    expect(await w.side.checkConnection()).toMatchObject({ ok: true, detail: `WAVE_ACCESS_TOKEN works; business "Demo Agency" (${w.fake.businessId}) is reachable` });
  });

  it('several businesses: WAVE_BUSINESS_ID picks one; without it start-up says to set it and jobs wait', async () => {
    const businesses = [{ name: 'Demo Agency' }, { name: 'Second Shop', currency: 'EUR' }];
    const w = await setUp({ businesses }, (fake) => ({ WAVE_ACCESS_TOKEN: fake.fullAccessToken }));
    expect(w.side.organizationId()).toBeUndefined();
    expect((await w.side.status(() => undefined)).lastError?.message).toMatch(/WAVE_ACCESS_TOKEN reaches several Wave businesses .*set WAVE_BUSINESS_ID/);
    await expect(port(w.side).reference({ exemptions: false })).rejects.toMatchObject({ code: 'wave_no_business' });
    const v = await setUp({ businesses }, (fake) => ({ WAVE_ACCESS_TOKEN: fake.fullAccessToken, WAVE_BUSINESS_ID: fake.businessIds[1]! }));
    await expect(port(v.side).reference({ exemptions: false })).resolves.toMatchObject({ baseCurrency: 'EUR' });
  });

  it('Wave unreachable at start-up: the relay starts, jobs wait on wave_no_business, and the businesses are listed again in the background', async () => {
    const fake = createFakeWave();
    fakes.push(fake);
    const origin = await fake.listen();
    const store = await tempStore();
    cleanups.push(() => store.cleanup());
    const side = createWaveSide({
      settings: waveSettingsSchema.parse({ WAVE_ACCESS_TOKEN: fake.fullAccessToken, WAVE_API_URL: origin }),
      env: { HTTP_TIMEOUT_MS: 3000 } as Env,
      connections: new Connections(store.db, new TokenCipher(KEY)),
      log: silent,
      limiter: (spec) => new SlidingWindowLimiter(spec.limit, spec.windowMs),
    });
    fake.faults.failNext(5, { status: 503 });
    await side.start();
    expect(side.organizationId()).toBeUndefined();
    await expect(port(side).reference({ exemptions: false })).rejects.toMatchObject({ kind: 'retryable', code: 'wave_no_business' });
    await vi.waitFor(() => expect(side.organizationId()).toBe(fake.businessId), { timeout: 5000, interval: 50 });
    await expect(port(side).reference({ exemptions: false })).resolves.toMatchObject({ baseCurrency: 'USD' });
  }, 20_000);

  it('a revoked token is a retryable wave_unauthorized (jobs wait) with what to do', async () => {
    const w = await setUp({}, (fake) => ({ WAVE_ACCESS_TOKEN: fake.fullAccessToken }));
    w.fake.oauth.accessTokens.clear();
    await expect(port(w.side).reference({ exemptions: false })).rejects.toMatchObject({ kind: 'retryable', code: 'wave_unauthorized', message: expect.stringMatching(/replace WAVE_ACCESS_TOKEN/) });
  });
});

describe('relay discover / check for Wave', () => {
  it('discover lists businesses, sales taxes, income accounts, the currency and products', async () => {
    const w = await setUp({ businesses: [{ name: 'Demo Agency' }, { name: 'Old Books', isClassicInvoicing: true }] }, (fake) => ({ WAVE_ACCESS_TOKEN: fake.fullAccessToken, WAVE_BUSINESS_ID: fake.businessIds[0]! }));
    await w.side.parts.client.createProduct({ name: 'Audit', unitPrice: '100.00', incomeAccountId: w.fake.accountId('Sales') });
    const d = await w.side.discover();
    const text = d.lines.join('\n');
    expect(text).toMatch(/Demo Agency .*<- the relay works in this one/);
    expect(text).toMatch(/Old Books .*classic invoicing/);
    // Sales taxes and currencies in the lines Zoho's and Xero's discoveries print: name, rate, ID; code first.
    const vat = (await w.side.parts.client.salesTaxes()).find((t) => t.name === 'VAT 20%')!;
    expect(d.lines).toContain(table([['VAT 20%', '20 %', `id ${vat.id}`, 'abbreviation VAT']])[0]);
    expect(text).toMatch(/Income accounts[^\n]*\n +Sales +INCOME/);
    expect(d.lines.filter((l) => /^ {2}[A-Z]{3} {2}/.test(l))).toEqual(['  USD  base currency']);
    expect(text).toMatch(/Audit +100\.00/);
    expect(d.taxes).toEqual(expect.arrayContaining([{ name: 'VAT 20%', percentage: 20, isDefault: false }]));
    // With the mapping's section: the currencies it gives a rate for, each on its line with the rate.
    const withRates = await w.side.discover({ section: waveMappingSection.parse({ exchangeRates: { EUR: 1.08, USD: 1 } }) });
    expect(withRates.lines.filter((l) => /^ {2}[A-Z]{3} {2}/.test(l))).toEqual(['  USD  base currency', '  EUR  rate 1.08 (wave.exchangeRates)']);
    expect(withRates.json).toMatchObject({ currencies: ['USD', 'EUR'], exchangeRates: { EUR: 1.08 } });
  });

  it('check names a business that cannot email or uses classic invoicing', async () => {
    const w = await setUp({ businesses: [{ emailSendEnabled: false, isClassicInvoicing: true }] }, (fake) => ({ WAVE_ACCESS_TOKEN: fake.fullAccessToken }));
    const c = await w.side.checkConnection();
    expect(c.ok).toBe(false);
    expect(c.problems.join(' ')).toMatch(/classic invoicing.*emailSendEnabled is false/);
  });
});
