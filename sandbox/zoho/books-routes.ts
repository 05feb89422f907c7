// The /books/v3 endpoints: thin handlers that read the request, call the domain functions and answer
// in Zoho's envelope `{code: 0, message, …}`. Status codes follow the OAS (201 for creates and for the
// recurring stop/resume actions).
import express, { type Request, type Response } from 'express';
import { contactJson, createContact, getContact, listContacts, updateContact } from './contacts.js';
import { queryFlag } from './fields.js';
import { invoiceJson, listInvoices } from './invoice-json.js';
import {
  createInvoice,
  deleteInvoice,
  emailInvoice,
  getInvoice,
  markSent,
  updateInvoice,
  upsertInvoice,
  voidInvoice,
  submitInvoice,
  approveInvoice,
  type BooksContext,
  type SentEmail,
} from './invoices.js';
import { matchesText } from './listing.js';
import { getPayment, invoicePaymentsJson, listCustomerPayments, paymentJson } from './payments.js';
import { createRecurring, getRecurring, listRecurring, recurringJson, setRecurringStatus } from './recurring.js';
import { currencyJson, itemJson, organizationJson, taxJson } from './settings.js';
import { inOrg, type Organization, type ZohoState } from './state.js';

export interface BooksDeps {
  state: ZohoState;
  emails: SentEmail[];
  portalHost: string;
}

const ok = (extra: Record<string, unknown> = {}, message = 'success') => ({ code: 0, message, ...extra });

export function booksRoutes(deps: BooksDeps): express.Router {
  const r = express.Router();
  const ctx = (res: Response): BooksContext => ({
    state: deps.state,
    org: res.locals.org as Organization,
    emails: deps.emails,
    portalHost: deps.portalHost,
  });
  const id = (req: Request, name: string) => String(req.params[name]);

  // Settings the relay reads at start-up.
  r.get('/organizations', (_req, res) => {
    res.json(ok({ organizations: [...deps.state.organizations.values()].map(organizationJson) }));
  });
  r.get('/settings/taxes', (_req, res) => {
    res.json(ok({ taxes: inOrg(deps.state.taxes, ctx(res).org.organizationId).map(taxJson) }));
  });
  r.get('/settings/currencies', (_req, res) => {
    res.json(ok({ currencies: inOrg(deps.state.currencies, ctx(res).org.organizationId).map(currencyJson) }));
  });
  r.get('/items', (req, res) => {
    const q = req.query as Record<string, unknown>;
    const items = inOrg(deps.state.items, ctx(res).org.organizationId).filter(
      (i) => matchesText(i.name, q, 'name') && matchesText(i.sku, q, 'sku'),
    );
    res.json(ok({ items: items.map(itemJson) }));
  });

  // Contacts.
  r.get('/contacts', (req, res) => {
    res.json(ok(listContacts(ctx(res), req.query as Record<string, unknown>)));
  });
  r.post('/contacts', (req, res) => {
    const c = createContact(ctx(res), req.body);
    res.status(201).json(ok({ contact: contactJson(deps.state, c) }, 'The contact has been added.'));
  });
  r.get('/contacts/:contactId', (req, res) => {
    res.json(ok({ contact: contactJson(deps.state, getContact(ctx(res), id(req, 'contactId'))) }));
  });
  r.put('/contacts/:contactId', (req, res) => {
    const c = updateContact(ctx(res), getContact(ctx(res), id(req, 'contactId')), req.body);
    res.json(ok({ contact: contactJson(deps.state, c) }, 'Contact has been updated successfully'));
  });

  // Invoices.
  r.get('/invoices', (req, res) => {
    res.json(ok(listInvoices(ctx(res), req.query as Record<string, unknown>)));
  });
  r.post('/invoices', (req, res) => {
    const q = req.query as Record<string, unknown>;
    const { invoice, message } = createInvoice(ctx(res), req.body, {
      send: queryFlag(q, 'send'),
      ignoreAutoNumber: queryFlag(q, 'ignore_auto_number_generation'),
    });
    res.status(201).json(ok({ invoice: invoiceJson(deps.state, invoice) }, message));
  });
  r.put('/invoices', (req, res) => {
    const q = req.query as Record<string, unknown>;
    const result = upsertInvoice(
      ctx(res),
      {
        key: req.get('x-unique-identifier-key'),
        value: req.get('x-unique-identifier-value'),
        upsert: req.get('x-upsert') === 'true',
      },
      req.body,
      { send: queryFlag(q, 'send'), ignoreAutoNumber: queryFlag(q, 'ignore_auto_number_generation') },
    );
    // 200 whether it created or updated: the only status the contract documents for this operation.
    res.status(200).json(ok({ invoice: invoiceJson(deps.state, result.invoice) }, result.message));
  });
  r.get('/invoices/:invoiceId', (req, res) => {
    res.json(ok({ invoice: invoiceJson(deps.state, getInvoice(ctx(res), id(req, 'invoiceId'))) }));
  });
  r.put('/invoices/:invoiceId', (req, res) => {
    const inv = updateInvoice(ctx(res), getInvoice(ctx(res), id(req, 'invoiceId')), req.body);
    res.json(ok({ invoice: invoiceJson(deps.state, inv) }, 'Invoice information has been updated.'));
  });
  r.delete('/invoices/:invoiceId', (req, res) => {
    deleteInvoice(ctx(res), getInvoice(ctx(res), id(req, 'invoiceId')));
    res.json(ok({}, 'The invoice has been deleted.'));
  });
  r.post('/invoices/:invoiceId/email', (req, res) => {
    emailInvoice(ctx(res), getInvoice(ctx(res), id(req, 'invoiceId')), req.body);
    res.json(ok({}, 'Your invoice has been sent.'));
  });
  r.post('/invoices/:invoiceId/status/sent', (req, res) => {
    markSent(getInvoice(ctx(res), id(req, 'invoiceId')));
    res.json(ok({}, 'Invoice status has been changed to Sent.'));
  });
  r.post('/invoices/:invoiceId/submit', (req, res) => {
    submitInvoice(getInvoice(ctx(res), id(req, 'invoiceId')));
    res.json(ok({}, 'Invoice submitted for approval.'));
  });
  r.post('/invoices/:invoiceId/approve', (req, res) => {
    approveInvoice(getInvoice(ctx(res), id(req, 'invoiceId')));
    res.json(ok({}, 'Invoice approved.'));
  });
  r.post('/invoices/:invoiceId/status/void', (req, res) => {
    voidInvoice(ctx(res), getInvoice(ctx(res), id(req, 'invoiceId')));
    res.json(ok({}, 'Invoice status has been changed to Void.'));
  });
  r.get('/invoices/:invoiceId/payments', (req, res) => {
    res.json(ok({ payments: invoicePaymentsJson(ctx(res), getInvoice(ctx(res), id(req, 'invoiceId'))) }));
  });

  // Customer payments (read only: payments are recorded through the control API).
  r.get('/customerpayments', (req, res) => {
    res.json(ok(listCustomerPayments(ctx(res), req.query as Record<string, unknown>)));
  });
  r.get('/customerpayments/:paymentId', (req, res) => {
    res.json(ok({ payment: paymentJson(ctx(res), getPayment(ctx(res), id(req, 'paymentId'))) }));
  });

  // Recurring invoices.
  r.get('/recurringinvoices', (req, res) => {
    res.json(ok(listRecurring(ctx(res), req.query as Record<string, unknown>)));
  });
  r.post('/recurringinvoices', (req, res) => {
    const profile = createRecurring(ctx(res), req.body);
    res.status(201).json(ok({ recurring_invoice: recurringJson(ctx(res), profile, 'created') }, 'The recurring invoice has been created.'));
  });
  r.get('/recurringinvoices/:recurrenceId', (req, res) => {
    res.json(ok({ recurring_invoice: recurringJson(ctx(res), getRecurring(ctx(res), id(req, 'recurrenceId'))) }));
  });
  r.delete('/recurringinvoices/:recurrenceId', (req, res) => {
    const profile = getRecurring(ctx(res), id(req, 'recurrenceId'));
    deps.state.recurring.delete(profile.recurrenceId);
    res.json(ok({}, 'The recurring invoice has been deleted.'));
  });
  r.post('/recurringinvoices/:recurrenceId/status/stop', (req, res) => {
    setRecurringStatus(getRecurring(ctx(res), id(req, 'recurrenceId')), 'stopped');
    res.status(201).json(ok({}, 'The recurring invoice has been stopped.'));
  });
  r.post('/recurringinvoices/:recurrenceId/status/resume', (req, res) => {
    setRecurringStatus(getRecurring(ctx(res), id(req, 'recurrenceId')), 'active');
    res.status(201).json(ok({}, 'The recurring invoice has been resumed.'));
  });

  return r;
}
