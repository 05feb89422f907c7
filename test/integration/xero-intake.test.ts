// Xero's webhooks into the relay's intake route over real HTTP (the app listening on a port), with the fake
// Xero as the sender (its signed deliveries and its intent-to-receive check) and a real SQLite file. Every
// answer is a bare status with an empty body and no cookie: 200 for a rightly signed body, 401 for any other
// (the signature is checked over the exact bytes). Events become jobs only for the relay's own invoices of
// the organisation it works in; the rest are counted as ignored, without an API call.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_XERO_EVENTS } from '../../src/accounting/xero/webhook.js';
import { OWN_WRITE_SKEW_MS, XERO_WEBHOOK_KEY_MISSING, xeroWebhookSource } from '../../src/accounting/xero/webhook-source.js';
import { createApp } from '../../src/http/app.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createLogger } from '../../src/log.js';
import { DealInvoices } from '../../src/store/invoice-records.js';
import { DealRecurringProfiles } from '../../src/store/recurring-records.js';
import { InvoiceOwners } from '../../src/sync/invoice-owner.js';
import { createFakeXero, signWebhook, type FakeXero } from '../../sandbox/xero/server.js';
import { logLineProblems } from '../support/log-lines.js';
import { tempStore } from '../support/tmp.js';

const SECRET = 'test-secret-0123456789abcdef';
const KEY = 'xero-webhook-key-3Jd9vQ2mLx8TzR4wYp6NbC1eHf5KgA7s==';
const STRANGER = '0b5f9a51-7c3e-4f0e-9f3a-2d6c8e1b4a77';

describe('POST /webhooks/xero/:secret', () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let fake: FakeXero;
  let server: Server;
  let url: string;
  let logs: string[];
  let outcomes: string[];
  let tenant: string | undefined;
  let sweepsAsked: number;

  /** `null`: XERO_WEBHOOK_KEY not set. */
  async function start(webhookKey: string | null = KEY) {
    const queue = new JobQueue(store.db, { maxAttempts: 3, leaseMs: 30_000, backoffBaseMs: 1000, backoffMaxMs: 60_000 });
    const log = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(line) } });
    const source = xeroWebhookSource({ ...(webhookKey ? { webhookKey } : {}), owners: new InvoiceOwners(store.db), tenantId: () => tenant });
    const app = createApp({
      db: store.db,
      log,
      accepting: () => true,
      webhooks: { route: { db: store.db, queue, secret: SECRET, bodyLimit: '256kb', onOutcome: (_s, o) => void outcomes.push(o), sweepSoon: () => void sweepsAsked++ }, sources: [source] },
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/xero/${SECRET}`;
    fake.setWebhook({ url, key: KEY, retries: 0 });
  }

  beforeEach(async () => {
    store = await tempStore();
    fake = createFakeXero({ tenants: [{ name: 'Acme Ltd' }, { name: 'Other Org' }] });
    await fake.listen();
    tenant = fake.tenantIds[0]!.toUpperCase(); // as XERO_TENANT_ID may be written; events carry lower case
    logs = [];
    outcomes = [];
    sweepsAsked = 0;
  });
  afterEach(async () => {
    expect(logLineProblems(logs)).toEqual([]);
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await fake.close();
    await store.cleanup();
  });

  const post = (body: string | Buffer, signature: string | undefined, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'x-xero-signature': signature } : {}), ...headers }, body });
  /** The answer as Xero sees it: status, body text, and whether a cookie was set. */
  const answer = async (res: Response) => ({ status: res.status, body: await res.text(), cookie: res.headers.get('set-cookie') });
  const jobs = () => store.db.selectFrom('jobs').select(['kind', 'lane', 'deal_id', 'payload']).orderBy('id').execute();
  const events = () => store.db.selectFrom('events').select(['source', 'kind', 'deal_id', 'dedup_key', 'payload']).orderBy('id').execute();
  const event = (resourceId: string, o: { tenantId?: string; category?: string; type?: string; at?: string } = {}) => ({
    resourceUrl: `https://api.xero.com/api.xro/2.0/Invoices/${resourceId}`,
    resourceId,
    eventDateUtc: o.at ?? '2026-12-06T10:00:00.123',
    eventType: o.type ?? 'UPDATE',
    eventCategory: o.category ?? 'INVOICE',
    tenantId: o.tenantId ?? fake.tenantIds[0]!,
    tenantType: 'ORGANISATION',
  });
  const batch = (evs: unknown[]) => JSON.stringify({ events: evs, firstEventSequence: 1, lastEventSequence: evs.length, entropy: 'QWERTYUIOPASDFGHJKLZ' });

  /** An invoice of deal `dealId` the relay made (in the fake, before any webhook is configured). */
  async function ourInvoice(dealId: string, tenantId = fake.tenantIds[0]!): Promise<string> {
    const contact = fake.addContact({ Name: `Client of deal ${dealId}`, EmailAddress: `deal${dealId}@example.com` }, tenantId);
    const invoiceId = fake.addInvoice({ Type: 'ACCREC', Contact: { ContactID: contact }, Status: 'AUTHORISED', Date: '2026-12-01', DueDate: '2026-12-31', Reference: `KOMMO-${dealId}`, LineItems: [{ Description: 'Work', Quantity: 1, UnitAmount: 100, AccountCode: '200' }] }, tenantId);
    const records = new DealInvoices(store.db);
    await records.start(dealId, `KOMMO-${dealId}`);
    await records.update(dealId, { state: 'linked', invoice_id: invoiceId, emailed: 1 });
    // Made and emailed days ago: Xero's events about it now are not about the relay's own writes.
    await store.db.updateTable('deal_invoices').set({ updated_at: Date.parse('2026-12-01T09:00:00Z') }).where('deal_id', '=', dealId).execute();
    return invoiceId;
  }
  const iso = (ms: number) => new Date(ms).toISOString();
  const send = async (evs: unknown[]) => {
    const body = batch(evs);
    expect(await answer(await post(body, signWebhook(body, KEY)))).toEqual({ status: 200, body: '', cookie: null });
  };

  it('passes Xero\'s intent-to-receive check: 200 for the rightly signed body, 401 for the other, both empty and without cookies', async () => {
    await start();
    const check = await fake.intentToReceive();
    expect(check).toMatchObject({ signedStatus: 200, badSignatureStatus: 401, passed: true });
    const body = batch([]);
    expect(await answer(await post(body, signWebhook(body, KEY)))).toEqual({ status: 200, body: '', cookie: null });
    expect(await answer(await post(body, signWebhook(body, `${KEY}x`)))).toEqual({ status: 401, body: '', cookie: null });
    expect(await answer(await post(body, undefined))).toEqual({ status: 401, body: '', cookie: null });
    expect((await post(body, signWebhook(body, KEY))).headers.get('content-length')).toBe('0');
    expect(await events()).toEqual([]);
    expect(logs.filter((l) => l.includes('invalid_signature'))).toHaveLength(3);
    expect(logs.join('\n')).not.toContain(KEY);
    expect(fake.violations).toEqual([]);
  });

  it('without XERO_WEBHOOK_KEY every delivery is refused with an empty 401, and the log says what to set', async () => {
    await start(null);
    const check = await fake.intentToReceive();
    expect(check).toMatchObject({ signedStatus: 401, badSignatureStatus: 401, passed: false });
    const refused = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'xero_webhook_key_not_set');
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ level: 40, msg: XERO_WEBHOOK_KEY_MISSING, status: 401, source: 'xero' });
    expect(XERO_WEBHOOK_KEY_MISSING).toMatch(/XERO_WEBHOOK_KEY is not set.*developer\.xero\.com > My Apps > your app > Webhooks/);
    expect(outcomes).toEqual(['rejected', 'rejected']);
    expect(fake.violations).toEqual([]);
  });

  it('a payment on the relay\'s invoice: Xero\'s signed UPDATE event becomes one inbox item and one payment job; its redelivery none', async () => {
    const invoiceId = await ourInvoice('101');
    await start();
    fake.recordPayment(invoiceId, { amount: 40 });
    await fake.flushWebhooks();
    const delivery = fake.webhookDeliveries.find((d) => d.kind === 'events')!;
    expect(delivery).toMatchObject({ status: 200, attempt: 1, events: [expect.objectContaining({ resourceId: invoiceId, eventType: 'UPDATE', eventCategory: 'INVOICE' })] });
    expect(await jobs()).toEqual([{ kind: 'payment_to_deal', lane: 'deal:101', deal_id: '101', payload: JSON.stringify({ invoiceId }) }]);
    const stored = await events();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ source: 'xero', kind: 'xero_invoice_changed', deal_id: '101' });
    expect(JSON.parse(stored[0]!.payload)).toEqual({ invoiceId, lastModified: delivery.events[0]!.eventDateUtc });

    // Xero delivers the same body again (its answer was lost): acknowledged, nothing new.
    expect(await answer(await post(delivery.body, delivery.signature))).toEqual({ status: 200, body: '', cookie: null });
    expect(await jobs()).toHaveLength(1);
    expect(outcomes).toEqual(['stored', 'duplicate']);
    // A later change of the same invoice is new work.
    fake.recordPayment(invoiceId, { amount: 60 });
    await fake.flushWebhooks();
    expect((await jobs()).map((j) => j.deal_id)).toEqual(['101', '101']);
    expect(fake.violations).toEqual([]);
  });

  it('strangers\' invoices, another organisation\'s events, contact events and repeats in one body are ignored and counted', async () => {
    const ours = await ourInvoice('101');
    const elsewhere = await ourInvoice('102', fake.tenantIds[1]!);
    await start();
    const evs = [
      event(STRANGER), // an invoice the relay never made
      event(ours, { type: 'CREATE', at: '2026-12-06T10:00:00.100' }),
      event(ours, { at: '2026-12-06T10:00:00.300' }), // the same invoice again: one job, with its latest event
      event(ours, { at: '2026-12-06T10:00:00.200' }),
      event(elsewhere, { tenantId: fake.tenantIds[1]! }), // the relay's record, but another organisation's event
      event(ours, { tenantId: fake.tenantIds[1]! }),
      event('7d3c1e2a-5b4f-4a6e-8c9d-0e1f2a3b4c5d', { category: 'CONTACT' }),
      { resourceId: 'not-a-guid', eventCategory: 'INVOICE' }, // not in Xero's contract
    ];
    const body = batch(evs);
    const res = await post(body, signWebhook(body, KEY));
    expect(await answer(res)).toEqual({ status: 200, body: '', cookie: null });
    expect((await jobs()).map((j) => [j.deal_id, JSON.parse(j.payload).invoiceId])).toEqual([['101', ours]]);
    expect(JSON.parse((await events())[0]!.payload)).toEqual({ invoiceId: ours, lastModified: '2026-12-06T10:00:00.300' });

    // The same counts where the source reports them (the route's JSON answer is not Xero's).
    const parsed = await xeroWebhookSource({ webhookKey: KEY, owners: new InvoiceOwners(store.db), tenantId: () => tenant }).parse(body, {} as never, Buffer.from(body));
    expect(parsed.ignored).toBe(evs.length - 1);

    // No organisation chosen yet: nothing can be attributed, so nothing is taken (the reconciler catches up).
    tenant = undefined;
    const later = batch([event(ours, { at: '2026-12-06T11:00:00.000' })]);
    expect((await post(later, signWebhook(later, KEY))).status).toBe(200);
    expect(await jobs()).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  it('events of the relay\'s own writes start nothing: its invoice\'s CREATE, an UPDATE dated up to OWN_WRITE_SKEW_MS after its last write or arriving while a write is in flight; a later UPDATE is a payment job', async () => {
    const ours = await ourInvoice('101');
    const lastWrite = Date.now() - 60_000;
    const record = () => store.db.updateTable('deal_invoices').where('deal_id', '=', '101');
    await record().set({ updated_at: lastWrite }).execute();
    await start();
    await send([event(ours, { type: 'CREATE', at: iso(lastWrite + 10 * 60_000) })]); // a create is never a payment
    await send([event(ours, { at: iso(lastWrite - 500) })]); // the email, dated before the record of it
    await send([event(ours, { at: iso(lastWrite + OWN_WRITE_SKEW_MS) })]); // Xero's clock ahead of the relay's by the skew
    expect(await jobs()).toEqual([]);
    // An email whose answer is not recorded yet: whatever the event's date, it is the relay's own.
    await record().set({ emailed: 2, updated_at: lastWrite }).execute();
    await send([event(ours, { at: iso(lastWrite + 5 * 60_000) })]);
    expect(await jobs()).toEqual([]);
    expect(outcomes).toEqual(['ignored', 'ignored', 'ignored', 'ignored']);
    // Recorded: a change dated past the window is someone else's (a payment). Xero writes eventDateUtc
    // without a zone: it is UTC whatever the host's zone is.
    await record().set({ emailed: 1, updated_at: lastWrite }).execute();
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      await send([event(ours, { at: iso(lastWrite + OWN_WRITE_SKEW_MS).replace(/Z$/, '') })]);
      expect(await jobs()).toEqual([]);
      await send([event(ours, { at: iso(lastWrite + OWN_WRITE_SKEW_MS + 1).replace(/Z$/, '') })]);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    expect((await jobs()).map((j) => [j.kind, j.deal_id])).toEqual([['payment_to_deal', '101']]);
    expect(sweepsAsked).toBe(0);
    expect(fake.violations).toEqual([]);
  });

  it('unknown invoice IDs of the relay\'s organisation ask for an early reconcile sweep only while a retainer is active; no job, no call', async () => {
    await start();
    const before = fake.requests.length;
    await send([event(STRANGER)]);
    expect(sweepsAsked).toBe(0); // no retainer: an unknown invoice is a stranger's
    const profiles = new DealRecurringProfiles(store.db);
    await profiles.start('201', 'Kommo deal 201');
    await profiles.update('201', { state: 'active', recurrence_id: '5a1f0c3e-9b7d-4e2a-8c6f-1d3b5e7a9c0b' });
    await send([event(STRANGER), event('6c2e4a8b-1d3f-4b5a-9e7c-0f2d4b6a8c1e', { type: 'CREATE' })]);
    await send([event(STRANGER, { tenantId: fake.tenantIds[1]! })]); // another organisation's: nothing
    await send([event('7d3c1e2a-5b4f-4a6e-8c9d-0e1f2a3b4c5d', { category: 'CONTACT' })]); // not an invoice: nothing
    expect(sweepsAsked).toBe(1);
    expect(await jobs()).toEqual([]);
    expect(fake.requests.length).toBe(before);
    await profiles.update('201', { state: 'stopped' });
    await send([event(STRANGER)]);
    expect(sweepsAsked).toBe(1);
    expect(fake.violations).toEqual([]);
  });

  it('the signature is over the exact bytes: the same JSON spelt differently is 401; bytes text decoding would change still verify', async () => {
    const ours = await ourInvoice('101');
    await start();
    const body = batch([event(ours)]);
    const signature = signWebhook(body, KEY);
    const respelt = JSON.stringify(JSON.parse(body), null, 1);
    expect(await answer(await post(respelt, signature))).toEqual({ status: 401, body: '', cookie: null });
    expect(await answer(await post(`${body} `, signature))).toEqual({ status: 401, body: '', cookie: null });
    expect(await jobs()).toEqual([]);

    // A byte that is not UTF-8, under a charset a text reader would decode it by: still the bytes that were signed.
    const bytes = Buffer.concat([Buffer.from(body.slice(0, -2)), Buffer.from([0xe9]), Buffer.from(body.slice(-2))]);
    const { createHmac } = await import('node:crypto');
    const byteSignature = createHmac('sha256', KEY).update(bytes).digest('base64');
    const res = await post(bytes, byteSignature, { 'content-type': 'application/json; charset=iso-8859-1' });
    expect(await answer(res)).toEqual({ status: 200, body: '', cookie: null });
    expect((await jobs()).map((j) => j.deal_id)).toEqual(['101']);
    expect(fake.violations).toEqual([]);
  });

  it('oversized, malformed and over-full bodies are refused with an empty status and nothing stored', async () => {
    await start();
    const huge = batch(Array.from({ length: 2000 }, () => event(STRANGER)));
    expect(huge.length).toBeGreaterThan(256 * 1024);
    expect(await answer(await post(huge, signWebhook(huge, KEY)))).toEqual({ status: 413, body: '', cookie: null });

    const notJson = '{"events": [';
    expect(await answer(await post(notJson, signWebhook(notJson, KEY)))).toEqual({ status: 400, body: '', cookie: null });
    const noEvents = '{"firstEventSequence":1}';
    expect(await answer(await post(noEvents, signWebhook(noEvents, KEY)))).toEqual({ status: 400, body: '', cookie: null });
    const tooMany = batch(Array.from({ length: MAX_XERO_EVENTS + 1 }, () => ({ resourceId: STRANGER })));
    expect(tooMany.length).toBeLessThan(256 * 1024);
    expect(await answer(await post(tooMany, signWebhook(tooMany, KEY)))).toEqual({ status: 400, body: '', cookie: null });
    // Unsigned junk is refused on its signature before it is parsed.
    expect(await answer(await post(notJson, undefined))).toEqual({ status: 401, body: '', cookie: null });

    const reasons = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.source === 'xero').map((l) => [l.status, l.code]);
    expect(reasons).toEqual([
      [413, 'payload_too_large'],
      [400, 'bad_xero_body'],
      [400, 'bad_xero_body'],
      [400, 'bad_xero_body'],
      [401, 'invalid_signature'],
    ]);
    expect(await events()).toEqual([]);
    expect(await jobs()).toEqual([]);
    // A wrong path secret is refused before the body is read, as for every source.
    expect((await fetch(url.replace(SECRET, 'wrong-secret'), { method: 'POST', body: '{}' })).status).toBe(403);
    expect(fake.violations).toEqual([]);
  });
});
