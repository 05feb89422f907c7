// The connection page through real HTTP: who may see it (ADMIN_TOKEN as a bearer token, or the login
// form's session cookie), how the cookie is made, the headers that keep the page to itself, escaping of
// every value, and that no secret is ever on it.
import { zohoBackend } from '../../src/accounting/zoho/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionsStatus } from '../../src/connect/status.js';
import { SESSION_COOKIE } from '../../src/http/admin-auth.js';
import { connectionPage } from '../../src/http/connect-page.js';
import type { Relay } from '../../src/relay.js';
import { ADMIN_TOKEN, startScenario, type Scenario } from '../../sandbox/scenario.js';
import { asAdmin, expectNoSecretIn, get, secretsOf, startCapturedRelay } from '../support/connect.js';
import { tempDir } from '../support/tmp.js';

let dir: ReturnType<typeof tempDir>;
let s: Scenario;
let relay: Relay;
const logs: string[] = [];

beforeAll(async () => {
  dir = tempDir('relay-connect-page-');
  s = await startScenario({ dir: dir.path });
  relay = await startCapturedRelay(s.env({ ADMIN_TOKEN }), { logs });
});
afterAll(async () => {
  expectNoSecretIn(logs, secretsOf(s, [ADMIN_TOKEN]));
  await relay.stop();
  await s.close();
  dir.cleanup();
});

const login = (token: string, headers: Record<string, string> = {}) =>
  fetch(`${relay.url}/connect/login`, { method: 'POST', redirect: 'manual', headers, body: new URLSearchParams({ token }) });

describe('who may see /connect', () => {
  it('nobody without the admin token: a login form for a browser, 401 JSON for a script', async () => {
    const page = await get(relay, '/connect', { accept: 'text/html' });
    expect(page.status).toBe(401);
    const html = await page.text();
    expect(html).toContain('<form method="post" action="/connect/login">');
    expect(html).toContain('<input type="password" name="token"');
    const json = await get(relay, '/connect/status');
    expect(json.status).toBe(401);
    expect(await json.json()).toEqual({ error: 'admin_required', message: 'Send Authorization: Bearer <ADMIN_TOKEN>, or log in on /connect.' });
    expect((await get(relay, '/connect/status', { authorization: `Bearer ${ADMIN_TOKEN}x` })).status).toBe(401);
    expect((await get(relay, '/connect/zoho', { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await get(relay, '/connect/status', asAdmin)).status).toBe(200);
  });

  it('the login form sets an HttpOnly, SameSite=Strict session cookie that is not the token; a wrong token sets nothing', async () => {
    const wrong = await login('not-the-admin-token-at-all');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toContain('That is not the admin token.');

    const ok = await login(ADMIN_TOKEN);
    expect([ok.status, ok.headers.get('location')]).toEqual([303, '/connect']);
    const setCookie = ok.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict$`));
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    const cookie = setCookie.split(';')[0]!;
    const page = await get(relay, '/connect', { cookie });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<h2>Kommo</h2>');

    const tampered = cookie.slice(0, -1) + (cookie.endsWith('A') ? 'B' : 'A');
    expect((await get(relay, '/connect/status', { cookie: tampered })).status).toBe(401);
    const out = await fetch(`${relay.url}/connect/logout`, { method: 'POST', redirect: 'manual', headers: { cookie } });
    expect(out.headers.get('set-cookie')).toBe(`${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`);
  });

  it('behind an HTTPS proxy the cookie is Secure when TRUST_PROXY names the proxy, and only then', async () => {
    expect((await login(ADMIN_TOKEN, { 'x-forwarded-proto': 'https' })).headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Strict$/);
    const proxied = await startCapturedRelay(s.env({ ADMIN_TOKEN, TRUST_PROXY: 'loopback', DATABASE_URL: `sqlite:${dir.path}/proxied.db` }), { logs });
    try {
      const ok = await fetch(`${proxied.url}/connect/login`, { method: 'POST', redirect: 'manual', headers: { 'x-forwarded-proto': 'https' }, body: new URLSearchParams({ token: ADMIN_TOKEN }) });
      expect(ok.headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    } finally {
      await proxied.stop();
    }
  });

  it('without ADMIN_TOKEN the page is off and says how to turn it on', async () => {
    const other = await startCapturedRelay(s.env({ DATABASE_URL: `sqlite:${dir.path}/other.db` }), { logs });
    try {
      const res = await get(other, '/connect', asAdmin);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'connect_page_off', message: 'The connection page is off: set ADMIN_TOKEN to use it.' });
    } finally {
      await other.stop();
    }
  });
});

describe('what the page shows', () => {
  it('each side, how it is connected, with headers that keep the page private, and no secret at all', async () => {
    const res = await get(relay, '/connect', asAdmin);
    expect(res.status).toBe(200);
    expect({
      type: res.headers.get('content-type'),
      csp: res.headers.get('content-security-policy'),
      cache: res.headers.get('cache-control'),
      frame: res.headers.get('x-frame-options'),
      referrer: res.headers.get('referrer-policy'),
    }).toEqual({
      type: 'text/html; charset=utf-8',
      csp: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      cache: 'no-store',
      frame: 'DENY',
      referrer: 'no-referrer',
    });
    const html = await res.text();
    expect(html).toContain('<dt>Method</dt><dd>Long-lived token (KOMMO_ACCESS_TOKEN)</dd>');
    expect(html).toContain('<dt>Method</dt><dd>Self Client refresh token (ZOHO_REFRESH_TOKEN)</dd>');
    expect(html).toContain('<dt>Data centre</dt><dd>eu</dd>');
    expect(html).toContain('Kommo uses the long-lived token in KOMMO_ACCESS_TOKEN. To connect with OAuth instead, remove KOMMO_ACCESS_TOKEN and restart.');
    expect(html).not.toContain('<script');
    const status = await (await get(relay, '/connect/status', asAdmin)).text();
    expectNoSecretIn([html, status], secretsOf(s, [ADMIN_TOKEN, s.zoho.clientId.length > 0 ? s.zoho.clientSecret : undefined]));
  });

  it('every value is escaped, whatever a provider or an error message puts in it', () => {
    const hostile = '<img src=x onerror=alert(1)>"\'&';
    const status: ConnectionsStatus = {
      kommo: { connected: true, method: 'OAuth', account: hostile, lastError: { message: hostile, at: hostile } },
      accounting: { names: zohoBackend.names, status: { connected: false, method: 'OAuth', dataCentre: hostile, apiDomain: hostile, organization: { id: hostile, name: hostile }, chooseFrom: [{ id: hostile, name: hostile }] } },
      mapping: { state: 'resolved', stages: [hostile] },
    };
    const html = connectionPage(status);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('"\'&');
    expect(html.split('&#60;img src=x onerror=alert(1)&#62;&#34;&#39;&#38;').length - 1).toBe(11);
  });
});
