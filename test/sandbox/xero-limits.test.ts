// The fake Xero's limits, faults and webhooks, through real HTTP: per-minute, concurrent and daily limits
// (429 with Retry-After and X-Rate-Limit-Problem, the remaining counts on every answer), injected faults,
// signed INVOICE webhooks with retries, and the intent-to-receive check.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { signWebhook } from '../../sandbox/xero/server.js';
import { closeFakesAfterEach, newContact, newInvoice, startXero } from './xero-helpers.js';

closeFakesAfterEach();

const receivers: Server[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

interface Received {
  signature: string;
  body: string;
}

/** A webhook receiver; `answer` decides the status from what arrived. */
async function receiver(answer: (r: Received, n: number) => number): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { signature: String(req.headers['x-xero-signature'] ?? ''), body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      res.statusCode = answer(r, received.length);
      res.end();
    });
  });
  receivers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/xero`, received };
}

const KEY = 'webhook-key-from-the-developer-portal';
const verifies = (r: Received) => r.signature === signWebhook(r.body, KEY);

describe('limits', () => {
  it('allows the per-minute count, then 429 minute with Retry-After; a new minute opens again', async () => {
    const { fake, api } = await startXero({ limits: { perMinute: 3 } });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await api.get('/Organisation'));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers.get('x-minlimit-remaining'))).toEqual(['2', '1', '0', '0']);
    expect(answers[0]!.headers.get('x-daylimit-remaining')).toBe('4999');
    expect(answers[0]!.headers.get('x-appminlimit-remaining')).toEqual(expect.any(String));
    const refused = answers[3]!;
    expect(refused.headers.get('x-rate-limit-problem')).toBe('minute');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    fake.advanceTime(60_000);
    expect((await api.get('/Organisation')).status).toBe(200);
  });

  it('counts each organisation on its own', async () => {
    const { fake, api } = await startXero({ limits: { perMinute: 1 }, tenants: [{ name: 'A' }, { name: 'B' }] });
    const [a, b] = fake.tenantIds;
    expect((await api.get('/Organisation', { tenant: a })).status).toBe(200);
    expect((await api.get('/Organisation', { tenant: a })).status).toBe(429);
    expect((await api.get('/Organisation', { tenant: b })).status).toBe(200);
  });

  it('stops at the day quota with 429 daily and X-DayLimit-Remaining 0 until the day is over', async () => {
    const { fake, api } = await startXero({ limits: { perDay: 2 } });
    expect((await api.get('/TaxRates')).headers.get('x-daylimit-remaining')).toBe('1');
    expect((await api.get('/TaxRates')).headers.get('x-daylimit-remaining')).toBe('0');
    const over = await api.get('/TaxRates');
    expect([over.status, over.headers.get('x-rate-limit-problem'), over.headers.get('x-daylimit-remaining')]).toEqual([429, 'daily', '0']);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(3600);
    fake.advanceTime(86_400_000); // the access token has expired too by then
    expect((await api.get('/TaxRates', { token: fake.mintAccessToken() })).status).toBe(200);
  });

  it('refuses a call beyond the concurrent limit with 429 concurrent', async () => {
    const { fake, api } = await startXero({ limits: { concurrent: 2 } });
    fake.faults.set({ latencyMs: 300 });
    const answers = await Promise.all([1, 2, 3].map(() => api.get('/Currencies')));
    fake.faults.reset();
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429]);
    expect(answers.find((a) => a.status === 429)!.headers.get('x-rate-limit-problem')).toBe('concurrent');
    expect(fake.limits.inFlight(fake.tenantId)).toBe(0);
  });
});

describe('faults', () => {
  it('injects 429 bursts, server errors and calls that never answer', async () => {
    const { fake, api } = await startXero();
    fake.rateLimitBurst(2, 'minute', 7);
    const burst = [await api.get('/Organisation'), await api.get('/Organisation'), await api.get('/Organisation')];
    expect(burst.map((a) => a.status)).toEqual([429, 429, 200]);
    expect([burst[0]!.headers.get('retry-after'), burst[0]!.headers.get('x-rate-limit-problem')]).toEqual(['7', 'minute']);

    fake.faults.set({ errorRate: 1, statuses: [503] });
    expect((await api.get('/Organisation')).status).toBe(503);
    fake.faults.set({ errorRate: 0, timeoutRate: 1 });
    await expect(api.get('/Organisation', { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    fake.faults.reset();
    expect((await api.get('/Organisation')).status).toBe(200);
  });
});

describe('webhooks', () => {
  it('sends signed INVOICE CREATE and UPDATE events that the contract accepts', async () => {
    const hook = await receiver(() => 200);
    const { fake, api } = await startXero({ webhook: { url: hook.url, key: KEY } });
    const inv = await newInvoice(api, await newContact(api));
    await fake.flushWebhooks();
    fake.recordPayment(inv.InvoiceID, { amount: 240 });
    await fake.flushWebhooks();
    expect(hook.received).toHaveLength(2);
    expect(hook.received.every(verifies)).toBe(true);
    const [created, paid] = hook.received.map((r) => JSON.parse(r.body));
    expect(created.events).toEqual([
      {
        resourceUrl: `${fake.apiUrl}/Invoices/${inv.InvoiceID}`,
        resourceId: inv.InvoiceID,
        eventDateUtc: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        eventType: 'CREATE',
        eventCategory: 'INVOICE',
        tenantId: fake.tenantId,
        tenantType: 'ORGANISATION',
      },
    ]);
    expect(paid.events[0]).toMatchObject({ eventType: 'UPDATE', resourceId: inv.InvoiceID });
    expect([created.firstEventSequence, paid.firstEventSequence, paid.lastEventSequence]).toEqual([1, 2, 2]);
    expect(created.entropy).toMatch(/^[A-Z]{20}$/);
    expect(fake.violations.filter((v) => v.direction === 'webhook')).toEqual([]);
  });

  it('retries a failed delivery until it gets 200, and can drop one on purpose', async () => {
    const hook = await receiver((_r, n) => (n === 1 ? 500 : 200));
    const { fake, api } = await startXero({ webhook: { url: hook.url, key: KEY, retryDelayMs: 20 } });
    const contact = await newContact(api);
    await newInvoice(api, contact);
    await fake.flushWebhooks();
    expect(fake.webhookDeliveries.map((d) => [d.attempt, d.status])).toEqual([[1, 500], [2, 200]]);
    expect(hook.received[0]!.body).toBe(hook.received[1]!.body);

    fake.dropNextWebhooks(1);
    await newInvoice(api, contact);
    await fake.flushWebhooks();
    expect(hook.received).toHaveLength(2);
    expect(fake.webhookDeliveries.at(-1)).toMatchObject({ dropped: true, attempt: 0 });
  });

  it('performs the intent-to-receive check: 200 for the signed request and 401 for the wrongly signed one', async () => {
    const correct = await receiver((r) => (verifies(r) ? 200 : 401));
    const { fake, base } = await startXero({ webhook: { url: correct.url, key: KEY } });
    const check = await fake.intentToReceive();
    expect(check).toMatchObject({ signedStatus: 200, badSignatureStatus: 401, passed: true });
    const intent = JSON.parse(correct.received[0]!.body);
    expect(intent).toEqual({ events: [], firstEventSequence: 0, lastEventSequence: 0, entropy: expect.any(String) });
    expect(correct.received.map(verifies)).toEqual([true, false]);

    // A receiver that does not check signatures fails the check; the control route runs it too.
    const naive = await receiver(() => 200);
    fake.setWebhook({ url: naive.url, key: KEY });
    const res = await fetch(`${base}/_sandbox/webhooks/intent`, { method: 'POST' });
    expect(await res.json()).toMatchObject({ signedStatus: 200, badSignatureStatus: 200, passed: false });
    expect(fake.intentChecks.map((c) => c.passed)).toEqual([true, false]);
  });
});

describe('faults on the identity server', () => {
  it('are off by default and, with faultIdentity, hit only the identity routes', async () => {
    const { fake, base, api } = await startXero({ faultIdentity: true });
    fake.faults.failNext(1, { status: 503 });
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: fake.refreshToken });
    const auth = `Basic ${Buffer.from(`${fake.clientId}:${fake.clientSecret}`).toString('base64')}`;
    const token = () => fetch(`${base}/connect/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect((await token()).status).toBe(503);
    expect((await fetch(`${base}/_sandbox/credentials`)).status).toBe(200);
    expect((await token()).status).toBe(200);
    expect((await api.get('/Organisation')).status).toBe(200);
  });
});
