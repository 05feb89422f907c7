// The neutral view over the fake Xero (sandbox/xero): its state read as customers, invoices and
// repeating invoices; every change to an invoice (a payment, a void, a schedule run) goes to the relay as
// Xero sends it, a signed INVOICE event that carries only the invoice's ID.
import { randomUUID } from 'node:crypto';
import type { RecordedRequest } from '../common.js';
import type { FakeXero } from '../xero/server.js';
import { signWebhook } from '../xero/server.js';
import { OWN_WRITE_SKEW_MS } from '../../src/accounting/xero/webhook-source.js';
import type { Invoice, Tenant } from '../xero/state.js';
import { daysBetween, isoDay, type BooksCall, type BooksFacts, type BooksInvoice, type BooksOp, type BooksStatus, type FakeBooks, header, secretsSeen } from './view.js';

export const XERO_FACTS: BooksFacts = {
  id: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  invoiceUrl: /^https:\/\/in\.xero\.com\/\w+$/,
  // PUT /Invoices creates; the link (GET …/OnlineInvoice) and the email (POST /Invoices/{id}/Email) are calls of their own.
  invoiceOps: ['invoice.create', 'invoice.link', 'invoice.email'],
  dealField: false,
  resumeMakesNewProfile: true,
  // A contact's DefaultCurrency is only a default: an invoice may be in any currency the organisation has.
  customerKeepsCurrency: false,
  // An event about an invoice the relay does not know is not read (src/accounting/xero/webhook-source.ts):
  // while a retainer is active it asks for an early, debounced reconcile sweep, which finds the payment.
  generatedInvoicePayments: 'early sweep',
  // The relay takes batches of up to 500 events (src/accounting/xero/webhook.ts).
  tellsOfOwnChanges: true,
  invoicesPerNotification: 500,
  // A deleted draft stays, Status DELETED.
  deletedInvoices: 'listed',
  // A person's approval or send is an INVOICE event like any change.
  draftChanges: 'webhook',
};

/** What an API call did, by its method and path. */
export function xeroOp(method: string, path: string, body: unknown): BooksOp {
  if (/^\/connect\/token$/i.test(path)) return 'token';
  if (/^\/connections/i.test(path)) return 'connections';
  const p = path.replace(/^\/api\.xro\/2\.0/i, '');
  const [root = '', id, action] = p.split('/').filter(Boolean).map((x, i) => (i === 0 ? x.toLowerCase() : x));
  if (['organisation', 'taxrates', 'currencies', 'accounts', 'brandingthemes', 'items'].includes(root)) return 'reference';
  if (root === 'contacts') return id ? (method === 'GET' ? 'customer.read' : 'customer.update') : method === 'GET' ? 'customer.search' : 'customer.create';
  if (root === 'invoices') {
    if (!id) return method === 'GET' ? 'invoice.list' : method === 'PUT' ? 'invoice.create' : postedInvoiceOp(body, false);
    if (action?.toLowerCase() === 'email') return 'invoice.email';
    if (action?.toLowerCase() === 'onlineinvoice') return 'invoice.link';
    if (method === 'GET') return 'invoice.read';
    return postedInvoiceOp(body, true);
  }
  if (root === 'payments') return 'payment.list';
  if (root === 'repeatinginvoices') {
    if (method === 'GET') return id ? 'recurring.read' : 'recurring.list';
    const first = (body as { RepeatingInvoices?: Array<{ Status?: string }> } | undefined)?.RepeatingInvoices?.[0];
    // Xero takes no change on a template but Status DELETED: that is how a retainer stops.
    return id || first?.Status === 'DELETED' ? 'recurring.stop' : 'recurring.create';
  }
  return 'other';
}

/** POST /Invoices creates, or updates the invoice its path or body names; a VOIDED status is a void, DELETED a draft's deletion. */
function postedInvoiceOp(body: unknown, pathNamesInvoice: boolean): BooksOp {
  const first = (body as { Invoices?: Array<{ InvoiceID?: string; Status?: string }>; Status?: string } | undefined)?.Invoices?.[0] ?? (body as { Status?: string } | undefined);
  if (first?.Status === 'VOIDED') return 'invoice.void';
  if (first?.Status === 'DELETED') return 'invoice.delete';
  return pathNamesInvoice || (first as { InvoiceID?: string } | undefined)?.InvoiceID ? 'invoice.update' : 'invoice.create';
}

function status(inv: Invoice): BooksStatus {
  switch (inv.status) {
    case 'AUTHORISED':
      return inv.amountPaid > 0 ? 'partially_paid' : 'open';
    case 'PAID':
      return 'paid';
    case 'VOIDED':
      return 'void';
    case 'DELETED':
      return 'deleted';
    default:
      return 'draft';
  }
}

export function xeroBooks(xero: FakeXero, opts: { webhookSecret: string; webhookKey: string }): FakeBooks {
  let relayUrl: string | undefined;
  const s = xero.state;
  const tenant = (): Tenant => s.tenants.get(xero.tenantId)!;
  const taxOf = (taxType: string | undefined) => (taxType && taxType !== 'NONE' ? tenant().taxRates.find((t) => t.taxType === taxType) : undefined);

  const view = (inv: Invoice): BooksInvoice => {
    const date = isoDay(inv.dateMs);
    const dueDate = inv.dueDateMs === undefined ? undefined : isoDay(inv.dueDateMs);
    return {
      id: inv.invoiceId,
      number: inv.invoiceNumber,
      reference: inv.reference,
      dealField: undefined,
      customerId: inv.contactId,
      currency: inv.currencyCode,
      date,
      dueDate,
      termsDays: dueDate === undefined ? undefined : daysBetween(date, dueDate),
      status: status(inv),
      systemStatus: inv.status,
      total: inv.total,
      amountPaid: inv.amountPaid,
      lines: inv.lineItems.map((l) => {
        const tax = taxOf(l.taxType);
        const [name = l.itemCode ?? '', ...more] = (l.description ?? '').split('\n');
        return { name, description: more.length ? more.join('\n') : undefined, quantity: l.quantity, unitAmount: l.unitAmount, taxName: tax?.name, taxPercent: tax?.rate ?? 0, amount: l.lineAmount };
      }),
      url: inv.onlineToken ? `https://in.xero.com/${inv.onlineToken}` : undefined,
      emailed: inv.sentToContact,
      recurringId: inv.repeatingInvoiceId,
    };
  };
  const invoices = () => [...s.invoices.values()].filter((i) => i.tenantId === xero.tenantId && i.type === 'ACCREC').map(view);
  // A person's change (a payment, a void) comes a while after the relay's last write on the invoice, as it
  // does in life: Xero's event about it is dated past the window in which the relay takes an event about its
  // invoice for its own create or email (OWN_WRITE_SKEW_MS; a payment inside it waits for the reconciler).
  const later = () => xero.advanceTime(OWN_WRITE_SKEW_MS + 1000);
  const call = (r: RecordedRequest): BooksCall => ({ op: xeroOp(r.method, r.path, r.body), method: r.method, path: r.path, status: r.status, query: r.query, body: r.body, idempotencyKey: header(r, 'idempotency-key') });
  const eventsBody = (invoiceIds: string[]) => {
    const base = xero.baseUrl ?? 'https://api.xero.com';
    const at = new Date(xero.clock.now()).toISOString();
    const events = invoiceIds.map((id) => ({
      resourceUrl: `${base}/api.xro/2.0/Invoices/${id}`,
      resourceId: id,
      eventDateUtc: at,
      eventType: 'UPDATE',
      eventCategory: 'INVOICE',
      tenantId: xero.tenantId,
      tenantType: 'ORGANISATION',
    }));
    return JSON.stringify({ events, firstEventSequence: 1, lastEventSequence: events.length, entropy: randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase() });
  };
  const deliver = async (url: string, body: string, signature: string) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-xero-signature': signature }, body });
    await res.arrayBuffer();
    return { status: res.status };
  };

  return {
    id: 'xero',
    get url() {
      return xero.baseUrl!;
    },
    get organizationId() {
      return xero.tenantId;
    },
    facts: XERO_FACTS,
    customers: () =>
      [...s.contacts.values()]
        .filter((c) => c.tenantId === xero.tenantId)
        .map((c) => ({
          id: c.contactId,
          name: c.name,
          email: c.email,
          number: c.contactNumber,
          currency: c.defaultCurrency,
          country: c.addresses.map((a) => a.Country).find((x): x is string => typeof x === 'string'),
        })),
    taxes: () => tenant().taxRates.filter((t) => t.status === 'ACTIVE' && t.canApplyToRevenue).map((t) => ({ name: t.name, percentage: t.rate, isDefault: false })),
    invoices,
    invoice: (id) => invoices().find((i) => i.id === id),
    invoicesWithReference: (reference) => invoices().filter((i) => i.reference === reference),
    recurring: () =>
      [...s.repeatingInvoices.values()]
        .filter((r) => r.tenantId === xero.tenantId)
        .map((r) => ({
          id: r.repeatingInvoiceId,
          reference: r.reference,
          name: r.reference,
          active: r.status !== 'DELETED',
          unit: r.schedule.unit === 'WEEKLY' ? 'week' : 'month',
          every: r.schedule.period,
          startDate: isoDay(r.schedule.startMs),
        })),
    emails: () => s.emails.filter((e) => e.tenantId === xero.tenantId).map((e) => ({ invoiceId: e.invoiceId, to: e.to ? [e.to] : [] })),
    calls: (since = 0) => xero.requests.slice(since).map(call),
    get callCount() {
      return xero.requests.length;
    },
    get violations() {
      return xero.violations;
    },
    secrets: () => secretsSeen([xero.clientSecret, xero.refreshToken, opts.webhookKey], xero.requests, /^(Bearer|Basic) /i),

    addTax(t) {
      const taxType = `TAX${String(tenant().taxRates.filter((x) => /^TAX\d+$/.test(x.taxType)).length + 1).padStart(3, '0')}`;
      tenant().taxRates.push({ name: t.name, taxType, rate: t.percentage, status: 'ACTIVE', canApplyToRevenue: true });
      return taxType;
    },
    addCurrency(code) {
      if (!tenant().currencies.includes(code)) tenant().currencies.push(code);
    },
    addCustomer: (c) => xero.addContact({ Name: c.name, EmailAddress: c.email, ...(c.currency ? { DefaultCurrency: c.currency } : {}) }),
    addForeignInvoice: async (i) =>
      xero.addInvoice({
        Type: 'ACCREC',
        Contact: { ContactID: i.customerId },
        Reference: i.reference,
        ...(i.number ? { InvoiceNumber: i.number } : {}),
        LineItems: [{ Description: 'Consulting', Quantity: 1, UnitAmount: i.amount, AccountCode: '200', TaxType: 'NONE' }],
        Status: 'AUTHORISED',
        DueDate: isoDay(Date.now() + 14 * 86_400_000),
      }),

    pay: (invoiceId, p) => {
      later();
      return xero.recordPayment(invoiceId, { amount: p.amount, ...(p.date ? { date: p.date } : {}) });
    },
    async void(invoiceId) {
      later();
      xero.updateInvoice(invoiceId, { Status: 'VOIDED' });
    },
    runRecurring: (id) => xero.runRepeatingInvoice(id),

    // A person's change in Xero's UI, a while after the relay's last write (see later()), so its event is theirs.
    async approveInBooks(invoiceId) {
      later();
      xero.updateInvoice(invoiceId, { Status: 'AUTHORISED' });
    },
    async sendInBooks(invoiceId) {
      later();
      xero.updateInvoice(invoiceId, { Status: 'AUTHORISED', SentToContact: true });
    },
    async editInBooks(invoiceId) {
      later();
      // The line keeps the account and tax the relay's first line had, as Xero's editor carries them over.
      const first = s.invoices.get(invoiceId)?.lineItems[0];
      xero.updateInvoice(invoiceId, {
        LineItems: [{ Description: 'Edited by the accountant', Quantity: 1, UnitAmount: 777, ...(first?.accountCode ? { AccountCode: first.accountCode } : {}), ...(first?.taxType ? { TaxType: first.taxType } : {}) }],
      });
    },

    // A theme beside the standard one: an invoice that names no theme gets the standard one, with no payment service.
    async offerOnlinePayment() {
      xero.setBrandingThemes([
        { name: 'Standard', paymentServices: [] },
        { name: 'Pay online', paymentServices: [{ name: 'Stripe', type: 'Stripe' }] },
      ]);
      return ['Pay online'];
    },
    onlinePayment: (invoiceId) => xero.onlinePayment(invoiceId),
    payOnline: (invoiceId, amount) => {
      later();
      return xero.payOnline(invoiceId, amount);
    },

    async notify(invoiceId) {
      if (!relayUrl) throw new Error('no relay connected');
      later();
      const body = eventsBody([invoiceId]);
      return deliver(`${relayUrl}/webhooks/xero/${opts.webhookSecret}`, body, signWebhook(body, opts.webhookKey));
    },
    notification: (invoiceIds) => {
      const body = eventsBody(invoiceIds);
      return { path: `/webhooks/xero/${opts.webhookSecret}`, headers: { 'content-type': 'application/json', 'x-xero-signature': signWebhook(body, opts.webhookKey) }, body };
    },
    unknownIds: (n) => Array.from({ length: n }, () => randomUUID()),
    async replayLastWebhook() {
      const d = xero.webhookDeliveries.filter((x) => x.kind === 'events' && !x.dropped).at(-1);
      if (!d) throw new Error('Xero has delivered no webhook yet');
      return deliver(d.url, d.body, d.signature);
    },
    dropNextWebhooks: (n) => xero.dropNextWebhooks(n),
    droppedWebhooks: () => xero.webhookDeliveries.filter((d) => d.dropped).length,
    flushWebhooks: () => xero.flushWebhooks(),

    rateLimit: (n) => xero.rateLimitBurst(n, 'minute', 1),
    serverErrors: (n, code) => xero.faults.failNext(n, { status: code }),
    loseNextAnswer: (op) =>
      xero.loseNextAnswers(
        1,
        {
          'invoice.create': { method: 'PUT', path: /^\/Invoices$/i },
          'recurring.create': { method: 'PUT', path: /^\/RepeatingInvoices$/i },
          'invoice.email': { method: 'POST', path: /^\/Invoices\/[0-9a-f-]{36}\/Email$/i },
          // Status VOIDED on the invoice (the next POST on one: arm it once the invoice is final).
          'invoice.void': { method: 'POST', path: /^\/Invoices\/[0-9a-f-]{36}$/i },
        }[op],
      ),
    lostAnswers: () => xero.answerLoss.lost.length,
    setLatency: (ms) => xero.faults.set({ latencyMs: ms }),
    resetFaults: () => {
      xero.faults.reset();
      xero.answerLoss.reset();
    },

    connect(url) {
      relayUrl = url;
      xero.setWebhook({ url: `${url}/webhooks/xero/${opts.webhookSecret}`, key: opts.webhookKey, retries: 3, retryDelayMs: 200 });
    },
    close: () => xero.close(),
  };
}
