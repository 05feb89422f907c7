import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios, { type AxiosInstance } from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeKommo, type FakeKommo, type FakeKommoOptions } from '../../sandbox/kommo/server.js';

const TOKEN = 'kommo-long-lived-token';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** A running fake plus an axios client that never throws on status. Rate limit is high unless a test asks. */
async function start(opts: FakeKommoOptions = {}) {
  const kommo = createFakeKommo({ rateLimitPerSecond: 1000, webhookRetryDelayMs: 20, ...opts });
  const url = await kommo.listen();
  closers.push(() => kommo.close());
  const api = axios.create({ baseURL: url, validateStatus: () => true, headers: { Authorization: `Bearer ${TOKEN}` } });
  return { kommo, url, api };
}

/** A webhook receiver recording raw bodies; answers the given statuses in turn (last one repeats). */
async function receiver(statuses: number[] = [200], hangMs = 0) {
  const got: Array<{ body: string; headers: http.IncomingHttpHeaders }> = [];
  let i = 0;
  const srv = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({ body, headers: req.headers });
      const status = statuses[Math.min(i++, statuses.length - 1)]!;
      setTimeout(() => res.writeHead(status).end(), hangMs).unref();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  closers.push(async () => {
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hooks/kommo`, got };
}

function seed(kommo: FakeKommo) {
  const p = kommo.addPipeline('Sales', ['New', 'Proposal', 'Invoice']);
  const [sNew, sProposal, sInvoice] = p.statuses.map((s) => s.id) as [number, number, number];
  const company = kommo.addCompany({ name: 'ООО Ромашка' });
  const contact = kommo.addContact({ name: 'Иван Петров', email: ['ivan@example.com', 'i.petrov@example.com'], phone: '+7 900 000-00-00', companyId: company });
  const product = kommo.addProduct({ name: 'SEO audit', price: 4800, sku: 'SEO-1' });
  const source = kommo.addLeadField({ name: 'Source', type: 'select', enums: ['Website', 'Referral'] });
  const start = kommo.addLeadField({ name: 'Start date', type: 'date' });
  const invoiceNo = kommo.addLeadField({ name: 'Invoice number', type: 'text', code: 'INVOICE_NO' });
  const lead = kommo.addLead({
    name: 'Аудит сайта + SEO',
    price: 4800,
    pipelineId: p.id,
    statusId: sNew,
    contacts: [{ id: contact, isMain: true }],
    products: [{ id: product, quantity: 2 }],
    companyId: company,
    customFields: { [source]: 'Website', [start]: 1764028800 },
    tags: ['retainer'],
  });
  return { p, sNew, sProposal, sInvoice, company, contact, product, source, start, invoiceNo, lead };
}

describe('fake Kommo: auth and reads', () => {
  it('requires a valid bearer token on /api/v4', async () => {
    const { api } = await start();
    const none = await api.get('/api/v4/account', { headers: { Authorization: '' } });
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(none.data).toMatchObject({ title: 'Unauthorized', status: 401 });
    expect((await api.get('/api/v4/account', { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    const ok = await api.get('/api/v4/account');
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toMatch(/application\/hal\+json/);
    expect(ok.data).toMatchObject({ id: 30011223, subdomain: 'acme', country: 'US', currency: 'USD' });
  });

  it('answers 204 with no body for unknown ids and empty lists', async () => {
    const { kommo, api } = await start();
    for (const path of ['/api/v4/leads/999', '/api/v4/contacts/999', '/api/v4/companies/999', '/api/v4/leads', '/api/v4/leads/custom_fields', `/api/v4/catalogs/${kommo.productsCatalogId}/elements/1`]) {
      const r = await api.get(path, { responseType: 'text' });
      expect(r.status, path).toBe(204);
      expect(r.data, path).toBe('');
    }
    const { lead } = seed(kommo);
    expect((await api.get(`/api/v4/leads/${lead}`)).status).toBe(200);
    kommo.deleteLead(lead);
    expect((await api.get(`/api/v4/leads/${lead}`)).status).toBe(204);
  });

  it('serves pipelines with 142/143 in every pipeline', async () => {
    const { kommo, api } = await start();
    seed(kommo);
    kommo.addPipeline('Renewals', ['Due']);
    const r = await api.get('/api/v4/leads/pipelines');
    const pipelines = r.data._embedded.pipelines as Array<{ is_main: boolean; _embedded: { statuses: Array<{ id: number; pipeline_id: number }> } }>;
    expect(pipelines.map((p) => p.is_main)).toEqual([true, false]);
    for (const p of pipelines) expect(p._embedded.statuses.map((s) => s.id)).toEqual(expect.arrayContaining([142, 143]));
  });

  it('embeds contacts and catalog elements only when asked', async () => {
    const { kommo, api } = await start();
    const s = seed(kommo);
    const plain = await api.get(`/api/v4/leads/${s.lead}`);
    expect(plain.data).toMatchObject({ id: s.lead, name: 'Аудит сайта + SEO', price: 4800, status_id: s.sNew, pipeline_id: s.p.id, account_id: 30011223 });
    expect(plain.data._embedded.contacts).toBeUndefined();
    expect(plain.data._embedded.catalog_elements).toBeUndefined();
    expect(plain.data._embedded.tags).toEqual([expect.objectContaining({ name: 'retainer' })]);
    expect(plain.data._embedded.companies).toEqual([expect.objectContaining({ id: s.company })]);

    const full = await api.get(`/api/v4/leads/${s.lead}?with=contacts,catalog_elements`);
    expect(full.data._embedded.contacts).toEqual([expect.objectContaining({ id: s.contact, is_main: true })]);
    expect(full.data._embedded.catalog_elements).toEqual([{ id: s.product, metadata: { quantity: 2, catalog_id: kommo.productsCatalogId, price_id: expect.any(Number) } }]);
    const cfv = full.data.custom_fields_values as Array<{ field_id: number; field_type: string; values: unknown[] }>;
    expect(cfv.find((f) => f.field_id === s.source)?.values).toEqual([{ value: 'Website', enum_id: expect.any(Number), enum_code: null }]);
    expect(cfv.find((f) => f.field_id === s.start)?.values).toEqual([{ value: 1764028800 }]);

    const contact = await api.get(`/api/v4/contacts/${s.contact}`);
    const email = contact.data.custom_fields_values.find((f: { field_code: string }) => f.field_code === 'EMAIL');
    expect(email.values).toEqual([
      { value: 'ivan@example.com', enum_id: expect.any(Number), enum_code: 'WORK' },
      { value: 'i.petrov@example.com', enum_id: expect.any(Number), enum_code: 'WORK' },
    ]);
    expect(contact.data._embedded.companies).toEqual([expect.objectContaining({ id: s.company })]);

    const element = await api.get(`/api/v4/catalogs/${kommo.productsCatalogId}/elements/${s.product}`);
    expect(element.data.name).toBe('SEO audit');
    expect(element.data.custom_fields_values).toEqual(
      expect.arrayContaining([expect.objectContaining({ field_code: 'PRICE', values: [{ value: '4800' }] }), expect.objectContaining({ field_code: 'SKU', values: [{ value: 'SEO-1' }] })]),
    );
    const catalogs = await api.get('/api/v4/catalogs');
    expect(catalogs.data._embedded.catalogs).toEqual([expect.objectContaining({ id: kommo.productsCatalogId, type: 'products' })]);
    const links = await api.get(`/api/v4/leads/${s.lead}/links`);
    expect(links.data._embedded.links).toHaveLength(3);
  });

  it('paginates custom fields 50 at a time: 60 fields -> 2 pages, then 204', async () => {
    const { kommo, api } = await start();
    for (let i = 0; i < 60; i++) kommo.addLeadField({ name: `Field ${i}`, type: 'text' });
    const p1 = await api.get('/api/v4/leads/custom_fields?limit=250');
    expect(p1.data._embedded.custom_fields).toHaveLength(50);
    expect(p1.data._page).toBe(1);
    const next = p1.data._links.next.href as string;
    expect(next.startsWith(kommo.url!)).toBe(true);
    const p2 = await api.get(next);
    expect(p2.data._embedded.custom_fields).toHaveLength(10);
    expect(p2.data._links.next).toBeUndefined();
    const p3 = await api.get('/api/v4/leads/custom_fields?page=3', { responseType: 'text' });
    expect(p3.status).toBe(204);
    expect(p3.data).toBe('');
    // Contacts come with Kommo's predefined fields (PHONE / EMAIL are multitext with enums).
    const contacts = await api.get('/api/v4/contacts/custom_fields');
    expect(contacts.data._embedded.custom_fields).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'EMAIL', type: 'multitext', enums: expect.any(Array) })]));
  });

  it('filters and orders the lead list', async () => {
    const { kommo, api } = await start();
    const s = seed(kommo);
    const other = kommo.addLead({ name: 'Second', pipelineId: s.p.id, statusId: s.sProposal });
    const third = kommo.addLead({ name: 'Third', pipelineId: s.p.id, statusId: s.sInvoice });
    const ids = (r: { data: { _embedded: { leads: Array<{ id: number }> } } }) => r.data._embedded.leads.map((l) => l.id);
    expect(ids(await api.get(`/api/v4/leads?filter[id][]=${s.lead}&filter[id][]=${third}`))).toEqual([s.lead, third]);
    expect(ids(await api.get(`/api/v4/leads?filter[id][0]=${other}`))).toEqual([other]);
    const byStatus = await api.get(`/api/v4/leads?filter[statuses][0][pipeline_id]=${s.p.id}&filter[statuses][0][status_id]=${s.sProposal}&filter[statuses][1][pipeline_id]=${s.p.id}&filter[statuses][1][status_id]=${s.sInvoice}`);
    expect(ids(byStatus)).toEqual([other, third]);
    kommo.moveLeads([s.lead], 142);
    const desc = await api.get('/api/v4/leads?order[updated_at]=desc&limit=1');
    expect(ids(desc)).toEqual([s.lead]);
    expect(desc.data._links.next.href).toContain('page=2');
    const future = await api.get(`/api/v4/leads?filter[updated_at][from]=${Math.floor(Date.now() / 1000) + 3600}`);
    expect(future.status).toBe(204);
    const won = await api.get(`/api/v4/leads/${s.lead}`);
    expect(won.data.closed_at).toEqual(expect.any(Number));
  });
});

describe('fake Kommo: PATCH leads', () => {
  it('rejects invalid bodies with validation-errors naming the path', async () => {
    const { kommo, api } = await start();
    const s = seed(kommo);
    const patch = (body: unknown) => api.patch(`/api/v4/leads/${s.lead}`, body);
    const cases: Array<[unknown, string]> = [
      [{ custom_fields_values: [{ field_id: 1, values: [{ value: 'x' }] }] }, 'custom_fields_values.0.field_id'],
      [{ custom_fields_values: [{ field_code: 'NOPE', values: [{ value: 'x' }] }] }, 'custom_fields_values.0.field_code'],
      [{ custom_fields_values: [{ field_id: s.invoiceNo, values: { value: 'x' } }] }, 'custom_fields_values.0.values'],
      [{ custom_fields_values: [{ field_id: s.source, values: [{ value: 'Billboard' }] }] }, 'custom_fields_values.0.values.0.value'],
      [{ custom_fields_values: [{ field_id: s.source, values: [{ enum_id: 1 }] }] }, 'custom_fields_values.0.values.0.enum_id'],
      [{ custom_fields_values: [{ field_id: s.start, values: [{ value: 'tomorrow' }] }] }, 'custom_fields_values.0.values.0.value'],
      [{ status_id: 12345 }, 'status_id'],
      [{ price: 10.5 }, 'price'],
      [{ custom_fields_values: 'nope' }, 'custom_fields_values'],
    ];
    for (const [body, path] of cases) {
      const r = await patch(body);
      expect(r.status, path).toBe(400);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(r.data).toMatchObject({ status: 400, title: 'Bad Request' });
      expect(r.data['validation-errors'][0].request_id).toBe('0');
      expect(r.data['validation-errors'][0].errors.map((e: { path: string }) => e.path), path).toContain(path);
    }
    const missing = await api.patch('/api/v4/leads/424242', { price: 1 });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    const malformed = await api.patch(`/api/v4/leads/${s.lead}`, '{"price":', { headers: { 'Content-Type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await api.get('/api/v4/no-such-thing')).status).toBe(404);
    expect(kommo.state.leads.get(s.lead)!.price).toBe(4800);
  });

  it('applies a valid change, bumps updated_at, and a bad batch item changes nothing', async () => {
    const { kommo, api } = await start();
    const s = seed(kommo);
    const before = kommo.state.leads.get(s.lead)!.updatedAt;
    const r = await api.patch(`/api/v4/leads/${s.lead}`, {
      price: 5000,
      custom_fields_values: [
        { field_code: 'INVOICE_NO', values: [{ value: 'INV-000042' }] },
        { field_id: s.start, values: [{ value: '2025-11-25T00:00:00+00:00' }] },
        { field_id: s.source, values: null },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.data).toMatchObject({ id: s.lead, updated_at: expect.any(Number) });
    expect(r.data.updated_at).toBeGreaterThan(before);
    const lead = (await api.get(`/api/v4/leads/${s.lead}`)).data;
    expect(lead.price).toBe(5000);
    expect(lead.custom_fields_values.map((f: { field_id: number }) => f.field_id)).toEqual([s.start, s.invoiceNo]);
    expect(lead.custom_fields_values[0].values).toEqual([{ value: 1764028800 }]);

    const other = kommo.addLead({ name: 'Other', pipelineId: s.p.id, statusId: s.sNew });
    const bad = await api.patch('/api/v4/leads', [
      { id: s.lead, status_id: s.sInvoice },
      { id: other, request_id: 'b', status_id: 999 },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.data['validation-errors']).toEqual([{ request_id: 'b', errors: [expect.objectContaining({ path: 'status_id', code: 'NotSupportedChoice' })] }]);
    expect(kommo.state.leads.get(s.lead)!.statusId).toBe(s.sNew);
    const ok = await api.patch('/api/v4/leads', [
      { id: s.lead, status_id: s.sInvoice },
      { id: other, pipeline_id: s.p.id, status_id: 143 },
    ]);
    expect(ok.status).toBe(200);
    expect(ok.data._embedded.leads.map((l: { id: number }) => l.id)).toEqual([s.lead, other]);
    expect(kommo.state.leads.get(other)!.statusId).toBe(143);
  });
});

describe('fake Kommo: list, date-time and long-text fields', () => {
  it("the old relay's paid write (text into a select, with the stage move) is refused whole with Kommo's validation-errors", async () => {
    const { kommo, api } = await start();
    const s = seed(kommo);
    const status = kommo.addLeadField({ name: 'Payment status', type: 'select', enums: ['Unpaid', 'Paid'] });
    const r = await api.patch(`/api/v4/leads/${s.lead}`, { status_id: s.sInvoice, pipeline_id: s.p.id, custom_fields_values: [{ field_id: status, values: [{ value: 'Paid 2026-11-20' }] }] });
    expect(r.status).toBe(400);
    expect(r.data['validation-errors']).toEqual([{ request_id: '0', errors: [{ code: 'NotSupportedChoice', path: 'custom_fields_values.0.values.0.value', detail: 'The value you selected is not a valid choice.' }] }]);
    expect(kommo.state.leads.get(s.lead)!.statusId).toBe(s.sNew);
  });

  it('radiobutton options by enum_id, date_time in RFC 3339, textarea text; an option removed over /_sandbox is refused after', async () => {
    const { kommo, url, api } = await start();
    const s = seed(kommo);
    const radio = kommo.addLeadField({ name: 'Settled', type: 'radiobutton', enums: ['No', 'Yes'] });
    const at = kommo.addLeadField({ name: 'Paid at', type: 'date_time' });
    const memo = kommo.addLeadField({ name: 'Memo', type: 'textarea' });
    const yes = kommo.state.leadFields.get(radio)!.enums!.find((e) => e.value === 'Yes')!.id;
    const write = (values: unknown[]) => api.patch(`/api/v4/leads/${s.lead}`, { custom_fields_values: [{ field_id: radio, values }, { field_id: at, values: [{ value: '2026-11-20T12:00:00+00:00' }] }, { field_id: memo, values: [{ value: 'Paid 2026-11-20' }] }] });
    expect((await write([{ enum_id: yes }])).status).toBe(200);
    const lead = (await api.get(`/api/v4/leads/${s.lead}`)).data;
    const byId = (id: number) => lead.custom_fields_values.find((f: { field_id: number }) => f.field_id === id);
    expect(byId(radio)).toMatchObject({ field_type: 'radiobutton', values: [{ value: 'Yes', enum_id: yes }] });
    expect(byId(at)).toMatchObject({ field_type: 'date_time', values: [{ value: Date.parse('2026-11-20T12:00:00Z') / 1000 }] });
    expect(byId(memo)).toMatchObject({ field_type: 'textarea', values: [{ value: 'Paid 2026-11-20' }] });

    const edited = await axios.post(`${url}/_sandbox/custom_fields/leads/${radio}/enums`, { enums: ['No', 'Done'] });
    expect(edited.data.enums.map((e: { value: string }) => e.value)).toEqual(['No', 'Done']);
    const refused = await write([{ enum_id: yes }]);
    expect(refused.status).toBe(400);
    expect(refused.data['validation-errors'][0].errors).toEqual([{ code: 'NotSupportedChoice', path: 'custom_fields_values.0.values.0.enum_id', detail: 'The value you selected is not a valid choice.' }]);
  });
});

describe('fake Kommo: webhooks', () => {
  it('a PATCH status change fires a percent-encoded status webhook (Cyrillic round-trips)', async () => {
    const { kommo, api } = await start();
    const s = seed(kommo);
    const rx = await receiver();
    kommo.subscribe(rx.url, ['status_lead']);
    const r = await api.patch(`/api/v4/leads/${s.lead}`, { status_id: s.sInvoice });
    expect(r.status).toBe(200);
    await kommo.flushWebhooks();
    expect(rx.got).toHaveLength(1);
    const { body, headers } = rx.got[0]!;
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(body).toContain(`leads%5Bstatus%5D%5B0%5D%5Bid%5D=${s.lead}`);
    expect(body).toContain(`leads%5Bstatus%5D%5B0%5D%5Bname%5D=${encodeURIComponent('Аудит сайта + SEO')}`);
    expect(body).toContain('%2B'); // "+" in the name is encoded, not a space
    expect(body).not.toMatch(/[\[\]]/); // brackets are encoded too
    const form = new URLSearchParams(body);
    expect(form.get('leads[status][0][name]')).toBe('Аудит сайта + SEO');
    expect(form.get('leads[status][0][status_id]')).toBe(String(s.sInvoice));
    expect(form.get('leads[status][0][old_status_id]')).toBe(String(s.sNew));
    expect(form.get('leads[status][0][pipeline_id]')).toBe(String(s.p.id));
    expect(form.get('leads[status][0][old_pipeline_id]')).toBe(String(s.p.id));
    expect(form.get('leads[status][0][price]')).toBe('4800');
    expect(form.get('leads[status][0][account_id]')).toBe('30011223');
    expect(form.get('leads[status][0][tags][0][name]')).toBe('retainer');
    expect(form.get('leads[status][0][custom_fields][0][id]')).toBe(String(s.source));
    expect(form.get('leads[status][0][custom_fields][0][values][0][value]')).toBe('Website');
    expect(form.get('leads[status][0][custom_fields][0][values][0][enum]')).toEqual(expect.stringMatching(/^\d+$/));
    expect(form.get('leads[status][0][custom_fields][1][values][0]')).toBe('1764028800'); // date: bare scalar
    expect(form.get('account[subdomain]')).toBe('acme');
    expect(form.get('account[id]')).toBe('30011223');
    expect(kommo.deliveries).toEqual([expect.objectContaining({ destination: rx.url, status: 200, attempt: 1, events: ['status_lead'] })]);
  });

  it('a UI move of two leads sends ONE status request; update_lead goes separately', async () => {
    const { kommo } = await start();
    const s = seed(kommo);
    const second = kommo.addLead({ name: 'Лид №2 🚀', pipelineId: s.p.id, statusId: s.sNew });
    const statusRx = await receiver();
    const bothRx = await receiver();
    kommo.subscribe(statusRx.url, ['status_lead']);
    kommo.subscribe(bothRx.url, ['status_lead', 'update_lead']);
    kommo.moveLeads([s.lead, second], s.sProposal);
    await kommo.flushWebhooks();
    expect(statusRx.got).toHaveLength(1);
    const form = new URLSearchParams(statusRx.got[0]!.body);
    expect(form.get('leads[status][0][id]')).toBe(String(s.lead));
    expect(form.get('leads[status][1][id]')).toBe(String(second));
    expect(form.get('leads[status][1][name]')).toBe('Лид №2 🚀');
    expect(bothRx.got.map((g) => [...new URLSearchParams(g.body).keys()][0])).toEqual(expect.arrayContaining(['leads[status][0][id]', 'leads[update][0][id]']));
  });

  it('two moves of the same lead in one second produce different last_modified', async () => {
    const { kommo } = await start();
    const s = seed(kommo);
    const rx = await receiver();
    kommo.subscribe(rx.url, ['status_lead']);
    kommo.moveLeads([s.lead], s.sProposal);
    kommo.moveLeads([s.lead], s.sInvoice);
    await kommo.flushWebhooks();
    const mods = rx.got.map((g) => Number(new URLSearchParams(g.body).get('leads[status][0][last_modified]')));
    expect(mods).toHaveLength(2);
    expect(mods[1]!).toBeGreaterThan(mods[0]!);
  });

  it('retries on a 500 receiver and records every attempt; times out a slow one', async () => {
    const { kommo } = await start({ webhookRetries: 3, webhookRetryDelayMs: 10, webhookTimeoutMs: 150 });
    const s = seed(kommo);
    const flaky = await receiver([500, 502, 200]);
    kommo.subscribe(flaky.url, ['status_lead']);
    kommo.moveLeads([s.lead], s.sProposal);
    await kommo.flushWebhooks();
    expect(flaky.got).toHaveLength(3);
    expect(new Set(flaky.got.map((g) => g.body)).size).toBe(1); // a retry resends the same body
    expect(kommo.deliveries.map((d) => d.status)).toEqual([500, 502, 200]);

    kommo.state.unsubscribe(flaky.url);
    const slow = await receiver([200], 400);
    kommo.subscribe(slow.url, ['status_lead']);
    kommo.deliveries.length = 0;
    kommo.moveLeads([s.lead], s.sInvoice);
    await kommo.flushWebhooks();
    expect(kommo.deliveries).toHaveLength(4); // 1 + 3 retries, each timed out
    expect(kommo.deliveries.every((d) => d.error?.startsWith('timeout'))).toBe(true);
  });

  it('can drop the status hook while the update hook still arrives', async () => {
    const { kommo } = await start({ webhookRetries: 0 });
    const s = seed(kommo);
    const rx = await receiver();
    kommo.subscribe(rx.url, ['status_lead', 'update_lead']);
    kommo.dropNextWebhooks(1, 'status_lead');
    kommo.moveLeads([s.lead], s.sProposal);
    await kommo.flushWebhooks();
    expect(rx.got).toHaveLength(1);
    expect(rx.got[0]!.body).toContain('leads%5Bupdate%5D%5B0%5D');
    expect(kommo.droppedWebhooks).toEqual([expect.objectContaining({ events: ['status_lead'], reason: 'dropNextWebhooks' })]);
  });

  it('announces add and delete; combineWebhookActions packs status + update in one request', async () => {
    const { kommo } = await start({ combineWebhookActions: true });
    const s = seed(kommo);
    const rx = await receiver();
    kommo.subscribe(rx.url, ['add_lead', 'status_lead', 'update_lead', 'delete_lead']);
    const added = kommo.addLead({ name: 'New one', pipelineId: s.p.id, statusId: s.sNew });
    kommo.moveLeads([added], s.sProposal);
    kommo.deleteLead(added);
    await kommo.flushWebhooks();
    const forms = rx.got.map((g) => new URLSearchParams(g.body));
    expect(forms).toHaveLength(3);
    expect(forms[0]!.get('leads[add][0][id]')).toBe(String(added));
    expect(forms[1]!.get('leads[status][0][id]')).toBe(String(added));
    expect(forms[1]!.get('leads[update][0][id]')).toBe(String(added));
    expect(forms[2]!.get('leads[delete][0][id]')).toBe(String(added));
  });

  it('close() stops pending retries and requests in flight promptly', async () => {
    const kommo = createFakeKommo({ webhookRetries: 5, webhookRetryDelayMs: 60_000, webhookTimeoutMs: 60_000 });
    await kommo.listen();
    const s = seed(kommo);
    const rx = await receiver([500]);
    const hanging = await receiver([200], 60_000);
    kommo.subscribe(rx.url, ['status_lead']);
    kommo.subscribe(hanging.url, ['status_lead']);
    kommo.moveLeads([s.lead], s.sProposal);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await kommo.close();
    await kommo.flushWebhooks();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(kommo.deliveries).toHaveLength(2);
  });

  it('manages subscriptions over the API; the base plan gets 403', async () => {
    const base = await start({ plan: 'base' });
    const denied = await base.api.post('/api/v4/webhooks', { destination: 'http://127.0.0.1:9/x', settings: ['status_lead'] });
    expect(denied.status).toBe(403);
    expect(denied.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(denied.data).toMatchObject({ status: 403, title: 'Forbidden' });

    const { api } = await start();
    const bad = await api.post('/api/v4/webhooks', { destination: 'not a url', settings: ['status_lead', 'nope'] });
    expect(bad.status).toBe(400);
    expect(bad.data['validation-errors'][0].errors.map((e: { path: string }) => e.path)).toEqual(['destination', 'settings.1']);
    const created = await api.post('/api/v4/webhooks', { destination: 'http://127.0.0.1:9/x', settings: ['status_lead', 'update_lead'] });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ destination: 'http://127.0.0.1:9/x', settings: ['status_lead', 'update_lead'], disabled: false });
    expect((await api.get('/api/v4/webhooks')).data._embedded.webhooks).toHaveLength(1);
    expect((await api.delete('/api/v4/webhooks', { data: { destination: 'http://127.0.0.1:9/x' } })).status).toBe(204);
    expect((await api.get('/api/v4/webhooks')).status).toBe(204);
  });
});

describe('fake Kommo: notes, limits, faults, OAuth, control API', () => {
  it('validates and lists notes', async () => {
    const { kommo, api } = await start();
    const s = seed(kommo);
    expect((await api.get(`/api/v4/leads/${s.lead}/notes`)).status).toBe(204);
    const made = await api.post(`/api/v4/leads/${s.lead}/notes`, [{ note_type: 'common', params: { text: 'Счёт INV-1 выставлен' } }]);
    expect(made.status).toBe(200);
    expect(made.data._embedded.notes).toEqual([expect.objectContaining({ id: expect.any(Number), entity_id: s.lead, request_id: '0' })]);
    const batch = await api.post('/api/v4/leads/notes', [{ entity_id: s.lead, note_type: 'common', params: { text: 'Paid' } }]);
    expect(batch.status).toBe(200);
    const listed = await api.get(`/api/v4/leads/${s.lead}/notes`);
    expect(listed.data._embedded.notes.map((n: { params: { text: string } }) => n.params.text)).toEqual(['Счёт INV-1 выставлен', 'Paid']);

    const bad: Array<[string, unknown, string]> = [
      [`/api/v4/leads/${s.lead}/notes`, { note_type: 'common', params: { text: 'x' } }, ''],
      [`/api/v4/leads/${s.lead}/notes`, [{ note_type: 'sticky', params: { text: 'x' } }], 'note_type'],
      [`/api/v4/leads/${s.lead}/notes`, [{ note_type: 'common', params: { text: '  ' } }], 'params.text'],
      ['/api/v4/leads/424242/notes', [{ note_type: 'common', params: { text: 'x' } }], 'entity_id'],
      ['/api/v4/leads/notes', [{ entity_id: 424242, note_type: 'common', params: { text: 'x' } }], 'entity_id'],
    ];
    for (const [path, body, errPath] of bad) {
      const r = await api.post(path, body);
      expect(r.status, errPath).toBe(400);
      expect(r.data['validation-errors'][0].errors.map((e: { path: string }) => e.path), errPath).toContain(errPath);
    }
  });

  it('answers 429 on the 8th call within a second and logs it', async () => {
    const { kommo, api } = await start({ rateLimitPerSecond: 7 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await api.get('/api/v4/account')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 429]);
    const last = await api.get('/api/v4/account');
    expect(last.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(last.data).toMatchObject({ status: 429 });
    expect(kommo.requests.filter((r) => r.path === '/api/v4/account').map((r) => r.status)).toEqual([...statuses, 429]);
    // The control API is neither limited nor logged.
    expect((await axios.get(`${kommo.url}/_sandbox/state`)).status).toBe(200);
    expect(kommo.requests.some((r) => r.path.startsWith('/_sandbox'))).toBe(false);
  });

  it('injects faults on /api/v4 only', async () => {
    const { kommo, api } = await start();
    kommo.faults.failNext(1, { status: 503 });
    const r = await api.get('/api/v4/account');
    expect(r.status).toBe(503);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(r.data).toMatchObject({ status: 503 });
    expect((await api.get('/api/v4/account')).status).toBe(200);
    kommo.faults.set({ errorRate: 1, statuses: [500] });
    expect((await axios.get(`${kommo.url}/_sandbox/state`)).status).toBe(200);
    expect((await api.get('/api/v4/account')).status).toBe(500);
  });

  it('OAuth: codes and refresh tokens are single-use, refreshes are counted', async () => {
    const { kommo, url, api } = await start({ initialRefreshToken: 'rt-0' });
    const cfg = { client_id: 'kommo-client-id', client_secret: 'kommo-client-secret', redirect_uri: 'https://relay.example.com/oauth/kommo/callback' };
    const token = (body: Record<string, string>, form = false) =>
      form ? axios.post(`${url}/oauth2/access_token`, new URLSearchParams(body), { validateStatus: () => true }) : axios.post(`${url}/oauth2/access_token`, body, { validateStatus: () => true });

    const code = kommo.issueAuthCode();
    const first = await token({ ...cfg, grant_type: 'authorization_code', code }, true);
    expect(first.status).toBe(200);
    expect(first.data).toMatchObject({ token_type: 'Bearer', expires_in: 86400, access_token: expect.any(String), refresh_token: expect.any(String) });
    expect((await token({ ...cfg, grant_type: 'authorization_code', code })).status).toBe(400);
    expect((await api.get('/api/v4/account', { headers: { Authorization: `Bearer ${first.data.access_token}` } })).status).toBe(200);

    expect((await token({ ...cfg, client_secret: 'wrong', grant_type: 'refresh_token', refresh_token: first.data.refresh_token })).status).toBe(401);
    const refreshed = await token({ ...cfg, grant_type: 'refresh_token', refresh_token: first.data.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.data.refresh_token).not.toBe(first.data.refresh_token);
    expect(kommo.state.refreshCount).toBe(1);
    const reused = await token({ ...cfg, grant_type: 'refresh_token', refresh_token: first.data.refresh_token });
    expect(reused.status).toBe(401);
    expect(reused.data).toMatchObject({ status: 401, detail: 'Token has been revoked', hint: 'Token has been revoked' });
    expect(kommo.state.refreshCount).toBe(1);
    // The refresh revoked the previous access token; the new one works until it expires.
    expect((await api.get('/api/v4/account', { headers: { Authorization: `Bearer ${first.data.access_token}` } })).status).toBe(401);
    expect((await api.get('/api/v4/account', { headers: { Authorization: `Bearer ${refreshed.data.access_token}` } })).status).toBe(200);
    kommo.expireAccessTokens();
    expect((await api.get('/api/v4/account', { headers: { Authorization: `Bearer ${refreshed.data.access_token}` } })).status).toBe(401);

    expect((await token({ ...cfg, grant_type: 'refresh_token', refresh_token: 'rt-0' })).status).toBe(200);
    expect(kommo.state.refreshCount).toBe(2);
    expect(kommo.requests.filter((r) => r.path === '/oauth2/access_token')).toHaveLength(6);
  });

  it('drives seeding and UI moves over /_sandbox', async () => {
    const { url, kommo, api } = await start();
    const rx = await receiver();
    const ctl = axios.create({ baseURL: `${url}/_sandbox`, validateStatus: () => true });
    const p = (await ctl.post('/pipelines', { name: 'Sales', statuses: ['New', 'Won-ish'] })).data as { id: number; statuses: Array<{ id: number }> };
    const field = (await ctl.post('/custom_fields/leads', { name: 'Source', type: 'select', enums: ['Web'] })).data.id as number;
    const contact = (await ctl.post('/contacts', { name: 'Ann Lee', email: 'ann@example.com' })).data.id as number;
    const product = (await ctl.post('/products', { name: 'Widget', price: 10 })).data;
    expect(product.catalog_id).toBe(kommo.productsCatalogId);
    const lead = (await ctl.post('/leads', { name: 'Deal', price: 100, pipeline_id: p.id, status_id: p.statuses[0]!.id, contacts: [{ id: contact, is_main: true }], products: [{ id: product.id, quantity: 3 }], custom_fields: { [field]: 'Web' } })).data.id as number;
    expect((await ctl.post('/leads', { name: 'Bad', pipelineId: p.id, statusId: 1 })).status).toBe(400);
    expect((await ctl.post('/webhooks', { destination: rx.url, settings: ['status_lead'] })).status).toBe(200);
    expect((await ctl.post('/leads/move', { ids: [lead], status_id: 142 })).status).toBe(200);
    expect((await ctl.post('/webhooks/flush')).status).toBe(200);
    expect(rx.got).toHaveLength(1);
    expect((await api.get(`/api/v4/leads/${lead}`)).data.status_id).toBe(142);
    const state = (await ctl.get('/state')).data;
    expect(state.leads).toEqual([expect.objectContaining({ id: lead, statusId: 142, products: [{ id: product.id, quantity: 3 }] })]);
    expect((await ctl.post('/faults', { failNext: { count: 1, status: 429 } })).status).toBe(200);
    expect((await api.get('/api/v4/account')).status).toBe(429);
    expect((await ctl.post('/settings', { plan: 'base' })).data.plan).toBe('base');
    expect((await ctl.get('/requests')).data.length).toBeGreaterThan(0);
    expect((await ctl.get('/deliveries')).data.deliveries).toHaveLength(1);
  });
});
