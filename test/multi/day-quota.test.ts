// Zoho Books' day quota (ZOHO_DAILY_LIMIT) through the real pieces: two Zoho sides, each on its own handle
// of one database (two relay processes), calling the fake Zoho Books over HTTP. The day's calls are counted
// once for both; when they are used up, or Zoho answers that its daily limit is reached, calls are refused
// without reaching Zoho, as a retryable error marked paused, with a retry-after at the next day boundary.
import { afterEach, describe, expect, it } from 'vitest';
import { createZohoSide } from '../../src/accounting/zoho/side.js';
import { zohoSettingsSchema } from '../../src/accounting/zoho/settings.js';
import type { Env } from '../../src/config/env.js';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { dayOf } from '../../src/net/day-budget.js';
import { limiterFactory } from '../../src/net/limits.js';
import { Connections } from '../../src/store/connections.js';
import type { Store } from '../../src/store/db.js';
import { dayBudgetStatus } from '../../src/store/day-budgets.js';
import { RelayMetrics } from '../../src/metrics.js';
import { queueFigures } from '../../src/ops/queue-figures.js';
import { createFakeZoho, type FakeZoho } from '../../sandbox/zoho/server.js';
import { backends, type SharedDatabase } from '../support/backends.js';

const log = createLogger({ level: 'silent' });

describe.each(backends)('Zoho day quota on %s', (_name, makeDatabase) => {
  let database: SharedDatabase | undefined;
  let fake: FakeZoho | undefined;
  afterEach(async () => {
    expect(fake?.violations ?? []).toEqual([]);
    await fake?.close();
    await database?.cleanup();
    fake = database = undefined;
  });

  async function twoRelays(settings: Record<string, string>) {
    fake = createFakeZoho({ validateOas: true });
    const url = await fake.listen();
    database = await makeDatabase();
    const side = (store: Store) =>
      createZohoSide({
        settings: zohoSettingsSchema.parse({
          ZOHO_CLIENT_ID: fake!.clientId,
          ZOHO_CLIENT_SECRET: fake!.clientSecret,
          ZOHO_REFRESH_TOKEN: fake!.refreshToken,
          ZOHO_ORGANIZATION_ID: fake!.organizationId,
          ZOHO_ACCOUNTS_URL: url,
          ZOHO_API_URL: url,
          ...settings,
        }),
        env: { HTTP_TIMEOUT_MS: 5000 } as Env,
        connections: new Connections(store.db, undefined),
        log,
        limiter: limiterFactory(store, { httpTimeoutMs: 5000 }),
      });
    const stores = [await database.open(), await database.open()];
    const sides = stores.map(side);
    for (const s of sides) await s.start();
    return { stores, clients: sides.map((s) => s.parts.client) };
  }

  const taxCalls = () => fake!.requests.filter((r) => r.path.endsWith('/settings/taxes')).length;
  const refused = async (call: Promise<unknown>) => {
    const err = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RelayError);
    return err as RelayError;
  };

  it('counts the calls of both processes against one limit; the next is paused until the next day, without reaching Zoho', async () => {
    const { stores, clients } = await twoRelays({ ZOHO_DAILY_LIMIT: '5', ZOHO_DAILY_LIMIT_TIME_ZONE: 'Europe/Berlin' });
    const [a, b] = clients as [NonNullable<(typeof clients)[0]>, NonNullable<(typeof clients)[0]>];
    await Promise.all([a.listTaxes(), b.listTaxes(), a.listTaxes(), b.listTaxes(), a.listTaxes()]);
    expect(taxCalls()).toBe(5);

    const before = Date.now();
    for (const client of [a, b]) {
      const err = await refused(client.listTaxes());
      expect(err).toMatchObject({ code: 'zoho_day_limit', kind: 'retryable', paused: true, status: 429 });
      expect(err.message).toContain('ZOHO_DAILY_LIMIT');
      // The next midnight in Berlin, from now.
      const midnight = dayOf(before, 'Europe/Berlin').resetsAt;
      expect(Math.abs(before + err.retryAfterMs! - midnight)).toBeLessThan(5000);
      expect(new Date(midnight).toLocaleString('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })).toBe('00:00');
    }
    expect(taxCalls()).toBe(5);
    // What `relay status` and /metrics show, from either handle.
    for (const store of stores) {
      expect((await dayBudgetStatus(store.db))['zoho-day']).toMatchObject({ used: 5, limit: 5, remaining: 0, pausedForMs: 0 });
      const metrics = (await new RelayMetrics(() => queueFigures(store.db), () => dayBudgetStatus(store.db)).scrape()).text;
      expect(metrics).toContain('relay_api_day_calls{budget="zoho-day"} 5\n');
      expect(metrics).toContain('relay_api_day_limit{budget="zoho-day"} 5\n');
      expect(metrics).toContain('relay_api_day_remaining{budget="zoho-day"} 0\n');
    }
  });

  it("Zoho's own daily-limit answer pauses both processes at once, for at most an hour, without retrying", async () => {
    const { stores, clients } = await twoRelays({});
    const [a, b] = clients as [NonNullable<(typeof clients)[0]>, NonNullable<(typeof clients)[0]>];
    await a.listTaxes();
    // Zoho's code for the day's calls used up (as reported; the reference only says "HTTP 429").
    fake!.faults.failNext(1, { status: 429, body: { code: 1070, message: 'API call limit exceeded.' } });
    const err = await refused(a.listTaxes());
    expect(err).toMatchObject({ code: 'zoho_day_limit', paused: true });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(err.retryAfterMs).toBeLessThanOrEqual(Math.min(3600_000, dayOf(Date.now(), 'UTC').resetsAt - Date.now() + 1000));
    expect(taxCalls()).toBe(2); // the 429 was not retried
    expect(await refused(b.listTaxes())).toMatchObject({ code: 'zoho_day_limit', paused: true });
    expect(taxCalls()).toBe(2);
    // Without ZOHO_DAILY_LIMIT the calls are still counted (and shown as such).
    expect((await dayBudgetStatus(stores[1]!.db))['zoho-day']).toMatchObject({ used: 2, limit: null, remaining: null });
    expect((await dayBudgetStatus(stores[1]!.db))['zoho-day']!.pausedForMs).toBeGreaterThan(0);
  });

  it("a 429 of Zoho's minute limit is not taken for the day's: it is waited out and the call goes through", async () => {
    const { clients } = await twoRelays({ ZOHO_DAILY_LIMIT: '100' });
    fake!.faults.failNext(1, { status: 429, body: { code: 45, message: 'You have made too many requests continuously. Please try again after some time.' }, headers: { 'X-Rate-Limit-Reset': '1' } });
    expect(Array.isArray(await clients[0]!.listTaxes())).toBe(true);
    expect(taxCalls()).toBe(2);
  });
});
