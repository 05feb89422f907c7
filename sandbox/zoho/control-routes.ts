// /_sandbox/: unauthenticated JSON control of the fake for a demo or benchmark in another process —
// seed data, record payments, inject faults, expire tokens, read state, requests and OAS violations.
import express, { type NextFunction, type Request, type Response } from 'express';
import { ZohoError } from './errors.js';
import type { FakeZoho } from './server.js';

export function controlRoutes(fake: FakeZoho): express.Router {
  const r = express.Router();
  r.use(express.json({ limit: '1mb' }));
  const body = (req: Request) => (req.body ?? {}) as Record<string, any>;

  r.get('/state', (_req, res) => {
    res.json(fake.snapshot());
  });
  r.get('/credentials', (_req, res) => {
    res.json({
      organization_id: fake.organizationId,
      client_id: fake.clientId,
      client_secret: fake.clientSecret,
      refresh_token: fake.refreshToken,
      base_url: fake.baseUrl,
    });
  });
  r.get('/requests', (_req, res) => {
    res.json(fake.requests);
  });
  r.get('/violations', (_req, res) => {
    res.json(fake.violations);
  });
  r.get('/emails', (_req, res) => {
    res.json(fake.emails);
  });
  r.get('/webhooks', (_req, res) => {
    res.json(fake.webhookDeliveries);
  });

  r.post('/invoices/:invoiceId/payments', (req, res) => {
    const b = body(req);
    const paymentId = fake.recordPayment(String(req.params.invoiceId), {
      amount: b.amount,
      date: b.date,
      paymentMode: b.payment_mode,
      referenceNumber: b.reference_number,
    });
    res.status(201).json({ payment_id: paymentId });
  });
  /** The client pays online (FakeZoho.payOnline). Body: { amount }. */
  r.post('/invoices/:invoiceId/pay-online', (req, res) => {
    res.status(201).json({ payment_id: fake.payOnline(String(req.params.invoiceId), Number(body(req).amount)) });
  });
  /** Body: { payment_gateways: ["stripe", …], organization_id? }: the organization's configured gateways. */
  r.post('/payment-gateways', (req, res) => {
    const b = body(req);
    fake.setPaymentGateways(Array.isArray(b.payment_gateways) ? b.payment_gateways.map(String) : [], b.organization_id);
    res.json({ ok: true });
  });
  r.post('/invoices/:invoiceId/view', (req, res) => {
    fake.viewInvoice(String(req.params.invoiceId));
    res.json({ ok: true });
  });
  r.post('/recurringinvoices/:recurrenceId/generate', (req, res) => {
    const invoiceId = fake.generateRecurringInvoice(String(req.params.recurrenceId), { send: body(req).send !== false });
    res.status(201).json({ invoice_id: invoiceId });
  });

  r.post('/contacts', (req, res) => {
    res.status(201).json({ contact_id: fake.addContact(body(req) as Parameters<FakeZoho['addContact']>[0]) });
  });
  r.post('/taxes', (req, res) => {
    res.status(201).json({ tax_id: fake.addTax(body(req) as Parameters<FakeZoho['addTax']>[0]) });
  });
  r.post('/currencies', (req, res) => {
    res.status(201).json({ currency_id: fake.addCurrency(body(req) as Parameters<FakeZoho['addCurrency']>[0]) });
  });
  r.post('/items', (req, res) => {
    res.status(201).json({ item_id: fake.addItem(body(req) as Parameters<FakeZoho['addItem']>[0]) });
  });
  r.post('/customfields', (req, res) => {
    res.status(201).json({ customfield_id: fake.addCustomField(body(req) as Parameters<FakeZoho['addCustomField']>[0]) });
  });

  /** Body: FaultSettings fields, and/or `reset: true`, and/or `failNext: {count, status, body?, headers?}`. */
  r.post('/faults', (req, res) => {
    const { reset, failNext, ...settings } = body(req);
    if (reset) fake.faults.reset();
    if (failNext) fake.faults.failNext(Number(failNext.count ?? 1), { status: Number(failNext.status), body: failNext.body, headers: failNext.headers });
    fake.faults.set(settings);
    res.json({ settings: fake.faults.settings });
  });
  r.post('/expire-tokens', (_req, res) => {
    fake.expireAccessTokens();
    res.json({ ok: true });
  });

  /** Body: a WorkflowWebhook, or `{}` to remove it. */
  r.post('/webhook', (req, res) => {
    const b = body(req);
    fake.setWorkflowWebhook(b.url ? (b as Parameters<FakeZoho['setWorkflowWebhook']>[0]) : undefined);
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

  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ZohoError) res.status(err.status).json({ code: err.code, message: err.message });
    else res.status(400).json({ error: err instanceof Error ? err.message : String(err) });
  });
  return r;
}
