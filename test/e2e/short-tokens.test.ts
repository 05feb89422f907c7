// Access tokens that live a few seconds (Xero's live 30 minutes, some Zoho set-ups less): deals are still
// invoiced, and the refresh margin scales with the token's lifetime, so a token is refreshed about once per
// lifetime — never on every call, as a fixed 5-minute margin would.
import { afterEach, describe, expect, it } from 'vitest';
import { invoicesOf, startE2E, waitFor, type E2E } from '../support/e2e.js';

let e2e: E2E | undefined;
afterEach(async () => {
  // close() also fails the test on any contract violation or unreadable log line.
  await e2e?.close();
  e2e = undefined;
});

const TTL_SECONDS = 3;

describe('Zoho access tokens that live 3 seconds', () => {
  it('invoices every deal with at most one token per lifetime', async () => {
    e2e = await startE2E({ zoho: { accessTokenTtlSeconds: TTL_SECONDS } });
    const s = e2e.scenario;
    const started = Date.now();
    const grantsAtStart = s.zoho.state.tokenGrants;
    const deals: number[] = [];
    // Three waves of deals, the last two after the first token has expired.
    for (let wave = 0; wave < 3; wave++) {
      const wave_deals = [1, 2, 3].map((i) => s.addClientDeal({ name: `Wave ${wave} deal ${i}`, price: 100 * (i + 1), email: `w${wave}d${i}@example.com` }).dealId);
      s.moveToInvoice(...wave_deals);
      deals.push(...wave_deals);
      for (const dealId of wave_deals) await waitFor(() => invoicesOf(s, dealId).length === 1, `deal ${dealId} invoiced`);
      await new Promise((r) => setTimeout(r, TTL_SECONDS * 1000));
    }
    const elapsedS = (Date.now() - started) / 1000;
    for (const dealId of deals) expect(invoicesOf(s, dealId)).toHaveLength(1);
    const grants = s.zoho.state.tokenGrants - grantsAtStart;
    // One token per started lifetime at the most (plus the one the start-up already held).
    expect(grants).toBeGreaterThanOrEqual(1);
    expect(grants).toBeLessThanOrEqual(Math.ceil(elapsedS / TTL_SECONDS) + 1);
    // Zoho answered no call with 401: the token was refreshed before it expired, not after.
    expect(s.zoho.requests.filter((r) => r.status === 401)).toEqual([]);
  }, 60_000);
});
