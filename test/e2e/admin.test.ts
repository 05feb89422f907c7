// The admin API and pages through real HTTP against the sandbox, for each accounting backend: who may use
// them, what a deal's record holds (events, jobs, attempts, the accounting system's IDs, errors), jobs by
// state, retry by API, escaped pages without a secret on them, and /readyz reporting both connections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCOUNTING, accountingBackend } from '../../src/accounting/registry.js';
import { ConfigError, parseEnv } from '../../src/config/env.js';
import { SESSION_COOKIE } from '../../src/http/admin-auth.js';
import type { Relay } from '../../src/relay.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET } from '../../sandbox/scenario.js';
import { ACCOUNTING_BACKENDS } from '../support/accounting-backends.js';
import { runCli } from '../support/cli.js';
import { asAdmin, expectNoSecretIn, get, secretsOf, startCapturedRelay } from '../support/connect.js';
import { dealInvoices, startE2E, waitFor, type E2E } from '../support/e2e.js';

const HOSTILE = '<img src=x onerror=alert(1)>';

/** Whether the configured backend connects by OAuth, so ADMIN_TOKEN (and ENCRYPTION_KEY) must be set. */
function accountingUsesOAuth(env: Record<string, string>): boolean {
  return accountingBackend(env.ACCOUNTING ?? DEFAULT_ACCOUNTING)!.settings.usesOAuth(new Set(Object.keys(env)));
}

describe.each(ACCOUNTING_BACKENDS)('%s', (accounting) => {
  let e2e: E2E;

  beforeAll(async () => {
    e2e = await startE2E({ accounting, env: { ADMIN_TOKEN } });
  });
  afterAll(async () => {
    expect(e2e.scenario.books.violations).toEqual([]);
    await e2e.close();
  });

  /** A JSON answer, loosely typed: the assertions below say what it must hold. */
  const json = async (res: Response | Promise<Response>): Promise<any> => (await res).json();

  const post = (path: string, init: { headers?: Record<string, string>; form?: Record<string, string> } = {}) =>
    fetch(`${e2e.relay.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: init.headers ?? {},
      ...(init.form ? { body: new URLSearchParams(init.form) } : {}),
    });

  async function failedDeal(): Promise<{ dealId: number; contactId: number; jobId: number }> {
    const s = e2e.scenario;
    const { dealId, contactId } = s.addClientDeal({ email: null, contactName: HOSTILE });
    s.moveToInvoice(dealId);
    const job = await waitFor(
      () => e2e.relay.store.db.selectFrom('jobs').select('id').where('deal_id', '=', String(dealId)).where('kind', '=', 'invoice_for_deal').where('state', '=', 'failed').executeTakeFirst(),
      'the invoice job to fail',
    );
    // The failure note is its own job: wait for it too, so the record below is complete.
    await waitFor(
      () => e2e.relay.store.db.selectFrom('jobs').select('id').where('deal_id', '=', String(dealId)).where('kind', '=', 'deal_note').where('state', '=', 'done').executeTakeFirst(),
      'the failure note',
    );
    return { dealId, contactId, jobId: Number(job.id) };
  }

  function addEmail(contactId: number, email: string) {
    const s = e2e.scenario;
    const emailField = [...s.kommo.state.contactFields.values()].find((f) => f.code === 'EMAIL')!;
    s.kommo.state.contacts.get(contactId)!.customFields.push({ fieldId: emailField.id, values: [{ value: email, enumCode: 'WORK' }] });
  }

  describe('who may use /admin and /metrics', () => {
    it('nobody without the admin token: a login form for a browser, 401 JSON for scripts', async () => {
      const page = await get(e2e.relay, '/admin', { accept: 'text/html' });
      expect(page.status).toBe(401);
      expect(await page.text()).toContain('<form method="post" action="/admin/login"><label>Admin token <input type="password" name="token"');
      for (const path of ['/admin', '/admin/jobs?state=failed', '/admin/deals/1', '/metrics']) {
        const res = await get(e2e.relay, path);
        expect([path, res.status, await res.json()]).toEqual([path, 401, { error: 'admin_required', message: 'Send Authorization: Bearer <ADMIN_TOKEN>, or log in on /admin.' }]);
      }
      expect((await get(e2e.relay, '/admin/jobs', { authorization: `Bearer ${ADMIN_TOKEN}x` })).status).toBe(401);
      expect((await post('/admin/jobs/1/retry')).status).toBe(401);
      expect((await post('/admin/jobs/1/retry', { form: { from: 'page' } })).status).toBe(401);
    });

    it('the login form starts the same session cookie as /connect; a wrong token sets none', async () => {
      const wrong = await post('/admin/login', { form: { token: 'not-the-admin-token-at-all' } });
      expect([wrong.status, wrong.headers.get('set-cookie')]).toEqual([401, null]);
      expect(await wrong.text()).toContain('That is not the admin token.');
      const ok = await post('/admin/login', { form: { token: ADMIN_TOKEN } });
      expect([ok.status, ok.headers.get('location')]).toEqual([303, '/admin']);
      const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
      expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
      expect(ok.headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Strict$/);
      expect((await get(e2e.relay, '/admin', { cookie, accept: 'text/html' })).status).toBe(200);
      expect((await get(e2e.relay, '/connect/status', { cookie })).status).toBe(200);
      const fromConnect = await fetch(`${e2e.relay.url}/connect/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: ADMIN_TOKEN }) });
      expect((await get(e2e.relay, '/admin/jobs', { cookie: fromConnect.headers.get('set-cookie')!.split(';')[0]! })).status).toBe(200);
    });

    it('without ADMIN_TOKEN the admin pages and /metrics are off (a backend connected by OAuth needs it: no start without)', async () => {
      const logs: string[] = [];
      const { ADMIN_TOKEN: _admin, ...env } = e2e.scenario.env();
      if (accountingUsesOAuth(env)) {
        const refused = (() => {
          try {
            parseEnv(env);
          } catch (err) {
            return err;
          }
        })();
        expect(refused).toBeInstanceOf(ConfigError);
        expect((refused as ConfigError).problems).toEqual([expect.stringMatching(/^ADMIN_TOKEN: is required because .+ uses OAuth, connected on the \/connect page it protects/)]);
        return;
      }
      const bare = await startCapturedRelay(env, { logs }, { worker: false });
      try {
        for (const path of ['/admin', '/metrics']) {
          const res = await get(bare, path, asAdmin);
          expect([res.status, await res.json()]).toEqual([404, { error: 'admin_off', message: 'The admin pages and /metrics are off: set ADMIN_TOKEN to use them.' }]);
        }
      } finally {
        await bare.stop();
      }
    });
  });

  describe('the admin API', () => {
    it("a failed deal's record, jobs by state, retry by API, then the deal's invoice — the CLI's --json says the same", async () => {
      const s = e2e.scenario;
      const { dealId, contactId, jobId } = await failedDeal();
      const reason = `Invoice not created: the contact "${HOSTILE}" has no email. Add an email to the contact, then move the deal into the invoicing stage again.`;

      const record = await json(get(e2e.relay, `/admin/deals/${dealId}`, asAdmin));
      expect(record.state).toEqual({ kind: 'failed', label: `failed (invoice_for_deal): ${reason}`, jobId });
      expect(record.events.map((e: { source: string; kind: string }) => [e.source, e.kind])).toEqual([['kommo', 'deal_entered_invoice_stage']]);
      expect(record.jobs.map((j: { id: number; kind: string; state: string; attemptLog: Array<{ outcome: string }> }) => [j.kind, j.state, j.attemptLog.map((a) => a.outcome)])).toEqual([
        ['invoice_for_deal', 'failed', ['failed']],
        ['deal_note', 'done', ['done']],
      ]);
      expect(record.errors.map((e: { jobId: number; code: string; message: string }) => [e.jobId, e.code, e.message])).toEqual([[jobId, 'contact_missing_email', reason]]);
      expect(record.accounting).toEqual({ reference: `KOMMO-${dealId}`, customerId: null, invoiceId: null, invoiceNumber: null, invoiceUrl: null, invoiceStatus: null, emailed: false, invoices: [], recurring: null });

      const failed = await json(get(e2e.relay, '/admin/jobs?state=failed', asAdmin));
      expect(failed.jobs.map((j: { id: number; state: string; lastError: unknown }) => [j.id, j.state, j.lastError])).toEqual([[jobId, 'failed', { code: 'contact_missing_email', message: reason }]]);
      expect(await (await get(e2e.relay, '/admin/jobs?state=broken', asAdmin)).json()).toEqual({ error: 'bad_state', message: 'state must be one of queued, running, done, failed, dead.' });
      expect((await json(get(e2e.relay, `/admin/jobs/${jobId}`, asAdmin))).attemptLog.map((a: { outcome: string }) => a.outcome)).toEqual(['failed']);

      addEmail(contactId, 'fixed@example.com');
      const retried = await post(`/admin/jobs/${jobId}/retry`, { headers: asAdmin });
      expect(retried.status).toBe(200);
      expect(await retried.json()).toMatchObject({ retried: { id: jobId, state: 'queued', attempts: 0 }, message: `Job ${jobId} (invoice_for_deal, deal ${dealId}) is queued again and runs now.` });
      await waitFor(async () => (await e2e.relay.queue.get(jobId))?.state === 'done', 'the retried job to finish');
      // The system tells the relay about a change to the new invoice (not the relay's own create or send, which
      // start nothing): the record then lists it as known and unpaid.
      await s.books.notify(dealInvoices(s, dealId)[0]!.id);
      await s.books.flushWebhooks();
      await waitFor(async () => (await e2e.relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain');

      const invoice = dealInvoices(s, dealId)[0]!;
      const after = await json(get(e2e.relay, `/admin/deals/${dealId}`, asAdmin));
      expect(after.state).toEqual({ kind: 'invoiced', label: `invoiced: ${invoice.number}` });
      expect(after.accounting).toEqual({
        reference: `KOMMO-${dealId}`,
        customerId: invoice.customerId,
        invoiceId: invoice.id,
        invoiceNumber: invoice.number,
        invoiceUrl: invoice.url,
        invoiceStatus: 'open',
        emailed: true,
        // Where the system tells nothing (Wave: polled), the relay follows an invoice once it is paid: none known yet.
        invoices: s.books.facts.payments === 'reconciler' ? [] : [{ invoiceId: invoice.id, paidAt: null }],
        recurring: null,
      });
      expect(after.jobs[0].attemptLog.map((a: { attempt: number; outcome: string }) => [a.attempt, a.outcome])).toEqual([
        [1, 'failed'],
        [1, 'done'],
      ]);
      const cli = await runCli(['deal', String(dealId), '--json'], e2e.scenario.env({ ADMIN_TOKEN }));
      expect(JSON.parse(cli.stdout)).toEqual(after);

      const again = await post(`/admin/jobs/${jobId}/retry`, { headers: asAdmin });
      expect([again.status, await again.json()]).toEqual([409, { error: 'job_not_retryable', message: `Job ${jobId} is done: only failed or dead jobs can be retried (it finished successfully).` }]);
      const byDeal = await post(`/admin/deals/${dealId}/retry`, { headers: asAdmin });
      expect([byDeal.status, await byDeal.json()]).toEqual([409, { error: 'nothing_to_retry', message: `Deal ${dealId} has no failed job to retry: invoiced: ${invoice.number}.` }]);
      expect((await post('/admin/jobs/987654/retry', { headers: asAdmin })).status).toBe(404);
      expect((await get(e2e.relay, '/admin/deals/987654', asAdmin)).status).toBe(404);
    });

    it('a deal retry re-runs its failed job', async () => {
      const { dealId, contactId, jobId } = await failedDeal();
      addEmail(contactId, 'deal-retry@example.com');
      const res = await post(`/admin/deals/${dealId}/retry`, { headers: asAdmin });
      expect([res.status, (await json(res)).retried.id]).toEqual([200, jobId]);
      await waitFor(() => dealInvoices(e2e.scenario, dealId).length === 1, 'the invoice');
    });
  });

  describe('the admin pages', () => {
    it('list failures and deals with every value escaped, a retry form per failure, and no secret anywhere', async () => {
      const { dealId, jobId } = await failedDeal();
      const res = await get(e2e.relay, '/admin', { ...asAdmin, accept: 'text/html' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
      expect(res.headers.get('cache-control')).toBe('no-store');
      const html = await res.text();
      expect(html).not.toContain('<img');
      expect(html).not.toContain('<script');
      expect(html).toContain(`<tr data-job="${jobId}"><td>#${jobId}</td><td><a href="/admin/deals/${dealId}">${dealId}</a></td><td>invoice_for_deal</td><td>failed</td><td class="reason"><code>contact_missing_email</code> Invoice not created: the contact &#34;&#60;img src=x onerror=alert(1)&#62;&#34; has no email.`);
      expect(html).toContain(`<form method="post" action="/admin/jobs/${jobId}/retry"><input type="hidden" name="from" value="page"><button type="submit">Retry</button></form>`);
      expect(html).toContain(`<tr data-deal="${dealId}"><td><a href="/admin/deals/${dealId}">${dealId}</a></td><td class="state state-failed">failed (invoice_for_deal): Invoice not created: the contact &#34;&#60;img`);

      const dealHtml = await (await get(e2e.relay, `/admin/deals/${dealId}`, { ...asAdmin, accept: 'text/html' })).text();
      expect(dealHtml).not.toContain('<img');
      expect(dealHtml).toContain(`<h2>Deal ${dealId}</h2>`);
      expect(dealHtml).toContain(`<input type="hidden" name="from" value="deal"><input type="hidden" name="deal" value="${dealId}">`);

      const secrets = secretsOf(e2e.scenario, [ADMIN_TOKEN, WEBHOOK_SECRET]);
      expectNoSecretIn([html, dealHtml, await (await get(e2e.relay, `/admin/deals/${dealId}`, asAdmin)).text(), await (await get(e2e.relay, '/admin/jobs', asAdmin)).text()], secrets);
    });

    it('a deal lookup by ID, and a form retry that goes back where it came from', async () => {
      const { dealId, contactId, jobId } = await failedDeal();
      const lookup = await get(e2e.relay, `/admin/deal?id=${dealId}`, asAdmin);
      expect([lookup.status, lookup.headers.get('location')]).toEqual([303, `/admin/deals/${dealId}`]);
      expect((await get(e2e.relay, '/admin/deal?id=12abc', { ...asAdmin, accept: 'text/html' })).status).toBe(400);
      addEmail(contactId, 'form-retry@example.com');
      const res = await post(`/admin/jobs/${jobId}/retry`, { headers: asAdmin, form: { from: 'deal', deal: String(dealId) } });
      expect([res.status, res.headers.get('location')]).toEqual([303, `/admin/deals/${dealId}?retried=${jobId}`]);
      await waitFor(async () => (await e2e.relay.queue.get(jobId))?.state === 'done', 'the retried job to finish');
      const refused = await post(`/admin/jobs/${jobId}/retry`, { headers: asAdmin, form: { from: 'page' } });
      expect(refused.status).toBe(409);
      expect(await refused.text()).toContain(`<p>Job ${jobId} is done: only failed or dead jobs can be retried (it finished successfully).</p><p><a class="button" href="/admin">Back</a></p>`);
    });
  });

  describe('/readyz', () => {
    it('ready when the database answers and both sides are connected', async () => {
      const res = await get(e2e.relay, '/readyz');
      // ...and the relays on the database (one here, on SQLite: its limits are kept in memory).
      const cluster = { processes: [expect.objectContaining({ role: 'intake+worker' })], leases: expect.any(Object), budgets: null };
      expect([res.status, await res.json()]).toEqual([200, { status: 'ready', database: 'ok', kommo: 'connected', [accounting]: 'connected', cluster }]);
      expect(await (await get(e2e.relay, '/healthz')).json()).toEqual({ status: 'ok' });
    });

    it('not ready while a side is not connected, though the relay runs and stores webhooks', async () => {
      const logs: string[] = [];
      let relay: Relay | undefined;
      try {
        relay = await startCapturedRelay(e2e.scenario.oauthEnv({ DATABASE_URL: `sqlite:${e2e.dir}/not-connected.db` }), { logs }, { worker: false, connectionWatchMs: 0 });
        const res = await get(relay, '/readyz');
        const cluster = { processes: [expect.objectContaining({ role: 'intake' })], leases: expect.any(Object), budgets: null };
        expect([res.status, await res.json()]).toEqual([503, { status: 'not_connected', database: 'ok', kommo: 'not_connected', [accounting]: 'not_connected', cluster }]);
        expect((await get(relay, '/healthz')).status).toBe(200);
      } finally {
        await relay?.stop();
      }
    });

    it('no token, secret or session cookie in any log line of the run', async () => {
      const login = await post('/admin/login', { form: { token: ADMIN_TOKEN } });
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      await get(e2e.relay, '/admin', { cookie, accept: 'text/html' });
      expectNoSecretIn(e2e.logs, secretsOf(e2e.scenario, [ADMIN_TOKEN, WEBHOOK_SECRET, cookie.split('=')[1]]));
      expect(e2e.logs.join('\n')).toContain('operator asked to retry a job');
    });
  });
});
