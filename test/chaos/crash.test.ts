// Crashes, reduced: while 100 deals flow in, the relay (a child process) is SIGKILLed at three random
// moments and restarted on the same SQLite file (bench/scenarios/crash.ts; `npm run bench` runs 300 deals
// and ten kills). CHAOS_SEED replays other kill moments.
import { describe, expect, it } from 'vitest';
import { exactlyOnce } from '../support/ledger.js';
import { runCrash } from '../../bench/scenarios/crash.js';
import { timeScale } from '../../bench/scenarios/world.js';

const DEALS = 100;
const KILLS = 3;
const SEED = Number(process.env.CHAOS_SEED ?? 20261120);

describe('crash recovery under load', () => {
  it(`${KILLS} kills during ${DEALS} deals: each deal one customer, one invoice, one email; nothing acknowledged is lost`, async () => {
    const r = await runCrash({ deals: DEALS, kills: KILLS, scale: timeScale(7), seed: SEED });

    expect(r.kills, `kills at ${r.killAtMs.join(', ')} ms (seed ${r.seed})`).toBe(KILLS);
    expect(r.ledger).toEqual(exactlyOnce(DEALS));
    expect(r.jobs).toMatchObject({ queued: 0, running: 0, failed: 0, dead: 0 });
    // The kills did cut jobs off mid-flight (attempts the next process found still 'running').
    expect(r.jobs.abandonedAttempts).toBeGreaterThan(0);
    // Zoho was connected once on /connect; every restart reused the stored access token.
    expect(r.tokenMints).toBe(0);
  }, 240_000);
});
