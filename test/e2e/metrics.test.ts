// /metrics after a known sequence: webhooks stored, duplicated, ignored and rejected; one invoice job that
// met a 429 and a 503 from Zoho on its way. Every counter is checked against what happened — the outbound
// ones against the requests the fake servers recorded. Then the log of the whole run: one line per request
// with its request_id, job lines with their job_id, and not one token or secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, WEBHOOK_SECRET } from '../../sandbox/scenario.js';
import { asAdmin, expectNoSecretIn, get, secretsOf } from '../support/connect.js';
import { invoicesOf, startE2E, waitFor, type E2E } from '../support/e2e.js';

let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E({ env: { ADMIN_TOKEN } });
});
afterAll(async () => {
  await e2e.close();
});

/** Prometheus text format -> { 'name{a="1",b="2"}': value }, labels in the order written. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function countByStatus(requests: Array<{ path: string; status?: number }>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests.filter((r) => r.path.startsWith(prefix))) out[String(r.status)] = (out[String(r.status)] ?? 0) + 1;
  return out;
}

function samples(metrics: Map<string, number>, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of metrics) {
    const m = new RegExp(`^${name}\\{(.*)\\}$`).exec(key);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (label.split(',').every((l) => l.split('=')[1] === labels[l.split('=')[0]!])) out[labels.status ?? labels.outcome ?? labels.state ?? ''] = value;
  }
  return out;
}

describe('/metrics', () => {
  it('counts exactly what happened', async () => {
    const s = e2e.scenario;
    const url = e2e.relay.url;
    const a = s.addClientDeal();
    const b = s.addClientDeal();
    // Zoho: the invoice job's first call is rate limited, its retry meets a 503, the next one passes.
    s.zoho.faults.failNext(1, { status: 429, body: { code: 45, message: 'Too many requests' }, headers: { 'X-Rate-Limit-Reset': '1' } });
    s.zoho.faults.failNext(1, { status: 503, body: { code: 9999, message: 'Service unavailable' } });

    s.moveToInvoice(a.dealId); // Kommo sends it: stored
    await s.kommo.flushWebhooks();
    const body = s.kommo.deliveries.find((d) => d.events.includes('status_lead'))!.body;
    for (let i = 0; i < 2; i++) {
      // Kommo delivering the same webhook again: duplicates
      const res = await fetch(`${url}/webhooks/kommo/${WEBHOOK_SECRET}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect(res.status).toBe(200);
    }
    s.kommo.moveLeads([b.dealId], s.stages.proposal); // a stage the relay does not act on: ignored
    await s.kommo.flushWebhooks();
    const rejected = await fetch(`${url}/webhooks/zoho/${WEBHOOK_SECRET}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nothing":"here"}' });
    expect(rejected.status).toBe(400);
    const wrongSecret = await fetch(`${url}/webhooks/zoho/wrong-${WEBHOOK_SECRET}`, { method: 'POST', body: '{}' });
    expect(wrongSecret.status).toBe(403); // refused before the intake: not a webhook received

    await waitFor(() => invoicesOf(s, a.dealId).length === 1 && s.kommo.state.leads.get(a.dealId)?.customFields.some((f) => f.fieldId === s.fields.invoiceUrl), 'the deal invoiced');
    await waitFor(async () => (await e2e.relay.queue.countByState()).done === 1, 'the job recorded as done');

    const res = await get(e2e.relay, '/metrics', asAdmin);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = parseMetrics(await res.text());

    expect(samples(m, 'relay_webhooks_received_total', 'source=kommo')).toEqual({ stored: 1, duplicate: 2, ignored: 1 });
    expect(samples(m, 'relay_webhooks_received_total', 'source=zoho')).toEqual({ rejected: 1 });
    expect(samples(m, 'relay_job_attempts_total', 'kind=invoice_for_deal')).toEqual({ done: 1 });
    expect(m.get('relay_job_duration_seconds_count{kind="invoice_for_deal",outcome="done"}')).toBe(1);
    expect(m.get('relay_job_duration_seconds_bucket{le="+Inf",kind="invoice_for_deal",outcome="done"}')).toBe(1);
    expect(samples(m, 'relay_jobs', '')).toEqual({ queued: 0, running: 0, done: 1, failed: 0, dead: 0 });
    expect(m.get('relay_queue_depth')).toBe(0);

    // Outbound calls by status: exactly the requests the fakes answered.
    const zoho = countByStatus(s.zoho.requests, '/books/v3/');
    expect(zoho['429']).toBe(1);
    expect(zoho['503']).toBe(1);
    expect(samples(m, 'relay_outbound_requests_total', 'service=zoho')).toEqual(zoho);
    expect(samples(m, 'relay_outbound_errors_total', 'service=zoho')).toEqual({ '429': 1, '503': 1 });
    const kommo = countByStatus(s.kommo.requests, '/api/v4/');
    expect(samples(m, 'relay_outbound_requests_total', 'service=kommo')).toEqual(kommo);
    expect(samples(m, 'relay_outbound_errors_total', 'service=kommo')).toEqual({});
    expect(m.get('relay_outbound_request_duration_seconds_count{service="zoho"}')).toBe(Object.values(zoho).reduce((x, y) => x + y, 0));
    // The 429 paused Zoho's limiter: the retry waited once for it.
    expect(m.get('relay_rate_limit_waits_total{service="zoho"}')).toBe(1);
    expect(m.get('relay_rate_limit_wait_seconds_total{service="zoho"}')).toBeGreaterThan(0.5);
    // The process metrics are there too, in this relay's own registry.
    expect(m.has('process_cpu_user_seconds_total')).toBe(true);
  });

  it('a relay started again in the same process counts from zero: each relay has its own registry', async () => {
    const other = await e2e.restart({ ADMIN_TOKEN });
    const m = parseMetrics(await (await get(other, '/metrics', asAdmin)).text());
    expect(samples(m, 'relay_webhooks_received_total', 'source=kommo')).toEqual({});
    expect(samples(m, 'relay_jobs', '')).toEqual({ queued: 0, running: 0, done: 1, failed: 0, dead: 0 });
  });
});

describe('the log of the run', () => {
  it('one line per request with its request_id, job lines with their job_id and deal_id, and no token or secret', () => {
    const lines = e2e.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(5);
    for (const r of requests) expect(r.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(requests.filter((r) => String(r.url).startsWith('/webhooks/')).map((r) => r.url)).toContain('/webhooks/kommo/[redacted]');
    const jobLines = lines.filter((l) => l.component === 'worker' && typeof l.msg === 'string' && l.msg.startsWith('job '));
    expect(jobLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['job started', 'job done']));
    for (const l of jobLines) expect([typeof l.job_id, typeof l.deal_id]).toEqual(['number', 'number']);
    expectNoSecretIn(e2e.logs, secretsOf(e2e.scenario, [ADMIN_TOKEN, WEBHOOK_SECRET]));
  });
});
