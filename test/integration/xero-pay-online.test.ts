// invoice.payOnline on Xero (issue 18), the port against the fake Xero over real HTTP (every request and
// answer checked against contract/xero): the organisation's offer is its branding themes that have a payment
// service, read with their PaymentServices when the reference is asked for it; an invoice, a draft being
// updated and a repeating template carry the chosen theme, and nothing when none is chosen; without the
// paymentservices scope the themes are offered unchecked, with what to do.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_PAY_ONLINE_THEMES, XeroAccounting } from '../../src/accounting/xero/accounting.js';
import { XeroClient } from '../../src/accounting/xero/client.js';
import { xeroBackend } from '../../src/accounting/xero/index.js';
import { xeroMappingSection } from '../../src/accounting/xero/mapping.js';
import { xeroSettingsSchema } from '../../src/accounting/xero/settings.js';
import { createXeroSide } from '../../src/accounting/xero/side.js';
import { XeroStamps } from '../../src/accounting/xero/stamp.js';
import type { Env } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { SlidingWindowLimiter } from '../../src/net/rate-limiter.js';
import { TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import type { InvoiceDraft, RecurringDraft } from '../../src/sync/ports.js';
import { DEFAULT_SCOPE, type FakeXeroOptions } from '../../sandbox/xero/server.js';
import { tempStore } from '../support/tmp.js';
import { closeFakesAfterEach, startXero } from '../sandbox/xero-helpers.js';

closeFakesAfterEach();

const KEY = Buffer.from('a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01', 'hex');
const log = createLogger({ level: 'silent' });

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function world(o: { fake?: FakeXeroOptions; section?: Record<string, unknown> } = {}) {
  const { fake, base } = await startXero({ tenants: [{ name: 'Demo Company (UK)' }], ...o.fake });
  const store = await tempStore();
  cleanups.push(() => store.cleanup());
  const settings = xeroSettingsSchema.parse({ XERO_CLIENT_ID: fake.clientId, XERO_CLIENT_SECRET: fake.clientSecret, XERO_REFRESH_TOKEN: fake.refreshToken, XERO_API_URL: base });
  const side = createXeroSide({ settings, env: { HTTP_TIMEOUT_MS: 2000 } as Env, connections: new Connections(store.db, new TokenCipher(KEY)), log, limiter: (spec) => new SlidingWindowLimiter(spec.limit, spec.windowMs) });
  await side.start();
  const { tokens, connection } = side.parts;
  const client = new XeroClient({ tokens, tenantId: connection.tenantId, baseUrl: `${base}/api.xro/2.0`, timeoutMs: 2000, log, retryBaseMs: 5, maxRetries: 1 });
  const section = xeroMappingSection.parse(o.section ?? {});
  const port = new XeroAccounting(client, new XeroStamps(section, 'Kommo deal {deal_id}'), section, connection);
  const tenant = () => fake.state.tenants.get(fake.tenantId)!;
  const themeId = (name: string) => tenant().brandingThemes.find((t) => t.name === name)!.brandingThemeId;
  const customerId = fake.addContact({ Name: 'Ada', EmailAddress: 'ada@example.com' });
  const draft = (payOnline?: string[], dealId = 7): InvoiceDraft => ({
    customerId,
    stamp: { key: `KOMMO-${dealId}`, dealId },
    lines: [{ name: 'SEO audit', rate: 100, quantity: 1, taxId: 'NONE' }],
    currencyId: 'GBP',
    ...(payOnline ? { payOnline } : {}),
  });
  /** The bodies the relay sent to `method path`, in order. */
  const sent = (method: string, path: RegExp) => fake.requests.filter((r) => r.method === method && path.test(r.path)).map((r) => r.body as any);
  return { fake, port, tenant, themeId, draft, sent };
}

describe('the Xero offer for paying online (reference({ payOnline: true }))', () => {
  it('is the branding themes with a payment service, in Xero\'s order, one per invoice; true takes the first, or the mapping\'s xero.brandingTheme when it has one', async () => {
    const w = await world();
    // Asked for nothing more, the reference reads no payment services.
    const plain = await w.port.reference({ exemptions: false });
    expect(plain.payOnline).toBeUndefined();
    expect(w.sent('GET', /PaymentServices$/)).toHaveLength(0);

    // The fake's default organisation: "Standard" (the default theme, none) and "Pay online" (Stripe).
    const offer = (await w.port.reference({ exemptions: false, payOnline: true })).payOnline!;
    expect(offer).toEqual({ available: [{ id: w.themeId('Pay online'), name: 'Pay online', detail: 'Stripe' }], byDefault: [w.themeId('Pay online')], most: 1, setUp: expect.stringMatching(/Settings › Invoice settings .*Payment services/) });
    expect(offer.unconfirmed).toBeUndefined();

    w.fake.setBrandingThemes([
      { name: 'Standard' },
      { name: 'Cards', sortOrder: 5, paymentServices: [{ name: 'Stripe', type: 'Stripe' }, { name: 'PayPal', type: 'PayPal' }] },
      { name: 'Direct debit', sortOrder: 2, paymentServices: ['GoCardless'] },
    ]);
    const before = w.fake.requests.length;
    const three = (await w.port.reference({ exemptions: false, payOnline: true })).payOnline!;
    expect(three.available).toEqual([
      { id: w.themeId('Direct debit'), name: 'Direct debit', detail: 'GoCardless' },
      { id: w.themeId('Cards'), name: 'Cards', detail: 'Stripe, PayPal' },
    ]);
    expect(three.byDefault).toEqual([w.themeId('Direct debit')]);
    // One read of the themes, one of each theme's services (start-up and refresh only).
    const reads = w.fake.requests.slice(before).map((r) => r.path).filter((p) => /BrandingThemes/.test(p));
    expect(reads).toEqual(['/api.xro/2.0/BrandingThemes', ...w.tenant().brandingThemes.map((t) => `/api.xro/2.0/BrandingThemes/${t.brandingThemeId}/PaymentServices`)]);

    // The mapping's own theme wins for `true` when it has a payment service.
    const mapped = await world({ section: { brandingTheme: 'cards' } });
    mapped.fake.setBrandingThemes([{ name: 'Standard' }, { name: 'Direct debit', paymentServices: ['GoCardless'] }, { name: 'Cards', paymentServices: ['Stripe'] }]);
    expect((await mapped.port.reference({ exemptions: false, payOnline: true })).payOnline!.byDefault).toEqual([mapped.themeId('Cards')]);

    // Nothing set up: nothing offered, and `true` has nothing to take (the neutral check says setUp).
    w.fake.setBrandingThemes([{ name: 'Standard' }, { name: 'Plain' }]);
    expect((await w.port.reference({ exemptions: false, payOnline: true })).payOnline).toMatchObject({ available: [], byDefault: [], most: 1 });
  });

  it(`reads at most ${MAX_PAY_ONLINE_THEMES} themes' services and says so`, async () => {
    const w = await world();
    w.fake.setBrandingThemes(Array.from({ length: MAX_PAY_ONLINE_THEMES + 3 }, (_, i) => ({ name: `Theme ${i}`, paymentServices: i === MAX_PAY_ONLINE_THEMES + 1 ? ['Stripe'] : [] })));
    const offer = (await w.port.reference({ exemptions: false, payOnline: true })).payOnline!;
    expect(w.sent('GET', /PaymentServices$/)).toHaveLength(MAX_PAY_ONLINE_THEMES);
    expect(offer).toMatchObject({ available: [], byDefault: [], unconfirmed: `only the first ${MAX_PAY_ONLINE_THEMES} of the organisation's ${MAX_PAY_ONLINE_THEMES + 3} branding themes (in Xero's order) were read` });
  });

  it('without the paymentservices scope: Xero answers 401, every theme is offered unchecked, and both notes say to add the scope and reconnect', async () => {
    const w = await world({ fake: { scope: DEFAULT_SCOPE.replace(' paymentservices', '') } });
    const offer = (await w.port.reference({ exemptions: false, payOnline: true })).payOnline!;
    expect(offer.available).toEqual([
      { id: w.themeId('Standard'), name: 'Standard', detail: 'payment services not read' },
      { id: w.themeId('Pay online'), name: 'Pay online', detail: 'payment services not read' },
    ]);
    expect(offer.byDefault).toEqual([]);
    expect(offer.most).toBe(1);
    expect(offer.unconfirmed).toMatch(/^Xero refused to list the branding themes' payment services \(401: the connection lacks the paymentservices scope\).*add paymentservices to XERO_SCOPES and reconnect Xero on \/connect\/xero/);
    expect(offer.setUp).toMatch(/the relay could not read which themes have one: add paymentservices to XERO_SCOPES and reconnect Xero on \/connect\/xero/);
    // Refused on the first theme (after one token refresh, as any 401): the others are not tried.
    const refused = w.fake.requests.filter((r) => /PaymentServices$/.test(r.path));
    expect(refused.map((r) => r.status)).toEqual([401, 401]);
    expect(new Set(refused.map((r) => r.path)).size).toBe(1);
  });
});

describe('invoices payable online on Xero', () => {
  it('an invoice carries the chosen branding theme, only when chosen; the client pays through it, and Xero records a payment like any other', async () => {
    const w = await world();
    const theme = w.themeId('Pay online');
    const calls = async (make: () => Promise<unknown>) => {
      const before = w.fake.requests.length;
      await make();
      return w.fake.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, '{id}')}`);
    };
    await w.port.createInvoice(w.draft(undefined, 1), { send: true }); // the mapping's account is read once
    let plain!: { id: string };
    let online!: { id: string };
    const plainCalls = await calls(async () => (plain = await w.port.createInvoice(w.draft(undefined, 2), { send: true })));
    const onlineCalls = await calls(async () => (online = await w.port.createInvoice(w.draft([theme], 3), { send: true })));
    // The same calls per invoice as without: the offer is read at start-up and refresh, not per invoice.
    expect(onlineCalls).toEqual(plainCalls);
    expect(plainCalls).toEqual(['PUT /api.xro/2.0/Invoices', 'GET /api.xro/2.0/Invoices/{id}/OnlineInvoice']);

    const [, plainBody, onlineBody] = w.sent('PUT', /\/Invoices$/);
    expect(plainBody.Invoices[0]).not.toHaveProperty('BrandingThemeID');
    expect(onlineBody.Invoices[0].BrandingThemeID).toBe(theme);
    expect(w.fake.onlinePayment(plain.id)).toEqual([]);
    expect(w.fake.onlinePayment(online.id)).toEqual([theme]);
    expect((await w.port.getInvoice(online.id)).status).toBe('open');

    // A theme without a payment service has no Pay button.
    expect(() => w.fake.payOnline(plain.id, 100)).toThrow(/cannot be paid online/);
    const paymentId = w.fake.payOnline(online.id, 100);
    const paid = await w.port.getInvoice(online.id);
    expect(paid).toMatchObject({ status: 'paid', balance: 0, payments: [{ paymentId, amount: 100 }] });
  });

  it('a draft being updated gets the theme when one is chosen and keeps its own otherwise; a repeating template and the invoices it makes carry it', async () => {
    const w = await world();
    const theme = w.themeId('Pay online');
    const draft = await w.port.createInvoice(w.draft(undefined, 3), { send: false });
    await w.port.updateDraftInvoice(draft.id, w.draft(undefined, 3));
    expect(w.fake.onlinePayment(draft.id)).toEqual([]);
    await w.port.updateDraftInvoice(draft.id, w.draft([theme], 3));
    const updates = w.sent('POST', /\/Invoices\/[0-9a-f-]+$/);
    expect(updates[0].Invoices[0]).not.toHaveProperty('BrandingThemeID');
    expect(updates[1].Invoices[0].BrandingThemeID).toBe(theme);
    expect(w.fake.onlinePayment(draft.id)).toEqual([theme]);

    const recurring: RecurringDraft = { ...w.draft([theme], 4), name: 'Kommo deal 4', frequency: 'months', repeatEvery: 1, startDate: '2026-12-06' };
    const profile = await w.port.createRecurring(recurring);
    expect(w.sent('PUT', /\/RepeatingInvoices$/)[0].RepeatingInvoices[0].BrandingThemeID).toBe(theme);
    const generated = w.fake.runRepeatingInvoice(profile.id);
    expect(w.fake.onlinePayment(generated)).toEqual([theme]);

    const { payOnline: _, ...withoutTheme } = recurring;
    await w.port.createRecurring({ ...withoutTheme, name: 'Kommo deal 5', stamp: { key: 'Kommo deal 5', dealId: 5 } });
    expect(w.sent('PUT', /\/RepeatingInvoices$/)[1].RepeatingInvoices[0]).not.toHaveProperty('BrandingThemeID');
  });

  it('Xero refuses a theme the organisation does not have; the backend says it can make invoices payable online', async () => {
    const w = await world();
    await expect(w.port.createInvoice(w.draft(['0b7f6c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e'], 6), { send: false })).rejects.toMatchObject({ kind: 'permanent', message: expect.stringMatching(/Branding theme could not be found/) });
    expect(xeroBackend.capabilities.payOnline).toBe(true);
  });
});
