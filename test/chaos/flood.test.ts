// Flood within the limits, reduced: 200 deals enter the invoicing stage at once, Zoho's real 100-per-window
// limit on the compressed clock the bench uses (bench/scenarios/flood.ts; `npm run bench` runs 1,000).
// Time is the bench's to report; here only what must hold exactly.
import { describe, expect, it } from 'vitest';
import { exactlyOnce } from '../support/ledger.js';
import { runFlood } from '../../bench/scenarios/flood.js';
import { timeScale } from '../../bench/scenarios/world.js';

const DEALS = 200;

describe('flood within the rate limits', () => {
  it(`${DEALS} deals at once: never a 429, three Zoho calls per deal, every deal invoiced exactly once`, async () => {
    const r = await runFlood({ deals: DEALS, scale: timeScale(7) });

    expect(r.ledger).toEqual(exactlyOnce(DEALS));
    expect({ zoho429: r.zoho429, kommo429: r.kommo429 }).toEqual({ zoho429: 0, kommo429: 0 });
    // A new customer each: search, create customer, create and send the invoice.
    expect(r.zohoCalls).toBe(3 * DEALS);
    expect(r.jobs).toMatchObject({ queued: 0, running: 0, done: DEALS, failed: 0, dead: 0, retriedAttempts: 0 });
  }, 240_000);
});
