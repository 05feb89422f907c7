// The accounting reference data (currencies, taxes, items) is read again now and then. With several relays
// on one database, one of them reads it once per interval under a lease and the others adopt the copy it
// stores. Two handles on one database stand for two relay processes, each with its own Zoho side calling the
// fake Zoho Books over HTTP; the reads are counted on the fake.
import { afterEach, describe, expect, it } from 'vitest';
import { createZohoSide } from '../../src/accounting/zoho/side.js';
import { zohoSettingsSchema } from '../../src/accounting/zoho/settings.js';
import type { Mapping } from '../../src/config/mapping.js';
import type { Env } from '../../src/config/env.js';
import { Singletons } from '../../src/jobs/singleton.js';
import { createLogger } from '../../src/log.js';
import { limiterFactory } from '../../src/net/limits.js';
import { Connections } from '../../src/store/connections.js';
import type { Store } from '../../src/store/db.js';
import { KeyValue } from '../../src/store/kv.js';
import { Leases } from '../../src/store/leases.js';
import { BillingSettings, REFERENCE_TASK } from '../../src/sync/billing-settings.js';
import { createFakeZoho, type FakeZoho } from '../../sandbox/zoho/server.js';
import { backends, type SharedDatabase } from '../support/backends.js';

const log = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tax: Mapping['tax'] = { countryFrom: [], defaultCountry: 'DE', rules: { DE: { tax: 'VAT 19%' }, '*': 'none' } };

describe.each(backends)('reference data refresh on %s', (_name, makeDatabase) => {
  let database: SharedDatabase | undefined;
  let fake: FakeZoho | undefined;
  const stops: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    expect(fake?.violations ?? []).toEqual([]);
    await fake?.close();
    await database?.cleanup();
    fake = database = undefined;
  });

  it('two processes read it once per interval between them, and both use the fresh copy', async () => {
    fake = createFakeZoho({ validateOas: true });
    const url = await fake.listen();
    fake.addTax({ name: 'VAT 19%', percentage: 19 });
    database = await makeDatabase();
    const settings = zohoSettingsSchema.parse({
      ZOHO_CLIENT_ID: fake.clientId,
      ZOHO_CLIENT_SECRET: fake.clientSecret,
      ZOHO_REFRESH_TOKEN: fake.refreshToken,
      ZOHO_ORGANIZATION_ID: fake.organizationId,
      ZOHO_ACCOUNTS_URL: url,
      ZOHO_API_URL: url,
    });
    const relay = async (store: Store, id: string) => {
      const side = createZohoSide({ settings, env: { HTTP_TIMEOUT_MS: 5000 } as Env, connections: new Connections(store.db, undefined), log, limiter: limiterFactory(store, { httpTimeoutMs: 5000 }) });
      await side.start();
      const billing = new BillingSettings(side.port({ section: { referenceTemplate: 'KOMMO-{deal_id}' } }), tax, new KeyValue(store.db), log, () => fake!.organizationId);
      const singletons = new Singletons(new Leases(store.db, id), 300, log);
      stops.push(() => singletons.stopAll(), () => billing.stop());
      return { billing, singletons };
    };
    const reads = () => fake!.requests.filter((r) => r.path.endsWith('/settings/currencies')).length;
    const [a, b] = [await relay(await database.open(), 'a'), await relay(await database.open(), 'b')];

    // A first start reads the data (no stored copy); the second process finds the copy and reads nothing.
    await a.billing.init({ refreshBehind: false });
    await b.billing.init({ refreshBehind: false });
    expect(reads()).toBe(1);
    expect((await b.billing.get()).taxRules.get('DE')).toMatchObject({ kind: 'tax', taxId: expect.any(String) });

    const interval = 400;
    const started = Date.now();
    a.billing.startRefresh(interval, a.singletons);
    b.billing.startRefresh(interval, b.singletons);
    await sleep(2300);
    const elapsed = Date.now() - started;
    // Once per interval between the two: 2,300 ms / 400 ms -> 5 reads at most (the first an interval after
    // start, since init() just read), at least 3 on a loaded machine; two unleased processes would make ~10.
    const refreshes = reads() - 1;
    expect(refreshes, `${refreshes} reads in ${elapsed} ms`).toBeGreaterThanOrEqual(3);
    expect(refreshes, `${refreshes} reads in ${elapsed} ms`).toBeLessThanOrEqual(Math.floor(elapsed / interval));
    const lease = await a.singletons.leases.get(REFERENCE_TASK);
    expect(['a', 'b']).toContain(lease?.holder);

    // A tax created in Zoho reaches both processes: the holder reads it, the other adopts its stored copy.
    const before = reads();
    const newTax = fake.addTax({ name: 'MwSt 19%', percentage: 19 });
    await sleep(interval * 2 + 300);
    expect(reads()).toBeGreaterThan(before);
    const holder = (await a.singletons.leases.get(REFERENCE_TASK))?.holder;
    for (const [id, p] of [['a', a], ['b', b]] as const) {
      expect((await p.billing.get()).reference.taxes.map((t) => t.id), `${id} (holder: ${holder})`).toContain(newTax);
    }
  });
});
