// One webhook must not become thousands of API calls, for each accounting backend: notifications about
// 10,000 invoices the relay never created — worded and signed as the system sends them — cost no call to
// the accounting system or Kommo, and a deal moved right after is invoiced within seconds. End to end
// through both sandboxes, with real HTTP into the relay.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { ACCOUNTING_BACKENDS } from '../support/accounting-backends.js';
import { EARLY_SWEEP_DELAY_MS } from '../../src/sync/reconciler.js';
import { dealInvoices, startE2E, waitFor, type E2E } from '../support/e2e.js';

let e2e: E2E | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

describe.each(ACCOUNTING_BACKENDS)('%s: a flood of webhooks about invoices the relay never created', (accounting) => {
  it('10,000 unknown invoices: no API call; a deal moved right after is invoiced within seconds', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const post = (n: { path: string; headers: Record<string, string>; body: string }) => request(e2e!.relay.url).post(n.path).set(n.headers).send(n.body);
    const calls = () => s.books.callCount + s.kommo.requests.length;
    const before = calls();
    const booksBefore = s.books.calls().length;
    const stored = async () => (await e2e!.relay.store.db.selectFrom('events').select('id').execute()).length + (await e2e!.relay.store.db.selectFrom('jobs').select('id').execute()).length;
    const storedBefore = await stored();

    // Where the relay reads nothing of a webhook and only wakes its reconciler (Wave's), every delivery is
    // answered 200 and stores nothing, and the lot of them costs at most one early sweep per debounce window.
    if (s.books.facts.webhooks === 'wake-up') {
      const strangers = s.books.unknownIds(10_000);
      const started = Date.now();
      const bodies = Array.from({ length: 100 }, (_, b) => s.books.notification(strangers.slice(b * 100, (b + 1) * 100)));
      for (let i = 0; i < bodies.length; i += 10) {
        const answers = await Promise.all(bodies.slice(i, i + 10).map(post));
        expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      }
      expect(await stored()).toBe(storedBefore);
      // Let every sweep the deliveries asked for run, then count them: one per window at most, nothing else.
      await new Promise((r) => setTimeout(r, EARLY_SWEEP_DELAY_MS * 2 + 500));
      const windows = Math.ceil((Date.now() - started) / EARLY_SWEEP_DELAY_MS) + 1;
      const sweeps = s.books.calls().slice(booksBefore).filter((c) => c.op === 'invoice.list').length;
      expect(sweeps).toBeGreaterThanOrEqual(1);
      expect(sweeps).toBeLessThanOrEqual(windows);
      expect(s.books.calls().slice(booksBefore).filter((c) => c.op !== 'invoice.list')).toEqual([]);
    } else {
      // One invoice over the relay's cap in one body, and all 10,000 in one body: refused (a 4xx), nothing stored.
      const strangers = s.books.unknownIds(10_000);
      expect(new Set(strangers).size).toBe(10_000);
      const per = s.books.facts.invoicesPerNotification;
      for (const ids of [strangers.slice(0, per + 1), strangers]) {
        const refused = await post(s.books.notification(ids));
        expect([ids.length, refused.status >= 400 && refused.status < 500]).toEqual([ids.length, true]);
      }

      // The same 10,000 in notifications at the cap: every one acknowledged, none stored.
      const bodies = Array.from({ length: Math.ceil(10_000 / per) }, (_, b) => s.books.notification(strangers.slice(b * per, (b + 1) * per)));
      for (let i = 0; i < bodies.length; i += 10) {
        const answers = await Promise.all(bodies.slice(i, i + 10).map(post));
        expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      }
      expect(await stored()).toBe(storedBefore);
      expect(calls()).toBe(before);
    }

    const { dealId } = s.addClientDeal({ price: 4800 });
    const moved = Date.now();
    s.moveToInvoice(dealId);
    await waitFor(() => dealInvoices(s, dealId).length === 1 && s.kommo.state.leads.get(dealId)!.customFields.some((f) => f.fieldId === s.fields.invoiceUrl), 'the invoice of the deal moved after the flood', 10_000);
    expect(Date.now() - moved).toBeLessThan(10_000);
    // Only the deal's own work reached the APIs: no invoice read for any of the 10,000.
    const own = dealInvoices(s, dealId)[0]!.id;
    // (The invoice is named in the path, or in the GraphQL variables: Wave's.)
    expect(s.books.calls().filter((c) => c.op === 'invoice.read' && !c.path.endsWith(own) && !JSON.stringify(c.query).includes(own))).toEqual([]);
    expect(calls()).toBeGreaterThan(before);
  });
});
