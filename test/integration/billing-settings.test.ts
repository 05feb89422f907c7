import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/env.js';
import type { Mapping } from '../../src/config/mapping.js';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { KeyValue } from '../../src/store/kv.js';
import { BillingSettings } from '../../src/sync/billing-settings.js';
import type { AccountingPort, AccountingReference } from '../../src/sync/ports.js';
import { tempStore } from '../support/tmp.js';

// The accounting reference data at start-up, on a real SQLite file. A restart uses the copy stored for
// its organization at once and reads the data again in the background; only a first start, or another
// organization, waits for the accounting side. The accounting side here is a double whose answers the
// test releases by hand, so "does not wait" is shown by init() resolving while the read is still open.
const tax: Mapping['tax'] = { countryFrom: [], defaultCountry: 'DE', rules: { DE: { tax: 'VAT 19%' }, '*': 'none' } };

function reference(taxId: string, name = 'VAT 19%'): AccountingReference {
  return {
    baseCurrency: 'EUR',
    currencies: [{ id: '1', code: 'EUR', precision: 2, exchangeRate: 1, isBase: true }],
    taxes: [{ id: taxId, name, percentage: 19 }],
    exemptions: [],
    items: [],
  };
}

/** reference() calls stay open until the test answers them. */
class HeldAccounting {
  calls: Array<{ resolve: (r: AccountingReference) => void; reject: (e: Error) => void }> = [];
  /** The i-th call, once it has been made. */
  async call(i: number) {
    for (let waited = 0; !this.calls[i]; waited += 5) {
      if (waited > 2000) throw new Error(`reference() was not called a ${i + 1}th time`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.calls[i]!;
  }

  readonly port = {
    names: { id: 'zoho', system: 'Zoho Books', short: 'Zoho', organization: 'Books organization' },
    reference: () => new Promise<AccountingReference>((resolve, reject) => this.calls.push({ resolve, reject })),
  } as unknown as AccountingPort;
}

const log = createLogger({ level: 'silent' });
const settled = <T>(p: Promise<T>) => Promise.race([p.then(() => 'settled'), new Promise((r) => setTimeout(() => r('pending'), 50))]);

describe('accounting reference data at start-up', () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let kv: KeyValue;
  let org: string | undefined;
  beforeEach(async () => {
    store = await tempStore();
    kv = new KeyValue(store.db);
    org = '20099';
  });
  afterEach(async () => store.cleanup());

  const settings = (accounting: HeldAccounting) => new BillingSettings(accounting.port, tax, kv, log, () => org);

  it('a first start waits for the data; a restart uses the stored copy at once and refreshes it behind', async () => {
    const zoho = new HeldAccounting();
    const first = settings(zoho);
    const init = first.init();
    expect(await settled(init)).toBe('pending');
    (await zoho.call(0)).resolve(reference('tax-1'));
    await init;
    expect((await first.get()).taxRules.get('DE')).toMatchObject({ taxId: 'tax-1' });

    const restarted = settings(zoho);
    const again = restarted.init();
    expect(await settled(again)).toBe('settled'); // the background read is still open
    expect(zoho.calls).toHaveLength(2);
    expect((await restarted.get()).taxRules.get('DE')).toMatchObject({ taxId: 'tax-1' });
    (await zoho.call(1)).resolve(reference('tax-2'));
    await new Promise((r) => setTimeout(r, 20));
    expect((await restarted.get()).taxRules.get('DE')).toMatchObject({ taxId: 'tax-2' });
  });

  it("never uses another organization's copy, nor one stored before copies named their organization", async () => {
    const zoho = new HeldAccounting();
    const first = settings(zoho);
    const init = first.init();
    (await zoho.call(0)).resolve(reference('tax-1'));
    await init;

    org = '30011'; // ZOHO_ORGANIZATION_ID changed between starts
    const other = settings(zoho).init();
    expect(await settled(other)).toBe('pending');
    (await zoho.call(1)).reject(new Error('Zoho is down'));
    await other;
    const s = settings(zoho);
    await kv.set('accounting:reference', reference('legacy')); // the format before this change
    const legacy = s.init();
    expect(await settled(legacy)).toBe('pending');
    (await zoho.call(2)).reject(new Error('Zoho is down'));
    await legacy;
    // With no copy of this organization, invoices wait (retryable) until the data can be read.
    const get = s.get();
    (await zoho.call(3)).reject(new Error('Zoho is down'));
    await expect(get).rejects.toMatchObject({ code: 'accounting_settings_unavailable', retryable: true });
    expect(await get.catch((e: unknown) => e instanceof RelayError)).toBe(true);
  });

  it('a new connection reloads: on failure it keeps no other organization data', async () => {
    const zoho = new HeldAccounting();
    const s = settings(zoho);
    const init = s.init();
    (await zoho.call(0)).resolve(reference('tax-1'));
    await init;
    org = '30011';
    const reload = s.reload();
    (await zoho.call(1)).reject(new Error('timeout'));
    await reload;
    const get = s.get();
    (await zoho.call(2)).reject(new Error('timeout'));
    await expect(get).rejects.toMatchObject({ code: 'accounting_settings_unavailable' });
  });

  it('a copy the tax rules do not match is read again; only fresh data the rules do not match stops the start', async () => {
    const zoho = new HeldAccounting();
    const init = settings(zoho).init();
    (await zoho.call(0)).resolve(reference('tax-1', 'MwSt 19%'));
    await expect(init).rejects.toBeInstanceOf(ConfigError);
    expect(await kv.get('accounting:reference')).toBeUndefined(); // nothing kept from data the rules do not match

    // A copy stored under other rules; then the operator creates 'VAT 19%' in Zoho, names it in the mapping
    // file and restarts: the start reads the data again instead of refusing on the old copy.
    const mwst: Mapping['tax'] = { ...tax, rules: { DE: { tax: 'MwSt 19%' }, '*': 'none' } };
    const before = new BillingSettings(zoho.port, mwst, kv, log, () => org).init();
    (await zoho.call(1)).resolve(reference('tax-1', 'MwSt 19%'));
    await before;
    const restarted = settings(zoho);
    const again = restarted.init();
    expect(await settled(again)).toBe('pending');
    (await zoho.call(2)).resolve(reference('tax-2', 'VAT 19%'));
    await again;
    expect((await restarted.get()).taxRules.get('DE')).toMatchObject({ taxId: 'tax-2' });

    // A rule that fresh data does not match either stops the start.
    const gst: Mapping['tax'] = { ...tax, rules: { DE: { tax: 'GST 10%' }, '*': 'none' } };
    const refused = new BillingSettings(zoho.port, gst, kv, log, () => org).init();
    (await zoho.call(3)).resolve(reference('tax-2', 'VAT 19%'));
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
  });

  it('a copy read without tax exemptions is read again once a rule names one', async () => {
    const zoho = new HeldAccounting();
    const first = settings(zoho).init();
    (await zoho.call(0)).resolve(reference('tax-1'));
    await first;
    const exempt: Mapping['tax'] = { ...tax, rules: { DE: { tax: 'VAT 19%' }, FR: { exemption: 'Intra-EU' }, '*': 'none' } };
    const s = new BillingSettings(zoho.port, exempt, kv, log, () => org);
    const init = s.init();
    expect(await settled(init)).toBe('pending');
    (await zoho.call(1)).resolve({ ...reference('tax-1'), exemptions: [{ id: 'ex-1', name: 'Intra-EU' }] });
    await init;
    expect((await s.get()).taxRules.get('FR')).toMatchObject({ kind: 'exempt', exemptionId: 'ex-1' });
  });

  it("a read of the previous organization is neither joined by a reload nor kept", async () => {
    const zoho = new HeldAccounting();
    const first = settings(zoho).init();
    (await zoho.call(0)).resolve(reference('tax-1'));
    await first;
    const s = settings(zoho);
    await s.init(); // the stored copy at once; its background read of 20099 is still open
    expect(zoho.calls).toHaveLength(2);
    org = '30011'; // a new connection with another organization
    const reload = s.reload();
    (await zoho.call(2)).resolve(reference('tax-30011'));
    await reload;
    expect((await s.get()).taxRules.get('DE')).toMatchObject({ taxId: 'tax-30011' });
    // The old read ends after the reload: its data is of the other organization and is dropped.
    zoho.calls[1]!.resolve(reference('tax-20099'));
    await new Promise((r) => setTimeout(r, 20));
    expect((await s.get()).taxRules.get('DE')).toMatchObject({ taxId: 'tax-30011' });
    expect(await kv.get('accounting:reference')).toMatchObject({ organizationId: '30011' });
  });
});
