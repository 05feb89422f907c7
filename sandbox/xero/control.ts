// /_sandbox/: unauthenticated JSON control of the fake Xero for a demo or benchmark in another process —
// seed data, record payments, run repeating invoices, inject faults and 429 bursts, expire tokens, move the
// clock, configure and check webhooks, read state, requests and contract violations.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { LimitProblem } from './limits.js';
import { contactJson, invoiceJson, paymentJson, repeatingJson } from './render.js';
import type { FakeXero } from './server.js';

export function controlRoutes(fake: FakeXero): express.Router {
  const r = express.Router();
  r.use(express.json({ limit: '1mb' }));
  const body = (req: Request) => (req.body ?? {}) as Record<string, any>;
  const tenantId = (req: Request) => (typeof body(req).tenantId === 'string' ? (body(req).tenantId as string) : undefined);

  r.get('/state', (_req, res) => void res.json(fake.snapshot()));
  r.get('/requests', (_req, res) => void res.json(fake.requests));
  r.get('/violations', (_req, res) => void res.json(fake.violations));
  r.get('/emails', (_req, res) => void res.json(fake.state.emails));
  r.get('/webhooks', (_req, res) => void res.json(fake.webhookDeliveries));
  r.get('/credentials', (_req, res) => {
    res.json({
      client_id: fake.clientId,
      client_secret: fake.clientSecret,
      refresh_token: fake.refreshToken,
      tenant_id: fake.tenantId,
      tenant_ids: fake.tenantIds,
      base_url: fake.baseUrl,
      api_url: fake.apiUrl,
    });
  });
  r.get('/limits/:tenantId', (req, res) => void res.json(fake.limits.remaining(String(req.params.tenantId))));

  r.post('/tenants', (req, res) => void res.status(201).json({ tenantId: fake.addTenant(body(req) as Parameters<FakeXero['addTenant']>[0]) }));
  r.post('/contacts', (req, res) => {
    const { tenantId: _, ...contact } = body(req);
    res.status(201).json({ ContactID: fake.addContact(contact, tenantId(req)) });
  });
  r.post('/invoices', (req, res) => {
    const { tenantId: _, ...invoice } = body(req);
    res.status(201).json({ InvoiceID: fake.addInvoice(invoice, tenantId(req)) });
  });
  r.post('/invoices/:invoiceId', (req, res) => {
    fake.updateInvoice(String(req.params.invoiceId), body(req));
    res.json({ ok: true });
  });
  /** Body: {amount, date?: "YYYY-MM-DD", reference?}. */
  r.post('/invoices/:invoiceId/payments', (req, res) => {
    const b = body(req);
    res.status(201).json({ PaymentID: fake.recordPayment(String(req.params.invoiceId), { amount: Number(b.amount), date: b.date, reference: b.reference }) });
  });
  /** Body: {amount}: the client pays through the invoice's payment service (FakeXero.payOnline). */
  r.post('/invoices/:invoiceId/pay-online', (req, res) => {
    res.status(201).json({ PaymentID: fake.payOnline(String(req.params.invoiceId), Number(body(req).amount)) });
  });
  r.get('/invoices/:invoiceId/online-payment', (req, res) => void res.json(fake.onlinePayment(String(req.params.invoiceId))));
  /** Body: {themes: [{name, sortOrder?, paymentServices?: [name | {name, type?}]}], tenantId?}. */
  r.post('/branding-themes', (req, res) => {
    const themes = body(req).themes;
    if (!Array.isArray(themes) || themes.length > 100) throw new Error('themes must be a list of at most 100 branding themes');
    fake.setBrandingThemes(themes as Parameters<FakeXero['setBrandingThemes']>[0], tenantId(req));
    res.json({ ok: true });
  });
  r.post('/payments/:paymentId/delete', (req, res) => {
    fake.deletePayment(String(req.params.paymentId));
    res.json({ ok: true });
  });
  r.post('/repeating-invoices/:id/run', (req, res) => {
    res.status(201).json({ InvoiceID: fake.runRepeatingInvoice(String(req.params.id)) });
  });

  /** Body: FaultSettings fields, and/or `reset: true`, and/or `failNext: {count, status, body?, headers?}`. */
  r.post('/faults', (req, res) => {
    const { reset, failNext, ...settings } = body(req);
    if (reset) fake.faults.reset();
    if (failNext) fake.faults.failNext(Number(failNext.count ?? 1), { status: Number(failNext.status), body: failNext.body, headers: failNext.headers });
    fake.faults.set(settings);
    res.json({ settings: fake.faults.settings });
  });
  /** Body: {count, problem?: minute|concurrent|daily, retryAfter?: seconds}. */
  r.post('/rate-limit-burst', (req, res) => {
    const b = body(req);
    fake.rateLimitBurst(Number(b.count ?? 1), (b.problem ?? 'minute') as LimitProblem, Number(b.retryAfter ?? 1));
    res.json({ ok: true });
  });
  /** Body: {count, method?, path?: a regular expression on the path under /api.xro/2.0, e.g. "^/Invoices$"}. */
  r.post('/lose-answers', (req, res) => {
    const b = body(req);
    const path = typeof b.path === 'string' && b.path.length <= 200 ? new RegExp(b.path, 'i') : undefined;
    fake.loseNextAnswers(Number(b.count ?? 1), { ...(typeof b.method === 'string' ? { method: b.method } : {}), ...(path ? { path } : {}) });
    res.json({ ok: true });
  });
  r.post('/expire-tokens', (_req, res) => {
    fake.expireAccessTokens();
    res.json({ ok: true });
  });
  r.post('/tokens', (req, res) => void res.status(201).json(fake.issueTokens(body(req).scope)));
  /** Body: {ms}. */
  r.post('/advance-time', (req, res) => {
    fake.advanceTime(Number(body(req).ms ?? 0));
    res.json({ now: fake.clock.now() });
  });

  /** Body: a WebhookConfig ({url, key, retries?, retryDelayMs?, timeoutMs?}), or `{}` to remove it. */
  r.post('/webhook', (req, res) => {
    const b = body(req);
    fake.setWebhook(b.url ? (b as Parameters<FakeXero['setWebhook']>[0]) : undefined);
    res.json({ ok: true });
  });
  r.post('/webhooks/drop', (req, res) => {
    fake.dropNextWebhooks(Number(body(req).n ?? 1));
    res.json({ ok: true });
  });
  r.post('/webhooks/flush', async (_req, res) => {
    await fake.flushWebhooks();
    res.json({ ok: true });
  });
  r.post('/webhooks/intent', async (_req, res) => void res.json(await fake.intentToReceive()));

  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(400).json({ error: err instanceof Error ? err.message : String(err) });
  });
  return r;
}

/** The fake's whole state as Xero-shaped JSON, each record with its tenantId. */
export function snapshotOf(fake: FakeXero): Record<string, unknown> {
  const s = fake.state;
  const withTenant = <T extends { tenantId: string }>(x: T, json: Record<string, unknown>) => ({ tenantId: x.tenantId, ...json });
  return {
    tenants: [...s.tenants.values()].map((t) => ({ tenantId: t.tenantId, name: t.name, baseCurrency: t.baseCurrency, countryCode: t.countryCode, brandingThemes: t.brandingThemes })),
    connections: [...s.connections.values()],
    contacts: [...s.contacts.values()].map((c) => withTenant(c, contactJson(c))),
    invoices: [...s.invoices.values()].map((i) => withTenant(i, invoiceJson(s, i))),
    payments: [...s.payments.values()].map((p) => withTenant(p, paymentJson(s, p))),
    repeatingInvoices: [...s.repeatingInvoices.values()].map((r) => withTenant(r, repeatingJson(s, r, s.tenants.get(r.tenantId)!))),
    emails: s.emails,
    webhookDeliveries: fake.webhookDeliveries,
    intentChecks: fake.intentChecks,
    violations: fake.violations,
    tokenGrants: fake.identity.grants,
  };
}
