// The whole loop with ACCOUNTING=wave, in-process through both sandboxes: the fake Kommo sends the stage
// webhook, the relay (real HTTP, real SQLite file) finds or creates the Wave customer and the product of the
// line, creates the invoice numbered after the deal, approves it, emails it once and writes its ID and viewUrl
// on the deal; the reconciler's polling brings payments back (Wave sends no webhooks the relay uses). Start-up
// refuses what Wave cannot do. Every run ends with no request outside the Wave contract and clean log lines.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { startRelay, type Relay } from '../../src/relay.js';
import { createFakeKommo, type FakeKommo } from '../../sandbox/kommo/server.js';
import { createFakeWave, type FakeWave, type FakeWaveOptions } from '../../sandbox/wave/server.js';
import { logLineProblems } from '../support/log-lines.js';
import { kommoDeals } from '../support/kommo-deals.js';
import { tempDir } from '../support/tmp.js';
import { waitFor } from '../support/e2e.js';

const WEBHOOK_SECRET = 'wave-e2e-webhook-secret-0123456789';
const ADMIN_TOKEN = '7ce3b9ed9ae8dce54356b72b06685e635e692e179b7f55a3f35a08ad09ea44bc';
const ENCRYPTION_KEY = 'a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01';
const RELAY_PUBLIC_URL = 'https://relay.example.com';

interface World {
  kommo: FakeKommo;
  wave: FakeWave;
  relay: Relay;
  logs: string[];
  pipelineId: number;
  stages: Record<'incoming' | 'invoice' | 'paid', number>;
  fields: { invoiceId: number; invoiceUrl: number; paid: number; country: number };
  addDeal(o?: { price?: number; email?: string; country?: string; name?: string }): { dealId: number; contactId: number };
  move(dealId: number, statusId: number): void;
  field(dealId: number, fieldId: number): unknown;
  notes(dealId: number): string[];
  settled(): Promise<void>;
  close(): Promise<void>;
}

let world: World | undefined;
afterEach(async () => {
  if (!world) return;
  const w = world;
  world = undefined;
  expect(w.kommo.requests.filter((r) => r.method !== 'GET' && (r.status ?? 0) >= 400)).toEqual([]);
  await w.close();
});

interface Setup {
  dir: ReturnType<typeof tempDir>;
  kommo: FakeKommo;
  wave: FakeWave;
  env: ReturnType<typeof parseEnv>;
  pipeline: { id: number; statuses: Array<{ id: number; name: string }> };
  fields: World['fields'];
}

async function setUp(o: { connected?: boolean; fake?: FakeWaveOptions; mapping?: Record<string, unknown> } = {}): Promise<Setup> {
  const dir = tempDir('relay-wave-e2e-');
  const kommo = createFakeKommo({ currency: 'USD', country: 'GB', webhookRetryDelayMs: 200 });
  const wave = createFakeWave(o.fake);
  const [kommoUrl, waveUrl] = await Promise.all([kommo.listen(), wave.listen()]);
  const pipeline = kommo.addPipeline('Sales', ['Incoming', 'Invoice', 'Payment Received']);
  const fields = {
    invoiceId: kommo.addLeadField({ name: 'Invoice ID', type: 'text' }),
    invoiceUrl: kommo.addLeadField({ name: 'Invoice URL', type: 'url' }),
    paid: kommo.addLeadField({ name: 'Paid', type: 'checkbox' }),
    country: kommo.addContactField({ name: 'Country', type: 'text' }),
  };
  const mappingFile = join(dir.path, 'mapping.json');
  writeFileSync(
    mappingFile,
    JSON.stringify({
      invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoice' }], paymentTerms: { defaultDays: 30 } },
      dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' },
      payment: { stage: 'Payment Received', paidField: 'Paid' },
      tax: { countryFrom: [{ entity: 'contact', field: 'Country' }], defaultCountry: 'GB', rules: { GB: { tax: 'VAT 20%' }, US: 'none', '*': { tax: 'GST' } } },
      wave: { incomeAccount: 'Sales', memoTemplate: 'Kommo deal {deal_id}' },
      ...o.mapping,
    }),
  );
  const env = parseEnv({
    PORT: '0',
    DATABASE_URL: `sqlite:${join(dir.path, 'relay.db')}`,
    WEBHOOK_SECRET,
    KOMMO_BASE_URL: kommoUrl,
    KOMMO_ACCESS_TOKEN: 'kommo-long-lived-token',
    ACCOUNTING: 'wave',
    // A Full Access Token, or an OAuth application to be connected on /connect.
    ...(o.connected === false
      ? { WAVE_CLIENT_ID: wave.clientId, WAVE_CLIENT_SECRET: wave.clientSecret, WAVE_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/wave/callback` }
      : { WAVE_ACCESS_TOKEN: wave.fullAccessToken }),
    WAVE_API_URL: waveUrl,
    ENCRYPTION_KEY,
    ADMIN_TOKEN,
    MAPPING_FILE: mappingFile,
    JOB_BACKOFF_BASE_MS: '100',
    JOB_BACKOFF_MAX_MS: '2000',
    JOB_LEASE_SECONDS: '3',
    HTTP_TIMEOUT_MS: '3000',
    SHUTDOWN_TIMEOUT_SECONDS: '5',
    RECONCILE_INTERVAL_SECONDS: '3600',
  });
  return { dir, kommo, wave, env, pipeline, fields };
}

async function start(o: Parameters<typeof setUp>[0] = {}): Promise<World> {
  const { dir, kommo, wave, env, pipeline, fields } = await setUp(o);
  const stageId = (name: string) => pipeline.statuses.find((s) => s.name === name)!.id;
  const stages = { incoming: stageId('Incoming'), invoice: stageId('Invoice'), paid: stageId('Payment Received') };
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
  const relay = await startRelay(env, { log });
  kommo.subscribe(`${relay.url}/webhooks/kommo/${WEBHOOK_SECRET}`, ['status_lead']);
  const deals = kommoDeals(kommo, { id: pipeline.id, incomingStatusId: stages.incoming }, fields);
  return {
    kommo,
    wave,
    relay,
    logs,
    pipelineId: pipeline.id,
    stages,
    fields,
    ...deals,
    async settled() {
      await kommo.flushWebhooks();
      await waitFor(async () => (await relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain');
    },
    async close() {
      await relay.stop();
      const violations = wave.violations;
      await Promise.all([kommo.close(), wave.close()]);
      dir.cleanup();
      expect(violations).toEqual([]);
      expect(logLineProblems(logs)).toEqual([]);
      const secrets = [wave.clientSecret, wave.fullAccessToken, wave.refreshToken, ENCRYPTION_KEY, ADMIN_TOKEN];
      expect(logs.filter((l) => secrets.some((s) => l.includes(s)))).toEqual([]);
    },
  };
}

const invoicesOf = (w: World, dealId: number) => [...w.wave.state.invoices.values()].filter((i) => i.invoiceNumber === `KOMMO-${dealId}`);

describe('ACCOUNTING=wave, end to end', () => {
  it('deal -> customer -> product -> invoice with VAT by country, approved and emailed once -> ID and viewUrl on the deal; payments by the reconciler: partial noted, full marks it paid and moves it', async () => {
    world = await start();
    const w = world;
    const { dealId } = w.addDeal({ price: 1000, country: 'United Kingdom' });
    w.move(dealId, w.stages.invoice);
    const url = await waitFor(() => w.field(dealId, w.fields.invoiceUrl), 'the invoice link on the deal');
    const [invoice, ...more] = invoicesOf(w, dealId);
    expect(more).toEqual([]);
    expect(w.field(dealId, w.fields.invoiceId)).toBe(invoice!.id);
    expect(String(url)).toContain(w.wave.baseUrl!);
    const snap = w.wave.snapshot() as { invoices: any[]; customers: any[]; products: any[]; emails: any[] };
    const inv = snap.invoices.find((i) => i.id === invoice!.id);
    expect(inv).toMatchObject({ status: 'SENT', currency: 'USD', total: '1200.00', memo: `Kommo deal ${dealId}` });
    expect(Date.parse(inv.dueDate) - Date.parse(inv.invoiceDate)).toBe(30 * 86_400_000);
    expect(inv.items[0]).toMatchObject({ unitPrice: '1000.00', salesTaxIds: [w.wave.salesTaxId('VAT 20%')] });
    expect(snap.customers.map((c) => [c.email, c.address?.countryCode])).toEqual([['client1@example.com', 'GB']]);
    expect(snap.products.map((p) => p.name)).toEqual(['Kommo deal']);
    expect(snap.emails).toHaveLength(1);
    await w.settled();

    // A second deal of another client: the same product, its own customer, no tax for the US.
    const us = w.addDeal({ price: 300, country: 'US' });
    w.move(us.dealId, w.stages.invoice);
    await waitFor(() => w.field(us.dealId, w.fields.invoiceUrl), 'the second invoice');
    expect((w.wave.snapshot() as { products: unknown[] }).products).toHaveLength(1);
    expect(invoicesOf(w, us.dealId)[0]!.items[0]!.salesTaxIds).toEqual([]);
    await w.settled();

    // Payments: Wave tells nobody; the reconciler asks for invoices modified since its cursor.
    expect(await w.relay.reconciler.sweep()).toMatchObject({ paymentJobs: 0, errors: [] });
    w.wave.advanceTime(2000);
    w.wave.payInvoice(invoice!.id, { amount: '200.00', date: '2026-12-01' });
    expect(await w.relay.reconciler.sweep()).toMatchObject({ paymentJobs: 1, errors: [] });
    await waitFor(() => w.notes(dealId).length === 1, 'the partial payment note');
    expect(w.notes(dealId)[0]).toMatch(/^Partial payment received: 200\.00 USD on 2026-12-01 for invoice KOMMO-\d+; 1,000\.00 USD still due\. \(Wave payment .+\)$/);
    await w.settled();
    w.wave.advanceTime(2000);
    w.wave.payInvoice(invoice!.id, { amount: '1000.00', date: '2026-12-02' });
    expect(await w.relay.reconciler.sweep()).toMatchObject({ paymentJobs: 1, errors: [] });
    await waitFor(() => w.kommo.state.leads.get(dealId)!.statusId === w.stages.paid, 'the move to Payment Received');
    await w.settled();
    expect(w.field(dealId, w.fields.paid)).toBe(true);
    expect(w.notes(dealId)).toHaveLength(2);
    expect(await w.relay.reconciler.sweep()).toMatchObject({ paymentJobs: 0, errors: [] });
    expect(invoicesOf(w, dealId)).toHaveLength(1);
    expect(w.wave.emails).toHaveLength(2);

    // A Pro business's webhook is a wake-up: with the sweep an hour away (RECONCILE_INTERVAL_SECONDS), a payment
    // recorded in Wave reaches the deal within seconds of any delivery to the secret URL; its body is not read,
    // nothing is stored from it, and a wrong secret is refused.
    await w.settled();
    const usInvoice = invoicesOf(w, us.dealId)[0]!;
    w.wave.advanceTime(2000);
    w.wave.payInvoice(usInvoice.id, { amount: '300.00', date: '2026-12-03' });
    const fromWave = async () => (await w.relay.store.db.selectFrom('events').select('id').where('source', '=', 'wave').execute()).length;
    const eventsBefore = await fromWave();
    const hook = await request(w.relay.url).post(`/webhooks/wave/${WEBHOOK_SECRET}`).send({ event: 'anything at all', invoiceId: 'not read' });
    expect(hook.status).toBe(200);
    await waitFor(() => w.kommo.state.leads.get(us.dealId)!.statusId === w.stages.paid, 'the woken sweep to bring the payment', 10_000);
    expect(await fromWave()).toBe(eventsBefore);
    expect((await request(w.relay.url).post('/webhooks/wave/not-the-secret-0123456789').send({})).status).toBeGreaterThanOrEqual(400);
    // /connect/status shows the business.
    const status = await request(w.relay.url).get('/connect/status').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(status.body.wave).toMatchObject({ connected: true, method: 'Full Access Token (WAVE_ACCESS_TOKEN)', organization: { name: 'Demo Agency' } });
  });

  it("Wave's answers lost after the work (the create, then the send): the worker's retries find the invoice by its number and see it sent; one invoice, one email", async () => {
    world = await start();
    const w = world;
    w.wave.loseNextAnswers(1, { field: 'invoiceCreate' });
    w.wave.loseNextAnswers(1, { field: 'invoiceSend' });
    const { dealId } = w.addDeal({ price: 640, country: 'Canada' });
    w.move(dealId, w.stages.invoice);
    await waitFor(() => w.field(dealId, w.fields.invoiceUrl), 'the invoice link after the lost answers', 20_000);
    await w.settled();
    expect(w.wave.operationFaults.lost.map((l) => l.fields)).toEqual([['invoiceCreate'], ['invoiceSend']]);
    expect(invoicesOf(w, dealId)).toHaveLength(1);
    expect(invoicesOf(w, dealId)[0]!.items[0]!.salesTaxIds).toEqual([w.wave.salesTaxId('GST 5%')]);
    expect(w.wave.emails).toHaveLength(1);
  });

  it('a relay whose Wave is not connected starts, lets the job wait on wave_not_connected, and invoices the deal once Wave is connected on /connect', async () => {
    world = await start({ connected: false });
    const w = world;
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await request(w.relay.url).get('/readyz')).body).toMatchObject({ status: 'not_connected', kommo: 'connected', wave: 'not_connected' });
    const { dealId } = w.addDeal({ price: 250 });
    w.move(dealId, w.stages.invoice);
    await waitFor(async () => (await w.relay.store.db.selectFrom('jobs').select('last_error_code').where('deal_id', '=', String(dealId)).executeTakeFirst())?.last_error_code === 'wave_not_connected', 'the job waiting for Wave');
    expect(invoicesOf(w, dealId)).toEqual([]);

    const begin = await fetch(`${w.relay.url}/connect/wave`, { redirect: 'manual', headers: auth });
    expect(begin.status).toBe(302);
    const consent = await fetch(begin.headers.get('location')!, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const callback = new URL(consent.headers.get('location')!);
    expect(callback.origin).toBe(RELAY_PUBLIC_URL);
    const done = await fetch(`${w.relay.url}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: auth });
    expect(done.status).toBeLessThan(400);
    await waitFor(() => w.field(dealId, w.fields.invoiceUrl), 'the invoice after connecting', 8000);
    expect(invoicesOf(w, dealId)).toHaveLength(1);
    expect((await request(w.relay.url).get('/readyz')).body).toMatchObject({ wave: 'connected' });
    await w.settled();
  });
});

describe('ACCOUNTING=wave refuses at start-up what Wave cannot do', () => {
  it("a retainer section: Wave has no recurring invoices", async () => {
    const s = await setUp({ mapping: { retainer: { startStages: ['Invoice'], stopStages: ['Payment Received'], frequency: 'months', every: 1, recurringIdField: 'Invoice ID' } } });
    try {
      const err = await startRelay(s.env, { log: createLogger({ level: 'silent' }) }).then(
        async (r) => (await r.stop(), undefined),
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/retainer: Wave has no recurring invoices/);
      expect(s.wave.violations).toEqual([]);
    } finally {
      await Promise.all([s.kommo.close(), s.wave.close()]);
      s.dir.cleanup();
    }
  });

  it('a business on classic invoicing', async () => {
    const s = await setUp({ fake: { businesses: [{ isClassicInvoicing: true }] } });
    try {
      const err = await startRelay(s.env, { log: createLogger({ level: 'silent' }) }).then(
        async (r) => (await r.stop(), undefined),
        (e: unknown) => e as Error,
      );
      expect(err?.message ?? '').toMatch(/classic invoicing/);
      expect(s.wave.violations).toEqual([]);
    } finally {
      await Promise.all([s.kommo.close(), s.wave.close()]);
      s.dir.cleanup();
    }
  });
});
