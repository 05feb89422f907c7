// What only the Xero backend does, end to end in-process through both sandboxes (the fake Kommo sends the
// stage webhook; the relay runs over real HTTP with a real SQLite file): a relay started before Xero is
// connected stores the work and invoices once Xero is connected on /connect; /admin and /metrics show Xero's
// day quota, and work waits (paused, not failed) when it runs out. The loop itself — invoice, email, payments
// by webhook or reconciler, retainers — is the parameterised suites' (invoice, payments, retainer,
// invoice-content: both backends). Every run ends with no request or answer outside either vendor's contract.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { startRelay, type Relay } from '../../src/relay.js';
import { createFakeKommo, type FakeKommo } from '../../sandbox/kommo/server.js';
import { createFakeXero, type FakeXero } from '../../sandbox/xero/server.js';
import { logLineProblems } from '../support/log-lines.js';
import { kommoDeals } from '../support/kommo-deals.js';
import { tempDir } from '../support/tmp.js';
import { waitFor } from '../support/e2e.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const WEBHOOK_SECRET = 'xero-e2e-webhook-secret-0123456789';
const ADMIN_TOKEN = '7ce3b9ed9ae8dce54356b72b06685e635e692e179b7f55a3f35a08ad09ea44bc';
const ENCRYPTION_KEY = 'a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01';
const RELAY_PUBLIC_URL = 'https://relay.example.com';
const XERO_WEBHOOK_KEY = 'xero-e2e-webhook-key-abcdefghijklmnopqrstuvwxyz0123456789';

interface World {
  kommo: FakeKommo;
  xero: FakeXero;
  relay: Relay;
  logs: string[];
  pipelineId: number;
  stages: Record<'incoming' | 'invoice' | 'paid' | 'retainer' | 'completed', number>;
  fields: { invoiceId: number; invoiceUrl: number; paid: number; recurringId: number; country: number };
  addDeal(o?: { price?: number; email?: string; country?: string; name?: string }): { dealId: number; contactId: number };
  move(dealId: number, statusId: number): void;
  field(dealId: number, fieldId: number): unknown;
  settled(): Promise<void>;
  close(): Promise<void>;
}

let world: World | undefined;
afterEach(async () => {
  if (!world) return;
  const w = world;
  world = undefined;
  // Every write to Kommo was well-formed.
  expect(w.kommo.requests.filter((r) => r.method !== 'GET' && (r.status ?? 0) >= 400)).toEqual([]);
  await w.close();
});

async function start(o: { connected?: boolean } = {}): Promise<World> {
  const dir = tempDir('relay-xero-e2e-');
  const kommo = createFakeKommo({ currency: 'GBP', country: 'GB', webhookRetryDelayMs: 200 });
  const xero = createFakeXero({ tenants: [{ name: 'Demo Company (UK)', currencies: ['EUR'] }] });
  const [kommoUrl, xeroUrl] = await Promise.all([kommo.listen(), xero.listen()]);
  const pipeline = kommo.addPipeline('Sales', ['Incoming', 'Invoice', 'Payment Received', 'Retainer Active', 'Completed']);
  const stageId = (name: string) => pipeline.statuses.find((s) => s.name === name)!.id;
  const stages = { incoming: stageId('Incoming'), invoice: stageId('Invoice'), paid: stageId('Payment Received'), retainer: stageId('Retainer Active'), completed: stageId('Completed') };
  const fields = {
    invoiceId: kommo.addLeadField({ name: 'Invoice ID', type: 'text' }),
    invoiceUrl: kommo.addLeadField({ name: 'Invoice URL', type: 'url' }),
    paid: kommo.addLeadField({ name: 'Paid', type: 'checkbox' }),
    recurringId: kommo.addLeadField({ name: 'Recurring invoice ID', type: 'text' }),
    country: kommo.addContactField({ name: 'Country', type: 'text' }),
  };
  const mappingFile = join(dir.path, 'mapping.json');
  writeFileSync(
    mappingFile,
    JSON.stringify({
      invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoice' }], paymentTerms: { defaultDays: 30 } },
      dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' },
      payment: { stage: 'Payment Received', paidField: 'Paid' },
      tax: { countryFrom: [{ entity: 'contact', field: 'Country' }], defaultCountry: 'GB', rules: { GB: { tax: '20% (VAT on Income)' }, '*': { tax: 'ZERORATEDOUTPUT' } } },
      retainer: { startStages: ['Retainer Active'], stopStages: ['Completed'], frequency: 'months', every: 3, recurringIdField: 'Recurring invoice ID' },
      xero: { salesAccountCode: '200' },
    }),
  );
  const env = parseEnv({
    PORT: '0',
    DATABASE_URL: `sqlite:${join(dir.path, 'relay.db')}`,
    WEBHOOK_SECRET,
    KOMMO_BASE_URL: kommoUrl,
    KOMMO_ACCESS_TOKEN: 'kommo-long-lived-token',
    ACCOUNTING: 'xero',
    XERO_CLIENT_ID: xero.clientId,
    XERO_CLIENT_SECRET: xero.clientSecret,
    // Connected from the start (a seeded refresh token), or to be connected on /connect.
    ...(o.connected === false ? { XERO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/xero/callback` } : { XERO_REFRESH_TOKEN: xero.refreshToken }),
    XERO_API_URL: xeroUrl,
    XERO_WEBHOOK_KEY,
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
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
  const relay = await startRelay(env, { log });
  kommo.subscribe(`${relay.url}/webhooks/kommo/${WEBHOOK_SECRET}`, ['status_lead']);
  xero.setWebhook({ url: `${relay.url}/webhooks/xero/${WEBHOOK_SECRET}`, key: XERO_WEBHOOK_KEY });

  const deals = kommoDeals(kommo, { id: pipeline.id, incomingStatusId: stages.incoming }, fields);
  return {
    kommo,
    xero,
    relay,
    logs,
    pipelineId: pipeline.id,
    stages,
    fields,
    ...deals,
    async settled() {
      await xero.flushWebhooks();
      await kommo.flushWebhooks();
      await waitFor(async () => (await relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain');
    },
    async close() {
      await relay.stop();
      const violations = xero.violations;
      await Promise.all([kommo.close(), xero.close()]);
      dir.cleanup();
      expect(violations).toEqual([]);
      expect(logLineProblems(logs)).toEqual([]);
      // No token or secret in any log line.
      const secrets = [xero.clientSecret, xero.refreshToken, XERO_WEBHOOK_KEY, ENCRYPTION_KEY, ADMIN_TOKEN];
      expect(logs.filter((l) => secrets.some((s) => l.includes(s)))).toEqual([]);
    },
  };
}

const invoicesOf = (w: World, dealId: number) => [...w.xero.state.invoices.values()].filter((i) => i.reference === `KOMMO-${dealId}`);

describe('ACCOUNTING=xero, end to end', () => {
  it('a relay whose Xero is not connected starts, stores the webhook, lets the job wait on xero_not_connected, and invoices the deal once Xero is connected on /connect', async () => {
    world = await start({ connected: false });
    const w = world;
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await request(w.relay.url).get('/readyz')).body).toMatchObject({ status: 'not_connected', kommo: 'connected', xero: 'not_connected' });
    const { dealId } = w.addDeal({ price: 250 });
    w.move(dealId, w.stages.invoice);
    await waitFor(async () => (await w.relay.store.db.selectFrom('jobs').select('last_error_code').where('deal_id', '=', String(dealId)).executeTakeFirst())?.last_error_code === 'xero_not_connected', 'the job waiting for Xero');
    expect(invoicesOf(w, dealId)).toEqual([]);

    // The administrator connects Xero: consent at the fake, back to the relay's callback.
    const begin = await fetch(`${w.relay.url}/connect/xero`, { redirect: 'manual', headers: auth });
    expect(begin.status).toBe(302);
    const consent = await fetch(begin.headers.get('location')!, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const callback = new URL(consent.headers.get('location')!);
    expect(callback.origin).toBe(RELAY_PUBLIC_URL);
    const done = await fetch(`${w.relay.url}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: auth });
    expect(done.status).toBeLessThan(400);
    // The waiting job is woken and the deal invoiced, in the connection's only organisation.
    await waitFor(() => w.field(dealId, w.fields.invoiceUrl), 'the invoice after connecting', 5000);
    expect(invoicesOf(w, dealId)).toHaveLength(1);
    expect(invoicesOf(w, dealId)[0]!.tenantId).toBe(w.xero.tenantId);
    expect((await request(w.relay.url).get('/readyz')).body).toMatchObject({ xero: 'connected' });
    await w.settled();
  });

  it("/admin and /metrics show Xero's calls left today; when none are left, work waits (paused, not failed)", async () => {
    world = await start();
    const w = world;
    const { dealId } = w.addDeal();
    w.move(dealId, w.stages.invoice);
    await waitFor(() => w.field(dealId, w.fields.invoiceUrl), 'the invoice');
    await w.settled();
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const metrics = await request(w.relay.url).get('/metrics').set(auth);
    expect(metrics.status).toBe(200);
    const left = /relay_api_quota_remaining\{service="xero",quota="day"\} (\d+)/.exec(metrics.text);
    expect(Number(left?.[1])).toBeGreaterThan(4900);
    expect(Number(left?.[1])).toBeLessThan(5000);
    expect(metrics.text).toContain('relay_api_quota_limit{service="xero",quota="day"} 5000');
    expect(metrics.text).toContain('relay_api_quota_paused{service="xero",quota="day"} 0');
    const page = await request(w.relay.url).get('/admin').set(auth);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<dt>Xero API calls left today<\/dt><dd class="quota" data-quota="day">4,9\d\d of 5,000<\/dd>/);

    // The day's calls run out (Xero's 429 names the reset two hours away): the next deal's job waits, it does not fail.
    w.xero.rateLimitBurst(1, 'daily', 7200);
    const next = w.addDeal();
    w.move(next.dealId, w.stages.invoice);
    const job = await waitFor(
      async () => (await w.relay.store.db.selectFrom('jobs').select(['state', 'last_error_code', 'run_at', 'attempts']).where('deal_id', '=', String(next.dealId)).where('last_error_code', 'is not', null).executeTakeFirst()) ?? undefined,
      'the job to meet the day limit',
    );
    // A pause gives the attempt back: a day without calls cannot use up the job's attempts.
    expect(job).toMatchObject({ state: 'queued', last_error_code: 'xero_day_limit', attempts: 0 });
    expect(Number(job.run_at)).toBeGreaterThan(Date.now() + 3600_000);
    const paused = await request(w.relay.url).get('/metrics').set(auth);
    expect(paused.text).toContain('relay_api_quota_paused{service="xero",quota="day"} 1');
    expect(paused.text).toContain('relay_api_quota_remaining{service="xero",quota="day"} 0');
    expect((await request(w.relay.url).get('/admin').set(auth)).text).toMatch(/data-quota="day">0 of 5,000; used up: work waits until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/dd>/);
    expect(invoicesOf(w, next.dealId)).toEqual([]);
  });
});
