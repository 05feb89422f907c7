// The Kommo webhook route through real HTTP (supertest) into a real SQLite file: secret, size limit,
// parsing, account check, deduplication, and one event + one job per triggering lead, in one transaction.
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { kommoWebhookSource, MAX_LEADS_PER_WEBHOOK } from '../../src/intake/kommo-source.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createLogger } from '../../src/log.js';
import { encodeForm, type Pair } from '../../sandbox/kommo/webhook-encode.js';
import { tempStore } from '../support/tmp.js';

const SECRET = 'test-secret-0123456789abcdef';
const INVOICE = { pipelineId: 7710021, statusId: 61234570, label: 'Sales / Invoice' };

function statusItem(i: number, leadId: number, statusId = INVOICE.statusId, extra: Pair[] = []): Pair[] {
  const p = `leads[status][${i}]`;
  return [
    [`${p}[id]`, String(leadId)],
    [`${p}[name]`, 'Аудит сайта + SEO 🚀'],
    [`${p}[status_id]`, String(statusId)],
    [`${p}[old_status_id]`, '61234566'],
    [`${p}[pipeline_id]`, String(INVOICE.pipelineId)],
    [`${p}[last_modified]`, '1764000000'],
    [`${p}[account_id]`, '30011223'],
    ...extra,
  ];
}
const account: Pair[] = [
  ['account[subdomain]', 'acme'],
  ['account[id]', '30011223'],
];

describe('POST /webhooks/kommo/:secret', () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let queue: JobQueue;
  let app: ReturnType<typeof createApp>;
  let accepting = true;

  beforeEach(async () => {
    store = await tempStore();
    queue = new JobQueue(store.db, { maxAttempts: 3, leaseMs: 30_000, backoffBaseMs: 1000, backoffMaxMs: 60_000 });
    accepting = true;
    app = createApp({
      db: store.db,
      log: createLogger({ level: 'silent' }),
      accepting: () => accepting,
      webhooks: {
        route: { db: store.db, queue, secret: SECRET, bodyLimit: '64kb' },
        sources: [kommoWebhookSource({ triggers: [{ stages: [INVOICE], jobKind: 'invoice_for_deal', eventKind: 'deal_entered_invoice_stage' }], account: { id: 30011223, subdomain: 'acme' } })],
      },
    });
  });
  afterEach(async () => store.cleanup());

  const post = (body: string, secret = SECRET) =>
    request(app).post(`/webhooks/kommo/${secret}`).set('Content-Type', 'application/x-www-form-urlencoded').send(body);
  const counts = async () => ({
    events: Number((await store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    jobs: Number((await store.db.selectFrom('jobs').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
  });

  it('stores one event and one invoice job per lead entering the invoicing stage', async () => {
    const res = await post(encodeForm([...statusItem(0, 31700125), ...statusItem(1, 31700126), ...account]));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, stored: 2, duplicates: 0, ignored: 0 });
    const jobs = await store.db.selectFrom('jobs').selectAll().orderBy('id').execute();
    expect(jobs.map((j) => [j.kind, j.lane, j.deal_id, JSON.parse(j.payload)])).toEqual([
      ['invoice_for_deal', 'deal:31700125', '31700125', { dealId: 31700125 }],
      ['invoice_for_deal', 'deal:31700126', '31700126', { dealId: 31700126 }],
    ]);
    const event = await store.db.selectFrom('events').selectAll().where('deal_id', '=', '31700125').executeTakeFirstOrThrow();
    expect(JSON.parse(event.payload)).toMatchObject({ name: 'Аудит сайта + SEO 🚀', statusId: INVOICE.statusId });
    expect(jobs[0]!.event_id).toBe(event.id);
  });

  it('the same webhook three times and five concurrent copies: one event, one job', async () => {
    const body = encodeForm([...statusItem(0, 31700125), ...account]);
    for (let i = 0; i < 3; i++) expect((await post(body)).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await counts()).toEqual({ events: 1, jobs: 1 });
  });

  it('a later move of the same deal is a new event', async () => {
    await post(encodeForm([...statusItem(0, 31700125), ...account]));
    const later = statusItem(0, 31700125).map(([k, v]): Pair => (k.endsWith('[last_modified]') ? [k, '1764000999'] : [k, v]));
    await post(encodeForm([...later, ...account]));
    expect(await counts()).toEqual({ events: 2, jobs: 2 });
  });

  it('acknowledges and ignores stages that trigger nothing, updates and other entities', async () => {
    const body = encodeForm([
      ...statusItem(0, 1, 61234566),
      ['leads[update][0][id]', '31700125'],
      ['leads[update][0][status_id]', String(INVOICE.statusId)],
      ['leads[update][0][pipeline_id]', String(INVOICE.pipelineId)],
      ['contacts[update][0][id]', '77'],
      ...account,
    ]);
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stored: 0, ignored: 3 });
    expect(await counts()).toEqual({ events: 0, jobs: 0 });
  });

  it('a lead with 25 custom fields (some dates as bare scalars) is stored whole', async () => {
    const fields: Pair[] = [];
    for (let i = 0; i < 25; i++) {
      fields.push([`leads[status][0][custom_fields][${i}][id]`, String(66000 + i)], [`leads[status][0][custom_fields][${i}][name]`, `Поле ${i}`]);
      fields.push(i % 5 === 0 ? [`leads[status][0][custom_fields][${i}][values][0]`, '1764028800'] : [`leads[status][0][custom_fields][${i}][values][0][value]`, `v${i}`]);
    }
    expect((await post(encodeForm([...statusItem(0, 5, INVOICE.statusId, fields), ...account]))).status).toBe(200);
    const event = await store.db.selectFrom('events').selectAll().executeTakeFirstOrThrow();
    const payload = JSON.parse(event.payload) as { customFields: Array<{ id: number; values: Array<{ value?: string }> }> };
    expect(payload.customFields).toHaveLength(25);
    expect(payload.customFields[24]).toEqual({ id: 66024, name: 'Поле 24', values: [{ value: 'v24' }] });
    expect(payload.customFields[20]!.values).toEqual([{ value: '1764028800' }]);
  });

  it('a wrong secret is refused before anything is read or stored', async () => {
    const res = await post(encodeForm([...statusItem(0, 31700125), ...account]), 'wrong-secret-0123456789abcdef');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('invalid_secret');
    expect(await counts()).toEqual({ events: 0, jobs: 0 });
  });

  it('a body over the limit gets 413 and stores nothing', async () => {
    const res = await post(encodeForm([...statusItem(0, 31700125, INVOICE.statusId, [['leads[status][0][name]', 'x'.repeat(70_000)]]), ...account]));
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
    expect(await counts()).toEqual({ events: 0, jobs: 0 });
  });

  it.each([
    ['malformed percent-encoding', 'leads%5Bstatus%5D%5B0%5D%5Bid%5D=%zz', 'malformed_body'],
    ['a lead without an id', encodeForm([['leads[status][0][status_id]', '1'], ...account]), 'invalid_item'],
  ])('%s: 400 with the reason, nothing stored', async (_name, body, code) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(code);
    expect(await counts()).toEqual({ events: 0, jobs: 0 });
  });

  it('more leads than the cap in one request: 422 with the reason, nothing stored; at the cap: every lead taken', async () => {
    const big = createApp({
      db: store.db,
      log: createLogger({ level: 'silent' }),
      accepting: () => true,
      webhooks: {
        route: { db: store.db, queue, secret: SECRET, bodyLimit: '256kb' },
        sources: [kommoWebhookSource({ triggers: [{ stages: [INVOICE], jobKind: 'invoice_for_deal', eventKind: 'deal_entered_invoice_stage' }], account: { id: 30011223, subdomain: 'acme' } })],
      },
    });
    const leads = (n: number) =>
      encodeForm([
        ...Array.from({ length: n }, (_, i): Pair[] => [
          [`leads[status][${i}][id]`, String(40_000_000 + i)],
          [`leads[status][${i}][status_id]`, String(INVOICE.statusId)],
          [`leads[status][${i}][pipeline_id]`, String(INVOICE.pipelineId)],
        ]).flat(),
        ...account,
      ]);
    const send = (body: string) => request(big).post(`/webhooks/kommo/${SECRET}`).set('Content-Type', 'application/x-www-form-urlencoded').send(body);
    const refused = await send(leads(MAX_LEADS_PER_WEBHOOK + 1));
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({ error: 'too_many_leads', message: expect.stringContaining(`at most ${MAX_LEADS_PER_WEBHOOK} per request`) });
    expect(await counts()).toEqual({ events: 0, jobs: 0 });
    const taken = await send(leads(MAX_LEADS_PER_WEBHOOK));
    expect(taken.status).toBe(200);
    expect(await counts()).toEqual({ events: MAX_LEADS_PER_WEBHOOK, jobs: MAX_LEADS_PER_WEBHOOK });
  });

  it('a webhook from another Kommo account is refused', async () => {
    const res = await post(encodeForm([...statusItem(0, 31700125), ['account[subdomain]', 'other'], ['account[id]', '999']]));
    expect(res.status).toBe(403);
    expect(res.body.message).toContain('account 999');
    expect(await counts()).toEqual({ events: 0, jobs: 0 });
  });

  it('answers 503 while shutting down, so Kommo delivers again later', async () => {
    accepting = false;
    const res = await post(encodeForm([...statusItem(0, 31700125), ...account]));
    expect(res.status).toBe(503);
    expect(await counts()).toEqual({ events: 0, jobs: 0 });
  });

  it('a database failure answers 5xx (not acknowledged), and the process stays up', async () => {
    await store.db.schema.dropTable('jobs').execute();
    const res = await post(encodeForm([...statusItem(0, 31700125), ...account]));
    expect(res.status).toBe(503);
    // The event insert was rolled back with the failed job insert: nothing half-stored.
    expect(Number((await store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(0);
    expect((await request(app).get('/healthz')).status).toBe(200);
  });
});
