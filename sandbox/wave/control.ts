// /__control/: unauthenticated JSON control of the fake Wave for a demo or test in another process — read
// state, requests, violations and emails; add businesses, customers and invoices as Wave's UI would; pay an
// invoice (by hand or online), approve, send or edit it as a person in Wave, mark it viewed, set its modifiedAt,
// delete it; inject faults (HTTP errors, 429 bursts, internal errors, lost answers); expire tokens, issue
// tokens, move the clock.
import express, { type NextFunction, type Request, type Response } from 'express';
import { currencyInfo, decimalString, majorString } from './money.js';
import { invoiceStatus, isoDay, paidMinor } from './records.js';
import type { FakeWave } from './server.js';

export function controlRoutes(fake: FakeWave): express.Router {
  const r = express.Router();
  r.use(express.json({ limit: '1mb' }));
  const body = (req: Request) => (req.body ?? {}) as Record<string, any>;
  const id = (req: Request) => String(req.params.id);
  const filter = (b: Record<string, any>) => (typeof b.field === 'string' ? { field: b.field } : {});

  r.get('/state', (_req, res) => void res.json(fake.snapshot()));
  r.get('/requests', (_req, res) => void res.json(fake.requests));
  r.get('/violations', (_req, res) => void res.json(fake.violations));
  r.get('/emails', (_req, res) => void res.json(fake.emails));
  r.get('/credentials', (_req, res) => {
    res.json({
      client_id: fake.clientId,
      client_secret: fake.clientSecret,
      refresh_token: fake.refreshToken,
      full_access_token: fake.fullAccessToken,
      business_id: fake.businessId,
      business_ids: fake.businessIds,
      base_url: fake.baseUrl,
      graphql_url: fake.graphqlUrl,
    });
  });

  r.post('/businesses', (req, res) => void res.status(201).json({ id: fake.addBusiness(body(req)) }));
  r.post('/businesses/:id', (req, res) => {
    fake.setBusiness(id(req), body(req));
    res.json({ ok: true });
  });
  r.post('/customers', (req, res) => {
    const { businessId, ...input } = body(req);
    res.status(201).json({ id: fake.addCustomer(input, businessId) });
  });
  r.post('/invoices', (req, res) => {
    const { businessId, recurringId, ...input } = body(req);
    res.status(201).json({ id: fake.addInvoice(input, { businessId, recurringId }) });
  });
  /** Body: {amount: "12.50", date?: "YYYY-MM-DD", method?}. */
  r.post('/invoices/:id/payments', (req, res) => {
    const b = body(req);
    res.status(201).json({ id: fake.payInvoice(id(req), { amount: String(b.amount), date: b.date, method: b.method }) });
  });
  /** Body: {amount: 12.5}: the customer pays online through Wave Payments; answers the payment's ID. */
  r.post('/invoices/:id/pay-online', (req, res) => void res.status(201).json({ id: fake.payOnline(id(req), Number(body(req).amount)) }));
  r.get('/invoices/:id/online-payment', (req, res) => void res.json({ ways: fake.onlinePayment(id(req)) }));
  r.post('/invoices/:id/approve', (req, res) => {
    fake.approveInvoice(id(req));
    res.json({ ok: true });
  });
  /** Body: {to: ["client@example.com"]}. */
  r.post('/invoices/:id/send', (req, res) => {
    fake.sendInvoice(id(req), Array.isArray(body(req).to) ? body(req).to.map(String) : []);
    res.json({ ok: true });
  });
  /** Body: {items: [{description, unitPrice, quantity}]}. */
  r.post('/invoices/:id/edit', (req, res) => {
    fake.editInvoice(id(req), Array.isArray(body(req).items) ? body(req).items : []);
    res.json({ ok: true });
  });
  r.post('/invoices/:id/viewed', (req, res) => {
    fake.markViewed(id(req));
    res.json({ ok: true });
  });
  /** Body: {at?: ISO date-time}; default now. */
  r.post('/invoices/:id/modified', (req, res) => {
    const at = typeof body(req).at === 'string' ? Date.parse(body(req).at) : undefined;
    fake.setModified(id(req), at === undefined || Number.isNaN(at) ? undefined : at);
    res.json({ ok: true });
  });
  r.post('/invoices/:id/delete', (req, res) => {
    fake.deleteInvoice(id(req));
    res.json({ ok: true });
  });

  /** Body: FaultSettings fields, and/or `reset: true`, and/or `failNext: {count, status, body?, headers?}`. */
  r.post('/faults', (req, res) => {
    const { reset, failNext, ...settings } = body(req);
    if (reset) {
      fake.faults.reset();
      fake.operationFaults.reset();
    }
    if (failNext) fake.faults.failNext(Number(failNext.count ?? 1), { status: Number(failNext.status), body: failNext.body, headers: failNext.headers });
    fake.faults.set(settings);
    res.json({ settings: fake.faults.settings });
  });
  /** Body: {count, retryAfter?: seconds}. */
  r.post('/rate-limit-burst', (req, res) => {
    fake.rateLimitBurst(Number(body(req).count ?? 1), Number(body(req).retryAfter ?? 1));
    res.json({ ok: true });
  });
  /** Body: {count, field?: a root field such as "invoiceCreate"}. */
  r.post('/internal-errors', (req, res) => {
    fake.internalErrorNext(Number(body(req).count ?? 1), filter(body(req)));
    res.json({ ok: true });
  });
  /** Body: {count, field?}: the work is done, the answer is lost. */
  r.post('/lose-answers', (req, res) => {
    fake.loseNextAnswers(Number(body(req).count ?? 1), filter(body(req)));
    res.json({ ok: true });
  });
  r.post('/expire-tokens', (_req, res) => {
    fake.expireAccessTokens();
    res.json({ ok: true });
  });
  /** Body: {scope?, businessId?}: a token pair as after a consent. */
  r.post('/tokens', (req, res) => void res.status(201).json(fake.issueTokens(body(req))));
  /** Body: {ms}. */
  r.post('/advance-time', (req, res) => {
    fake.advanceTime(Number(body(req).ms ?? 0));
    res.json({ now: new Date(fake.clock.now()).toISOString() });
  });

  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(400).json({ error: err instanceof Error ? err.message : String(err) });
  });
  return r;
}

/** The fake's state in plain JSON (amounts as decimal strings, statuses as Wave shows them). */
export function snapshotOf(fake: FakeWave): Record<string, unknown> {
  const s = fake.state;
  const today = isoDay(fake.clock.now());
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    businesses: [...s.businesses.values()].map(({ seq: _, uuid: __, ...b }) => ({ ...b, createdAt: iso(b.createdMs), modifiedAt: iso(b.modifiedMs) })),
    customers: [...s.customers.values()],
    products: [...s.products.values()].map((p) => ({ ...p, unitPrice: decimalString(p.unitPrice, 2) })),
    invoices: [...s.invoices.values()].map((inv) => {
      const exp = currencyInfo(inv.currency).exponent;
      return {
        id: inv.id,
        businessId: inv.businessId,
        customerId: inv.customerId,
        invoiceNumber: inv.invoiceNumber,
        status: invoiceStatus(s, inv, today),
        currency: inv.currency,
        invoiceDate: inv.invoiceDate,
        dueDate: inv.dueDate,
        memo: inv.memo,
        total: majorString(inv.totalMinor, exp),
        amountPaid: majorString(paidMinor(s, inv), exp),
        items: inv.items.map((i) => ({ productId: i.productId, description: i.description, quantity: decimalString(i.quantity), unitPrice: decimalString(i.unitPrice, 2), salesTaxIds: i.salesTaxIds })),
        disableCreditCardPayments: inv.disableCreditCardPayments,
        disableBankPayments: inv.disableBankPayments,
        disableAmexPayments: inv.disableAmexPayments,
        lastSentAt: iso(inv.lastSentMs),
        lastSentVia: inv.lastSentVia,
        modifiedAt: iso(inv.modifiedMs),
        createdAt: iso(inv.createdMs),
      };
    }),
    payments: [...s.payments.values()].map((p) => ({ ...p, amount: decimalString(p.amount, 2), exchangeRate: decimalString(p.exchangeRate) })),
    emails: s.emails,
    violations: fake.violations,
    tokenGrants: fake.oauth.grants,
    lostAnswers: fake.operationFaults.lost,
  };
}
