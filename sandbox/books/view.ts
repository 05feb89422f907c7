// The accounting side of a scenario as the e2e suites see it, whichever fake runs (Zoho Books, Xero):
// what the relay made there (customers, invoices, recurring profiles, emails), what a user or a customer
// does there (pay, void, run a schedule), how the system tells the relay (its own webhooks, or nothing: the
// reconciler polls, facts.payments), the faults it
// can show, and the calls the relay made, named by what they do. Each implementation reads the fake's
// real state (sandbox/zoho, sandbox/xero, sandbox/wave); nothing here is kept on the side.

/**
 * Normalised as the relay normalises it (the port's statuses), and `deleted`: a deleted invoice the system
 * still lists (Xero: DELETED; facts.deletedInvoices 'listed'), where another removes it altogether.
 */
export type BooksStatus = 'draft' | 'open' | 'partially_paid' | 'paid' | 'void' | 'deleted';

export interface BooksCustomer {
  id: string;
  name: string;
  /** The primary address the system emails invoices to. */
  email: string | undefined;
  /** The relay's own key on the customer, where the system has one (Xero's ContactNumber). */
  number: string | undefined;
  /** The currency the customer is kept in, where the system keeps one. */
  currency: string | undefined;
  country: string | undefined;
}

export interface BooksLine {
  /** What the line is called (Xero has only a description: its first line). */
  name: string;
  /** What the line says beyond its name. */
  description: string | undefined;
  quantity: number;
  unitAmount: number;
  /** The tax applied to the line; undefined when it carries none (Zoho: no tax_id; Xero: TaxType NONE). */
  taxName: string | undefined;
  taxPercent: number;
  /** The line's amount before tax. */
  amount: number;
}

export interface BooksInvoice {
  id: string;
  number: string;
  /** Where the relay stamps the deal (Zoho reference_number, Xero Reference). */
  reference: string | undefined;
  /** The deal ID in a field of its own, where the backend has one (facts.dealField). */
  dealField: string | undefined;
  customerId: string;
  currency: string;
  /** YYYY-MM-DD */
  date: string;
  dueDate: string | undefined;
  /** Days from the invoice date to its due date. */
  termsDays: number | undefined;
  status: BooksStatus;
  /** The status in the system's own word (Zoho: sent, viewed…; Xero: AUTHORISED, PAID…). */
  systemStatus: string;
  total: number;
  amountPaid: number;
  lines: BooksLine[];
  /** The customer's link, once the system has made one. */
  url: string | undefined;
  /** Sent to the customer (Zoho is_emailed, Xero SentToContact). */
  emailed: boolean;
  /** The recurring profile that generated it. */
  recurringId: string | undefined;
}

export interface BooksRecurring {
  id: string;
  /** What every invoice it generates carries as its reference. */
  reference: string | undefined;
  /** Its name (Zoho recurrence_name; Xero has none: the reference). */
  name: string | undefined;
  active: boolean;
  unit: 'week' | 'month' | 'day' | 'year';
  every: number;
  /** YYYY-MM-DD */
  startDate: string;
}

export interface BooksEmail {
  invoiceId: string;
  to: string[];
}

/** What a call to the accounting API did, whatever its path. */
export type BooksOp =
  | 'token'
  | 'connections'
  | 'reference'
  | 'customer.search'
  | 'customer.read'
  | 'customer.create'
  | 'customer.update'
  | 'invoice.list'
  | 'invoice.read'
  | 'invoice.create'
  | 'invoice.update'
  | 'invoice.email'
  | 'invoice.link'
  | 'invoice.void'
  /** A draft deleted (Zoho DELETE, Xero Status DELETED), or an invoice where the system deletes for a void (Wave invoiceDelete). */
  | 'invoice.delete'
  | 'payment.list'
  /** A product or item the relay adds to the system's catalogue (Wave: one per kind of line, once). */
  | 'item.create'
  | 'recurring.list'
  | 'recurring.read'
  | 'recurring.create'
  | 'recurring.stop'
  | 'recurring.resume'
  | 'other';

export interface BooksCall {
  op: BooksOp;
  method: string;
  path: string;
  status: number | undefined;
  query: Record<string, unknown>;
  body: unknown;
  /** The Idempotency-Key the call carried, if any. */
  idempotencyKey: string | undefined;
  /** Whether the call only reads, where the HTTP method does not say (Wave's GraphQL: every call a POST, a query reads). */
  read?: boolean;
}

/** How the backends differ where the suites look, as facts rather than copies of tests. */
export interface BooksFacts {
  /** The shape of the system's record IDs. */
  id: RegExp;
  /** The shape of an invoice's customer link. */
  invoiceUrl: RegExp;
  /** The calls one new invoice costs once its customer is known, in order (create; email and link where separate). */
  invoiceOps: BooksOp[];
  /** Whether invoices carry the deal ID in a field of their own beside the reference. */
  dealField: boolean;
  /** Whether resuming a retainer makes a new recurring profile (Xero cannot resume one: it deletes and re-creates). */
  resumeMakesNewProfile: boolean;
  /** Whether a customer's invoices must be in the customer's currency (Zoho), or any enabled one (Xero). */
  customerKeepsCurrency: boolean;
  /**
   * How the relay learns of a payment on an invoice a recurring profile generated: the system's webhook
   * names the profile (Zoho's carries the whole invoice), or an early reconcile sweep finds it (Xero's event
   * carries the invoice's ID alone: an unknown one, while a retainer is active, asks for a sweep within
   * seconds). Either way the note is on the deal within seconds.
   */
  generatedInvoicePayments: 'webhook' | 'early sweep' | 'reconciler';
  /** Whether the system tells the relay of the relay's own changes too (Xero's events for every create and send). */
  tellsOfOwnChanges: boolean;
  /** The most invoices one notification may name that the relay takes (Zoho: a payment's invoices; Xero: a batch's events). */
  invoicesPerNotification: number;
  /**
   * How the relay learns of a payment on its own invoice (default 'webhook'): the system's webhook, or only the
   * reconciler's sweep (Wave: the relay polls; the suites run a sweep where another system would send a webhook).
   */
  payments?: 'webhook' | 'reconciler';
  /**
   * What the relay makes of the system's webhooks (default 'used': their events become jobs); 'wake-up': any
   * delivery to the secret URL is answered 200 and only asks for an early reconcile sweep, its body unread
   * (Wave's payloads are not published; polling finds the payments).
   */
  webhooks?: 'used' | 'wake-up';
  /** Whether the system has recurring invoices the relay can make (default true); without, a retainer section stops start-up. */
  recurringInvoices?: boolean;
  /** Whether a user can void an invoice (default true; Wave only deletes one). */
  voids?: boolean;
  /**
   * What a deleted invoice leaves (a draft deleted; with voids false, any invoice the relay cancels): nothing the
   * system lists (default 'gone': Zoho, Wave), or the invoice with status `deleted` (Xero keeps it as DELETED).
   */
  deletedInvoices?: 'gone' | 'listed';
  /**
   * How the relay learns that a person approved or sent one of its drafts in the system (invoice.review): the
   * system's webhook (Xero's INVOICE event), or the reconciler's sweep (default: Zoho's workflow webhook is for
   * payments; Wave tells nothing). The suites run a sweep only where it is the way.
   */
  draftChanges?: 'webhook' | 'reconciler';
  /**
   * What an invoice made without invoice.payOnline lets the client pay online with: nothing (default 'none':
   * Zoho and Xero enable a gateway or a theme's payment service only when the invoice names it), or what the
   * organization has set up ('organization': Wave's invoices take Wave Payments unless they disable it).
   */
  onlinePaymentDefault?: 'none' | 'organization';
  /** Where the deal's stamp is: the invoice's reference (default), or its number (Wave: invoiceNumber, `reference` shows it). */
  stamp?: 'reference' | 'number';
  /** The calls a new customer costs (default a search and a create; Wave searches by email, then reads the customers themselves). */
  customerOps?: BooksOp[];
  /** The calls the first invoice costs once, beside its own (Wave: the products read and the shared deal product made). */
  firstInvoiceOps?: BooksOp[];
}

export interface BooksNotification {
  status: number | undefined;
}

export interface FakeBooks {
  /** The backend's ID (ACCOUNTING). */
  readonly id: string;
  /** The fake's origin. */
  readonly url: string;
  /** The organization (Zoho) or organisation (Xero tenant) the relay works in. */
  readonly organizationId: string;
  readonly facts: BooksFacts;

  customers(): BooksCustomer[];
  /** The taxes a sales invoice can carry, as the system lists them. */
  taxes(): Array<{ name: string; percentage: number; isDefault: boolean }>;
  invoices(): BooksInvoice[];
  invoice(id: string): BooksInvoice | undefined;
  /** Invoices whose reference is `reference`. */
  invoicesWithReference(reference: string): BooksInvoice[];
  recurring(): BooksRecurring[];
  emails(): BooksEmail[];

  /** Calls the relay made, from the `since`-th request the fake received (see callCount). */
  calls(since?: number): BooksCall[];
  /** Requests received so far: a mark for calls(since). */
  readonly callCount: number;
  /** Requests and answers outside the vendor's published contract. */
  readonly violations: unknown[];
  /** Everything the relay must never log: client secret, refresh and access tokens seen, webhook keys. */
  secrets(): string[];

  /** Set-up as a user does it in the system (before or after the relay starts). */
  /** A tax rate; `isDefault` where the system has a default one (Zoho; Xero has none). Returns its ID (Xero: its TaxType). */
  addTax(t: { name: string; percentage: number; isDefault?: boolean }): string;
  addCurrency(code: string, exchangeRate?: number): void;
  /** A product in the system's catalogue, where the backend keeps one the relay uses. */
  addItem?(i: { name: string; sku: string; rate: number }): string;
  addCustomer(c: { name: string; email: string; currency?: string }): string;
  /** An invoice made and issued (open, not emailed) in the system by someone else, not the relay; returns its ID. */
  addForeignInvoice(i: { customerId: string; reference: string; amount: number; number?: string }): Promise<string>;

  /** A customer pays; the system tells the relay as it does (Zoho: workflow webhook; Xero: INVOICE event). Returns the payment's ID. */
  pay(invoiceId: string, p: { amount: number; date?: string }): string;
  /** A user voids the invoice in the system. */
  void(invoiceId: string): Promise<void>;

  /*
   * A person's acts in the system on one of the relay's invoices, a moment after the relay's last write on it,
   * as people act (so the system dates the change apart from the relay's own: Zoho's last_modified_time has
   * whole seconds; Xero's event would fall in the relay's own-write window): they resolve once done.
   */
  /** A person in the system approves one of the relay's drafts (Zoho: submitted and approved; Xero: AUTHORISED; Wave: DRAFT → SAVED). */
  approveInBooks(invoiceId: string): Promise<void>;
  /** A person sends the invoice to its customer from the system (approving it where it is a draft). */
  sendInBooks(invoiceId: string): Promise<void>;
  /** A person edits a draft's lines in the system: one line "Edited by the accountant", 777. */
  editInBooks(invoiceId: string): Promise<void>;

  /**
   * The organization sets up paying online, as a user does in the system (Zoho: a payment gateway configured,
   * and an invoice made with it, the only place Zoho's API shows it; Xero: a branding theme with a payment
   * service, beside the standard one without; Wave: Wave Payments' card and bank). Before or after the relay
   * starts. Resolves to the names a mapping's invoice.payOnline may use for what was set up.
   */
  offerOnlinePayment(): Promise<string[]>;
  /** What the invoice lets its client pay online with, in the system's own terms (Zoho: gateways; Xero: [its branding theme] where the theme has a payment service; Wave: card, bank); [] when nothing. */
  onlinePayment(invoiceId: string): string[];
  /**
   * The client pays through the system's online gateway: recorded as the system records a gateway payment and
   * told to the relay as any payment is (facts.payments). The gateway refuses (throws) an invoice with no online
   * payment enabled. Returns the payment's ID.
   */
  payOnline(invoiceId: string, amount: number): string;
  /** A recurring profile's schedule comes due: returns the invoice it generated. */
  runRecurring(recurringId: string): string;

  /**
   * The system's webhook about a change to this invoice by someone else (later than the relay's own writes,
   * which a system that tells of them — Xero — dates so the relay ignores them), as the system sends it.
   */
  notify(invoiceId: string): Promise<BooksNotification>;
  /** A notification naming these invoices, as the system words and signs it, and where it goes on the relay. */
  notification(invoiceIds: string[]): { path: string; headers: Record<string, string>; body: string };
  /** IDs shaped like the system's that no record of it has. */
  unknownIds(n: number): string[];
  /** The last webhook the system delivered, sent again byte for byte. */
  replayLastWebhook(): Promise<BooksNotification>;
  dropNextWebhooks(n: number): void;
  droppedWebhooks(): number;
  flushWebhooks(): Promise<void>;

  /** The next `n` API calls are refused as over the rate limit, with the backend's retry header. */
  rateLimit(n: number): void;
  /** The next `n` API calls fail with this 5xx. */
  serverErrors(n: number, status: 500 | 503): void;
  /** The next call of this kind does its work, then its answer is lost (the connection is cut). */
  loseNextAnswer(op: 'invoice.create' | 'recurring.create' | 'invoice.email' | 'invoice.void'): void;
  /** Answers lost so far. */
  lostAnswers(): number;
  /** Every API call takes this long (0: off). */
  setLatency(ms: number): void;
  resetFaults(): void;

  /** Called by the scenario when a relay is connected. */
  connect(relayUrl: string): void;
  close(): Promise<void>;
}

export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const daysBetween = (from: string, to: string): number => Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);

export function header(r: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * What the relay must never log, as a fake saw it: the secrets it holds, and every credential in the requests
 * it received (the Authorization header without its `scheme`, OAuth form fields).
 */
export function secretsSeen(
  held: Array<string | undefined>,
  requests: ReadonlyArray<{ headers: Record<string, string | string[] | undefined>; body?: unknown }>,
  scheme: RegExp,
): string[] {
  const values = new Set<string>(held.filter((v): v is string => typeof v === 'string'));
  for (const r of requests) {
    const auth = r.headers.authorization;
    if (typeof auth === 'string') values.add(auth.replace(scheme, ''));
    const body = (r.body ?? {}) as Record<string, unknown>;
    for (const k of ['refresh_token', 'code', 'client_secret']) if (typeof body[k] === 'string') values.add(body[k]);
  }
  return [...values];
}
