// The admin surface through real HTTP, on each store: state-changing requests refused when another site
// starts them (Sec-Fetch-Site / Origin, and behind a proxy with TRUST_PROXY), while same-origin pages and
// bearer scripts keep working; sessions that logging out ends on the server; wrong tokens rate-limited per
// address and overall, right ones never slowed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/http/admin-auth.js';
import type { Relay } from '../../src/relay.js';
import { AdminSessions } from '../../src/store/admin-sessions.js';
import { ADMIN_TOKEN, startScenario, type Scenario } from '../../sandbox/scenario.js';
import { asAdmin, expectNoSecretIn, get, secretsOf, startCapturedRelay } from '../support/connect.js';
import { databaseUrls, type DatabaseUrl } from '../support/database-urls.js';
import { tempDir } from '../support/tmp.js';

/** A JSON answer, loosely typed: the assertions say what it must hold. */
const json = async (res: Response): Promise<any> => res.json();
const OTHER_TOKEN = 'b5e0c97d1f2a4e8b6c3d0a9f7e1b2c4d8a6f0e3b9c7d1a5e2f4b8c0d6a9e3f71';

describe.each(databaseUrls)('the admin surface on %s', (_name, makeDatabase) => {
  let dir: ReturnType<typeof tempDir>;
  let s: Scenario;
  let database: DatabaseUrl;
  let relay: Relay;
  let proxied: Relay;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = tempDir('relay-admin-surface-');
    s = await startScenario({ dir: dir.path });
    database = await makeDatabase();
    relay = await startCapturedRelay(s.env({ ADMIN_TOKEN, DATABASE_URL: database.url }), { logs }, { worker: false });
    // The same relay behind a TLS proxy on loopback that it trusts (TRUST_PROXY).
    proxied = await startCapturedRelay(s.env({ ADMIN_TOKEN, DATABASE_URL: database.url, TRUST_PROXY: 'loopback' }), { logs }, { worker: false });
  });
  afterAll(async () => {
    expectNoSecretIn(logs, secretsOf(s, [ADMIN_TOKEN, OTHER_TOKEN]));
    await relay.stop();
    await proxied.stop();
    await s.close();
    await database.cleanup();
    dir.cleanup();
  });

  const send = (r: Relay, method: string, path: string, headers: Record<string, string> = {}, form?: Record<string, string>) =>
    fetch(`${r.url}${path}`, { method, redirect: 'manual', headers, ...(form ? { body: new URLSearchParams(form) } : {}) });
  const login = (r: Relay, headers: Record<string, string> = {}, token = ADMIN_TOKEN) => send(r, 'POST', '/admin/login', headers, { token });
  const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;

  describe('requests another site starts', () => {
    const actions: Array<[string, string, Record<string, string>, Record<string, string> | undefined]> = [
      ['POST', '/admin/login', {}, { token: ADMIN_TOKEN }],
      ['POST', '/connect/login', {}, { token: ADMIN_TOKEN }],
      ['POST', '/admin/logout', {}, undefined],
      ['POST', '/connect/logout', {}, undefined],
      ['POST', '/admin/jobs/1/retry', asAdmin, { from: 'page' }],
      ['POST', '/admin/deals/1/retry', asAdmin, undefined],
      ['POST', '/connect/zoho/organization', asAdmin, { organization_id: '1' }],
      ['GET', '/connect/zoho', asAdmin, undefined],
      ['GET', '/connect/kommo', asAdmin, undefined],
    ];

    it.each(actions)('%s %s: 403 with the reason, whatever token or cookie comes with it', async (method, path, auth, form) => {
      for (const [headers, reason] of [
        [{ 'sec-fetch-site': 'cross-site' }, 'the browser says the request came from another site (Sec-Fetch-Site: cross-site)'],
        [{ 'sec-fetch-site': 'same-site', origin: 'https://admin.example.com' }, 'the browser says the request came from another site (Sec-Fetch-Site: same-site)'],
        [{ origin: 'https://evil.example' }, `the request came from another origin (Origin: https://evil.example; this relay is ${relay.url})`],
        [{ origin: 'null' }, `the request came from another origin (Origin: null; this relay is ${relay.url})`],
      ] as const) {
        const res = await send(relay, method, path, { ...auth, ...headers }, form);
        expect([res.status, res.headers.get('set-cookie'), await res.json()]).toEqual([
          403,
          null,
          { error: 'cross_site_request', message: `Refused: ${reason}. Admin actions are taken from the relay's own pages, or by a script with Authorization: Bearer <ADMIN_TOKEN>.` },
        ]);
      }
    });

    it('the relay\'s own pages (same-origin) and scripts (neither header) keep working; the OAuth callbacks stay open to the provider\'s redirect', async () => {
      const page = await login(relay, { 'sec-fetch-site': 'same-origin', origin: relay.url });
      expect([page.status, page.headers.get('location')]).toEqual([303, '/admin']);
      // A browser without Sec-Fetch-Site: its Origin is compared with the scheme and Host the request came to.
      expect((await login(relay, { origin: relay.url })).status).toBe(303);
      expect((await login(relay, { origin: relay.url.replace('127.0.0.1', 'localhost') })).status).toBe(403);
      const script = await send(relay, 'POST', '/admin/jobs/999999/retry', asAdmin);
      expect([script.status, (await json(script)).error]).toEqual([404, 'job_not_found']);
      const start = await send(relay, 'GET', '/connect/zoho', { ...asAdmin, 'sec-fetch-site': 'same-origin' });
      expect(start.status).toBe(409); // past the check: this relay uses a Self Client
      const callback = await send(relay, 'GET', '/connect/zoho/callback?code=x&state=y', { 'sec-fetch-site': 'cross-site' });
      expect(callback.status).toBe(409);
    });

    it('behind a proxy, the origin is the one the proxy reports (X-Forwarded-Proto/Host) only when TRUST_PROXY names it', async () => {
      const viaProxy = { origin: 'https://relay.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'relay.example.com' };
      const trusted = await login(proxied, viaProxy);
      expect(trusted.status).toBe(303);
      expect(trusted.headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
      const untrusted = await login(relay, viaProxy);
      expect(untrusted.status).toBe(403);
      expect((await json(untrusted)).message).toContain(`(Origin: https://relay.example.com; this relay is ${relay.url})`);
      // Forwarded headers do not make another site's request pass.
      expect((await login(proxied, { ...viaProxy, origin: 'https://evil.example' })).status).toBe(403);
    });
  });

  describe('sessions', () => {
    it('are kept on the server, hashed; logging out ends one there, so a copy of the cookie stops working too', async () => {
      const res = await login(relay, { 'sec-fetch-site': 'same-origin' });
      const cookie = cookieOf(res);
      const id = cookie.slice(SESSION_COOKIE.length + 1);
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const rows = await relay.store.db.selectFrom('admin_sessions').selectAll().execute();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.some((r) => r.id_hash === id || r.id_hash.includes(id))).toBe(false);
      expect((await get(relay, '/admin', { cookie, accept: 'text/html' })).status).toBe(200);
      expect((await get(proxied, '/connect/status', { cookie })).status).toBe(200); // another process on the same store

      const out = await send(relay, 'POST', '/admin/logout', { cookie, 'sec-fetch-site': 'same-origin' });
      expect([out.status, out.headers.get('set-cookie')]).toEqual([303, `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`]);
      expect((await get(relay, '/admin', { cookie })).status).toBe(401);
      expect((await get(proxied, '/connect/status', { cookie })).status).toBe(401);
      expect((await send(relay, 'POST', '/admin/deals/1/retry', { cookie })).status).toBe(401);
    });

    it('end after 12 hours and are pruned; a new ADMIN_TOKEN ends every session', async () => {
      const twelveHoursAgo = Date.now() - 12 * 3600_000 - 1000;
      const stale = await new AdminSessions(relay.store.db, ADMIN_TOKEN, () => twelveHoursAgo).create(12 * 3600_000);
      expect((await get(relay, '/admin', { cookie: `${SESSION_COOKIE}=${stale}` })).status).toBe(401);
      const count = async () => (await relay.store.db.selectFrom('admin_sessions').select('expires_at').execute()).filter((r) => Number(r.expires_at) <= Date.now()).length;
      expect(await count()).toBe(1);
      const fresh = cookieOf(await login(relay));
      expect(await count()).toBe(0);

      const rotated = await startCapturedRelay(s.env({ ADMIN_TOKEN: OTHER_TOKEN, DATABASE_URL: database.url }), { logs }, { worker: false });
      try {
        expect((await get(rotated, '/connect/status', { cookie: fresh })).status).toBe(401);
        expect((await get(relay, '/connect/status', { cookie: fresh })).status).toBe(200);
      } finally {
        await rotated.stop();
      }
    });
  });

  describe('wrong tokens', () => {
    const from = (address: string, headers: Record<string, string> = {}) => ({ 'x-forwarded-for': address, ...headers });

    it('per address: after 10 wrong ones, 429 with Retry-After for that address, the right token included; others are not slowed', async () => {
      for (let i = 0; i < 10; i++) expect((await login(proxied, from('203.0.113.1'), `wrong-${i}`)).status).toBe(401);
      const limited = await login(proxied, from('203.0.113.1'), ADMIN_TOKEN);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(800);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(900);
      expect(limited.headers.get('set-cookie')).toBeNull();
      expect((await json(limited)).error).toBe('too_many_attempts');
      expect((await get(proxied, '/admin/jobs', from('203.0.113.1', asAdmin))).status).toBe(429);

      // Bad bearer tokens count the same way.
      for (let i = 0; i < 10; i++) expect((await get(proxied, '/metrics', from('203.0.113.2', { authorization: `Bearer wrong-${i}` }))).status).toBe(401);
      expect((await get(proxied, '/metrics', from('203.0.113.2', asAdmin))).status).toBe(429);

      // Right tokens are never counted: 60 in a row from one address all pass, at once.
      const started = Date.now();
      for (let i = 0; i < 60; i++) expect((await get(proxied, '/admin/jobs?limit=1', from('203.0.113.3', asAdmin))).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await login(proxied, from('203.0.113.3'))).status).toBe(303);
    });

    it('overall: after 100 wrong ones from any addresses, every token check waits; a browser already logged in does not', async () => {
      const session = cookieOf(await login(proxied, from('198.51.100.200')));
      // 20 failures so far (the test above); 80 more from 8 other addresses, 10 each.
      for (let a = 0; a < 8; a++) for (let i = 0; i < 10; i++) expect((await login(proxied, from(`198.51.100.${a}`), `guess-${a}-${i}`)).status).toBe(401);
      const fresh = await login(proxied, from('198.51.100.99'));
      expect(fresh.status).toBe(429);
      expect(Number(fresh.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await get(proxied, '/admin/jobs', from('198.51.100.98', asAdmin))).status).toBe(429);
      expect((await get(proxied, '/admin/jobs', from('198.51.100.98', { cookie: session }))).status).toBe(200);
      // The other process counts its own: the limit is per relay process.
      expect((await get(relay, '/admin/jobs', asAdmin)).status).toBe(200);
    });
  });
});
