import { afterEach, describe, expect, it } from 'vitest';
import { ACCOUNTING_BACKENDS } from '../support/accounting-backends.js';
import { dealInvoices, startE2E, waitFor, type E2E } from '../support/e2e.js';

// A restart (a deploy, a crash) listens again without waiting for the accounting system: the reference
// data (currencies, taxes, items or accounts) stored by the previous start is used at once and read again
// behind. A first start still waits for it.
let e2e: E2E | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

describe.each(ACCOUNTING_BACKENDS)('%s: restarting the relay', (accounting) => {
  it('listens while the accounting system is slow to answer, and invoices with the stored reference data', async () => {
    e2e = await startE2E({ accounting });
    const s = e2e.scenario;
    const references = () => s.books.calls().filter((c) => c.op === 'reference' && (c.read ?? c.method === 'GET')).length;
    const readAtFirstStart = references();
    expect(readAtFirstStart).toBeGreaterThan(0);

    await e2e.relay.stop(); // (restart() stops it again: a no-op) — only the start is timed
    s.books.setLatency(4000);
    const started = Date.now();
    await e2e.restart();
    // Less than one answer takes: the start waited for none (it used to wait for three or four).
    expect(Date.now() - started).toBeLessThan(4000);
    s.books.resetFaults();

    const { dealId } = s.addClientDeal({ email: 'after.restart@example.de' });
    s.moveToInvoice(dealId);
    await waitFor(() => dealInvoices(s, dealId)[0]?.emailed, `deal ${dealId} to be invoiced and emailed`);
    expect(dealInvoices(s, dealId)).toHaveLength(1);
    // ...and the data was read again behind the restart.
    await waitFor(() => references() >= 2 * readAtFirstStart, 'the reference data to be read again after the restart');
  });
});
