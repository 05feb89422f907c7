// Deals read at the same time by different jobs share one request: `GET /leads?filter[id][]=…&with=…`
// against the fake Kommo (which filters and embeds as Kommo documents), counted on the wire.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeKommo, type FakeKommo } from '../../sandbox/kommo/server.js';
import { KommoClient } from '../../src/kommo/client.js';
import { KommoCrm } from '../../src/kommo/crm.js';
import { MAX_LEADS_PER_READ } from '../../src/kommo/lead-batch.js';
import { createLogger } from '../../src/log.js';
import { RelayError } from '../../src/errors.js';

describe('Kommo lead reads in batches', () => {
  let kommo: FakeKommo;
  let crm: KommoCrm;
  let leadIds: number[];

  beforeEach(async () => {
    kommo = createFakeKommo({ rateLimitPerSecond: 1000 });
    const url = await kommo.listen();
    const pipeline = kommo.addPipeline('Sales', ['New', 'Invoice']);
    const contact = kommo.addContact({ name: 'Ada Lovelace', email: 'ada@example.com' });
    const product = kommo.addProduct({ name: 'Audit', price: 100 });
    leadIds = Array.from({ length: 300 }, (_, i) =>
      kommo.addLead({ name: `Deal ${i}`, price: 100 + i, pipelineId: pipeline.id, statusId: pipeline.statuses[1]!.id, contacts: [{ id: contact, isMain: true }], products: [{ id: product, quantity: 1 + (i % 3) }] }),
    );
    const client = new KommoClient({ baseUrl: url, accessToken: async () => 'kommo-long-lived-token', ratePerSecond: 1000, timeoutMs: 5000, log: createLogger({ level: 'silent' }), retryBaseMs: 5 });
    crm = new KommoCrm(client);
  });
  afterEach(async () => kommo.close());

  const leadGets = () => kommo.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/v4/leads'));

  it(`${300} deals read at once: two requests (${MAX_LEADS_PER_READ} + 50), each deal exactly as a read of its own gives it`, async () => {
    const together = await Promise.all(leadIds.map((id) => crm.getDeal(id)));
    const gets = leadGets();
    expect(gets.map((r) => r.path)).toEqual(['/api/v4/leads', '/api/v4/leads']);
    // (The fake's query parser turns a long `filter[id][]` list into an object with index keys.)
    const query = (r: (typeof gets)[number]) => {
      const q = r.query as { filter: { id: Record<string, string> | string[] }; limit: string; with: string };
      return { ...q, filter: { id: Object.values(q.filter.id) } };
    };
    expect(gets.map(query)).toEqual([
      { filter: { id: leadIds.slice(0, MAX_LEADS_PER_READ).map(String) }, limit: String(MAX_LEADS_PER_READ), with: 'contacts,catalog_elements' },
      { filter: { id: leadIds.slice(MAX_LEADS_PER_READ).map(String) }, limit: '50', with: 'contacts,catalog_elements' },
    ]);
    expect(gets.every((r) => r.status === 200)).toBe(true);
    // The same deals read one at a time (GET /leads/{id}) are the same objects.
    const alone = [];
    for (const id of leadIds.slice(0, 5).concat(leadIds.slice(-5))) alone.push(await crm.getDeal(id));
    expect(together.slice(0, 5).concat(together.slice(-5))).toEqual(alone);
    expect(leadGets().slice(2).map((r) => r.path)).toEqual(leadIds.slice(0, 5).concat(leadIds.slice(-5)).map((id) => `/api/v4/leads/${id}`));
    expect(together[7]).toMatchObject({ id: leadIds[7], price: 107, contacts: [{ isMain: true }], products: [{ quantity: 2 }] });
  });

  it('reads asked for while one is on its way go together in the next request', async () => {
    const first = crm.getDeal(leadIds[0]!);
    await new Promise((r) => setImmediate(r)); // the first read has gone out alone
    const rest = Promise.all(leadIds.slice(1, 41).map((id) => crm.getDeal(id)));
    const moreLater = Promise.all(leadIds.slice(41, 81).map((id) => crm.getDeal(id)));
    await Promise.all([first, rest, moreLater]);
    expect(leadGets().length).toBeLessThanOrEqual(3);
    expect(leadGets()[0]!.path).toBe(`/api/v4/leads/${leadIds[0]}`);
  });

  it('a deleted deal in a batch is undefined for its job only; the same deal asked twice is one id in the request', async () => {
    kommo.deleteLead(leadIds[1]!);
    const [a, b, b2, c] = await Promise.all([crm.getDeal(leadIds[0]!), crm.getDeal(leadIds[1]!), crm.getDeal(leadIds[1]!), crm.getDeal(leadIds[2]!)]);
    expect([a?.id, b, b2, c?.id]).toEqual([leadIds[0], undefined, undefined, leadIds[2]]);
    expect(leadGets().map((r) => Object.values((r.query as { filter: { id: string[] } }).filter.id))).toEqual([[leadIds[0], leadIds[1], leadIds[2]].map(String)]);
  });

  it('a batch Kommo refuses fails every read in it with the reason; the next reads go out afresh', async () => {
    kommo.faults.failNext(1, { status: 403, body: '<html>blocked</html>', headers: { 'Content-Type': 'text/html' } });
    const failed = await Promise.allSettled(leadIds.slice(0, 3).map((id) => crm.getDeal(id)));
    expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(failed.every((f) => f.status === 'rejected' && f.reason instanceof RelayError && f.reason.code === 'kommo_forbidden')).toBe(true);
    expect(leadGets()).toHaveLength(1);
    const again = await Promise.all(leadIds.slice(0, 3).map((id) => crm.getDeal(id)));
    expect(again.map((d) => d?.id)).toEqual(leadIds.slice(0, 3));
  });
});
