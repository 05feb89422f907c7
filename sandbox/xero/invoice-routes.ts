// /Invoices over HTTP: list with where / IDs / InvoiceNumbers / ContactIDs / Statuses / searchTerm / page /
// If-Modified-Since, one by ID or number, PUT to create, POST to create or update (status transitions
// included), Email (204), OnlineInvoice.
import express, { type Request, type Response } from 'express';
import { tenantOf, type XeroContext } from './context.js';
import { ElementInvalid, notFound } from './errors.js';
import { emailInvoice, findInvoice, onlineInvoiceUrl, planCreateInvoice, planUpdateInvoice } from './invoices.js';
import { csv, modifiedSince, orderBy, paginate, runBatch, summarizeErrors, validationErrors } from './listing.js';
import { envelope, invoiceJson } from './render.js';
import type { Invoice, Tenant } from './state.js';
import { GUID, ZERO_GUID } from './state.js';
import { matchesWhere, parseWhere } from './where.js';

type Json = Record<string, unknown>;
const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

export function invoiceRoutes(ctx: XeroContext): express.Router {
  const r = express.Router();
  const q = (req: Request) => req.query as Record<string, unknown>;
  const render = (inv: Invoice) => invoiceJson(ctx.state, inv);

  r.get('/Invoices', (req, res) => {
    const tenant = tenantOf(res.locals);
    const query = q(req);
    const where = parseWhere(text(query.where));
    const ids = csv(query.IDs)?.map((s) => s.toLowerCase());
    const numbers = csv(query.InvoiceNumbers);
    const contactIds = csv(query.ContactIDs)?.map((s) => s.toLowerCase());
    const statuses = csv(query.Statuses);
    const term = text(query.searchTerm)?.toLowerCase();
    const since = modifiedSince(req);
    const found = [...ctx.state.invoices.values()].filter((inv) => {
      if (inv.tenantId !== tenant.tenantId) return false;
      if (ids && !ids.includes(inv.invoiceId)) return false;
      if (numbers && !numbers.includes(inv.invoiceNumber)) return false;
      if (contactIds && !contactIds.includes(inv.contactId)) return false;
      if (statuses && !statuses.includes(inv.status)) return false;
      if (query.createdByMyApp === 'true' && !inv.createdByApp) return false;
      if (since !== undefined && inv.updatedMs <= since) return false;
      if (term && ![inv.invoiceNumber, inv.reference].some((v) => v?.toLowerCase().includes(term))) return false;
      return matchesWhere(where, render(inv), ctx.caseSensitiveWhere);
    });
    const page = paginate(orderBy(found.map(render), query.order), query);
    res.json(envelope('Invoices', page.items, page.pagination ? { pagination: page.pagination } : {}));
  });

  const one = (res: Response, id: unknown): Invoice => {
    const inv = findInvoice(ctx, tenantOf(res.locals), String(id));
    if (!inv) throw notFound();
    return inv;
  };

  r.get('/Invoices/:id', (req, res) => {
    res.json(envelope('Invoices', [render(one(res, req.params.id))]));
  });

  const batch = (req: Request, res: Response, plan: (tenant: Tenant, input: Json) => () => Invoice) => {
    const tenant = tenantOf(res.locals);
    const items = runBatch<Invoice>({
      elements: (req.body as Json | undefined)?.Invoices,
      what: 'invoice',
      summarize: summarizeErrors(q(req)),
      plan: (input) => plan(tenant, input),
      render,
      errorElement: (input) => ({ InvoiceID: typeof input.InvoiceID === 'string' && GUID.test(input.InvoiceID) ? input.InvoiceID : ZERO_GUID }),
      failedElement: (input, messages) => ({
        InvoiceID: ZERO_GUID,
        ...(text(input.Reference) !== undefined ? { Reference: input.Reference } : {}),
        ...(text(input.InvoiceNumber) !== undefined ? { InvoiceNumber: input.InvoiceNumber } : {}),
        HasErrors: true,
        StatusAttributeString: 'ERROR',
        ValidationErrors: validationErrors(messages),
      }),
    });
    res.json(envelope('Invoices', items));
  };

  r.put('/Invoices', (req, res) => batch(req, res, (tenant, input) => planCreateInvoice(ctx, tenant, input)));
  r.post('/Invoices', (req, res) =>
    batch(req, res, (tenant, input) => {
      const key = text(input.InvoiceID) ?? text(input.InvoiceNumber);
      const existing = key === undefined ? undefined : findInvoice(ctx, tenant, key);
      if (input.InvoiceID !== undefined && !existing) throw new ElementInvalid(['The invoice could not be found.']);
      return existing ? planUpdateInvoice(ctx, tenant, existing, input) : planCreateInvoice(ctx, tenant, input);
    }),
  );
  r.post('/Invoices/:id', (req, res) => {
    const inv = one(res, req.params.id);
    batch(req, res, (tenant, input) => planUpdateInvoice(ctx, tenant, inv, input));
  });

  r.post('/Invoices/:id/Email', (req, res) => {
    emailInvoice(ctx, one(res, req.params.id));
    res.status(204).end();
  });

  r.get('/Invoices/:id/OnlineInvoice', (req, res) => {
    const url = onlineInvoiceUrl(one(res, req.params.id));
    res.json(envelope('OnlineInvoices', [{ OnlineInvoiceUrl: url }]));
  });
  return r;
}
