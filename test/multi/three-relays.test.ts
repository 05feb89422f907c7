// Three relay processes on one PostgreSQL database behind one address, against the fakes with the real
// limits on the bench's compressed clock (time x7). Reduced for `npm test`; `npm run bench` floods 1,000.
import { describe, expect, it } from 'vitest';
import { runMultiFlood } from '../../bench/scenarios/multi.js';
import { timeScale } from '../../bench/scenarios/world.js';
import { exactlyOnce } from '../support/ledger.js';

const postgres = process.env.TEST_POSTGRES_URL !== 'off';
const DEALS = 45;

describe.skipIf(!postgres)('three relays on one PostgreSQL', () => {
  it(`${DEALS} deals through all three: one invoice each, never a 429, the reconcile sweep once per interval`, async () => {
    const r = await runMultiFlood({ deals: DEALS, scale: timeScale(7), processes: 3, reconcileSeconds: 2 });

    expect(r.ledger).toEqual(exactlyOnce(DEALS));
    expect({ zoho429: r.zoho429, kommo429: r.kommo429 }).toEqual({ zoho429: 0, kommo429: 0 });
    // Every relay took webhooks in.
    expect(r.forwarded.every((n) => n > 0)).toBe(true);
    expect(r.jobs).toMatchObject({ queued: 0, running: 0, failed: 0, dead: 0 });
    // Once per 2 s over the run between them, not three times: Kommo's query and Zoho's list, each counted.
    const most = Math.floor(r.sweeps.sweepWindowMs / r.sweeps.intervalMs) + 1;
    expect(r.sweeps.kommo).toBeGreaterThanOrEqual(1);
    expect(r.sweeps.kommo).toBeLessThanOrEqual(most);
    expect(r.sweeps.zoho).toBe(r.sweeps.kommo);
  }, 120_000);

  it('the relay running the reconciler is SIGKILLed mid-flood: the others finish its jobs and take the reconciler over', async () => {
    const r = await runMultiFlood({ deals: DEALS, scale: timeScale(7), processes: 3, reconcileSeconds: 2, killAfterLinked: 10, jobLeaseSeconds: 3, singletonLeaseSeconds: 2 });

    expect(r.kill).toBeDefined();
    expect(r.kill!.killedAtLinked).toBeLessThan(DEALS);
    expect(r.kill!.holderAfter).toBeDefined();
    expect(r.kill!.holderAfter).not.toBe(r.kill!.killedHolder);
    expect(r.ledger).toEqual(exactlyOnce(DEALS));
    expect({ zoho429: r.zoho429, kommo429: r.kommo429 }).toEqual({ zoho429: 0, kommo429: 0 });
    expect(r.jobs).toMatchObject({ queued: 0, running: 0, failed: 0, dead: 0 });
    const seen = JSON.stringify({ kill: r.kill, jobs: r.jobs, sweeps: r.sweeps });
    // Within one lease (2 s) of the kill, plus the polling here and a loaded machine's slack; and it sweeps.
    expect(r.kill!.takeoverMs, seen).toBeLessThan(2000 + 2000);
    expect(r.kill!.sweepsAfterTakeover, seen).toBeGreaterThanOrEqual(1);
    // A relay died holding jobs: the others took them up once their lease ran out.
    expect(r.jobs.abandonedAttempts, seen).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
