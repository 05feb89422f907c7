// The neutral view over the fake Wave (sandbox/wave): its business's customers, invoices (the invoice number
// is the deal's stamp), sales taxes and the emails invoiceSend "sent", read from the fake's real state. Wave
// tells the relay nothing it reads: the relay learns of payments by polling, in the reconciler's sweep
// (facts.payments = 'reconciler'); a delivery to its Wave webhook URL only makes that sweep come sooner
// (facts.webhooks = 'wake-up'). A payment here is recorded in Wave, as a user records one by hand. Calls are named by their GraphQL operation.
import { randomUUID } from 'node:crypto';
import type { RecordedRequest } from '../common.js';
import { currencyInfo, majorString, scaled } from '../wave/money.js';
import { approveInvoice, createProduct, invoiceStatus, paidMinor, type RecordsContext } from '../wave/records.js';
import type { FakeWave } from '../wave/server.js';
import { childId, opaqueId, type Business, type Invoice } from '../wave/state.js';
import { daysBetween, type BooksCall, type BooksFacts, type BooksInvoice, type BooksOp, type BooksStatus, type FakeBooks, secretsSeen } from './view.js';

export const WAVE_FACTS: BooksFacts = {
  // Opaque base64 text (`Business:<uuid>;Invoice:<n>`), never parsed.
  id: /^[A-Za-z0-9+/]{8,}={0,2}$/,
  // Invoice.viewUrl: the fake serves it under its own origin.
  invoiceUrl: /^https?:\/\/[^/]+\/invoice\/[0-9a-f]{24}$/,
  // invoiceCreate makes a draft, invoiceApprove issues it, the invoice is read (lastSentAt: never emailed twice),
  // invoiceSend emails it (viewUrl comes with the create).
  invoiceOps: ['invoice.create', 'invoice.update', 'invoice.read', 'invoice.email'],
  dealField: false,
  resumeMakesNewProfile: false,
  // An invoice may be in another currency than the customer's (with the mapping's exchange rate).
  customerKeepsCurrency: false,
  // No recurring invoices in Wave: nothing is generated; its payments come by polling like any other.
  generatedInvoicePayments: 'reconciler',
  tellsOfOwnChanges: false,
  // Nothing is taken from a webhook's body: a delivery only wakes the reconciler.
  invoicesPerNotification: 0,
  payments: 'reconciler',
  webhooks: 'wake-up',
  recurringInvoices: false,
  voids: false,
  stamp: 'number',
  // Wave's email filter may be loose or case-sensitive: no match is checked against the customers themselves.
  customerOps: ['customer.search', 'customer.search', 'customer.create'],
  // The products are read, and the one shared product for deal amounts made, with the first invoice.
  firstInvoiceOps: ['reference', 'item.create'],
  // Wave Payments (card, bank) is on for an invoice unless the invoice disables it.
  onlinePaymentDefault: 'organization',
};

/** What a call did, by its GraphQL operation name (src/accounting/wave/documents.ts names every document). */
export function waveOp(path: string, operationName: string | undefined): BooksOp {
  if (path.startsWith('/oauth2/token')) return 'token';
  if (path.startsWith('/oauth2')) return 'connections';
  switch (operationName) {
    case 'Businesses':
    case 'Business':
    case 'SalesTaxes':
    case 'IncomeAccounts':
    case 'Products':
      return 'reference';
    case 'ProductCreate':
      return 'item.create';
    case 'CustomersByEmail':
    case 'Customers':
      return 'customer.search';
    case 'CustomerCreate':
      return 'customer.create';
    case 'Invoice':
      return 'invoice.read';
    case 'InvoicesByNumber':
    case 'InvoicesModified':
      return 'invoice.list';
    case 'InvoicePayments':
      return 'payment.list';
    case 'InvoiceCreate':
      return 'invoice.create';
    case 'InvoiceApprove':
    case 'InvoicePatch':
      return 'invoice.update';
    case 'InvoiceSend':
      return 'invoice.email';
    case 'InvoiceDelete':
      return 'invoice.delete';
    default:
      return 'other';
  }
}

/** A mutation the names above do not know, by its root field (a document named otherwise). */
function mutationOp(query: string | undefined): BooksOp | undefined {
  const field = query === undefined ? undefined : /^\s*mutation\b[^{]{0,200}\{\s*(?:\w{1,80}\s*:\s*)?(\w{1,80})/.exec(query)?.[1];
  switch (field) {
    case 'invoiceCreate':
      return 'invoice.create';
    case 'invoiceApprove':
    case 'invoicePatch':
      return 'invoice.update';
    case 'invoiceSend':
      return 'invoice.email';
    case 'invoiceDelete':
      return 'invoice.delete';
    default:
      return undefined;
  }
}

/** The operation's name: the request's operationName, else the document's first named operation. */
function operationOf(body: unknown): string | undefined {
  const b = (body ?? {}) as { operationName?: unknown; query?: unknown };
  if (typeof b.operationName === 'string') return b.operationName;
  const m = typeof b.query === 'string' ? /^\s*(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]{0,80})/.exec(b.query) : null;
  return m?.[1];
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

function status(systemStatus: string): BooksStatus {
  switch (systemStatus) {
    case 'DRAFT':
      return 'draft';
    case 'PAID':
    case 'OVERPAID':
      return 'paid';
    case 'PARTIAL':
      return 'partially_paid';
    default:
      return 'open';
  }
}

export function waveBooks(wave: FakeWave, opts: { webhookSecret: string; exchangeRates: Record<string, number>; onExchangeRates?: () => void }): FakeBooks {
  let relayUrl: string | undefined;
  const s = wave.state;
  const business = (): Business => s.businesses.get(wave.businessId)!;
  const records: RecordsContext = { state: s, now: () => wave.clock.now(), rejectDuplicateInvoiceNumbers: false };
  const major = (minor: bigint, currency: string) => Number(majorString(minor, currencyInfo(currency).exponent));
  const today = () => new Date(wave.clock.now()).toISOString().slice(0, 10);
  const viewUrl = (inv: Invoice) => `${wave.baseUrl ?? 'https://waveapps.example'}/invoice/${Buffer.from(inv.id).toString('hex').slice(-24)}`;

  const view = (inv: Invoice): BooksInvoice => {
    const systemStatus = invoiceStatus(s, inv, today());
    return {
      id: inv.id,
      number: inv.invoiceNumber,
      // The invoice number is the deal's stamp (wave.invoiceNumberTemplate, KOMMO-{deal_id}).
      reference: inv.invoiceNumber,
      dealField: undefined,
      customerId: inv.customerId,
      currency: inv.currency,
      date: inv.invoiceDate,
      dueDate: inv.dueDate,
      termsDays: daysBetween(inv.invoiceDate, inv.dueDate),
      status: status(systemStatus),
      systemStatus,
      total: major(inv.totalMinor, inv.currency),
      amountPaid: major(paidMinor(s, inv), inv.currency),
      lines: inv.items.map((item) => {
        const tax = item.taxes[0];
        const salesTax = tax ? s.salesTaxes.get(tax.salesTaxId) : undefined;
        const product = s.products.get(item.productId);
        return {
          name: product?.name ?? '',
          description: item.description ?? undefined,
          quantity: Number(majorString(item.quantity / 10n ** 6n, 4)),
          unitAmount: Number(majorString(item.unitPrice / 10n ** 6n, 4)),
          taxName: salesTax?.name,
          taxPercent: tax ? Number(majorString(tax.rate / 10n ** 4n, 4)) : 0,
          amount: major(item.subtotalMinor, inv.currency),
        };
      }),
      url: viewUrl(inv),
      emailed: s.emails.some((e) => e.invoiceId === inv.id),
      recurringId: inv.sourceId ?? undefined,
    };
  };
  const invoices = () => [...s.invoices.values()].filter((i) => i.businessId === wave.businessId).map(view);
  const call = (r: RecordedRequest): BooksCall => {
    const body = (r.body ?? {}) as { variables?: Record<string, unknown> };
    const query = typeof (r.body as { query?: unknown } | undefined)?.query === 'string' ? ((r.body as { query: string }).query) : undefined;
    const named = waveOp(r.path, operationOf(r.body));
    return {
      op: named === 'other' ? (mutationOp(query) ?? named) : named,
      method: r.method,
      path: r.path,
      status: r.status,
      query: body.variables ?? r.query,
      body: r.body,
      idempotencyKey: undefined,
      read: query === undefined ? r.method === 'GET' : /^\s*(query\b|\{)/.test(query),
    };
  };
  // Wave's webhook payloads are not published (shared/reference/wave.md): an invoice event as a plausible JSON body.
  const eventsBody = (invoiceIds: string[]) => JSON.stringify({ events: invoiceIds.map((id) => ({ id: randomUUID(), type: 'invoice.updated', businessId: wave.businessId, data: { invoiceId: id } })) });
  const deliver = async (body: string) => {
    if (!relayUrl) throw new Error('no relay connected');
    const res = await fetch(`${relayUrl}/webhooks/wave/${opts.webhookSecret}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    return { status: res.status };
  };
  const noRecurring = (): never => {
    throw new Error('Wave has no recurring invoices the relay can make (facts.recurringInvoices is false)');
  };

  return {
    id: 'wave',
    get url() {
      return wave.baseUrl!;
    },
    get organizationId() {
      return wave.businessId;
    },
    facts: WAVE_FACTS,
    customers: () =>
      [...s.customers.values()]
        .filter((c) => c.businessId === wave.businessId)
        .map((c) => ({
          id: c.id,
          name: c.name,
          email: c.email ?? undefined,
          number: undefined,
          currency: c.currency,
          country: c.address?.countryCode ? regionNames.of(c.address.countryCode) : undefined,
        })),
    taxes: () =>
      [...s.salesTaxes.values()]
        .filter((t) => t.businessId === wave.businessId && !t.isArchived)
        .map((t) => ({ name: t.name, percentage: Number(majorString(t.rates.at(-1)!.rate / 10n ** 4n, 4)), isDefault: false })),
    invoices,
    invoice: (id) => invoices().find((i) => i.id === id),
    invoicesWithReference: (reference) => invoices().filter((i) => i.reference === reference),
    recurring: () => [],
    emails: () => s.emails.filter((e) => e.businessId === wave.businessId).map((e) => ({ invoiceId: e.invoiceId, to: e.to })),
    calls: (since = 0) => wave.requests.slice(since).map(call),
    get callCount() {
      return wave.requests.length;
    },
    get violations() {
      return wave.violations;
    },
    secrets: () => secretsSeen([wave.clientSecret, wave.refreshToken, wave.fullAccessToken], wave.requests, /^(Bearer|Basic) /i),

    addTax(t) {
      const b = business();
      const id = childId(b, 'SalesTax');
      const now = wave.clock.now();
      const rate = scaled((t.percentage / 100).toFixed(6));
      s.salesTaxes.set(id, { id, businessId: b.id, name: t.name, abbreviation: t.name.split(/\s/)[0]!.slice(0, 10), description: null, taxNumber: null, rates: [{ effective: '2020-01-01', rate }], isCompound: false, isRecoverable: false, isArchived: false, createdMs: now, modifiedMs: now });
      return id;
    },
    // Wave keeps no list of currencies: an invoice in another one needs the mapping's exchange rate (wave.exchangeRates).
    addCurrency(code, exchangeRate = 1) {
      if (code === business().currency) return;
      opts.exchangeRates[code] = exchangeRate;
      opts.onExchangeRates?.();
    },
    addCustomer: (c) => wave.addCustomer({ name: c.name, email: c.email, ...(c.currency ? { currency: c.currency } : {}) }),
    async addForeignInvoice(i) {
      const b = business();
      // Its reference (a PO number) goes in the memo: Wave's invoices have no reference field.
      const product =
        [...s.products.values()].find((p) => p.businessId === b.id && p.name === 'Consulting') ??
        createProduct(records, b, { name: 'Consulting', unitPrice: '0', incomeAccountId: wave.accountId('Sales') });
      const id = wave.addInvoice({ customerId: i.customerId, ...(i.number ? { invoiceNumber: i.number } : {}), memo: i.reference, items: [{ productId: product.id, quantity: '1', unitPrice: i.amount.toFixed(2), taxes: [] }] });
      approveInvoice(records, s.invoices.get(id)!);
      return id;
    },

    // A payment recorded in Wave (as its user records one): Wave tells the relay nothing; the reconciler's sweep finds it.
    pay: (invoiceId, p) => wave.payInvoice(invoiceId, { amount: p.amount.toFixed(2), ...(p.date ? { date: p.date } : {}) }),
    async void() {
      throw new Error('Wave has no void (facts.voids is false): a user deletes the invoice, and a deleted invoice is not among those changed');
    },
    runRecurring: noRecurring,

    // Wave's modifiedAt (the relay's version of an invoice) has milliseconds from the fake's clock: no wait needed.
    approveInBooks: async (invoiceId) => wave.approveInvoice(invoiceId),
    async sendInBooks(invoiceId) {
      const inv = s.invoices.get(invoiceId);
      const email = inv ? s.customers.get(inv.customerId)?.email : undefined;
      wave.sendInvoice(invoiceId, [email ?? 'client@example.com']);
    },
    editInBooks: async (invoiceId) => wave.editInvoice(invoiceId, [{ description: 'Edited by the accountant', unitPrice: 777, quantity: 1 }]),

    // Wave › Settings › Payments: card and bank payments on (not in Wave's API: the fake's own setting).
    async offerOnlinePayment() {
      wave.setBusiness(wave.businessId, { payments: { card: true, bank: true } });
      return ['card', 'bank'];
    },
    onlinePayment: (invoiceId) => wave.onlinePayment(invoiceId),
    // Wave tells the relay nothing of it either: the reconciler's sweep finds it (facts.payments).
    payOnline: (invoiceId, amount) => wave.payOnline(invoiceId, amount),

    notify: (invoiceId) => deliver(eventsBody([invoiceId])),
    notification: (invoiceIds) => ({ path: `/webhooks/wave/${opts.webhookSecret}`, headers: { 'content-type': 'application/json' }, body: eventsBody(invoiceIds) }),
    unknownIds: (n) => Array.from({ length: n }, () => opaqueId(`Business:${business().uuid};Invoice:${randomUUID()}`)),
    replayLastWebhook: async () => {
      throw new Error('the relay reads nothing of a Wave webhook (facts.webhooks is wake-up): there is none to replay');
    },
    dropNextWebhooks: () => undefined,
    droppedWebhooks: () => 0,
    flushWebhooks: async () => undefined,

    rateLimit: (n) => wave.rateLimitBurst(n, 1),
    serverErrors: (n, code) => wave.faults.failNext(n, { status: code }),
    // Wave has no void: the relay cancels an invoice by deleting it (facts.voids).
    loseNextAnswer: (op) => (op === 'recurring.create' ? noRecurring() : wave.loseNextAnswers(1, { field: { 'invoice.create': 'invoiceCreate', 'invoice.email': 'invoiceSend', 'invoice.void': 'invoiceDelete' }[op] })),
    lostAnswers: () => wave.operationFaults.lost.length,
    setLatency: (ms) => wave.faults.set({ latencyMs: ms }),
    resetFaults: () => {
      wave.faults.reset();
      wave.operationFaults.reset();
    },

    connect(url) {
      relayUrl = url;
    },
    close: () => wave.close(),
  };
}
