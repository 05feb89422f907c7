// The fake Xero's branding themes and payment services (issue 18, pay online), through real HTTP and the
// control API: themes and each theme's PaymentServices as the contract documents them (the latter only for a
// token with the paymentservices scope), invoices keeping their BrandingThemeID, and a client paying
// through the online invoice: a payment like any other, told of by an INVOICE UPDATE event dated after the
// window in which the relay takes an event for its own write.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OWN_WRITE_SKEW_MS } from '../../src/accounting/xero/webhook-source.js';
import { DEFAULT_SCOPE } from '../../sandbox/xero/server.js';
import { client, closeFakesAfterEach, invoiceInput, newContact, newInvoice, startXero } from './xero-helpers.js';

closeFakesAfterEach();

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Collects the webhook bodies the fake posts. */
async function receiver(): Promise<{ url: string; bodies: any[] }> {
  const bodies: any[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

describe('branding themes and their payment services', () => {
  it('lists the themes in Xero\'s order and each theme\'s payment services; a token without paymentservices is refused 401', async () => {
    const { fake, base, api } = await startXero();
    const themes = (await api.get('/BrandingThemes')).json.BrandingThemes;
    expect(themes.map((t: any) => [t.Name, t.SortOrder, t.Type])).toEqual([['Standard', 0, 'INVOICE'], ['Pay online', 1, 'INVOICE']]);
    expect((await api.get(`/BrandingThemes/${themes[1].BrandingThemeID}`)).json.BrandingThemes[0].Name).toBe('Pay online');
    expect((await api.get(`/BrandingThemes/${themes[0].BrandingThemeID}/PaymentServices`)).json).toEqual({ PaymentServices: [] });
    const stripe = (await api.get(`/BrandingThemes/${themes[1].BrandingThemeID}/PaymentServices`)).json.PaymentServices;
    expect(stripe).toEqual([{ PaymentServiceID: expect.stringMatching(/^[0-9a-f-]{36}$/), PaymentServiceName: 'Stripe', PaymentServiceType: 'Stripe' }]);
    expect((await api.get('/BrandingThemes/0b7f6c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e/PaymentServices')).status).toBe(404);

    const narrow = client(fake, base, fake.mintAccessToken(DEFAULT_SCOPE.replace(' paymentservices', '')));
    const refused = await narrow.get(`/BrandingThemes/${themes[1].BrandingThemeID}/PaymentServices`);
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ Title: 'Unauthorized', Status: 401, Detail: 'AuthorizationUnsuccessful' });
    // The same token reads the themes themselves (accounting.settings).
    expect((await narrow.get('/BrandingThemes')).status).toBe(200);
  });

  it('are set through the control API before or after start; a theme of the same name keeps its ID, the lowest SortOrder is the default', async () => {
    const { fake, base, api } = await startXero();
    const payOnline = fake.state.tenants.get(fake.tenantId)!.brandingThemes[1]!.brandingThemeId;
    const res = await fetch(`${base}/_sandbox/branding-themes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ themes: [{ name: 'Pay online', sortOrder: 3, paymentServices: ['Stripe', { name: 'PayPal', type: 'PayPal' }] }, { name: 'Modern', sortOrder: 1 }] }),
    });
    expect(res.status).toBe(200);
    const themes = (await api.get('/BrandingThemes')).json.BrandingThemes;
    expect(themes.map((t: any) => t.Name)).toEqual(['Modern', 'Pay online']);
    expect(themes[1].BrandingThemeID).toBe(payOnline);
    expect(fake.state.tenants.get(fake.tenantId)!.brandingThemeId).toBe(themes[0].BrandingThemeID);
    expect((await api.get(`/BrandingThemes/${payOnline}/PaymentServices`)).json.PaymentServices.map((p: any) => p.PaymentServiceName)).toEqual(['Stripe', 'PayPal']);
  });
});

describe('invoices and their branding theme', () => {
  it('keep the BrandingThemeID they are given (the default theme otherwise), may change it while editable, and an unknown one is refused', async () => {
    const { fake, api } = await startXero();
    const [standard, payOnline] = fake.state.tenants.get(fake.tenantId)!.brandingThemes.map((t) => t.brandingThemeId);
    const contactId = await newContact(api);
    const plain = await newInvoice(api, contactId, { Status: 'DRAFT' });
    expect(plain.BrandingThemeID).toBe(standard);
    expect(fake.onlinePayment(plain.InvoiceID)).toEqual([]);
    const changed = await api.post(`/Invoices/${plain.InvoiceID}`, { Invoices: [{ InvoiceID: plain.InvoiceID, BrandingThemeID: payOnline }] });
    expect(changed.json.Invoices[0].BrandingThemeID).toBe(payOnline);
    expect(fake.onlinePayment(plain.InvoiceID)).toEqual([payOnline]);

    const unknown = await api.put('/Invoices?summarizeErrors=false', { Invoices: [invoiceInput(contactId, { BrandingThemeID: '0b7f6c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e' })] });
    expect(unknown.json.Invoices[0]).toMatchObject({ StatusAttributeString: 'ERROR', ValidationErrors: [{ Message: 'Branding theme could not be found.' }] });
  });
});

describe('paying online', () => {
  it('records a payment like any other, and the INVOICE UPDATE event comes dated past the relay\'s own-write window', async () => {
    const hook = await receiver();
    const { fake, base, api } = await startXero({ webhook: { url: hook.url, key: 'webhook-key' } });
    const payOnline = fake.state.tenants.get(fake.tenantId)!.brandingThemes[1]!.brandingThemeId;
    const contactId = await newContact(api);
    const inv = await newInvoice(api, contactId, { BrandingThemeID: payOnline });
    const plain = await newInvoice(api, contactId, { Reference: 'plain' });
    await fake.flushWebhooks();
    const createdAt = Date.parse(`${hook.bodies[0].events[0].eventDateUtc}`);

    expect(() => fake.payOnline(plain.InvoiceID, 10)).toThrow(/has no payment service/);
    const partial = fake.payOnline(inv.InvoiceID, 40);
    const res = await fetch(`${base}/_sandbox/invoices/${inv.InvoiceID}/pay-online`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: inv.Total - 40 }) });
    expect(res.status).toBe(201);
    const { PaymentID: rest } = (await res.json()) as { PaymentID: string };
    await fake.flushWebhooks();

    const after = (await api.get(`/Invoices/${inv.InvoiceID}`)).json.Invoices[0];
    expect(after).toMatchObject({ Status: 'PAID', AmountPaid: inv.Total, AmountDue: 0, Payments: [{ PaymentID: partial, Amount: 40 }, { PaymentID: rest }] });
    const updates = hook.bodies.flatMap((b) => b.events).filter((e: any) => e.resourceId === inv.InvoiceID && e.eventType === 'UPDATE');
    expect(updates).toHaveLength(2);
    expect(Date.parse(updates[0].eventDateUtc) - createdAt).toBeGreaterThan(OWN_WRITE_SKEW_MS);
    expect(await (await fetch(`${base}/_sandbox/invoices/${inv.InvoiceID}/online-payment`)).json()).toEqual([payOnline]);
  });
});
