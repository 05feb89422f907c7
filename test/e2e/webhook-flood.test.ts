// One webhook must not become thousands of API calls: 10,000 invoice IDs the relay never created cost no
// call to Zoho or Kommo, and a deal moved right after is invoiced within seconds. End to end through both
// sandboxes, with real HTTP into the relay.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { WEBHOOK_SECRET } from '../../sandbox/scenario.js';
import { MAX_INVOICES_PER_WEBHOOK } from '../../src/accounting/zoho/webhook.js';
import { invoicesOf, startE2E, waitFor, type E2E } from '../support/e2e.js';

let e2e: E2E | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

const strangers = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ invoice_id: String(9_834_000_000_000_000_000n + BigInt(from + i)) }));

describe('a flood of Zoho webhooks about invoices the relay never created', () => {
  it('10,000 unknown invoices: no API call; a deal moved right after is invoiced within seconds', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const post = (body: unknown) => request(e2e!.relay.url).post(`/webhooks/zoho/${WEBHOOK_SECRET}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
    const calls = () => s.zoho.requests.length + s.kommo.requests.length;
    const before = calls();

    // All 10,000 in one body: over the cap, refused with the reason (short IDs keep it under 256 KB).
    const oneBody = { payment: { payment_id: '1', invoices: Array.from({ length: 10_000 }, (_, i) => ({ invoice_id: String(i + 1) })) } };
    const refused = await post(oneBody);
    expect(refused.status).toBe(422);
    expect(refused.body.error).toBe('too_many_invoices');

    // The same 10,000 as webhooks at the cap: every one acknowledged, none stored.
    const bodies = Array.from({ length: 10_000 / MAX_INVOICES_PER_WEBHOOK }, (_, b) => ({ payment: { payment_id: String(b), invoices: strangers(b * MAX_INVOICES_PER_WEBHOOK, MAX_INVOICES_PER_WEBHOOK) } }));
    for (let i = 0; i < bodies.length; i += 10) {
      const answers = await Promise.all(bodies.slice(i, i + 10).map(post));
      for (const a of answers) expect(a.body).toEqual({ ok: true, stored: 0, duplicates: 0, ignored: MAX_INVOICES_PER_WEBHOOK });
    }
    expect(await e2e.relay.store.db.selectFrom('jobs').select('id').execute()).toEqual([]);
    expect(calls()).toBe(before);

    const { dealId } = s.addClientDeal({ price: 4800 });
    const moved = Date.now();
    s.moveToInvoice(dealId);
    await waitFor(() => invoicesOf(s, dealId).length === 1 && s.kommo.state.leads.get(dealId)!.customFields.some((f) => f.fieldId === s.fields.invoiceUrl), 'the invoice of the deal moved after the flood', 10_000);
    expect(Date.now() - moved).toBeLessThan(10_000);
    // Only the deal's own work reached the APIs: no invoice read for any of the 10,000.
    const zohoInvoiceReads = s.zoho.requests.filter((r) => r.method === 'GET' && /^\/books\/v3\/invoices\/\d+$/.test(r.path));
    expect(zohoInvoiceReads.filter((r) => !invoicesOf(s, dealId).some((inv) => r.path.endsWith(inv.invoiceId)))).toEqual([]);
    expect(calls()).toBeGreaterThan(before);
  });
});
