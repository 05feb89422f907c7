// Faults, reduced: 90 deals while 30 % of Zoho calls and 20 % of Kommo calls fail (500/503 or no answer),
// a 429 burst from each and every Zoho access token expired mid-run (bench/scenarios/faults.ts;
// `npm run bench` runs 300 deals).
import { describe, expect, it } from 'vitest';
import { exactlyOnce } from '../support/ledger.js';
import { runFaults } from '../../bench/scenarios/faults.js';
import { timeScale } from '../../bench/scenarios/world.js';

const DEALS = 90;

describe('faults on both APIs', () => {
  it(`${DEALS} deals through 5xx, timeouts, 429s and an expired token: each invoiced exactly once, nothing lost`, async () => {
    const r = await runFaults({ deals: DEALS, scale: timeScale(7), burst429: 10 });

    expect(r.ledger).toEqual(exactlyOnce(DEALS));
    expect(r.jobs).toMatchObject({ queued: 0, running: 0, done: DEALS, failed: 0, dead: 0 });
    // The faults were really there: both kinds on both sides, the whole burst, the expiry.
    for (const side of [r.zoho, r.kommo]) {
      expect(side.answered5xx).toBeGreaterThan(0);
      expect(side.timedOut).toBeGreaterThan(0);
      expect(side.answered429).toBe(10);
    }
    expect(r.zoho.answered401).toBeGreaterThan(0);
    // One new token after the expiry, not one per failing call.
    expect(r.tokenMints).toBe(1);
    expect(r.jobs.retriedAttempts).toBeGreaterThan(0);
  }, 240_000);
});
