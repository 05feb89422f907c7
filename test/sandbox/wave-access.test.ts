// The fake Wave's edges over real HTTP: OAuth (authorize with code and state, businessId pinning, the token
// endpoint's form, refresh tokens that rotate and are refused once used, expiring access tokens, the Full
// Access Token), the limits per token (per minute and in flight: 429 with Retry-After), faults (HTTP errors,
// 429 bursts, INTERNAL_SERVER_ERROR before any work, the answer lost after the work), and the control routes.
import { describe, expect, it } from 'vitest';
import { CUSTOMER_CREATE, INVOICE_CREATE, INVOICES, client, closeWaveAfterEach, codes, seed, startWave } from './wave-helpers.js';

closeWaveAfterEach();

const REDIRECT = 'https://relay.example/connect/wave/callback';
const SCOPE = 'business:read customer:read customer:write invoice:read invoice:write invoice:send';

async function authorize(origin: string, params: Record<string, string>): Promise<URL> {
  const res = await fetch(`${origin}/oauth2/authorize/?${new URLSearchParams(params)}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

async function token(origin: string, form: Record<string, string>) {
  const res = await fetch(`${origin}/oauth2/token/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

const BUSINESSES = `query { businesses(page: 1, pageSize: 10) { edges { node { id name } } } }`;

describe('OAuth', () => {
  it('authorizes with code and state, exchanges the code once, and the token reaches every business', async () => {
    const { fake, origin } = await startWave({ businesses: [{}, { name: 'Second Co' }] });
    const back = await authorize(origin, { client_id: fake.clientId, response_type: 'code', scope: SCOPE, redirect_uri: REDIRECT, state: 's-123', approval_prompt: 'auto' });
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('s-123');
    const code = back.searchParams.get('code')!;
    expect(code).toBeTruthy();
    const form = { client_id: fake.clientId, client_secret: fake.clientSecret, grant_type: 'authorization_code', code, redirect_uri: REDIRECT };
    const t = await token(origin, form);
    expect(t.status).toBe(200);
    expect(t.json).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 7200, refresh_token: expect.any(String), scope: SCOPE });
    const gql = client(origin, t.json.access_token);
    expect((await gql(BUSINESSES)).json.data.businesses.edges).toHaveLength(2);
    expect(await token(origin, form)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
    expect(fake.oauth.authorizations[0]).toMatchObject({ scope: SCOPE, approval_prompt: 'auto' });
  });

  it('pins one business when the consent names businessId', async () => {
    const { fake, origin } = await startWave({ businesses: [{}, { name: 'Second Co' }] });
    const pinned = fake.businessIds[1]!;
    const back = await authorize(origin, { client_id: fake.clientId, response_type: 'code', scope: SCOPE, redirect_uri: REDIRECT, state: 'x', businessId: pinned });
    const t = await token(origin, { client_id: fake.clientId, client_secret: fake.clientSecret, grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT });
    const gql = client(origin, t.json.access_token);
    expect((await gql(BUSINESSES)).json.data.businesses.edges).toEqual([{ node: { id: pinned, name: 'Second Co' } }]);
    expect((await gql(`query { business { id } }`)).json.data.business.id).toBe(pinned);
    expect(codes(await gql(`query B($id: ID!) { business(id: $id) { id } }`, { id: fake.businessId }))).toEqual(['NOT_FOUND']);
  });

  it('redirects back with an error for an unknown scope or a denied consent; refuses an unknown client without redirecting', async () => {
    const { fake, origin } = await startWave();
    const bad = await authorize(origin, { client_id: fake.clientId, response_type: 'code', scope: 'invoice:read offline_access', redirect_uri: REDIRECT, state: 'a' });
    expect([bad.searchParams.get('error'), bad.searchParams.get('state'), bad.searchParams.get('code')]).toEqual(['invalid_scope', 'a', null]);
    const unknown = await fetch(`${origin}/oauth2/authorize/?${new URLSearchParams({ client_id: 'nope', response_type: 'code', scope: SCOPE, redirect_uri: REDIRECT })}`, { redirect: 'manual' });
    expect(unknown.status).toBe(400);
    const denying = await startWave({ consent: 'deny' });
    const denied = await authorize(denying.origin, { client_id: denying.fake.clientId, response_type: 'code', scope: SCOPE, redirect_uri: REDIRECT, state: 'b' });
    expect(denied.searchParams.get('error')).toBe('access_denied');
  });

  it('rotates refresh tokens: the new one works, the used one is refused; the client secret is a form field', async () => {
    const { fake, origin } = await startWave();
    const form = (refresh_token: string) => ({ client_id: fake.clientId, client_secret: fake.clientSecret, grant_type: 'refresh_token', refresh_token });
    const first = await token(origin, form(fake.refreshToken));
    expect(first.status).toBe(200);
    expect(first.json.refresh_token).not.toBe(fake.refreshToken);
    expect(await token(origin, form(fake.refreshToken))).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
    const second = await token(origin, form(first.json.refresh_token));
    expect(second.status).toBe(200);
    expect((await client(origin, second.json.access_token)(BUSINESSES)).status).toBe(200);
    expect(await token(origin, { ...form(second.json.refresh_token), client_secret: 'wrong' })).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    expect(await token(origin, { ...form(second.json.refresh_token), grant_type: 'password' })).toMatchObject({ status: 400, json: { error: 'unsupported_grant_type' } });
    expect(fake.oauth.grants.map((g) => g.ok)).toEqual([true, false, true, false, false]);
  });

  it('a refresh grace, when configured, lets a used refresh token work again for that long', async () => {
    const { fake, origin } = await startWave({ refreshGraceSeconds: 60 });
    const form = { client_id: fake.clientId, client_secret: fake.clientSecret, grant_type: 'refresh_token', refresh_token: fake.refreshToken };
    expect((await token(origin, form)).status).toBe(200);
    expect((await token(origin, form)).status).toBe(200);
    fake.advanceTime(61_000);
    expect((await token(origin, form)).status).toBe(400);
  });

  it('access tokens expire (UNAUTHENTICATED); the Full Access Token never does', async () => {
    const { fake, origin } = await startWave({ accessTokenTtlSeconds: 60 });
    const pair = fake.issueTokens();
    const gql = client(origin, pair.access_token);
    expect((await gql(BUSINESSES)).json.data.businesses.edges).toHaveLength(1);
    fake.advanceTime(61_000);
    const expired = await gql(BUSINESSES);
    expect(expired.status).toBe(200);
    expect(expired.json.errors[0]).toMatchObject({ message: expect.stringContaining('expired'), extensions: { code: 'UNAUTHENTICATED' } });
    fake.advanceTime(365 * 86_400_000);
    expect((await client(origin, fake.fullAccessToken)(BUSINESSES)).json.data.businesses.edges).toHaveLength(1);
  });

  it('keeps the trailing slashes: /oauth2/token without one is not found', async () => {
    const { fake, origin } = await startWave();
    const res = await fetch(`${origin}/oauth2/token`, { method: 'POST', body: new URLSearchParams({ client_id: fake.clientId }) });
    expect(res.status).toBe(404);
  });
});

describe('limits', () => {
  it('allows the per-minute count per token, then 429 with Retry-After; a new minute opens again; tokens count apart', async () => {
    const { fake, origin, gql } = await startWave({ limits: { perMinute: 3 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await gql(BUSINESSES));
    expect(statuses.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    const retryAfter = Number(statuses[3]!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await client(origin, fake.issueTokens().access_token)(BUSINESSES)).status).toBe(200);
    fake.advanceTime(60_000);
    expect((await gql(BUSINESSES)).status).toBe(200);
    expect(fake.limits.refusals).toEqual([expect.objectContaining({ problem: 'minute' })]);
  });

  it('allows two calls in flight per token; a third at once is 429', async () => {
    const { fake, gql } = await startWave();
    fake.faults.set({ latencyMs: 300 });
    const answers = await Promise.all([gql(BUSINESSES), gql(BUSINESSES), gql(BUSINESSES)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429]);
    expect(fake.limits.refusals).toEqual([expect.objectContaining({ problem: 'concurrent' })]);
    expect(fake.limits.inFlight(`Bearer ${fake.fullAccessToken}`)).toBe(0);
  });
});

describe('faults', () => {
  it('answers the next calls with an HTTP error or a 429 burst, then normally', async () => {
    const { fake, gql } = await startWave();
    fake.faults.failNext(1, { status: 503 });
    fake.rateLimitBurst(1, 7);
    const a = await gql(BUSINESSES);
    expect([a.status, codes(a)]).toEqual([503, ['INTERNAL_SERVER_ERROR']]);
    const b = await gql(BUSINESSES);
    expect([b.status, b.headers.get('retry-after')]).toEqual([429, '7']);
    expect((await gql(BUSINESSES)).status).toBe(200);
  });

  it('INTERNAL_SERVER_ERROR (HTTP 200) before any work: nothing is created', async () => {
    const { fake, gql } = await startWave();
    fake.internalErrorNext(1, { field: 'customerCreate' });
    expect((await gql(BUSINESSES)).json.errors).toBeUndefined();
    const a = await gql(CUSTOMER_CREATE, { input: { businessId: fake.businessId, name: 'Ann' } });
    expect([a.status, codes(a), a.json.data]).toEqual([200, ['INTERNAL_SERVER_ERROR'], null]);
    expect(fake.state.customers.size).toBe(0);
  });

  it('loses the answer after the invoice was created: the client finds it by its number instead of creating a second', async () => {
    const { fake, gql } = await startWave();
    const ids = await seed(fake, gql);
    fake.loseNextAnswers(1, { field: 'invoiceCreate' });
    const input = { businessId: fake.businessId, customerId: ids.customerId, invoiceNumber: 'R-7', items: [{ productId: ids.productId }] };
    await expect(gql(INVOICE_CREATE, { input })).rejects.toThrow();
    expect(fake.operationFaults.lost).toEqual([expect.objectContaining({ operationName: 'InvoiceCreate', fields: ['invoiceCreate'] })]);
    const found = await gql(INVOICES, { businessId: fake.businessId, page: 1, pageSize: 20, invoiceNumber: 'R-7', sort: ['CREATED_AT_ASC'] });
    expect(found.json.data.business.invoices.edges.map((e: any) => e.node.invoiceNumber)).toEqual(['R-7']);
  });

  it('an error rate answers some calls with the configured statuses', async () => {
    const { fake, gql } = await startWave();
    fake.faults.set({ errorRate: 1, statuses: [502] });
    expect((await gql(BUSINESSES)).status).toBe(502);
    fake.faults.reset();
    expect((await gql(BUSINESSES)).status).toBe(200);
  });
});

describe('control routes', () => {
  const post = (origin: string, path: string, body: unknown = {}) =>
    fetch(`${origin}/__control${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));

  it('gives the credentials, pays an invoice, marks it viewed, sets modifiedAt, injects faults, and shows the state', async () => {
    const { fake, origin, gql } = await startWave();
    const creds = (await (await fetch(`${origin}/__control/credentials`)).json()) as Record<string, string>;
    expect(creds).toMatchObject({ client_id: fake.clientId, refresh_token: fake.refreshToken, full_access_token: fake.fullAccessToken, business_id: fake.businessId, graphql_url: `${origin}/graphql/public` });
    const ids = await seed(fake, gql);
    const made = await post(origin, '/invoices', { customerId: ids.customerId, status: 'SAVED', items: [{ productId: ids.productId, quantity: '1' }] });
    expect(made.status).toBe(201);
    expect((await post(origin, `/invoices/${made.json.id}/viewed`)).status).toBe(200);
    const paid = await post(origin, `/invoices/${made.json.id}/payments`, { amount: '180.00', date: '2026-12-06' });
    expect(paid.status).toBe(201);
    expect((await post(origin, `/invoices/${made.json.id}/modified`, { at: '2030-01-01T00:00:00Z' })).status).toBe(200);
    const state = (await (await fetch(`${origin}/__control/state`)).json()) as any;
    expect(state.invoices).toEqual([expect.objectContaining({ id: made.json.id, status: 'PAID', total: '180.00', amountPaid: '180.00', modifiedAt: '2030-01-01T00:00:00.000Z' })]);
    expect(state.payments).toEqual([expect.objectContaining({ invoiceId: made.json.id, amount: '180.00', paymentMethod: 'BANK_TRANSFER' })]);
    expect((await post(origin, `/invoices/nope/payments`, { amount: '1' })).status).toBe(400);

    await post(origin, '/internal-errors', { count: 1 });
    expect(codes(await gql(BUSINESSES))).toEqual(['INTERNAL_SERVER_ERROR']);
    await post(origin, '/rate-limit-burst', { count: 1, retryAfter: 3 });
    expect((await gql(BUSINESSES)).status).toBe(429);
    await post(origin, '/expire-tokens');
    const pair = (await post(origin, '/tokens', { scope: 'business:read' })).json;
    expect((await client(origin, pair.access_token)(BUSINESSES)).status).toBe(200);
    expect((await post(origin, '/businesses', { name: 'Via Control', currency: 'EUR' })).status).toBe(201);
    expect(fake.businessIds).toHaveLength(2);
  });
});
