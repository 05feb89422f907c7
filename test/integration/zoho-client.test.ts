// Zoho Books client, OAuth and accounting port against nock: every outbound request is recorded and
// asserted (URL, headers, query, body), and so is what the relay makes of each answer.
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { zohoAccountsUrl, zohoDefaultApiDomain } from '../../src/accounting/zoho/settings.js';
import { ZohoStamps } from '../../src/accounting/zoho/stamp.js';
import { RelayError } from '../../src/errors.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { CallObserver } from '../../src/net/http.js';
import { ZohoAccounting } from '../../src/accounting/zoho/accounting.js';
import { ZohoAuth, type ZohoAuthOptions } from '../../src/accounting/zoho/auth.js';
import { ZohoBooksClient, type ZohoClientOptions } from '../../src/accounting/zoho/client.js';

const ACCOUNTS_EU = 'https://accounts.zoho.eu';
const API_EU = 'https://www.zohoapis.eu';
const API_COM = 'https://www.zohoapis.com';
const ORG = '20071234567';
const CLIENT_ID = '1000.CLIENTIDXYZ';
const CLIENT_SECRET = 'client-secret-0123456789';
const REFRESH_TOKEN = '1000.refresh.abcdef0123456789';

const silent = createLogger({ level: 'silent' });

interface Setup {
  auth: ZohoAuth;
  client: ZohoBooksClient;
}

function setup(
  o: { auth?: Partial<ZohoAuthOptions>; client?: Partial<Omit<ZohoClientOptions, 'auth'>>; log?: Logger; accountsUrl?: string } = {},
): Setup {
  const log = o.log ?? silent;
  const auth = new ZohoAuth({
    accountsUrl: o.accountsUrl ?? ACCOUNTS_EU,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    refreshToken: () => REFRESH_TOKEN,
    timeoutMs: 1000,
    log,
    ...o.auth,
  });
  const client = new ZohoBooksClient({
    auth,
    defaultApiDomain: API_COM,
    organizationId: () => ORG,
    rateLimit: { requests: 100, windowMs: 60_000 },
    timeoutMs: 1000,
    log,
    retryBaseMs: 5,
    ...o.client,
  });
  return { auth, client };
}

const tokenBody = (token: string, extra: Record<string, unknown> = {}) => ({
  access_token: token,
  expires_in: 3600,
  api_domain: API_EU,
  token_type: 'Bearer',
  ...extra,
});

/** Token endpoint answering tok-1, tok-2, … and counting how often it was asked. */
function tokenServer(accounts = ACCOUNTS_EU, times = 1, extra: Record<string, unknown> = {}) {
  const state = { count: 0 };
  const scope = nock(accounts)
    .post('/oauth/v2/token')
    .times(times)
    .reply(() => {
      state.count++;
      return [200, tokenBody(`tok-${state.count}`, extra)];
    });
  return { scope, state };
}

const TAXES = { code: 0, message: 'success', taxes: [{ tax_id: '9834000000000000101', tax_name: 'VAT 19', tax_percentage: 19 }] };

async function rejection(p: Promise<unknown>): Promise<RelayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RelayError);
  return err as RelayError;
}

/** nock 15 hands reply functions the Fetch Request. */
async function jsonBody(req: Request): Promise<unknown> {
  return JSON.parse(await req.text());
}

const authOf = (req: Request) => req.headers.get('authorization') ?? '';

afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});

describe('Zoho OAuth token refresh and base URL', () => {
  it('POSTs form params to {accountsUrl}/oauth/v2/token, then calls {api_domain}/books/v3 with the token and organization_id (EU)', async () => {
    const accountsUrl = zohoAccountsUrl({ ZOHO_DC: 'eu', ZOHO_ACCOUNTS_URL: undefined });
    expect(accountsUrl).toBe('https://accounts.zoho.eu');
    let form: unknown;
    let contentType: string | undefined;
    const accounts = nock('https://accounts.zoho.eu')
      .post('/oauth/v2/token', (body: unknown) => {
        form = body;
        return true;
      })
      .once()
      .reply((req: Request) => {
        contentType = req.headers.get('content-type') ?? undefined;
        return [200, tokenBody('tok-eu-1')];
      });
    const api = nock('https://www.zohoapis.eu')
      .get('/books/v3/settings/taxes')
      .query({ organization_id: ORG })
      .matchHeader('authorization', 'Zoho-oauthtoken tok-eu-1')
      .once()
      .reply(200, TAXES);
    const { auth, client } = setup({ accountsUrl, client: { defaultApiDomain: zohoDefaultApiDomain('eu') } });

    const taxes = await client.listTaxes();

    expect(taxes).toEqual([{ tax_id: '9834000000000000101', tax_name: 'VAT 19', tax_percentage: 19 }]);
    expect({ ...(form as object) }).toEqual({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      refresh_token: REFRESH_TOKEN,
    });
    expect(contentType).toBe('application/x-www-form-urlencoded');
    expect(accounts.isDone()).toBe(true);
    expect(api.isDone()).toBe(true);
    expect(auth.apiDomain).toBe('https://www.zohoapis.eu');
    expect(auth.refreshCount).toBe(1);
  });

  it('uses the api_domain from the token response, not the configured default domain', async () => {
    const { state } = tokenServer(ACCOUNTS_EU, 1, { api_domain: 'https://www.zohoapis.eu/' }); // trailing slash is trimmed
    const api = nock(API_EU).get('/books/v3/settings/currencies').query({ organization_id: ORG }).once().reply(200, {
      code: 0,
      currencies: [{ currency_id: '9834000000000000003', currency_code: 'EUR', is_base_currency: true }],
    });
    const { client } = setup({ client: { defaultApiDomain: API_COM } });

    const currencies = await client.listCurrencies();

    expect(currencies).toEqual([{ currency_id: '9834000000000000003', currency_code: 'EUR', is_base_currency: true }]);
    expect(api.isDone()).toBe(true);
    expect(state.count).toBe(1);
  });

  it('apiUrlOverride (ZOHO_API_URL) wins over the api_domain of the token response', async () => {
    tokenServer();
    const proxy = nock('https://zoho-proxy.internal.example')
      .get('/books/v3/settings/taxes')
      .query({ organization_id: ORG })
      .matchHeader('authorization', 'Zoho-oauthtoken tok-1')
      .once()
      .reply(200, TAXES);
    const { client, auth } = setup({ client: { apiUrlOverride: 'https://zoho-proxy.internal.example' } });

    expect(await client.listTaxes()).toHaveLength(1);
    expect(proxy.isDone()).toBe(true);
    expect(auth.apiDomain).toBe(API_EU); // learned, but not used
  });

  it('listOrganizations is the one call sent without organization_id', async () => {
    tokenServer();
    let query: string | undefined;
    nock(API_EU)
      .get('/books/v3/organizations')
      .query((q) => {
        query = JSON.stringify(q);
        return true;
      })
      .reply(200, { code: 0, organizations: [{ organization_id: ORG, name: 'Acme GmbH' }] });
    const { client } = setup();
    expect(await client.listOrganizations()).toEqual([{ organization_id: ORG, name: 'Acme GmbH' }]);
    expect(query).toBe('{}');
  });

  it('HTTP 200 {"error":"invalid_client"} -> zoho_auth_invalid_client naming ZOHO_DC; a second call in the cooldown does not ask again', async () => {
    let hits = 0;
    const accounts = nock(ACCOUNTS_EU)
      .post('/oauth/v2/token')
      .once()
      .reply(() => {
        hits++;
        return [200, { error: 'invalid_client' }];
      });
    const { client, auth } = setup({ auth: { cooldownMs: 60_000 } });

    const first = await rejection(client.listTaxes());
    expect(first.code).toBe('zoho_auth_invalid_client');
    expect(first.kind).toBe('retryable');
    expect(first.retryAfterMs).toBe(60_000);
    expect(first.message).toContain('ZOHO_DC');
    expect(first.message).toContain('https://accounts.zoho.eu');

    const second = await rejection(client.listTaxes());
    expect(second.code).toBe('zoho_auth_invalid_client');
    expect(second).toBe(first); // the remembered refusal, not a new request
    expect(accounts.isDone()).toBe(true);
    expect(hits).toBe(1);
    expect(auth.refreshCount).toBe(1);
  });

  it('asks the accounts server again once the cooldown after a refusal is over', async () => {
    let hits = 0;
    nock(ACCOUNTS_EU)
      .post('/oauth/v2/token')
      .times(2)
      .reply(() => {
        hits++;
        return hits === 1 ? [200, { error: 'invalid_client' }] : [200, tokenBody('tok-ok')];
      });
    nock(API_EU).get('/books/v3/settings/taxes').query(true).matchHeader('authorization', 'Zoho-oauthtoken tok-ok').reply(200, TAXES);
    const { client } = setup({ auth: { cooldownMs: 40 } });

    expect((await rejection(client.listTaxes())).code).toBe('zoho_auth_invalid_client');
    await new Promise((r) => setTimeout(r, 60));
    expect(await client.listTaxes()).toHaveLength(1);
    expect(hits).toBe(2);
  });

  it('20 concurrent calls without a token -> exactly one refresh request', async () => {
    let hits = 0;
    const accounts = nock(ACCOUNTS_EU)
      .post('/oauth/v2/token')
      .once()
      .delay(50)
      .reply(() => {
        hits++;
        return [200, tokenBody('tok-shared')];
      });
    const api = nock(API_EU)
      .get('/books/v3/settings/taxes')
      .query({ organization_id: ORG })
      .matchHeader('authorization', 'Zoho-oauthtoken tok-shared')
      .times(20)
      .reply(200, TAXES);
    const { client, auth } = setup();

    const results = await Promise.all(Array.from({ length: 20 }, () => client.listTaxes()));

    expect(results).toHaveLength(20);
    for (const r of results) expect(r[0]?.tax_id).toBe('9834000000000000101');
    expect(accounts.isDone()).toBe(true);
    expect(api.isDone()).toBe(true);
    expect(hits).toBe(1);
    expect(auth.refreshCount).toBe(1);
  });

  it('a token still valid is reused: no second refresh', async () => {
    const { state } = tokenServer(ACCOUNTS_EU, 1);
    nock(API_EU).get('/books/v3/settings/taxes').query(true).matchHeader('authorization', 'Zoho-oauthtoken tok-1').times(3).reply(200, TAXES);
    const { client, auth } = setup();

    await client.listTaxes();
    await client.listTaxes();
    await client.listTaxes();

    expect(state.count).toBe(1);
    expect(auth.refreshCount).toBe(1);
  });

  it('a token is reused until a fifth of its lifetime is left, then refreshed once before the next call', async () => {
    // expires_in 1 s: the margin is 200 ms (a fixed 5-minute margin would refresh before every call).
    const { state } = tokenServer(ACCOUNTS_EU, 2, { expires_in: 1 });
    const seen: string[] = [];
    nock(API_EU)
      .get('/books/v3/settings/taxes')
      .query(true)
      .times(3)
      .reply((req: Request) => {
        seen.push(authOf(req));
        return [200, TAXES];
      });
    const { client, auth } = setup();

    await client.listTaxes();
    await client.listTaxes();
    expect(state.count).toBe(1);
    await new Promise((r) => setTimeout(r, 850));
    const before = Date.now();
    await client.listTaxes();

    expect(state.count).toBe(2);
    expect(seen).toEqual(['Zoho-oauthtoken tok-1', 'Zoho-oauthtoken tok-1', 'Zoho-oauthtoken tok-2']);
    expect(auth.expiresAt).toBeGreaterThanOrEqual(before + 1_000);
    expect(auth.expiresAt).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it('401 {code:57} -> one refresh, then the call is repeated with the new token and succeeds', async () => {
    const { state } = tokenServer(ACCOUNTS_EU, 2);
    const seen: string[] = [];
    const api = nock(API_EU)
      .get('/books/v3/settings/taxes')
      .query({ organization_id: ORG })
      .times(2)
      .reply((req: Request) => {
        seen.push(authOf(req));
        return seen.length === 1 ? [401, { code: 57, message: 'You are not authorized to perform this operation' }] : [200, TAXES];
      });
    const { client, auth } = setup();

    expect(await client.listTaxes()).toHaveLength(1);

    expect(api.isDone()).toBe(true);
    expect(seen).toEqual(['Zoho-oauthtoken tok-1', 'Zoho-oauthtoken tok-2']);
    expect(state.count).toBe(2);
    expect(auth.refreshCount).toBe(2);
  });

  it('a second 401 after the refresh -> zoho_unauthorized (retryable), no loop', async () => {
    const { state } = tokenServer(ACCOUNTS_EU, 3); // room for a third refresh, which must not happen
    let calls = 0;
    nock(API_EU)
      .get('/books/v3/settings/taxes')
      .query(true)
      .times(5)
      .reply(() => {
        calls++;
        return [401, { code: 57, message: 'You are not authorized to perform this operation' }];
      });
    const { client } = setup();

    const err = await rejection(client.listTaxes());

    expect(err.code).toBe('zoho_unauthorized');
    expect(err.kind).toBe('retryable');
    expect(err.status).toBe(401);
    expect(err.message).toContain('You are not authorized to perform this operation (code 57)');
    expect(calls).toBe(2);
    expect(state.count).toBe(2);
  });

  // Regression: each call reports the token it was itself sent with; decimals are never mistaken for IDs.
  it('several concurrent calls refused with the same token -> one refresh between them', async () => {
    const { state } = tokenServer(ACCOUNTS_EU, 10);
    const seen: string[] = [];
    nock(API_EU)
      .get('/books/v3/settings/taxes')
      .query(true)
      .times(10)
      .delay(20)
      .reply((req: Request) => {
        const auth = authOf(req);
        seen.push(auth);
        return auth === 'Zoho-oauthtoken tok-1' ? [401, { code: 57, message: 'not authorized' }] : [200, TAXES];
      });
    const { client } = setup();

    await Promise.all(Array.from({ length: 5 }, () => client.listTaxes()));

    expect({ refreshes: state.count }).toEqual({ refreshes: 2 });
    expect(seen.filter((s) => s === 'Zoho-oauthtoken tok-1')).toHaveLength(5);
    expect(seen.filter((s) => s === 'Zoho-oauthtoken tok-2')).toHaveLength(5);
  });

  // Regression: each call reports the token it was itself sent with; decimals are never mistaken for IDs.
  it('a late 401 for a call sent with an already-replaced token does not refresh again', async () => {
    const { state } = tokenServer(ACCOUNTS_EU, 3);
    const seenCurrencies: string[] = [];
    nock(API_EU)
      .get('/books/v3/settings/taxes')
      .query(true)
      .times(2)
      .reply((req: Request) => {
        return authOf(req) === 'Zoho-oauthtoken tok-1' ? [401, { code: 57, message: 'not authorized' }] : [200, TAXES];
      });
    nock(API_EU)
      .get('/books/v3/settings/currencies')
      .query(true)
      .delay(150)
      .reply(401, { code: 57, message: 'not authorized' })
      .get('/books/v3/settings/currencies')
      .query(true)
      .reply((req: Request) => {
        seenCurrencies.push(authOf(req));
        return [200, { code: 0, currencies: [] }];
      });
    const { client } = setup();

    await Promise.all([client.listTaxes(), client.listCurrencies()]);

    expect({ refreshes: state.count, currenciesRetriedWith: seenCurrencies }).toEqual({
      refreshes: 2,
      currenciesRetriedWith: ['Zoho-oauthtoken tok-2'],
    });
  });

  it('an unreachable accounts server -> zoho_accounts_unreachable (retryable)', async () => {
    nock(ACCOUNTS_EU)
      .post('/oauth/v2/token')
      .replyWithError(Object.assign(new Error('getaddrinfo ENOTFOUND accounts.zoho.eu'), { code: 'ENOTFOUND' }));
    const { client } = setup();
    const err = await rejection(client.listTaxes());
    expect(err.code).toBe('zoho_accounts_unreachable');
    expect(err.kind).toBe('retryable');
  });
});

describe('Zoho JSON parsing keeps 19-digit IDs exact', () => {
  it('bare 19-digit numbers become exact strings; strings and decimals stay as they are', async () => {
    tokenServer();
    const raw =
      '{"code":0,"message":"success","invoice":{"invoice_id":9834000000123456789,"customer_id": 9834000000000000001 ,' +
      '"invoice_number":"INV-000123","status":"sent","reference_number":"1234567890123456","notes":"ref 9834000000123456789, \\"quoted\\" 1234567890123456}",' +
      '"total":1234.5,"balance":0,"small":42,"negative":-9834000000123456789,"last":9834000000999999999}}';
    nock(API_EU)
      .get('/books/v3/invoices/9834000000123456789')
      .query({ organization_id: ORG })
      .reply(200, raw, { 'Content-Type': 'application/json;charset=UTF-8' });
    const { client } = setup();

    const invoice = (await client.getInvoice('9834000000123456789')) as unknown as Record<string, unknown>;

    expect(invoice).toStrictEqual({
      invoice_id: '9834000000123456789',
      customer_id: '9834000000000000001',
      invoice_number: 'INV-000123',
      status: 'sent',
      reference_number: '1234567890123456',
      notes: 'ref 9834000000123456789, "quoted" 1234567890123456}',
      total: 1234.5,
      balance: 0,
      small: 42,
      negative: '-9834000000123456789',
      last: '9834000000999999999',
    });
  });

  it('19-digit numbers inside arrays (objects and bare elements, across line breaks) stay exact', async () => {
    tokenServer();
    const raw = `{"code":0,"invoices":[
      {"invoice_id":9834000000123456789,"status":"paid","total":99.99,"line_ids":[9834000000000000011,9834000000000000012]},
      {"invoice_id":9834000000123456790
      ,"status":"void","total":10}
    ],"page_context":{"has_more_page":true,"page":1}}`;
    nock(API_EU)
      .get('/books/v3/invoices')
      .query({ organization_id: ORG, reference_number: 'kommo-deal-31700125', customer_id: '9834000000000000001' })
      .reply(200, raw, { 'Content-Type': 'application/json' });
    const { client } = setup();

    const { invoices, hasMore } = await client.listInvoices({ reference_number: 'kommo-deal-31700125', customer_id: '9834000000000000001' });

    expect(hasMore).toBe(true);
    expect(invoices).toStrictEqual([
      { invoice_id: '9834000000123456789', status: 'paid', total: 99.99, line_ids: ['9834000000000000011', '9834000000000000012'] },
      { invoice_id: '9834000000123456790', status: 'void', total: 10 },
    ]);
  });

  // Regression: the big-integer rewrite must not touch the fraction digits of a decimal.
  it('a decimal with 17 fraction digits stays a number and does not break the body', async () => {
    tokenServer();
    nock(API_EU)
      .get('/books/v3/invoices/9834000000123456789')
      .query(true)
      .reply(200, '{"code":0,"invoice":{"invoice_id":9834000000123456789,"exchange_rate":0.30000000000000004,"total":1234.5}}', {
        'Content-Type': 'application/json',
      });
    const { client } = setup();

    const invoice = (await client.getInvoice('9834000000123456789')) as unknown as Record<string, unknown>;

    expect(invoice).toStrictEqual({ invoice_id: '9834000000123456789', exchange_rate: 0.30000000000000004, total: 1234.5 });
  });
});

describe('Zoho rate limit, retries and failures', () => {
  it('429 with X-Rate-Limit-Reset: 1 -> the limiter holds every caller ~1 s, then the call succeeds', async () => {
    tokenServer();
    const times: Record<string, number[]> = { taxes: [], currencies: [] };
    nock(API_EU)
      .get('/books/v3/settings/taxes')
      .query(true)
      .reply(() => {
        times.taxes!.push(Date.now());
        return [429, { code: 44, message: 'rate limit exceeded' }, { 'X-Rate-Limit-Limit': '100', 'X-Rate-Limit-Remaining': '0', 'X-Rate-Limit-Reset': '1' }];
      })
      .get('/books/v3/settings/taxes')
      .query(true)
      .reply(() => {
        times.taxes!.push(Date.now());
        return [200, TAXES];
      })
      .get('/books/v3/settings/currencies')
      .query(true)
      .reply(() => {
        times.currencies!.push(Date.now());
        return [200, { code: 0, currencies: [] }];
      });
    let rateLimited!: () => void;
    const limitedLogged = new Promise<void>((r) => (rateLimited = r));
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({
      level: 'warn',
      destination: {
        write(line: string) {
          const rec = JSON.parse(line) as Record<string, unknown>;
          lines.push(rec);
          if (rec.msg === 'rate limited by the server') rateLimited();
        },
      },
    });
    const waits: Array<[string, number]> = [];
    const observer: CallObserver = { onRateLimitWait: (service, ms) => waits.push([service, ms]) };
    const { client } = setup({ log, client: { observer } });

    const started = Date.now();
    const taxes = client.listTaxes();
    await limitedLogged; // the pause is set: a call started now must wait too
    const currencies = client.listCurrencies();
    const [t, c] = await Promise.all([taxes, currencies]);

    expect(t).toHaveLength(1);
    expect(c).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(times.taxes).toHaveLength(2);
    expect(times.taxes![1]! - times.taxes![0]!).toBeGreaterThanOrEqual(950);
    expect(times.currencies).toHaveLength(1);
    expect(times.currencies![0]! - times.taxes![0]!).toBeGreaterThanOrEqual(950);
    const warn = lines.find((l) => l.msg === 'rate limited by the server');
    expect(warn).toMatchObject({ remote: 'zoho', path: '/settings/taxes', resetMs: 1000 });
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits[0]![0]).toBe('zoho');
    expect(waits[0]![1]).toBeGreaterThanOrEqual(900);
  });

  it('429 with a fractional reset (0.2 s) waits ~200 ms', async () => {
    tokenServer();
    const times: number[] = [];
    nock(API_EU)
      .get('/books/v3/settings/taxes')
      .query(true)
      .times(2)
      .reply(() => {
        times.push(Date.now());
        return times.length === 1 ? [429, { code: 44, message: 'rate limit' }, { 'X-Rate-Limit-Reset': '0.2' }] : [200, TAXES];
      });
    const { client } = setup();
    expect(await client.listTaxes()).toHaveLength(1);
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(190);
    expect(times[1]! - times[0]!).toBeLessThan(900);
  });

  it('500 on a GET is retried, then succeeds', async () => {
    tokenServer();
    let calls = 0;
    nock(API_EU)
      .get('/books/v3/settings/taxes')
      .query(true)
      .times(3)
      .reply(() => {
        calls++;
        return calls < 3 ? [500, { code: 500, message: 'internal error' }] : [200, TAXES];
      });
    const { client } = setup();
    expect(await client.listTaxes()).toHaveLength(1);
    expect(calls).toBe(3);
  });

  it('500 on a GET, every time -> zoho_unavailable after 1 + 4 attempts, not uncertain', async () => {
    tokenServer();
    let calls = 0;
    nock(API_EU)
      .get('/books/v3/settings/taxes')
      .query(true)
      .times(10)
      .reply(() => {
        calls++;
        return [503, 'Service Unavailable'];
      });
    const { client } = setup();
    const err = await rejection(client.listTaxes());
    expect(err.code).toBe('zoho_unavailable');
    expect(err.kind).toBe('retryable');
    expect(err.uncertain).toBe(false);
    expect(err.status).toBe(503);
    expect(calls).toBe(5);
  });

  it('500 on POST /invoices is NOT retried: retryable, uncertain', async () => {
    tokenServer();
    let calls = 0;
    const api = nock(API_EU)
      .post('/books/v3/invoices')
      .query({ organization_id: ORG, send: 'true' })
      .reply(() => {
        calls++;
        return [500, { code: 500, message: 'internal error' }];
      });
    // A retry would find this and succeed: it must stay unused.
    const spare = nock(API_EU).post('/books/v3/invoices').query(true).reply(201, { code: 0, invoice: { invoice_id: '1' } });
    const { client } = setup();

    const err = await rejection(client.createInvoice({ customer_id: '9834000000000000001' }, { send: true }));

    expect(err.code).toBe('zoho_unavailable');
    expect(err.kind).toBe('retryable');
    expect(err.uncertain).toBe(true);
    expect(err.status).toBe(500);
    expect(err.message).toBe('Zoho Books answered 500 to POST /invoices; will try again.');
    expect(calls).toBe(1);
    expect(api.isDone()).toBe(true);
    expect(spare.isDone()).toBe(false);
  });

  it('a timeout on POST /invoices -> retryable, uncertain, not retried', async () => {
    tokenServer();
    let calls = 0;
    nock(API_EU)
      .post('/books/v3/invoices')
      .query(true)
      .delay(600)
      .reply(() => {
        calls++;
        return [201, { code: 0, invoice: { invoice_id: '9834000000123456789' } }];
      });
    const spare = nock(API_EU).post('/books/v3/invoices').query(true).reply(201, { code: 0, invoice: { invoice_id: '2' } });
    const { client } = setup({ client: { timeoutMs: 100 } });

    const started = Date.now();
    const err = await rejection(client.createInvoice({ customer_id: '9834000000000000001' }, { send: false }));

    expect(err.code).toBe('zoho_unreachable');
    expect(err.kind).toBe('retryable');
    expect(err.uncertain).toBe(true);
    expect(err.message).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(500);
    expect(spare.isDone()).toBe(false);
    expect(calls).toBeLessThanOrEqual(1);
  });

  it('ECONNREFUSED on POST (never sent) is retried and succeeds', async () => {
    tokenServer();
    const api = nock(API_EU)
      .post('/books/v3/invoices')
      .query({ organization_id: ORG, send: 'false' })
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED 203.0.113.7:443'), { code: 'ECONNREFUSED' }))
      .post('/books/v3/invoices')
      .query({ organization_id: ORG, send: 'false' })
      .reply(201, '{"code":0,"message":"The invoice has been created.","invoice":{"invoice_id":9834000000123456789,"invoice_number":"INV-000124","status":"draft"}}', {
        'Content-Type': 'application/json',
      });
    const { client } = setup();

    const res = await client.createInvoice({ customer_id: '9834000000000000001' }, { send: false });

    expect(res.invoice.invoice_id).toBe('9834000000123456789');
    expect(res.message).toBe('The invoice has been created.');
    expect(api.isDone()).toBe(true);
  });

  it('400 {code:1001} -> permanent zoho_rejected with Zoho’s message, not retried', async () => {
    tokenServer();
    let calls = 0;
    nock(API_EU)
      .post('/books/v3/invoices')
      .query(true)
      .times(2)
      .reply(() => {
        calls++;
        return [400, { code: 1001, message: 'Invoice number already exists' }];
      });
    const { client } = setup();

    const err = await rejection(client.createInvoice({ customer_id: '1' }, { send: true }));

    expect(err.code).toBe('zoho_rejected');
    expect(err.kind).toBe('permanent');
    expect(err.status).toBe(400);
    expect(err.message).toBe('Zoho Books rejected POST /invoices: Invoice number already exists (code 1001).');
    expect(calls).toBe(1);
  });

  it('a "+" in query values is percent-encoded (plus-addressed email, last_modified_time offset)', async () => {
    tokenServer();
    const urls: string[] = [];
    nock(API_EU)
      .get('/books/v3/contacts')
      .query({ organization_id: ORG, email: 'anna+billing@example.com', contact_type: 'customer' })
      .reply((req: Request) => {
        urls.push(req.url);
        return [200, { code: 0, contacts: [] }];
      })
      .get('/books/v3/invoices')
      .query({ organization_id: ORG, last_modified_time: '2025-11-24T10:00:00+0100' })
      .reply((req: Request) => {
        urls.push(req.url);
        return [200, { code: 0, invoices: [] }];
      });
    const { client } = setup();

    expect(await client.findContactsByEmail('anna+billing@example.com')).toEqual([]);
    expect(await client.listInvoices({ last_modified_time: '2025-11-24T10:00:00+0100' })).toEqual({ invoices: [], hasMore: false });

    expect(urls).toHaveLength(2);
    expect(new URL(urls[0]!).search).toContain('email=anna%2Bbilling');
    expect(new URL(urls[1]!).search).toContain('last_modified_time=2025-11-24T10:00:00%2B0100');
  });

  it('2xx with code != 0 -> permanent zoho_rejected', async () => {
    tokenServer();
    nock(API_EU).get('/books/v3/settings/taxes').query(true).reply(200, { code: 2, message: 'Invalid value passed for organization_id' });
    const { client } = setup();
    const err = await rejection(client.listTaxes());
    expect(err.code).toBe('zoho_rejected');
    expect(err.kind).toBe('permanent');
    expect(err.message).toBe('Zoho Books rejected GET /settings/taxes: Invalid value passed for organization_id (code 2).');
  });

  it('404 -> permanent zoho_not_found', async () => {
    tokenServer();
    nock(API_EU).get('/books/v3/invoices/404404').query(true).reply(404, { code: 1002, message: 'Invoice does not exist.' });
    const { client } = setup();
    const err = await rejection(client.getInvoice('404404'));
    expect(err.code).toBe('zoho_not_found');
    expect(err.kind).toBe('permanent');
    expect(err.status).toBe(404);
  });

  it('no organization selected -> permanent zoho_no_organization without any request', async () => {
    const { client } = setup({ client: { organizationId: () => undefined } });
    const err = await rejection(client.listTaxes());
    expect(err.code).toBe('zoho_no_organization');
    expect(err.kind).toBe('permanent');
    expect(nock.pendingMocks()).toEqual([]);
  });
});

describe('ZohoAccounting', () => {
  it('findCustomerByEmail trims and lowercases, and ignores a contact whose email differs', async () => {
    tokenServer();
    const api = nock(API_EU)
      .get('/books/v3/contacts')
      .query({ organization_id: ORG, email: 'anna.k@example.com', contact_type: 'customer' })
      .reply(
        200,
        '{"code":0,"contacts":[' +
          '{"contact_id":9834000000000000501,"contact_name":"Anna Kovacs (old)","email":"anna.k@example.com.au","currency_code":"AUD"},' +
          '{"contact_id":9834000000000000555,"contact_name":"Anna K","email":" ANNA.K@Example.com ","currency_code":"EUR"}]}',
        { 'Content-Type': 'application/json' },
      );
    const { client } = setup();
    const accounting = new ZohoAccounting(client, stamps());

    const customer = await accounting.findCustomerByEmail('  Anna.K@Example.COM ');

    expect(customer).toStrictEqual({ id: '9834000000000000555', name: 'Anna K', currencyCode: 'EUR' });
    expect(api.isDone()).toBe(true);
  });

  it('findCustomerByEmail -> undefined when only a different email comes back', async () => {
    tokenServer();
    nock(API_EU)
      .get('/books/v3/contacts')
      .query({ organization_id: ORG, email: 'anna@example.com', contact_type: 'customer' })
      .reply(200, { code: 0, contacts: [{ contact_id: '1', contact_name: 'Joanna', email: 'joanna@example.com' }] });
    const { client } = setup();
    expect(await new ZohoAccounting(client, stamps()).findCustomerByEmail('Anna@Example.com')).toBeUndefined();
  });

  // GET /contacts?email= matches the primary contact person's email, which a row carries as `email`; the
  // rows have no contact_persons in Zoho's contract, so the relay does not look for any.
  it('findCustomerByEmail matches the row’s (primary person’s) email, case-insensitively, and nothing else', async () => {
    tokenServer();
    nock(API_EU)
      .get('/books/v3/contacts')
      .query(true)
      .twice()
      .reply(200, {
        code: 0,
        contacts: [{ contact_id: '77', contact_name: 'Acme GmbH', email: 'Anna@Acme.Example' }],
      });
    const { client } = setup();
    const accounting = new ZohoAccounting(client, stamps());
    expect(await accounting.findCustomerByEmail('anna@acme.example')).toStrictEqual({ id: '77', name: 'Acme GmbH', currencyCode: undefined });
    expect(await accounting.findCustomerByEmail('office@acme.example')).toBeUndefined();
  });

  it('createCustomer retries once with "Name (email)" after code 3062 (duplicate name)', async () => {
    tokenServer();
    const bodies: unknown[] = [];
    nock(API_EU)
      .post('/books/v3/contacts')
      .query({ organization_id: ORG })
      .times(3)
      .reply(async (req: Request) => {
        bodies.push(await jsonBody(req));
        return bodies.length === 1
          ? [400, { code: 3062, message: 'The contact name already exists' }]
          : [201, '{"code":0,"contact":{"contact_id":9834000000000000777,"contact_name":"Anna Kovacs (anna@example.com)","currency_code":"EUR"}}'];
      });
    const { client } = setup();

    const customer = await new ZohoAccounting(client, stamps()).createCustomer({
      name: 'Anna Kovacs',
      email: 'anna@example.com',
      firstName: 'Anna',
      lastName: 'Kovacs',
      phone: '+49 30 1234567',
      country: 'Germany',
      currencyId: '9834000000000000003',
    });

    expect(customer).toStrictEqual({ id: '9834000000000000777', name: 'Anna Kovacs (anna@example.com)', currencyCode: 'EUR' });
    const expected = (name: string) => ({
      contact_name: name,
      contact_type: 'customer',
      customer_sub_type: 'individual',
      currency_id: '9834000000000000003',
      billing_address: { country: 'Germany' },
      contact_persons: [{ first_name: 'Anna', last_name: 'Kovacs', email: 'anna@example.com', phone: '+49 30 1234567', is_primary_contact: true }],
    });
    expect(bodies).toStrictEqual([expected('Anna Kovacs'), expected('Anna Kovacs (anna@example.com)')]);
  });

  it('createCustomer does not retry on another rejection', async () => {
    tokenServer();
    let calls = 0;
    nock(API_EU)
      .post('/books/v3/contacts')
      .query(true)
      .times(2)
      .reply(() => {
        calls++;
        return [400, { code: 3011, message: 'Invalid email' }];
      });
    const { client } = setup();
    const err = await rejection(new ZohoAccounting(client, stamps()).createCustomer({ name: 'X', email: 'bad', companyName: 'Acme' }));
    expect(err.code).toBe('zoho_rejected');
    expect(err.message).toContain('Invalid email (code 3011)');
    expect(calls).toBe(1);
  });

  it('createInvoice maps the draft to the exact body, sends send=true and reports emailed', async () => {
    tokenServer();
    let body: unknown;
    const api = nock(API_EU)
      .post('/books/v3/invoices')
      .query({ organization_id: ORG, send: 'true' })
      .matchHeader('content-type', /^application\/json/)
      .reply(async (req: Request) => {
        body = await jsonBody(req);
        return [
          201,
          '{"code":0,"message":"The invoice has been created.","invoice":{"invoice_id":9834000000123456789,"invoice_number":"INV-000125","status":"sent","invoice_url":"https://books.zoho.eu/portal/x/inv/1","total":4800}}',
        ];
      });
    const { client } = setup();

    const result = await new ZohoAccounting(client, stamps()).createInvoice(
      {
        customerId: '9834000000000000555',
        stamp: { key: 'kommo-deal-31700125', dealId: 31700125 },
        currencyId: '9834000000000000003',
        date: '2025-11-24',
        lines: [
          { name: 'Аудит сайта + SEO', description: 'Audit', rate: 4000, quantity: 1, taxId: '9834000000000000101' },
          { name: 'Hosting', rate: 400, quantity: 2, itemId: '9834000000000000909' },
        ],
      },
      { send: true },
    );

    expect(api.isDone()).toBe(true);
    expect(body).toStrictEqual({
      customer_id: '9834000000000000555',
      reference_number: 'kommo-deal-31700125',
      currency_id: '9834000000000000003',
      date: '2025-11-24',
      line_items: [
        { name: 'Аудит сайта + SEO', description: 'Audit', rate: 4000, quantity: 1, tax_id: '9834000000000000101' },
        { item_id: '9834000000000000909', name: 'Hosting', rate: 400, quantity: 2 },
      ],
      custom_fields: [{ api_name: 'cf_kommo_deal_id', value: '31700125' }],
    });
    expect(result).toStrictEqual({
      id: '9834000000123456789',
      number: 'INV-000125',
      url: 'https://books.zoho.eu/portal/x/inv/1',
      status: 'open',
      emailed: true,
    });
  });

  it('createInvoice: emailed is false when Zoho returns the invoice as draft; no custom_fields key when none', async () => {
    tokenServer();
    let body: unknown;
    nock(API_EU)
      .post('/books/v3/invoices')
      .query({ organization_id: ORG, send: 'true' })
      .reply(async (req: Request) => {
        body = await jsonBody(req);
        return [201, { code: 0, invoice: { invoice_id: '9834000000123456790', invoice_number: 'INV-000126', status: 'draft' } }];
      });
    const { client } = setup();

    // A mapping without zoho.dealIdField: the stamp is the reference number alone.
    const result = await new ZohoAccounting(client, new ZohoStamps({ referenceTemplate: 'KOMMO-{deal_id}' }, undefined)).createInvoice(
      { customerId: '1', stamp: { key: 'kommo-deal-1', dealId: 1 }, lines: [{ name: 'Consulting', rate: 150.5, quantity: 3 }] },
      { send: true },
    );

    expect(body).toStrictEqual({ customer_id: '1', reference_number: 'kommo-deal-1', line_items: [{ name: 'Consulting', rate: 150.5, quantity: 3 }] });
    expect(result).toStrictEqual({ id: '9834000000123456790', number: 'INV-000126', url: '', status: 'draft', emailed: false });
  });

  it('findDealInvoice looks the stamp up as the reference number, skipping void invoices and other references', async () => {
    tokenServer();
    nock(API_EU)
      .get('/books/v3/invoices')
      .query({ organization_id: ORG, reference_number: 'kommo-deal-7', customer_id: '55' })
      .reply(
        200,
        '{"code":0,"invoices":[{"invoice_id":9834000000000000001,"invoice_number":"INV-1","reference_number":"kommo-deal-7","status":"void"},' +
          '{"invoice_id":9834000000000000002,"invoice_number":"INV-2","reference_number":"kommo-deal-70","status":"sent"},' +
          '{"invoice_id":9834000000000000003,"invoice_number":"INV-3","reference_number":"kommo-deal-7","status":"overdue"}]}',
      );
    // The list carries no invoice_url, so the match is read in full.
    nock(API_EU)
      .get('/books/v3/invoices/9834000000000000003')
      .query({ organization_id: ORG })
      .reply(200, '{"code":0,"invoice":{"invoice_id":9834000000000000003,"invoice_number":"INV-3","reference_number":"kommo-deal-7","status":"overdue","invoice_url":"https://books.zoho.eu/portal/acme/secure?CInvoiceID=2-ab&x=a%2Bb"}}');
    const { client } = setup();
    expect(await new ZohoAccounting(client, stamps()).findDealInvoice({ key: 'kommo-deal-7', dealId: 7 }, '55')).toStrictEqual({
      id: '9834000000000000003',
      number: 'INV-3',
      url: 'https://books.zoho.eu/portal/acme/secure?CInvoiceID=2-ab&x=a%2Bb',
      status: 'open',
    });
  });
});

/** The stamps of a mapping with the deal-ID custom field and the default reference and retainer names. */
function stamps(): ZohoStamps {
  return new ZohoStamps({ dealIdField: 'cf_kommo_deal_id', referenceTemplate: 'KOMMO-{deal_id}' }, 'Kommo deal {deal_id}');
}
