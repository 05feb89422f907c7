// /RepeatingInvoices: templates that generate invoices on a schedule. Xero has no edit, pause or resume
// through the API: POST on an existing template accepts only Status DELETED, anything else is 400
// "Repeating invoice status must be set to DELETED" (XeroAPI/xero-mcp-server#192, xero-python#105).
// The fake's control API "runs" a schedule on demand; generated invoices carry RepeatingInvoiceID.
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { tenantOf, type XeroContext } from './context.js';
import { ElementInvalid, XeroHttpError, notFound } from './errors.js';
import { createInvoice, emailInvoice, findContact, themeOf } from './invoices.js';
import { buildLines, currencyOf, lineAmountTypesOf } from './lines.js';
import { runBatch, summarizeErrors, validationErrors } from './listing.js';
import { envelope, repeatingJson } from './render.js';
import type { Invoice, RepeatingInvoice, Schedule, Tenant } from './state.js';
import { GUID } from './state.js';
import { addDays, addMonths, isoLocal, parseXeroDate, startOfDay } from './time.js';
import { matchesWhere, parseWhere } from './where.js';

type Json = Record<string, unknown>;
const DUE_DATE_TYPES = ['DAYSAFTERBILLDATE', 'DAYSAFTERBILLMONTH', 'DAYSAFTERINVOICEDATE', 'DAYSAFTERINVOICEMONTH', 'OFCURRENTMONTH', 'OFFOLLOWINGMONTH'];
export const ONLY_DELETE = 'Repeating invoice status must be set to DELETED';

function scheduleOf(input: unknown, messages: string[]): Schedule | undefined {
  if (typeof input !== 'object' || input === null) {
    messages.push('A Schedule must be specified for a repeating invoice.');
    return undefined;
  }
  const s = input as Json;
  const period = Number(s.Period ?? 1);
  if (!Number.isInteger(period) || period < 1) messages.push('Schedule Period must be a whole number of at least 1.');
  if (s.Unit !== 'WEEKLY' && s.Unit !== 'MONTHLY') messages.push('Schedule Unit must be WEEKLY or MONTHLY.');
  const dueDateType = String(s.DueDateType ?? 'DAYSAFTERBILLDATE');
  if (!DUE_DATE_TYPES.includes(dueDateType)) messages.push(`Schedule DueDateType must be one of ${DUE_DATE_TYPES.join(', ')}.`);
  const startMs = parseXeroDate(s.StartDate);
  if (startMs === undefined) messages.push('Schedule StartDate must be a valid date.');
  const endMs = s.EndDate === undefined ? undefined : parseXeroDate(s.EndDate);
  if (s.EndDate !== undefined && (endMs === undefined || (startMs !== undefined && endMs < startMs))) messages.push('Schedule EndDate must be a date after StartDate.');
  if (startMs === undefined) return undefined;
  const start = startOfDay(startMs);
  return {
    period,
    unit: s.Unit === 'WEEKLY' ? 'WEEKLY' : 'MONTHLY',
    dueDate: Number(s.DueDate ?? 0) || 0,
    dueDateType,
    startMs: start,
    ...(endMs !== undefined ? { endMs: startOfDay(endMs) } : {}),
    nextMs: start,
  };
}

function planCreate(ctx: XeroContext, tenant: Tenant, input: Json): () => RepeatingInvoice {
  const messages: string[] = [];
  const type = input.Type ?? 'ACCREC';
  if (type !== 'ACCREC' && type !== 'ACCPAY') messages.push('Type must be ACCREC or ACCPAY.');
  const contact = findContact(ctx, tenant, input.Contact);
  if (!contact) messages.push('A valid Contact must be specified.');
  const status = input.Status ?? 'DRAFT';
  if (status !== 'DRAFT' && status !== 'AUTHORISED') messages.push('A repeating invoice must be created as DRAFT or AUTHORISED.');
  const schedule = scheduleOf(input.Schedule, messages);
  const currencyCode = currencyOf(tenant, input.CurrencyCode, messages);
  const lineAmountTypes = lineAmountTypesOf(input.LineAmountTypes, messages);
  const totals = buildLines(tenant, input.LineItems, lineAmountTypes, messages);
  const brandingThemeId = themeOf(tenant, input, messages);
  if (messages.length) throw new ElementInvalid(messages);
  return () => {
    const r: RepeatingInvoice = {
      tenantId: tenant.tenantId,
      repeatingInvoiceId: randomUUID(),
      type: type as RepeatingInvoice['type'],
      contactId: contact!.contactId,
      ...(typeof input.Reference === 'string' ? { reference: input.Reference } : {}),
      status: status as RepeatingInvoice['status'],
      lineAmountTypes,
      currencyCode,
      ...totals,
      schedule: schedule!,
      ...(brandingThemeId ? { brandingThemeId } : {}),
      approvedForSending: input.ApprovedForSending === true,
      sendCopy: input.SendCopy === true,
      markAsSent: input.MarkAsSent === true,
      includePDF: input.IncludePDF === true,
    };
    ctx.state.repeatingInvoices.set(r.repeatingInvoiceId, r);
    return r;
  };
}

/** The only change Xero takes on an existing template. */
function planDelete(r: RepeatingInvoice, input: Json): () => RepeatingInvoice {
  if (input.Status !== 'DELETED') throw new XeroHttpError(400, { ErrorNumber: 10, Type: 'ValidationException', Message: ONLY_DELETE, Elements: [{ ValidationErrors: [{ Message: ONLY_DELETE }] }] });
  return () => {
    r.status = 'DELETED';
    return r;
  };
}

function dueDateOf(s: Schedule, billMs: number): number {
  const endOfMonth = addDays(addMonths(startOfDay(billMs), 1, 1), -1);
  switch (s.dueDateType) {
    case 'DAYSAFTERBILLMONTH':
    case 'DAYSAFTERINVOICEMONTH':
      return addDays(endOfMonth, s.dueDate);
    case 'OFCURRENTMONTH':
      return addMonths(billMs, 0, s.dueDate || 1);
    case 'OFFOLLOWINGMONTH':
      return addMonths(billMs, 1, s.dueDate || 1);
    default:
      return addDays(billMs, s.dueDate);
  }
}

/** What Xero does when a schedule comes due: one invoice dated NextScheduledDate, then the date moves on. */
export function runSchedule(ctx: XeroContext, r: RepeatingInvoice): Invoice {
  const tenant = ctx.state.tenants.get(r.tenantId)!;
  const s = r.schedule;
  if (r.status === 'DELETED') throw new Error(`repeating invoice ${r.repeatingInvoiceId} is deleted`);
  if (s.endMs !== undefined && s.nextMs > s.endMs) throw new Error(`repeating invoice ${r.repeatingInvoiceId} has ended`);
  const inv = createInvoice(
    ctx,
    tenant,
    {
      Type: r.type,
      Contact: { ContactID: r.contactId },
      LineItems: r.lineItems.map((l) => ({ Description: l.description, Quantity: l.quantity, UnitAmount: l.unitAmount, AccountCode: l.accountCode, TaxType: l.taxType, ItemCode: l.itemCode })),
      LineAmountTypes: r.lineAmountTypes,
      CurrencyCode: r.currencyCode,
      ...(r.reference !== undefined ? { Reference: r.reference } : {}),
      ...(r.brandingThemeId ? { BrandingThemeID: r.brandingThemeId } : {}),
      Date: isoLocal(s.nextMs),
      DueDate: isoLocal(dueDateOf(s, s.nextMs)),
      Status: r.status === 'AUTHORISED' ? 'AUTHORISED' : 'DRAFT',
      SentToContact: r.status === 'AUTHORISED' && r.markAsSent,
    },
    { repeatingInvoiceId: r.repeatingInvoiceId },
  );
  if (r.status === 'AUTHORISED' && r.approvedForSending) {
    try {
      emailInvoice(ctx, inv, 'schedule');
    } catch {
      // Xero skips sending when the contact has no address; the invoice stands.
    }
  }
  s.nextMs = s.unit === 'WEEKLY' ? addDays(s.nextMs, 7 * s.period) : addMonths(s.nextMs, s.period, new Date(s.startMs).getUTCDate());
  return inv;
}

export function repeatingRoutes(ctx: XeroContext): express.Router {
  const r = express.Router();
  const render = (res: Response) => (x: RepeatingInvoice) => repeatingJson(ctx.state, x, tenantOf(res.locals));
  const find = (res: Response, id: string) => {
    const found = GUID.test(id) ? ctx.state.repeatingInvoices.get(id.toLowerCase()) : undefined;
    if (!found || found.tenantId !== tenantOf(res.locals).tenantId) throw notFound();
    return found;
  };

  r.get('/RepeatingInvoices', (req, res) => {
    const tenant = tenantOf(res.locals);
    const where = parseWhere(typeof req.query.where === 'string' ? req.query.where : undefined);
    const items = [...ctx.state.repeatingInvoices.values()]
      .filter((x) => x.tenantId === tenant.tenantId)
      .map(render(res))
      .filter((json) => matchesWhere(where, json, ctx.caseSensitiveWhere));
    res.json(envelope('RepeatingInvoices', items));
  });
  r.get('/RepeatingInvoices/:id', (req, res) => {
    res.json(envelope('RepeatingInvoices', [render(res)(find(res, String(req.params.id)))]));
  });

  // With summarizeErrors=false a failed template is answered inside the 200 like an invoice; the document
  // lacks the two properties for RepeatingInvoice (src/accounting/xero/contract/overrides.ts adds them).
  const batch = (req: Request, res: Response, plan: (tenant: Tenant, input: Json) => () => RepeatingInvoice) => {
    const tenant = tenantOf(res.locals);
    const items = runBatch<RepeatingInvoice>({
      elements: (req.body as Json | undefined)?.RepeatingInvoices,
      what: 'repeating invoice',
      summarize: summarizeErrors(req.query as Record<string, unknown>),
      plan: (input) => plan(tenant, input),
      render: render(res),
      errorElement: () => ({}),
      failedElement: (input, messages) => ({
        ...(typeof input.Reference === 'string' ? { Reference: input.Reference } : {}),
        StatusAttributeString: 'ERROR',
        ValidationErrors: validationErrors(messages),
      }),
    });
    res.json(envelope('RepeatingInvoices', items));
  };
  r.put('/RepeatingInvoices', (req, res) => batch(req, res, (tenant, input) => planCreate(ctx, tenant, input)));
  r.post('/RepeatingInvoices', (req, res) =>
    batch(req, res, (tenant, input) =>
      typeof input.RepeatingInvoiceID === 'string' ? planDelete(find(res, input.RepeatingInvoiceID), input) : planCreate(ctx, tenant, input),
    ),
  );
  r.post('/RepeatingInvoices/:id', (req, res) => {
    const target = find(res, String(req.params.id));
    batch(req, res, (_tenant, input) => planDelete(target, input));
  });
  return r;
}
