import { afterEach, describe, expect, it } from 'vitest';
import { invoicesOf, startE2E, waitFor, type E2E } from '../support/e2e.js';

// A restart (a deploy, a crash) listens again without waiting for Zoho: the accounting reference data
// stored by the previous start is used at once and read again behind. A first start still waits for it.
let e2e: E2E | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

describe('restarting the relay', () => {
  it('listens while Zoho is slow to answer, and invoices with the stored reference data', async () => {
    e2e = await startE2E();
    const s = e2e.scenario;
    const references = () => s.zoho.requests.filter((r) => r.method === 'GET' && /^\/books\/v3\/(settings\/currencies|settings\/taxes|items)$/.test(r.path)).length;
    const readAtFirstStart = references();
    expect(readAtFirstStart).toBeGreaterThan(0);

    await e2e.relay.stop(); // (restart() stops it again: a no-op) — only the start is timed
    s.zoho.faults.set({ latencyMs: 4000 });
    const started = Date.now();
    await e2e.restart();
    // Less than one Books answer takes: the start waited for none (it used to wait for three or four).
    expect(Date.now() - started).toBeLessThan(4000);
    s.zoho.faults.reset();

    const { dealId } = s.addClientDeal({ email: 'after.restart@example.de' });
    s.moveToInvoice(dealId);
    await waitFor(() => invoicesOf(s, dealId)[0]?.isEmailed, `deal ${dealId} to be invoiced and emailed`);
    expect(invoicesOf(s, dealId)).toHaveLength(1);
    // ...and the data was read again behind the restart.
    await waitFor(() => references() >= 2 * readAtFirstStart, 'the reference data to be read again after the restart');
  });
});
