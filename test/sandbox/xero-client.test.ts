// The relay's own Xero client and OAuth code (src/accounting/xero, used as they are) against the fake Xero
// over real HTTP: both sides were written from the same contract independently, so this shows they fit —
// every call the client makes succeeds as Xero's would, and no request or answer leaves the contract.
import { describe, expect, it } from 'vitest';
import { XeroClient } from '../../src/accounting/xero/client.js';
import { XeroOAuth } from '../../src/accounting/xero/oauth.js';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { closeFakesAfterEach, startXero } from './xero-helpers.js';

closeFakesAfterEach();

const silent = createLogger({ level: 'silent' });
const line = { Description: 'Website redesign', Quantity: 2, UnitAmount: 100, AccountCode: '200', TaxType: 'OUTPUT2' };

describe('the relay\'s Xero client against the fake', () => {
  it('connects: consent redirect, code exchange, organisations, token rotation', async () => {
    const { fake, base } = await startXero({ tenants: [{ name: 'Acme UK' }, { name: 'Acme NZ', countryCode: 'NZ', baseCurrency: 'NZD' }] });
    const oauth = new XeroOAuth({
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      redirectUri: 'http://127.0.0.1:1/connect/xero/callback',
      timeoutMs: 2000,
      authorizeUrl: `${base}/identity/connect/authorize`,
      tokenUrl: `${base}/connect/token`,
      connectionsUrl: `${base}/connections`,
    });
    const consent = await fetch(oauth.authorizeUrl('state-1'), { redirect: 'manual' });
    const back = new URL(consent.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('state-1');
    const pair = await oauth.exchangeCode(back.searchParams.get('code')!);
    const tenants = await oauth.tenants(pair.accessToken);
    expect(tenants.map((t) => t.tenantName).sort()).toEqual(['Acme NZ', 'Acme UK']);
    const next = await oauth.refresh(pair.refreshToken, async () => true);
    expect(next?.refreshToken).not.toBe(pair.refreshToken);
    fake.advanceTime(31 * 60_000);
    await expect(oauth.refresh(pair.refreshToken, async () => true)).rejects.toBeInstanceOf(RelayError);
  });

  it('runs the invoice loop: contact, invoice, email, online link, payments, changes since, retainer, refusals', async () => {
    const { fake } = await startXero({ tenants: [{ name: 'Acme UK', currencies: ['EUR'] }] });
    const xero = new XeroClient({
      tokens: { accessToken: async () => fake.mintAccessToken(), onUnauthorized: async () => false },
      tenantId: () => fake.tenantId,
      baseUrl: fake.apiUrl,
      timeoutMs: 2000,
      log: silent,
      retryBaseMs: 5,
    });
    expect((await xero.organisation()).Name).toBe('Acme UK');
    expect((await xero.taxRates()).map((t) => t.TaxType)).toContain('OUTPUT2');
    expect((await xero.currencies()).map((c) => c.Code)).toEqual(['GBP', 'EUR']);
    expect((await xero.accounts()).length).toBeGreaterThan(0);
    // The fake's default themes: "Standard" (the default, no payment service) and "Pay online" (Stripe).
    const themes = await xero.brandingThemes();
    expect(themes.map((t) => [t.Name, t.SortOrder])).toEqual([['Standard', 0], ['Pay online', 1]]);
    expect(await xero.brandingThemePaymentServices(themes[0]!.BrandingThemeID)).toEqual([]);
    expect((await xero.brandingThemePaymentServices(themes[1]!.BrandingThemeID)).map((p) => [p.PaymentServiceName, p.PaymentServiceType])).toEqual([['Stripe', 'Stripe']]);

    expect(await xero.findContactsByEmail('ada@example.com')).toEqual([]);
    const contact = await xero.createContact({ Name: 'Ada Lovelace', EmailAddress: 'Ada@Example.com', ContactNumber: 'kommo-7' }, 'contact-kommo-7');
    expect((await xero.findContactsByEmail(' ada@example.com ')).map((c) => c.ContactID)).toEqual([contact.ContactID]);
    expect((await xero.findContactByNumber('kommo-7'))?.ContactID).toBe(contact.ContactID);

    const since = Date.now() - 1000;
    const invoice = { Type: 'ACCREC' as const, Contact: { ContactID: contact.ContactID! }, LineItems: [line], DueDate: '2026-04-01', Reference: 'kommo-deal-7', CurrencyCode: 'EUR' as const, Status: 'AUTHORISED' as const };
    const created = await xero.createInvoice(invoice, 'invoice-deal-7');
    expect(await xero.createInvoice(invoice, 'invoice-deal-7')).toEqual(created); // a resend under the same key
    expect(fake.state.invoices.size).toBe(1);
    expect((await xero.findInvoicesByReference('kommo-deal-7')).map((i) => i.InvoiceID)).toEqual([created.InvoiceID]);
    await xero.emailInvoice(created.InvoiceID!, 'email-deal-7');
    expect(fake.state.emails).toHaveLength(1);
    expect(await xero.onlineInvoiceUrl(created.InvoiceID!)).toMatch(/^https:\/\/in\.xero\.com\//);

    fake.recordPayment(created.InvoiceID!, { amount: 100 });
    expect((await xero.invoicePayments(created.InvoiceID!)).map((p) => p.Amount)).toEqual([100]);
    fake.advanceTime(1000);
    const other = await xero.createInvoice({ ...invoice, Reference: 'kommo-deal-8' }, 'invoice-deal-8');
    fake.advanceTime(1000);
    fake.recordPayment(created.InvoiceID!, { amount: 140 });
    const changed = await xero.listInvoicesModifiedSince(since);
    expect(changed.invoices.map((i) => [i.InvoiceID, i.Status])).toEqual([[other.InvoiceID, 'AUTHORISED'], [created.InvoiceID, 'PAID']]);
    expect(changed.hasMore).toBe(false);
    expect((await xero.voidInvoice(other.InvoiceID!, 'void-deal-8')).Status).toBe('VOIDED');

    const template = await xero.createRepeatingInvoice(
      { Type: 'ACCREC', Contact: { ContactID: contact.ContactID! }, LineItems: [line], Reference: 'kommo-deal-9', Status: 'AUTHORISED', Schedule: { Period: 1, Unit: 'MONTHLY', DueDate: 14, DueDateType: 'DAYSAFTERBILLDATE', StartDate: '2026-05-01' } },
      'retainer-deal-9',
    );
    expect((await xero.findRepeatingInvoicesByReference('kommo-deal-9')).map((r) => r.RepeatingInvoiceID)).toEqual([template.RepeatingInvoiceID]);
    await xero.deleteRepeatingInvoice(template.RepeatingInvoiceID!, 'stop-deal-9');
    expect(fake.state.repeatingInvoices.get(template.RepeatingInvoiceID!)?.status).toBe('DELETED');

    const refused = await xero.createInvoice({ ...invoice, Reference: 'kommo-deal-10', CurrencyCode: 'JPY' }, 'invoice-deal-10').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RelayError);
    expect((refused as RelayError).message).toMatch(/JPY is not a valid currency/);
  });
});
