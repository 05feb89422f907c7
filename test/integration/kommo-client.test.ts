// Kommo API v4 client and CRM port against nock: URLs, Bearer header, bodies sent, and the translation of
// every kind of answer (204, 429, 403 HTML, 400 problem+json, 401).
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayError } from '../../src/errors.js';
import { KommoClient, type KommoClientOptions } from '../../src/kommo/client.js';
import { KommoCrm } from '../../src/kommo/crm.js';
import type { KommoLead } from '../../src/kommo/types.js';
import { createLogger } from '../../src/log.js';
import type { CallObserver } from '../../src/net/http.js';

const BASE = 'https://acme.kommo.com';
const TOKEN = 'kommo-long-lived-token-0123456789';
const BEARER = `Bearer ${TOKEN}`;

function setup(o: Partial<KommoClientOptions> = {}): KommoClient {
  return new KommoClient({
    baseUrl: BASE,
    accessToken: async () => TOKEN,
    ratePerSecond: 50,
    timeoutMs: 1000,
    log: createLogger({ level: 'silent' }),
    retryBaseMs: 5,
    ...o,
  });
}

async function rejection(p: Promise<unknown>): Promise<RelayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RelayError);
  return err as RelayError;
}

const HAL = { 'Content-Type': 'application/hal+json' };

const LEAD: KommoLead = {
  id: 31700125,
  name: 'Аудит сайта + SEO',
  price: 4800,
  status_id: 61234570,
  pipeline_id: 7710021,
  account_id: 30011223,
  custom_fields_values: [
    { field_id: 66339, field_name: 'Source', field_type: 'select', values: [{ value: 'Website', enum_id: 139517 }] },
    { field_id: 72333, field_name: 'Start date', field_type: 'date', values: [{ value: 1764028800 }] },
  ],
  _embedded: {
    contacts: [
      { id: 5001, is_main: true },
      { id: 5002, is_main: false },
    ],
    companies: [{ id: 777 }],
    catalog_elements: [
      { id: 9001, metadata: { quantity: 2, catalog_id: 4410 } },
      { id: 9002, metadata: { catalog_id: 4410 } },
    ],
  },
};

afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});

describe('KommoClient reading', () => {
  it('GET /api/v4/leads/{id}?with=contacts,catalog_elements with the Bearer header', async () => {
    const scope = nock(BASE)
      .get('/api/v4/leads/31700125')
      .query({ with: 'contacts,catalog_elements' })
      .matchHeader('authorization', BEARER)
      .matchHeader('accept', 'application/json')
      .once()
      .reply(200, LEAD, HAL);

    const lead = await setup().getLead(31700125);

    expect(lead).toStrictEqual(LEAD);
    expect(scope.isDone()).toBe(true);
  });

  it('a missing lead (204, no body) -> undefined', async () => {
    const scope = nock(BASE).get('/api/v4/leads/404').query({ with: 'contacts,catalog_elements' }).reply(204);
    expect(await setup().getLead(404)).toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it('several leads in one GET /api/v4/leads?filter[id][]=…&limit=…&with=contacts,catalog_elements; none found (204) -> []', async () => {
    const urls: string[] = [];
    const client = setup();
    const scope = nock(BASE)
      .get('/api/v4/leads')
      .query(true)
      .matchHeader('authorization', BEARER)
      .reply(200, { _page: 1, _embedded: { leads: [LEAD] } }, HAL);
    scope.on('request', (req: { url: string }) => urls.push(decodeURIComponent(req.url.replace(BASE, ''))));
    expect(await client.getLeads([31700125, 31700126])).toStrictEqual([LEAD]);
    expect(urls).toEqual(['/api/v4/leads?filter[id][]=31700125&filter[id][]=31700126&limit=2&with=contacts,catalog_elements']);
    nock(BASE).get('/api/v4/leads').query(true).reply(204);
    expect(await client.getLeads([1, 2])).toEqual([]);
    expect(nock.isDone()).toBe(true);
  });

  it('a missing contact (204) -> undefined', async () => {
    const scope = nock(BASE).get('/api/v4/contacts/5001').matchHeader('authorization', BEARER).reply(204);
    expect(await setup().getContact(5001)).toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it('custom fields: page 1 with _links.next, page 2 without -> every field, then stops', async () => {
    const f = (id: number, name: string) => ({ id, name, type: 'text', code: null, enums: null });
    const scope = nock(BASE)
      .get('/api/v4/leads/custom_fields')
      .query({ page: '1', limit: '50' })
      .matchHeader('authorization', BEARER)
      .reply(200, { _embedded: { custom_fields: [f(1, 'Invoice number'), f(2, 'Invoice link')] }, _links: { next: { href: `${BASE}/api/v4/leads/custom_fields?page=2&limit=50` } } }, HAL)
      .get('/api/v4/leads/custom_fields')
      .query({ page: '2', limit: '50' })
      .reply(200, { _embedded: { custom_fields: [f(3, 'Paid at')] }, _links: { self: { href: 'x' } } }, HAL);

    const fields = await setup().getCustomFields('leads');

    expect(fields).toStrictEqual([f(1, 'Invoice number'), f(2, 'Invoice link'), f(3, 'Paid at')]);
    expect(scope.isDone()).toBe(true);
  });

  it('custom fields: page 2 answering 204 -> stops with page 1', async () => {
    const f = (id: number) => ({ id, name: `F${id}`, type: 'text' });
    let calls = 0;
    nock(BASE)
      .get('/api/v4/contacts/custom_fields')
      .query(true)
      .times(3)
      .reply((req: Request) => {
        calls++;
        const page = new URL(req.url).searchParams.get('page');
        return page === '1' ? [200, { _embedded: { custom_fields: [f(10), f(11)] }, _links: { next: { href: 'p2' } } }] : [204, ''];
      });

    expect(await setup().getCustomFields('contacts')).toStrictEqual([f(10), f(11)]);
    expect(calls).toBe(2);
  });

  it('pipelines come from _embedded.pipelines', async () => {
    const pipelines = [{ id: 7710021, name: 'Sales', _embedded: { statuses: [{ id: 142, name: 'Won', pipeline_id: 7710021 }] } }];
    nock(BASE).get('/api/v4/leads/pipelines').reply(200, { _embedded: { pipelines } }, HAL);
    expect(await setup().getPipelines()).toStrictEqual(pipelines);
  });
});

describe('KommoClient writing', () => {
  it('KommoCrm.writeDealFields PATCHes exactly {custom_fields_values:[{field_id, values:[{value}]}]}', async () => {
    let body: unknown;
    let contentType: string | null = null;
    const scope = nock(BASE)
      .patch('/api/v4/leads/31700125')
      .matchHeader('authorization', BEARER)
      .once()
      .reply(async (req: Request) => {
        contentType = req.headers.get('content-type');
        body = JSON.parse(await req.text());
        return [200, { id: 31700125, updated_at: 1764000100 }];
      });

    await new KommoCrm(setup()).writeDealFields(31700125, [
      { fieldId: 1001, value: 'INV-000125' },
      { fieldId: 1002, value: 'https://books.zoho.eu/portal/x/inv/1' },
    ]);

    expect(scope.isDone()).toBe(true);
    expect(contentType).toMatch(/^application\/json/);
    expect(body).toStrictEqual({
      custom_fields_values: [
        { field_id: 1001, values: [{ value: 'INV-000125' }] },
        { field_id: 1002, values: [{ value: 'https://books.zoho.eu/portal/x/inv/1' }] },
      ],
    });
  });

  it('a note is POSTed to /leads/{id}/notes as [{note_type:"common", params:{text}}]', async () => {
    let body: unknown;
    nock(BASE)
      .post('/api/v4/leads/31700125/notes')
      .matchHeader('authorization', BEARER)
      .reply(async (req: Request) => {
        body = JSON.parse(await req.text());
        return [200, { _embedded: { notes: [{ id: 88001, entity_id: 31700125 }] } }, HAL];
      });
    const client = setup();

    const id = await client.addLeadNote(31700125, 'Invoice INV-000125 created — 4 800 €');

    expect(id).toBe(88001);
    expect(body).toStrictEqual([{ note_type: 'common', params: { text: 'Invoice INV-000125 created — 4 800 €' } }]);
  });

  it('KommoCrm.addDealNote sends the same note body', async () => {
    let body: unknown;
    const scope = nock(BASE)
      .post('/api/v4/leads/42/notes')
      .reply(async (req: Request) => {
        body = JSON.parse(await req.text());
        return [200, { _embedded: { notes: [{ id: 1 }] } }];
      });
    await new KommoCrm(setup()).addDealNote(42, 'Paid in full');
    expect(scope.isDone()).toBe(true);
    expect(body).toStrictEqual([{ note_type: 'common', params: { text: 'Paid in full' } }]);
  });
});

describe('KommoClient failures', () => {
  it('429 -> paused, then retried and succeeds', async () => {
    const times: number[] = [];
    nock(BASE)
      .get('/api/v4/account')
      .times(2)
      .reply(() => {
        times.push(Date.now());
        return times.length === 1 ? [429, { title: 'Too Many Requests', status: 429 }, { 'Content-Type': 'application/problem+json' }] : [200, { id: 30011223, subdomain: 'acme' }, HAL];
      });
    const waits: Array<[string, number]> = [];
    const observer: CallObserver = { onRateLimitWait: (s, ms) => waits.push([s, ms]) };

    const account = await setup({ retryBaseMs: 40, observer }).getAccount();

    expect(account).toStrictEqual({ id: 30011223, subdomain: 'acme' });
    expect(times).toHaveLength(2);
    // backoff(1) with base 40 ms is between 20 and 40 ms; the limiter holds the retry that long.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(18);
    expect(waits).toHaveLength(1);
    expect(waits[0]![0]).toBe('kommo');
    expect(waits[0]![1]).toBeGreaterThanOrEqual(15);
  });

  it('429 every time -> kommo_rate_limited after 1 + 4 attempts', async () => {
    let calls = 0;
    nock(BASE)
      .get('/api/v4/account')
      .times(10)
      .reply(() => {
        calls++;
        return [429, ''];
      });
    const err = await rejection(setup({ retryBaseMs: 2 }).getAccount());
    expect(err.code).toBe('kommo_rate_limited');
    expect(err.kind).toBe('retryable');
    expect(err.status).toBe(429);
    expect(calls).toBe(5);
  });

  it('403 with an HTML page -> kommo_forbidden, retryable, not retried here', async () => {
    let calls = 0;
    nock(BASE)
      .get('/api/v4/leads/31700125')
      .query(true)
      .times(2)
      .reply(() => {
        calls++;
        return [403, '<!DOCTYPE html><html><body><h1>403 Forbidden</h1>Account blocked</body></html>', { 'Content-Type': 'text/html; charset=UTF-8' }];
      });

    const err = await rejection(setup().getLead(31700125));

    expect(err.code).toBe('kommo_forbidden');
    expect(err.kind).toBe('retryable');
    expect(err.status).toBe(403);
    expect(err.service).toBe('kommo');
    expect(err.message).toContain('GET /leads/31700125 (403)');
    expect(calls).toBe(1);
  });

  it('400 problem+json with validation-errors -> permanent kommo_rejected naming the path and detail', async () => {
    let calls = 0;
    nock(BASE)
      .patch('/api/v4/leads/31700125')
      .times(2)
      .reply(() => {
        calls++;
        return [
          400,
          {
            title: 'Bad Request',
            type: 'https://httpstatus.es/400',
            status: 400,
            detail: 'Request validation failed',
            'validation-errors': [
              {
                request_id: '0',
                errors: [{ code: 'NotSupportedChoice', path: 'custom_fields_values.0.field_id', detail: 'The value you selected is not a valid choice.' }],
              },
            ],
          },
          { 'Content-Type': 'application/problem+json' },
        ];
      });

    const err = await rejection(new KommoCrm(setup()).writeDealFields(31700125, [{ fieldId: 999999, value: 'x' }]));

    expect(err.code).toBe('kommo_rejected');
    expect(err.kind).toBe('permanent');
    expect(err.status).toBe(400);
    expect(err.message).toBe(
      'Kommo rejected PATCH /leads/31700125 (400 Bad Request: Request validation failed; custom_fields_values.0.field_id: The value you selected is not a valid choice.).',
    );
    expect(calls).toBe(1);
  });

  it('401 -> kommo_unauthorized (retryable)', async () => {
    let calls = 0;
    nock(BASE)
      .get('/api/v4/contacts/5001')
      .times(2)
      .reply(() => {
        calls++;
        return [401, { title: 'Unauthorized', type: 'https://httpstatus.es/401', status: 401, detail: 'Token has been revoked' }, { 'Content-Type': 'application/problem+json' }];
      });

    const err = await rejection(setup().getContact(5001));

    expect(err.code).toBe('kommo_unauthorized');
    expect(err.kind).toBe('retryable');
    expect(err.status).toBe(401);
    expect(err.message).toContain('Token has been revoked');
    expect(calls).toBe(1);
  });

  it('401 with onUnauthorized -> the call is repeated once with the new token', async () => {
    let token = 'old-token-123456';
    const seen: string[] = [];
    nock(BASE)
      .get('/api/v4/account')
      .times(2)
      .reply((req: Request) => {
        seen.push(req.headers.get('authorization') ?? '');
        return seen.length === 1 ? [401, { title: 'Unauthorized' }] : [200, { id: 1, subdomain: 'acme' }];
      });
    const client = setup({
      accessToken: async () => token,
      onUnauthorized: async () => {
        token = 'new-token-654321';
        return true;
      },
    });
    expect(await client.getAccount()).toStrictEqual({ id: 1, subdomain: 'acme' });
    expect(seen).toEqual(['Bearer old-token-123456', 'Bearer new-token-654321']);
  });

  it('500 on a GET is retried; 500 on POST (note) is not and is uncertain', async () => {
    let gets = 0;
    nock(BASE)
      .get('/api/v4/account')
      .times(2)
      .reply(() => (++gets === 1 ? [502, 'Bad Gateway'] : [200, { id: 1, subdomain: 'acme' }]));
    const client = setup();
    expect(await client.getAccount()).toStrictEqual({ id: 1, subdomain: 'acme' });
    expect(gets).toBe(2);

    nock(BASE).post('/api/v4/leads/1/notes').reply(500, 'oops');
    const spare = nock(BASE).post('/api/v4/leads/1/notes').reply(200, { _embedded: { notes: [{ id: 2 }] } });
    const err = await rejection(client.addLeadNote(1, 'x'));
    expect(err.code).toBe('kommo_unavailable');
    expect(err.uncertain).toBe(true);
    expect(spare.isDone()).toBe(false);
  });
});

describe('KommoCrm', () => {
  it('getPerson extracts trimmed EMAIL/PHONE values and fetches the company name via _embedded.companies', async () => {
    const contact = {
      id: 5001,
      name: 'Anna Kovacs',
      first_name: 'Anna',
      last_name: 'Kovacs',
      custom_fields_values: [
        {
          field_id: 264911,
          field_name: 'Email',
          field_code: 'EMAIL',
          field_type: 'multitext',
          values: [
            { value: '  anna@example.com ', enum_code: 'WORK' },
            { value: 'billing@example.com', enum_code: 'OTHER' },
            { value: '   ', enum_code: 'OTHER' },
          ],
        },
        { field_id: 264909, field_name: 'Phone', field_code: 'PHONE', field_type: 'multitext', values: [{ value: ' +49 30 1234567 ', enum_code: 'MOB' }] },
        { field_id: 70001, field_name: 'Country', field_code: null, field_type: 'text', values: [{ value: 'Germany' }] },
      ],
      _embedded: { companies: [{ id: 777 }] },
    };
    const scope = nock(BASE)
      .get('/api/v4/contacts/5001')
      .matchHeader('authorization', BEARER)
      .reply(200, contact, HAL)
      .get('/api/v4/companies/777')
      .matchHeader('authorization', BEARER)
      .reply(200, { id: 777, name: 'Acme GmbH', custom_fields_values: [{ field_id: 80001, field_name: 'Country', field_code: null, values: [{ value: 'DE' }] }] }, HAL);

    const person = await new KommoCrm(setup()).getPerson(5001);

    expect(scope.isDone()).toBe(true);
    expect(person).toStrictEqual({
      id: 5001,
      name: 'Anna Kovacs',
      firstName: 'Anna',
      lastName: 'Kovacs',
      emails: ['anna@example.com', 'billing@example.com'],
      phones: ['+49 30 1234567'],
      companyName: 'Acme GmbH',
      fields: new Map([
        [264911, ['  anna@example.com ', 'billing@example.com', '   ']],
        [264909, [' +49 30 1234567 ']],
        [70001, ['Germany']],
      ]),
      companyFields: new Map([[80001, ['DE']]]),
    });
  });

  it('getPerson without a company makes no company request; 204 -> undefined', async () => {
    nock(BASE)
      .get('/api/v4/contacts/5002')
      .reply(200, { id: 5002, name: 'Bob', first_name: '', custom_fields_values: null }, HAL)
      .get('/api/v4/contacts/5003')
      .reply(204);
    const crm = new KommoCrm(setup());

    expect(await crm.getPerson(5002)).toStrictEqual({
      id: 5002,
      name: 'Bob',
      firstName: undefined,
      lastName: undefined,
      emails: [],
      phones: [],
      companyName: undefined,
      fields: new Map(),
    });
    expect(await crm.getPerson(5003)).toBeUndefined();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('getDeal maps the lead, its contacts, company and catalog elements', async () => {
    nock(BASE).get('/api/v4/leads/31700125').query({ with: 'contacts,catalog_elements' }).reply(200, LEAD, HAL);

    const deal = await new KommoCrm(setup()).getDeal(31700125);

    expect(deal).toStrictEqual({
      id: 31700125,
      name: 'Аудит сайта + SEO',
      price: 4800,
      pipelineId: 7710021,
      statusId: 61234570,
      fields: new Map([
        [66339, ['Website']],
        [72333, ['1764028800']],
      ]),
      contacts: [
        { id: 5001, isMain: true },
        { id: 5002, isMain: false },
      ],
      companyId: 777,
      products: [
        { id: 9001, quantity: 2, catalogId: 4410 },
        { id: 9002, quantity: 1, catalogId: 4410 },
      ],
    });
  });
});
