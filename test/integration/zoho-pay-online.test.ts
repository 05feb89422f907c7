// invoice.payOnline on Zoho Books (issue 18), the relay's Zoho side against the fake Zoho Books over HTTP with
// its contract check on: invoices (one-off, draft updates, recurring) carry payment_options.payment_gateways
// only when asked; the organization's gateways are read from its latest invoice (the API lists them nowhere
// else), with Zoho's documented names when it shows none; a gateway the answer shows not configured is
// logged; start-up refuses a name the organization does not have, listing what it has.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createZohoSide } from '../../src/accounting/zoho/side.js';
import { zohoSettingsSchema } from '../../src/accounting/zoho/settings.js';
import { ConfigError } from '../../src/config/config-error.js';
import type { Env } from '../../src/config/env.js';
import type { Mapping } from '../../src/config/mapping.js';
import { createLogger } from '../../src/log.js';
import { limiterFactory } from '../../src/net/limits.js';
import { Connections } from '../../src/store/connections.js';
import { KeyValue } from '../../src/store/kv.js';
import { BillingSettings } from '../../src/sync/billing-settings.js';
import type { AccountingPort, InvoiceDraft } from '../../src/sync/ports.js';
import { createFakeZoho, type FakeZoho } from '../../sandbox/zoho/server.js';
import { tempStore } from '../support/tmp.js';

const tax: Mapping['tax'] = { countryFrom: [], rules: {} };
const DOCUMENTED = ['paypal', 'authorize_net', 'payflow_pro', 'stripe', '2checkout', 'braintree'];

describe('Zoho Books: invoices payable online', () => {
  let fake: FakeZoho;
  let store: Awaited<ReturnType<typeof tempStore>>;
  let port: AccountingPort;
  let logs: string[];
  let customerId: string;

  beforeEach(async () => {
    fake = createFakeZoho({ validateOas: true });
    const url = await fake.listen();
    store = await tempStore();
    logs = [];
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
    const settings = zohoSettingsSchema.parse({
      ZOHO_CLIENT_ID: fake.clientId,
      ZOHO_CLIENT_SECRET: fake.clientSecret,
      ZOHO_REFRESH_TOKEN: fake.refreshToken,
      ZOHO_ORGANIZATION_ID: fake.organizationId,
      ZOHO_ACCOUNTS_URL: url,
      ZOHO_API_URL: url,
    });
    const side = createZohoSide({ settings, env: { HTTP_TIMEOUT_MS: 5000 } as Env, connections: new Connections(store.db, undefined), log, limiter: limiterFactory(store, { httpTimeoutMs: 5000 }) });
    await side.start();
    port = side.port({ section: { referenceTemplate: 'KOMMO-{deal_id}' } });
    customerId = fake.addContact({ name: 'Acme GmbH', email: 'billing@acme.example' });
  });

  afterEach(async () => {
    expect(fake.violations).toEqual([]);
    await fake.close();
    await store.cleanup();
  });

  const draft = (dealId: number, payOnline?: string[]): InvoiceDraft => ({
    customerId,
    stamp: port.stamp(dealId, 1),
    lines: [{ name: 'Consulting', rate: 1200, quantity: 1 }],
    ...(payOnline ? { payOnline } : {}),
  });
  const bodiesOf = (method: string, path: string) => fake.requests.filter((r) => r.method === method && r.path === `/books/v3${path}`).map((r) => r.body as Record<string, unknown>);
  const warnings = () => logs.map((l) => JSON.parse(l) as { level: number; msg: string; gateways?: string[] }).filter((l) => l.level === 40);

  it('an invoice asked to be payable online carries the gateways; one not asked carries no payment_options at all', async () => {
    const plain = await port.createInvoice(draft(1), { send: true });
    const online = await port.createInvoice(draft(2, ['stripe', 'paypal']), { send: true });
    const [plainBody, onlineBody] = bodiesOf('POST', '/invoices');
    expect(plainBody).not.toHaveProperty('payment_options');
    expect(Object.keys(plainBody!)).toEqual(['customer_id', 'reference_number', 'line_items']);
    expect(onlineBody!.payment_options).toStrictEqual({ payment_gateways: [{ gateway_name: 'stripe' }, { gateway_name: 'paypal' }] });
    expect(fake.onlinePayment(plain.id)).toEqual([]);
    expect(fake.onlinePayment(online.id)).toEqual(['stripe', 'paypal']);
    expect(warnings()).toEqual([]);
  });

  it('a draft updated for review keeps them; a recurring profile carries them to every invoice it makes', async () => {
    const created = await port.createInvoice(draft(3), { send: false });
    await port.updateDraftInvoice!(created.id, draft(3, ['stripe']));
    expect(bodiesOf('PUT', `/invoices/${created.id}`)[0]!.payment_options).toStrictEqual({ payment_gateways: [{ gateway_name: 'stripe' }] });
    expect(fake.onlinePayment(created.id)).toEqual(['stripe']);

    const { payOnline: _, ...plain } = draft(4);
    const profile = await port.createRecurring({ ...plain, payOnline: ['paypal'], name: 'Retainer 4', frequency: 'months', repeatEvery: 1, startDate: new Date().toISOString().slice(0, 10) });
    expect(bodiesOf('POST', '/recurringinvoices')[0]!.payment_options).toStrictEqual({ payment_gateways: [{ gateway_name: 'paypal' }] });
    expect(fake.onlinePayment(fake.generateRecurringInvoice(profile.id))).toEqual(['paypal']);
    const unpaid = await port.createRecurring({ ...plain, name: 'Retainer 5', frequency: 'months', repeatEvery: 1, startDate: new Date().toISOString().slice(0, 10) });
    expect(bodiesOf('POST', '/recurringinvoices')[1]).not.toHaveProperty('payment_options');
    expect(fake.onlinePayment(fake.generateRecurringInvoice(unpaid.id))).toEqual([]);
  });

  it("the organization's gateways: Zoho's documented names until an invoice shows what is configured, then those", async () => {
    const first = (await port.reference({ exemptions: false, payOnline: true })).payOnline!;
    expect(first.available.map((a) => a.id)).toEqual(DOCUMENTED);
    expect(first.byDefault).toEqual([]);
    expect(first.setUp).toBe('Zoho Books › Settings › Online Payments');
    expect(first.unconfirmed).toMatch(/^Zoho Books' API does not list the organization's payment gateways, and it has no invoice yet/);
    // Not asked: not read (no invoice listing).
    const listings = () => bodiesOf('GET', '/invoices').length;
    const before = listings();
    expect((await port.reference({ exemptions: false })).payOnline).toBeUndefined();
    expect(listings()).toBe(before);

    fake.setPaymentGateways(['stripe']);
    const invoice = await port.createInvoice(draft(6, ['stripe', 'braintree']), { send: true });
    // Braintree is not configured: the invoice goes out, and the relay says so.
    expect(warnings()).toEqual([expect.objectContaining({ gateways: ['braintree'], msg: expect.stringContaining('Zoho Books did not enable braintree on the invoice') })]);
    const offer = (await port.reference({ exemptions: false, payOnline: true })).payOnline!;
    expect(offer.available).toEqual([{ id: 'stripe', name: 'stripe', detail: `configured, as invoice ${invoice.number} shows` }]);
    expect(offer.byDefault).toEqual(['stripe']);
    expect(offer.unconfirmed).toBeUndefined();
  });

  it("start-up refuses a gateway the organization does not have, listing what it has; a known one is put on every draft", async () => {
    await port.createInvoice(draft(7, ['stripe', 'paypal']), { send: true });
    const kv = new KeyValue(store.db);
    const log = createLogger({ level: 'silent' });
    const bad = new BillingSettings(port, tax, kv, log, () => fake.organizationId, undefined, ['Stripe', 'Klarna']);
    const err = await bad.init().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const shows = (await port.reference({ exemptions: false, payOnline: true })).payOnline!.available[0]!.detail;
    expect((err as ConfigError).problems).toEqual([
      `MAPPING_FILE invoice.payOnline: no way of paying online named 'Klarna' in Zoho Books (it has: 'stripe' (${shows}), 'paypal' (${shows})). Use one of those names, or set it up in Zoho Books › Settings › Online Payments.`,
    ]);

    // A copy stored without the offer (a relay before invoice.payOnline) is not used: the offer is read.
    const plain = new BillingSettings(port, tax, kv, log, () => fake.organizationId);
    await plain.init({ refreshBehind: false });
    expect((await plain.get()).payOnline).toBeUndefined();
    const good = new BillingSettings(port, tax, kv, log, () => fake.organizationId, undefined, ['PayPal']);
    await good.init({ refreshBehind: false });
    expect((await good.get()).payOnline).toEqual(['paypal']);
    const everything = new BillingSettings(port, tax, kv, log, () => fake.organizationId, undefined, true);
    await everything.init({ refreshBehind: false });
    expect((await everything.get()).payOnline).toEqual(['stripe', 'paypal']);
  });

  it("the fake's client pays online through a configured gateway only; the payment is a gateway's", async () => {
    const plain = await port.createInvoice(draft(8), { send: true });
    expect(() => fake.payOnline(plain.id, 1200)).toThrow(/no configured payment gateway enabled/);
    const online = await port.createInvoice(draft(9, ['paypal']), { send: true });
    fake.setPaymentGateways(['stripe']);
    expect(fake.onlinePayment(online.id)).toEqual([]);
    expect(() => fake.payOnline(online.id, 1200)).toThrow(/no configured payment gateway enabled/);
    fake.setPaymentGateways(['stripe', 'paypal']);
    const paymentId = fake.payOnline(online.id, 1200);
    const detail = await port.getInvoice(online.id);
    expect(detail).toMatchObject({ status: 'paid', balance: 0 });
    expect(await port.invoicePayments(online.id)).toEqual([expect.objectContaining({ paymentId, amount: 1200 })]);
    expect(fake.state.payments.get(paymentId)).toMatchObject({ paymentMode: 'autotransaction', gateway: 'paypal' });
  });
});
