// The neutral view over the fake Zoho Books (sandbox/zoho): its state read as customers, invoices and
// profiles; payments fire its workflow webhook; other notifications are posted as a workflow rule with
// form fields posts them.
import type { RecordedRequest } from '../common.js';
import type { FakeZoho } from '../zoho/server.js';
import type { Invoice, StoredInvoiceStatus } from '../zoho/state.js';
import { daysBetween, type BooksCall, type BooksFacts, type BooksInvoice, type BooksOp, type BooksStatus, type FakeBooks, header, secretsSeen } from './view.js';

const STATUS: Record<StoredInvoiceStatus, BooksStatus> = { draft: 'draft', pending_approval: 'draft', approved: 'draft', sent: 'open', viewed: 'open', partially_paid: 'partially_paid', paid: 'paid', void: 'void' };
const UNIT = { days: 'day', weeks: 'week', months: 'month', years: 'year' } as const;

export const ZOHO_FACTS: BooksFacts = {
  id: /^\d{19}$/,
  invoiceUrl: /^https:\/\/books\.zoho\.eu\/portal\/.+\?.+/,
  // POST /invoices?send=true creates and emails at once, and its answer carries invoice_url.
  invoiceOps: ['invoice.create'],
  dealField: true,
  resumeMakesNewProfile: false,
  // A customer's currency cannot be changed once it has transactions; its invoices are in it.
  customerKeepsCurrency: true,
  generatedInvoicePayments: 'webhook',
  // The relay's cap on a payment applied to many invoices (src/accounting/zoho/webhook.ts); no real payment nears it.
  tellsOfOwnChanges: false,
  invoicesPerNotification: 100,
};

/** What a Books API call did, by its method and path. */
export function zohoOp(method: string, path: string): BooksOp {
  if (path.startsWith('/oauth/')) return 'token';
  const p = path.replace(/^\/books\/v3/, '');
  const seg = p.split('/').filter(Boolean);
  const [root, id, action, verb] = seg;
  if (root === 'organizations' || root === 'settings' || root === 'items') return 'reference';
  if (root === 'contacts') return id ? (method === 'GET' ? 'customer.read' : 'customer.update') : method === 'GET' ? 'customer.search' : 'customer.create';
  if (root === 'invoices') {
    if (!id) return method === 'GET' ? 'invoice.list' : 'invoice.create';
    if (!action) return method === 'GET' ? 'invoice.read' : method === 'DELETE' ? 'invoice.delete' : 'invoice.update';
    if (action === 'email') return 'invoice.email';
    if (action === 'status' && verb === 'void') return 'invoice.void';
    if (action === 'payments') return 'payment.list';
    return 'invoice.update';
  }
  if (root === 'customerpayments') return 'payment.list';
  if (root === 'recurringinvoices') {
    if (!id) return method === 'GET' ? 'recurring.list' : 'recurring.create';
    if (action === 'status' && verb === 'stop') return 'recurring.stop';
    if (action === 'status' && verb === 'resume') return 'recurring.resume';
    return method === 'GET' ? 'recurring.read' : 'other';
  }
  return 'other';
}

export function zohoBooks(zoho: FakeZoho, opts: { webhookSecret: string; dealIdField: string }): FakeBooks {
  let relayUrl: string | undefined;
  const s = zoho.state;
  const org = zoho.organizationId;
  const minor = (v: bigint, precision: number) => Number(v) / 10 ** precision;
  const dealFieldId = () => [...s.customFields.values()].find((f) => f.organizationId === org && f.entity === 'invoice' && f.apiName === opts.dealIdField)?.customfieldId;

  const view = (inv: Invoice): BooksInvoice => {
    const fieldId = dealFieldId();
    const dealField = fieldId ? inv.customFields.find((f) => f.customfieldId === fieldId)?.value : undefined;
    return {
      id: inv.invoiceId,
      number: inv.invoiceNumber,
      reference: inv.referenceNumber || undefined,
      dealField: dealField === undefined || dealField === '' ? undefined : String(dealField),
      customerId: inv.customerId,
      currency: inv.currencyCode,
      date: inv.date,
      dueDate: inv.dueDate || undefined,
      termsDays: inv.dueDate ? daysBetween(inv.date, inv.dueDate) : undefined,
      status: STATUS[inv.status],
      systemStatus: inv.status,
      total: minor(inv.totalMinor, inv.precision),
      amountPaid: minor(inv.paidMinor, inv.precision),
      lines: inv.lineItems.map((l) => ({
        name: l.name,
        description: l.description || undefined,
        quantity: l.quantity,
        unitAmount: l.rate,
        taxName: l.taxId ? l.taxName : undefined,
        taxPercent: l.taxId ? l.taxPercentage : 0,
        amount: minor(l.itemTotalMinor, inv.precision),
      })),
      url: inv.invoiceUrl || undefined,
      emailed: inv.isEmailed,
      recurringId: inv.recurringInvoiceId || undefined,
    };
  };
  const invoices = () => [...s.invoices.values()].filter((i) => i.organizationId === org).map(view);
  const token = () => zoho.mintAccessToken();
  const books = (path: string, init: RequestInit = {}) =>
    fetch(`${zoho.baseUrl}/books/v3${path}${path.includes('?') ? '&' : '?'}organization_id=${org}`, {
      ...init,
      headers: { authorization: `Zoho-oauthtoken ${token()}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    });
  const post = async (url: string, body: string, headers: Record<string, string>) => {
    const res = await fetch(url, { method: 'POST', headers, body });
    await res.arrayBuffer();
    return { status: res.status };
  };
  // A person's change comes after the second of the relay's last write on the invoice: last_modified_time (the
  // version the relay keeps) has whole seconds, and a change within that second would read as the relay's own.
  const pastLastChange = async (invoiceId: string) => {
    const inv = s.invoices.get(invoiceId);
    const wait = inv ? Math.floor(inv.lastModifiedMs / 1000) * 1000 + 1000 - Date.now() : 0;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait + 20));
  };
  const call = (r: RecordedRequest): BooksCall => ({ op: zohoOp(r.method, r.path), method: r.method, path: r.path, status: r.status, query: r.query, body: r.body, idempotencyKey: header(r, 'idempotency-key') });

  return {
    id: 'zoho',
    get url() {
      return zoho.baseUrl!;
    },
    organizationId: org,
    facts: ZOHO_FACTS,
    customers: () =>
      [...s.contacts.values()]
        .filter((c) => c.organizationId === org)
        .map((c) => ({
          id: c.contactId,
          name: c.name,
          email: (c.persons.find((p) => p.isPrimary) ?? c.persons[0])?.email || undefined,
          number: undefined,
          currency: s.currencies.get(c.currencyId)?.code,
          country: typeof c.billingAddress.country === 'string' ? c.billingAddress.country : undefined,
        })),
    taxes: () => [...s.taxes.values()].filter((t) => t.organizationId === org).map((t) => ({ name: t.name, percentage: t.percentage, isDefault: t.isDefault })),
    invoices,
    invoice: (id) => invoices().find((i) => i.id === id),
    invoicesWithReference: (reference) => invoices().filter((i) => i.reference === reference),
    recurring: () =>
      [...s.recurring.values()]
        .filter((r) => r.organizationId === org)
        .map((r) => ({ id: r.recurrenceId, reference: r.referenceNumber || undefined, name: r.recurrenceName, active: r.status === 'active', unit: UNIT[r.frequency], every: r.repeatEvery, startDate: r.startDate })),
    emails: () => zoho.emails.map((e) => ({ invoiceId: e.invoiceId, to: [...e.to] })),
    calls: (since = 0) => zoho.requests.slice(since).map(call),
    get callCount() {
      return zoho.requests.length;
    },
    get violations() {
      return zoho.violations;
    },
    secrets: () => secretsSeen([zoho.clientSecret, zoho.refreshToken], zoho.requests, /^Zoho-oauthtoken /),

    addTax: (t) => zoho.addTax(t),
    addCurrency: (code, exchangeRate = 1) => void zoho.addCurrency({ code, precision: 2, exchangeRate }),
    addItem: (i) => zoho.addItem(i),
    addCustomer: (c) => zoho.addContact({ name: c.name, email: c.email, ...(c.currency ? { currencyCode: c.currency } : {}) }),
    async addForeignInvoice(i) {
      const res = await books(i.number ? '/invoices?ignore_auto_number_generation=true' : '/invoices', {
        method: 'POST',
        body: JSON.stringify({ customer_id: i.customerId, reference_number: i.reference, ...(i.number ? { invoice_number: i.number } : {}), line_items: [{ name: 'Consulting', rate: i.amount, quantity: 1 }] }),
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`the fake Zoho refused the invoice: ${res.status} ${text}`);
      // invoice_id is a 19-digit number in the JSON: read it as the text it is.
      const id = /"invoice_id":\s*"?(\d+)"?/.exec(text)![1]!;
      // Issued, as the Xero one is approved: marked sent (open), without an email.
      const sent = await books(`/invoices/${id}/status/sent`, { method: 'POST' });
      if (sent.status !== 200) throw new Error(`the fake Zoho refused to mark ${id} sent: ${sent.status} ${await sent.text()}`);
      return id;
    },

    pay: (invoiceId, p) => zoho.recordPayment(invoiceId, { amount: p.amount, ...(p.date ? { date: p.date } : {}) }),
    async void(invoiceId) {
      const res = await books(`/invoices/${invoiceId}/status/void`, { method: 'POST' });
      if (res.status !== 200) throw new Error(`the fake Zoho refused to void ${invoiceId}: ${res.status} ${await res.text()}`);
    },
    runRecurring: (id) => zoho.generateRecurringInvoice(id),

    async approveInBooks(invoiceId) {
      await pastLastChange(invoiceId);
      zoho.approveInvoice(invoiceId);
    },
    async sendInBooks(invoiceId) {
      await pastLastChange(invoiceId);
      const inv = s.invoices.get(invoiceId);
      const contact = inv ? s.contacts.get(inv.customerId) : undefined;
      const email = (contact?.persons.find((p) => p.isPrimary) ?? contact?.persons[0])?.email || 'client@example.com';
      zoho.sendInvoice(invoiceId, [email]);
    },
    async editInBooks(invoiceId) {
      await pastLastChange(invoiceId);
      zoho.editInvoice(invoiceId, { line_items: [{ name: 'Edited by the accountant', rate: 777, quantity: 1 }] });
    },

    // Stripe configured, and an invoice a person made payable with it: Zoho's API lists the gateways nowhere, an
    // invoice's payment_options shows them (src/accounting/zoho reads the latest invoice's).
    async offerOnlinePayment() {
      zoho.setPaymentGateways(['stripe']);
      const customerId = zoho.addContact({ name: 'Online Shop Ltd', email: 'shop@example.com' });
      const res = await books('/invoices', {
        method: 'POST',
        body: JSON.stringify({ customer_id: customerId, reference_number: 'PO-online', line_items: [{ name: 'Consulting', rate: 100, quantity: 1 }], payment_options: { payment_gateways: [{ gateway_name: 'stripe' }] } }),
      });
      if (res.status !== 201) throw new Error(`the fake Zoho refused the invoice payable online: ${res.status} ${await res.text()}`);
      await res.arrayBuffer().catch(() => undefined);
      return ['stripe'];
    },
    onlinePayment: (invoiceId) => zoho.onlinePayment(invoiceId),
    // The fake fires its workflow webhook for it, as for any payment.
    payOnline: (invoiceId, amount) => zoho.payOnline(invoiceId, amount),

    async notify(invoiceId) {
      if (!relayUrl) throw new Error('no relay connected');
      return post(`${relayUrl}/webhooks/zoho/${opts.webhookSecret}`, new URLSearchParams({ invoice_id: invoiceId, status: s.invoices.get(invoiceId)?.status ?? '' }).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      });
    },
    notification: (invoiceIds) => ({
      path: `/webhooks/zoho/${opts.webhookSecret}`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payment: { payment_id: '1', invoices: invoiceIds.map((invoice_id) => ({ invoice_id })) } }),
    }),
    unknownIds: (n) => {
      const base = 9_834_000_000_000_000_000n + BigInt(s.invoices.size) * 1_000_000n;
      return Array.from({ length: n }, (_, i) => String(base + BigInt(i))).filter((id) => !s.invoices.has(id));
    },
    async replayLastWebhook() {
      const d = zoho.webhookDeliveries.filter((x) => !x.dropped).at(-1);
      if (!d) throw new Error('Zoho has delivered no webhook yet');
      return post(d.url, d.body, d.headers);
    },
    dropNextWebhooks: (n) => zoho.dropNextWebhooks(n),
    droppedWebhooks: () => zoho.webhookDeliveries.filter((d) => d.dropped).length,
    flushWebhooks: () => zoho.flushWebhooks(),

    rateLimit: (n) => zoho.faults.failNext(n, { status: 429, body: { code: 45, message: 'Too many requests' }, headers: { 'X-Rate-Limit-Reset': '1' } }),
    serverErrors: (n, status) => zoho.faults.failNext(n, { status, body: { code: 9999, message: status === 503 ? 'Service unavailable' : 'Internal error' } }),
    loseNextAnswer: (op) =>
      zoho.answerLoss.loseNext(1, {
        method: 'POST',
        path: { 'invoice.create': /^\/invoices$/, 'recurring.create': /^\/recurringinvoices$/, 'invoice.email': /^\/invoices\/\d+\/email$/, 'invoice.void': /^\/invoices\/\d+\/status\/void$/ }[op],
      }),
    lostAnswers: () => zoho.answerLoss.lost.length,
    setLatency: (ms) => zoho.faults.set({ latencyMs: ms }),
    resetFaults: () => {
      zoho.faults.reset();
      zoho.answerLoss.reset();
    },

    connect(url) {
      relayUrl = url;
      zoho.setWorkflowWebhook({ url: `${url}/webhooks/zoho/${opts.webhookSecret}`, format: 'json', retries: 3, retryDelayMs: 200 });
    },
    close: () => zoho.close(),
  };
}
