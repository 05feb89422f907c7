// The admin page in a real headless browser (Debian's chromium driven by playwright-core; no browser
// download): an administrator logs in, sees a failed deal with its reason, presses Retry once the cause is
// fixed, and the deal then shows its invoice — on the list and on the deal's own page.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../../sandbox/scenario.js';
import { invoicesOf, startE2E, waitFor, type E2E } from '../support/e2e.js';

let e2e: E2E;
let browser: Browser;

beforeAll(async () => {
  e2e = await startE2E({ env: { ADMIN_TOKEN } });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await e2e?.close();
});

describe('the admin page in a browser', () => {
  it('lists a failed deal, its Retry button re-runs it, and the deal then shows its invoice', async () => {
    const s = e2e.scenario;
    const { dealId, contactId } = s.addClientDeal({ email: null, contactName: 'Greta Nomail' });
    s.moveToInvoice(dealId);
    const job = await waitFor(
      () => e2e.relay.store.db.selectFrom('jobs').select('id').where('deal_id', '=', String(dealId)).where('kind', '=', 'invoice_for_deal').where('state', '=', 'failed').executeTakeFirst(),
      'the invoice job to fail',
    );
    const jobId = Number(job.id);

    const page = await browser.newPage();
    await page.goto(`${e2e.relay.url}/admin`);
    await page.fill('input[name="token"]', ADMIN_TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${e2e.relay.url}/admin`);

    const failure = page.locator(`#failures tr[data-job="${jobId}"]`);
    expect(await failure.locator('td').nth(1).innerText()).toBe(String(dealId));
    expect(await failure.locator('td.reason').innerText()).toBe(
      'contact_missing_email Invoice not created: the contact "Greta Nomail" has no email. Add an email to the contact, then move the deal into the invoicing stage again.',
    );
    expect(await page.locator(`#deals tr[data-deal="${dealId}"] td.state`).innerText()).toMatch(/^failed \(invoice_for_deal\): Invoice not created: the contact "Greta Nomail" has no email\./);

    // The manager adds the email in Kommo; the administrator presses Retry.
    const emailField = [...s.kommo.state.contactFields.values()].find((f) => f.code === 'EMAIL')!;
    s.kommo.state.contacts.get(contactId)!.customFields.push({ fieldId: emailField.id, values: [{ value: 'greta@example.com', enumCode: 'WORK' }] });
    await failure.locator('button', { hasText: 'Retry' }).click();
    await page.waitForURL(`${e2e.relay.url}/admin?retried=${jobId}`);
    expect(await page.locator('p.notice').innerText()).toBe(`Job ${jobId} is queued again and runs now.`);

    await waitFor(() => invoicesOf(s, dealId).length === 1, 'the invoice in Zoho');
    const invoice = invoicesOf(s, dealId)[0]!;
    const state = page.locator(`#deals tr[data-deal="${dealId}"] td.state`);
    await waitFor(async () => {
      await page.reload();
      return (await state.innerText()) === `invoiced: ${invoice.invoiceNumber}`;
    }, 'the page to show the deal invoiced');
    const link = page.locator(`#deals tr[data-deal="${dealId}"] a.invoice`);
    expect([await link.innerText(), await link.getAttribute('href')]).toEqual([invoice.invoiceNumber, invoice.invoiceUrl]);
    expect(await page.locator(`#failures tr[data-job="${jobId}"]`).count()).toBe(0);

    await page.click(`#deals tr[data-deal="${dealId}"] a[href="/admin/deals/${dealId}"]`);
    await page.waitForURL(`${e2e.relay.url}/admin/deals/${dealId}`);
    expect(await page.locator('#deal h2').innerText()).toBe(`Deal ${dealId}`);
    expect(await page.locator('#deal a.invoice').getAttribute('href')).toBe(invoice.invoiceUrl);
    expect(await page.locator('#deal .state').innerText()).toBe(`invoiced: ${invoice.invoiceNumber}`);
    expect(await page.locator(`#jobs tr[data-job="${jobId}"] td`).nth(2).innerText()).toBe('done');
    await page.close();
  });
});
