// The relay in-process against both fakes (a real SQLite file): once the day's Zoho calls (ZOHO_DAILY_LIMIT)
// are used up, a deal entering the invoicing stage gets no Zoho call and no failure: its invoice job waits,
// paused until the next midnight, with its attempt given back and no note on the deal. When the day changes it
// runs and the deal is invoiced once. The count survives a restart.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dayOf } from '../../src/net/day-budget.js';
import { dayBudgetStatus } from '../../src/store/day-budgets.js';
import { invoicesOf, startE2E, waitFor, zohoCalls, type E2E } from '../support/e2e.js';

describe('the Zoho day quota in a running relay', () => {
  let e2e: E2E;
  beforeEach(async () => {
    e2e = await startE2E();
  });
  afterEach(async () => e2e.close());

  it('spent: the invoice job waits until the next day without calling Zoho or failing; the next day it invoices once', async () => {
    const db = () => e2e.relay.store.db;
    const s = e2e.scenario;
    // The start-up read the reference data: those calls are counted. A restart with the limit at that count
    // keeps the count (it is in the database) and so has none left today.
    const used = (await dayBudgetStatus(db()))['zoho-day']!.used;
    expect(used).toBeGreaterThan(0);
    await e2e.restart({ ZOHO_DAILY_LIMIT: String(used) });
    await waitFor(async () => (await dayBudgetStatus(db()))['zoho-day']?.limit === used, 'the relay to write its limit');
    expect((await dayBudgetStatus(db()))['zoho-day']).toMatchObject({ used, limit: used, remaining: 0 });

    const since = s.zoho.requests.length;
    const { dealId } = s.addClientDeal({ email: 'quota@example.com' });
    s.moveToInvoice(dealId);
    const job = await waitFor(
      () =>
        db()
          .selectFrom('jobs')
          .selectAll()
          .where('deal_id', '=', String(dealId))
          .where('kind', '=', 'invoice_for_deal')
          .where('last_error_code', '=', 'zoho_day_limit')
          .executeTakeFirst(),
      'the invoice job to be paused',
    );
    expect(job).toMatchObject({ state: 'queued', attempts: 0 });
    expect(Math.abs(Number(job.run_at) - dayOf(Date.now(), 'UTC').resetsAt)).toBeLessThan(10_000);
    expect(job.last_error).toMatch(/^Work is paused, not failed: .*ZOHO_DAILY_LIMIT.* It continues at \d{4}-\d\d-\d\dT00:00:00\.000Z\.$/);
    expect(zohoCalls(s, since).filter((c) => c.includes('/books/v3'))).toEqual([]);
    expect(invoicesOf(s, dealId)).toEqual([]);
    // No failure, so nothing to tell the manager on the deal.
    expect(await db().selectFrom('jobs').select('kind').where('deal_id', '=', String(dealId)).where('kind', '=', 'deal_note').execute()).toEqual([]);

    // Midnight, as the store sees it: the count's day is over and the job is due. (A running relay also knows
    // the pause's end without asking the store, so the clock it cannot be given here is stood in for by a restart.)
    await db().updateTable('day_budgets').set({ day: '2000-01-01', resets_at: Date.now() }).where('name', '=', 'zoho-day').execute();
    await e2e.restart({ ZOHO_DAILY_LIMIT: String(used + 10) });
    await db().updateTable('jobs').set({ run_at: Date.now() }).where('id', '=', job.id).execute();
    e2e.relay.queue.wake();
    await waitFor(async () => (await e2e.relay.queue.get(Number(job.id)))?.state === 'done', 'the invoice job to run');
    expect(invoicesOf(s, dealId)).toHaveLength(1);
    const today = (await dayBudgetStatus(db()))['zoho-day']!;
    expect(today.day).toBe(dayOf(Date.now(), 'UTC').day);
    expect(today.used).toBe(zohoCalls(s, since).filter((c) => c.includes('/books/v3')).length);
  });
});
