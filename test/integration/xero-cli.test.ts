// Xero's part of `relay discover` and `relay check`, through the backend as the CLI builds it (ACCOUNTING=xero
// parsed by the real settings, the side made by the registry's backend) against the fake Xero on a port and a
// real SQLite file: the organisations the connection reaches and the one worked in, its tax rates, currencies
// and revenue accounts (and the starter mapping's taxes), and check's verdict with problems a person can act on.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountingSide } from '../../src/accounting/backend.js';
import { starterMapping } from '../../src/cli/starter-mapping.js';
import { parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { limiterFactory } from '../../src/net/limits.js';
import { TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import { createFakeXero, type FakeXero, type TenantInput } from '../../sandbox/xero/server.js';
import { tempStore } from '../support/tmp.js';

const KEY = '7e1f0c2d3b4a59687766554433221100ffeeddccbbaa99887766554433221100';
const silent = createLogger({ level: 'silent' });

describe('Xero in relay discover and relay check', () => {
  let fake: FakeXero;
  let origin: string;
  let store: Awaited<ReturnType<typeof tempStore>>;

  beforeEach(async () => {
    store = await tempStore();
  });
  afterEach(async () => {
    await fake.close();
    await store.cleanup();
  });

  async function sideFor(tenants: TenantInput[] | 'same fake', extra: (f: FakeXero) => Record<string, string> = () => ({})): Promise<AccountingSide> {
    if (tenants !== 'same fake') {
      fake = createFakeXero({ tenants });
      origin = await fake.listen();
    }
    const env = parseEnv({
      DATABASE_URL: `sqlite:${store.file}`,
      WEBHOOK_SECRET: 'cli-test-secret-0123456789',
      KOMMO_BASE_URL: 'https://acme.kommo.com',
      KOMMO_ACCESS_TOKEN: 'kommo-long-lived',
      ENCRYPTION_KEY: KEY,
      ADMIN_TOKEN: '4f9c2e71b08d3a65c7e19f42d8b06a3e5c1f7d92',
      ACCOUNTING: 'xero',
      XERO_CLIENT_ID: fake.clientId,
      XERO_CLIENT_SECRET: fake.clientSecret,
      XERO_API_URL: origin,
      HTTP_TIMEOUT_MS: '3000',
      ...extra(fake),
    });
    const connections = new Connections(store.db, new TokenCipher(Buffer.from(KEY, 'hex')));
    return env.accounting.backend.create({ settings: env.accounting.settings, env, connections, log: silent, limiter: limiterFactory(store, { httpTimeoutMs: 3000 }) });
  }

  it('one organisation, connected from XERO_REFRESH_TOKEN: discover lists it as the one worked in, with its tax rates, currencies and revenue accounts; check passes', async () => {
    const side = await sideFor([{ name: 'Acme Ltd', currencies: ['EUR', 'USD'] }], (f) => ({ XERO_REFRESH_TOKEN: f.refreshToken }));
    const found = await side.discover();
    expect(found.json).toEqual({
      organisations: [{ id: fake.tenantId, name: 'Acme Ltd' }],
      tenantId: fake.tenantId,
      organisation: { name: 'Acme Ltd', baseCurrency: 'GBP', countryCode: 'GB' },
      taxRates: [
        { taxType: 'OUTPUT2', name: '20% (VAT on Income)', rate: 20, status: 'ACTIVE', canApplyToRevenue: true },
        { taxType: 'RROUTPUT', name: '5% (VAT on Income)', rate: 5, status: 'ACTIVE', canApplyToRevenue: true },
        { taxType: 'ZERORATEDOUTPUT', name: 'Zero Rated Income', rate: 0, status: 'ACTIVE', canApplyToRevenue: true },
        { taxType: 'NONE', name: 'No VAT', rate: 0, status: 'ACTIVE', canApplyToRevenue: true },
        { taxType: 'INPUT2', name: '20% (VAT on Expenses)', rate: 20, status: 'ACTIVE', canApplyToRevenue: false },
      ],
      currencies: [expect.objectContaining({ code: 'GBP' }), expect.objectContaining({ code: 'EUR' }), expect.objectContaining({ code: 'USD' })],
      revenueAccounts: [
        { code: '200', name: 'Sales', taxType: 'OUTPUT2' },
        { code: '260', name: 'Other Revenue', taxType: 'OUTPUT2' },
      ],
    });
    // The starter mapping gets the sales taxes, the Sales account's one as the default.
    expect(found.taxes).toEqual([
      { name: '20% (VAT on Income)', percentage: 20, isDefault: true },
      { name: '5% (VAT on Income)', percentage: 5, isDefault: false },
      { name: 'Zero Rated Income', percentage: 0, isDefault: false },
      { name: 'No VAT', percentage: 0, isDefault: false },
    ]);
    const text = found.lines.join('\n');
    expect(text).toContain(`Acme Ltd  tenant ${fake.tenantId}  <- the relay works in this one`);
    expect(text).toMatch(/20% \(VAT on Income\)\s+20 %\s+TaxType OUTPUT2/);
    expect(text).not.toContain('VAT on Expenses');
    expect(text).toMatch(/200\s+Sales\s+default tax OUTPUT2/);
    expect(text).not.toContain('Business Bank Account');

    expect(await side.checkConnection()).toEqual({ ok: true, detail: `the token works; organisation "Acme Ltd" (${fake.tenantId}) is reachable`, problems: [] });
    expect(fake.violations).toEqual([]);
  });

  it('several organisations and none chosen: discover lists them and says what to do; XERO_TENANT_ID picks one', async () => {
    const tenants = [{ name: 'Acme Ltd' }, { name: 'Acme Pty', countryCode: 'AU', baseCurrency: 'AUD', taxRates: [{ name: 'GST on Income', taxType: 'OUTPUT', rate: 10 }] }];
    let side = await sideFor(tenants, (f) => ({ XERO_REFRESH_TOKEN: f.refreshToken }));
    const [uk, au] = fake.tenantIds as [string, string];
    const found = await side.discover();
    expect(found.json).toMatchObject({ organisations: [{ id: uk, name: 'Acme Ltd' }, { id: au, name: 'Acme Pty' }], taxRates: [], currencies: [] });
    expect((found.json as { problem: string }).problem).toBe(`No Xero organisation is chosen among ${uk} (Acme Ltd), ${au} (Acme Pty): choose one on the /connect page, or set XERO_TENANT_ID.`);
    expect(found.taxes).toEqual([]);
    expect(found.lines.join('\n')).not.toContain('<- the relay works in this one');
    expect(await side.checkConnection()).toEqual({ ok: false, problems: [(found.json as { problem: string }).problem] });

    side = await sideFor('same fake', (f) => ({ XERO_REFRESH_TOKEN: f.refreshToken, XERO_TENANT_ID: au }));
    const chosen = await side.discover();
    expect(chosen.json).toMatchObject({ tenantId: au, organisation: { name: 'Acme Pty', baseCurrency: 'AUD', countryCode: 'AU' }, currencies: [{ code: 'AUD' }] });
    expect((chosen.json as { problem?: string }).problem).toBeUndefined();
    expect(chosen.taxes).toEqual([{ name: 'GST on Income', percentage: 10, isDefault: true }]);
    expect(chosen.lines.join('\n')).toContain(`Acme Pty  tenant ${au}  <- the relay works in this one`);
    expect(await side.checkConnection()).toEqual({ ok: true, detail: `the token works; organisation "Acme Pty" (${au}) is reachable`, problems: [] });

    // An organisation this login does not reach: both facts, and what to do.
    const stranger = '0b5f9a51-7c3e-4f0e-9f3a-2d6c8e1b4a77';
    side = await sideFor('same fake', (f) => ({ XERO_REFRESH_TOKEN: f.refreshToken, XERO_TENANT_ID: stranger }));
    const check = await side.checkConnection();
    expect(check).toEqual({
      ok: false,
      detail: `organisation (${stranger})`,
      problems: [
        `XERO_TENANT_ID ${stranger} is not one of the organisations this Xero connection reaches: ${uk} (Acme Ltd), ${au} (Acme Pty). Set it to one of them, or tick it on Xero's consent page when connecting again.`,
        expect.stringMatching(/^Xero refused organisation 0b5f9a51-7c3e-4f0e-9f3a-2d6c8e1b4a77 \(AuthenticationUnsuccessful\)/),
      ],
    });
    expect((await side.discover()).json).toMatchObject({ tenantId: stranger, problem: expect.stringMatching(/^XERO_TENANT_ID .* Xero refused organisation/) });
    expect(fake.violations).toEqual([]);
  });

  it('a German organisation whose Sales account carries "Tax Exempt" (0 %): no tax is suggested for DE clients; the starter mapping leaves a placeholder and a to-do naming the rates', async () => {
    const rates = [
      { name: 'Tax Exempt', taxType: 'NONE', rate: 0 },
      { name: 'Umsatzsteuer 19%', taxType: 'OUTPUT', rate: 19 },
      { name: 'Umsatzsteuer 7%', taxType: 'RROUTPUT', rate: 7 },
    ];
    const side = await sideFor([{ name: 'Acme GmbH', countryCode: 'DE', baseCurrency: 'EUR', taxRates: rates }], (f) => ({ XERO_REFRESH_TOKEN: f.refreshToken }));
    const found = await side.discover();
    expect((found.json as { revenueAccounts: unknown[] }).revenueAccounts).toContainEqual({ code: '200', name: 'Sales', taxType: 'NONE' });
    expect(found.taxes).toEqual([
      { name: 'Tax Exempt', percentage: 0, isDefault: false },
      { name: 'Umsatzsteuer 19%', percentage: 19, isDefault: false },
      { name: 'Umsatzsteuer 7%', percentage: 7, isDefault: false },
    ]);
    const { mapping, todo } = starterMapping({ pipelines: [], leadFields: [], contactFields: [], accountCountry: 'DE', taxes: found.taxes });
    expect((mapping.tax as { rules: unknown }).rules).toEqual({ DE: { tax: 'CHOOSE the tax for clients in DE' }, '*': 'none' });
    expect(todo).toContain(
      'tax.rules.DE: no tax rate is clearly the standard one, so none is suggested; write the one clients in DE get, one of: "Tax Exempt" (0 %), "Umsatzsteuer 19%" (19 %), "Umsatzsteuer 7%" (7 %) — or "none". Every other country gets no tax; add a rule per country your accountant asks for.',
    );
    expect(fake.violations).toEqual([]);
  });

  it('a Sales account with a real rate (19 %): that rate is the standard one, suggested for the home country', async () => {
    const rates = [
      { name: 'Umsatzsteuer 19%', taxType: 'OUTPUT', rate: 19 },
      { name: 'Tax Exempt', taxType: 'NONE', rate: 0 },
    ];
    const side = await sideFor([{ name: 'Acme GmbH', countryCode: 'DE', baseCurrency: 'EUR', taxRates: rates }], (f) => ({ XERO_REFRESH_TOKEN: f.refreshToken }));
    const found = await side.discover();
    expect(found.taxes).toEqual([
      { name: 'Umsatzsteuer 19%', percentage: 19, isDefault: true },
      { name: 'Tax Exempt', percentage: 0, isDefault: false },
    ]);
    const { mapping } = starterMapping({ pipelines: [], leadFields: [], contactFields: [], accountCountry: 'DE', taxes: found.taxes });
    expect((mapping.tax as { rules: unknown }).rules).toEqual({ DE: { tax: 'Umsatzsteuer 19%' }, '*': 'none' });
    expect(fake.violations).toEqual([]);
  });

  it('not connected, or the connection lost: check says how to connect; discover reads nothing', async () => {
    let side = await sideFor([{ name: 'Acme Ltd' }], () => ({ XERO_REDIRECT_URI: 'https://relay.example.com/connect/xero/callback' }));
    expect(await side.checkConnection()).toEqual({ ok: false, problems: ['Xero is not connected: connect it on the /connect page (XERO_REDIRECT_URI), or set XERO_REFRESH_TOKEN.'] });
    const nothing = await side.discover();
    expect(nothing.json).toMatchObject({ organisations: [], taxRates: [] });
    expect(nothing.lines[1]).toBe('  (none known: connect Xero on the /connect page)');
    await fake.close();

    // A refresh token Xero refuses (revoked, or unused for 60 days): the connection is lost.
    side = await sideFor([{ name: 'Acme Ltd' }], () => ({ XERO_REFRESH_TOKEN: 'revoked-refresh-token-0000000000' }));
    const check = await side.checkConnection();
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([expect.stringMatching(/^Xero's connection was lost \(Xero refused the refresh token \(invalid_grant\).*\): connect Xero again on the \/connect page\.$/)]);
    expect(fake.violations).toEqual([]);
  });

  it('the organisation was disconnected from the app in Xero: check names it and says to reconnect', async () => {
    const side = await sideFor([{ name: 'Acme Ltd' }], (f) => ({ XERO_REFRESH_TOKEN: f.refreshToken }));
    expect((await side.checkConnection()).ok).toBe(true);
    // The administrator removes the connection (Xero's DELETE /connections/{id}).
    const token = fake.mintAccessToken();
    const list = (await (await fetch(`${origin}/connections`, { headers: { authorization: `Bearer ${token}` } })).json()) as Array<{ id: string }>;
    expect((await fetch(`${origin}/connections/${list[0]!.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(204);
    const check = await side.checkConnection();
    expect(check).toEqual({
      ok: false,
      detail: `organisation "Acme Ltd" (${fake.tenantId})`,
      problems: [expect.stringMatching(/^Xero refused organisation .* \(AuthenticationUnsuccessful\).*Reconnect Xero on the \/connect page/)],
    });
    expect(fake.violations).toEqual([]);
  });
});

describe('Xero in relay webhooks', () => {
  const settingsWith = (extra: Record<string, string>) =>
    parseEnv({
      WEBHOOK_SECRET: 'cli-test-secret-0123456789',
      KOMMO_BASE_URL: 'https://acme.kommo.com',
      KOMMO_ACCESS_TOKEN: 'kommo-long-lived',
      ENCRYPTION_KEY: KEY,
      ADMIN_TOKEN: '4f9c2e71b08d3a65c7e19f42d8b06a3e5c1f7d92',
      ACCOUNTING: 'xero',
      XERO_CLIENT_ID: 'XERO-CLIENT-ID',
      XERO_CLIENT_SECRET: 'xero-client-secret',
      XERO_REDIRECT_URI: 'https://relay.example.com/connect/xero/callback',
      ...extra,
    });

  it('says where to create the webhook, its delivery URL and events, and where its key goes; whether the key is set', () => {
    const env = settingsWith({});
    const base = { url: 'https://relay.example.com', secret: 'the-webhook-secret-0123' };
    const setup = env.accounting.backend.webhookSetup(env.accounting.settings, base);
    expect(setup.json).toEqual({
      url: 'https://relay.example.com/webhooks/xero/the-webhook-secret-0123',
      method: 'POST',
      events: ['INVOICE'],
      where: 'developer.xero.com > My Apps > your app > Webhooks',
      keySetting: 'XERO_WEBHOOK_KEY',
      keySet: false,
    });
    const text = setup.lines.join('\n');
    expect(text).toContain('developer.xero.com › My Apps › your app › Webhooks');
    expect(text).toContain('Delivery URL: https://relay.example.com/webhooks/xero/the-webhook-secret-0123');
    expect(text).toContain('tick Invoices');
    expect(text).toMatch(/put it into XERO_WEBHOOK_KEY/);
    expect(text).toMatch(/XERO_WEBHOOK_KEY is not set yet: until it is, the relay refuses every Xero delivery \(401\)/);

    const keyed = settingsWith({ XERO_WEBHOOK_KEY: 'the-key-xero-showed' });
    const withKey = keyed.accounting.backend.webhookSetup(keyed.accounting.settings, base);
    expect(withKey.json).toMatchObject({ keySet: true });
    expect(withKey.lines.join('\n')).not.toContain('the-key-xero-showed');
    expect(withKey.lines.join('\n')).toContain('XERO_WEBHOOK_KEY is set');
  });
});
