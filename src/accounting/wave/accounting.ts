// Wave as the relay's accounting port: customers, invoices (every line on a product), their approval,
// sending and online link, payments and the change cursor, in the use cases' words (src/sync/ports.ts).
// Wave has no idempotency key: an invoice carries the deal in its invoiceNumber (the mapping's
// invoice.number.template when set, else wave.invoiceNumberTemplate), and a create whose answer
// was lost is found by `invoices(invoiceNumber:)` before another is made; a send whose answer was lost is
// found by the invoice's lastSentAt, so the client is never emailed twice. Wave has no recurring invoices.
// Review (invoice.review): the draft is rewritten with invoicePatch (its version: modifiedAt and amountPaid, so
// a person's edit in Wave is a new version) and approved with invoiceApprove (DRAFT → SAVED); a person's
// approval in Wave is its status (SAVED or later), a person's send its lastSentAt. Lost deals (invoice.onLost
// "void"): Wave has no void: an invoice without payments, draft or not, is deleted with invoiceDelete (deleting
// is how Wave cancels an unpaid invoice; nothing of it stays in Wave, and its online link stops working); one
// with a payment is never deleted. The relay keeps what it deleted (number, customer, total), so the invoice
// still reads as void to the use cases (a retry after a lost answer, a later review or payment job). Pay online (invoice.payOnline): Wave Payments' two ways, "card" and "bank",
// are switched on or off per invoice (disableCreditCardPayments / disableBankPayments); whether the business
// has set Wave Payments up is not in Wave's API.
import { createHash } from 'node:crypto';
import { ConfigError } from '../../config/config-error.js';
import { permanent, recoded, RelayError, retryable } from '../../errors.js';
import { fillDealTemplate } from '../../sync/deal-template.js';
import { formatAmount } from '../../sync/money.js';
import type {
  AccountingInvoice,
  AccountingInvoiceDetail,
  AccountingPayment,
  AccountingPort,
  AccountingReference,
  ChangeCursor,
  Customer,
  CustomerInput,
  DealStamp,
  InvoiceChange,
  InvoiceClue,
  InvoiceDraft,
  InvoiceStatus,
  PayOnlineOffer,
  RecurringProfile,
} from '../../sync/ports.js';
import type { WaveClient } from './client.js';
import type { InvoiceCreateInput, InvoiceDiscountInput, InvoiceItemInput, WaveBusiness, WaveCustomer, WaveInvoice } from './documents.js';
import type { WaveMappingSection } from './mapping.js';
import { WAVE_NAMES } from './names.js';
import { waveNotConnected } from './oauth.js';
import { decimal, normal, type ProductStore, type WaveProducts } from './products.js';
import type { WaveStamps } from './stamp.js';

/** What the business and the mapping's `wave` section say, resolved once per business. */
interface Resolved {
  business: WaveBusiness;
  incomeAccountId: string;
}

/** How many pages of 200 customers are read when Wave's email filter finds none (a new customer costs that once). */
const SCAN_PAGES = 10;

const NO_RECURRING =
  'Wave has no recurring invoices in its API, so the relay cannot bill this deal on a schedule. Remove the retainer section from the mapping file (ACCOUNTING=wave), or bill the deal with one-off invoices.';

export class WaveAccounting implements AccountingPort {
  readonly names = WAVE_NAMES;
  private resolved: { businessId: string | undefined; settings: Promise<Resolved> } | undefined;

  constructor(
    private readonly client: WaveClient,
    private readonly stamps: WaveStamps,
    private readonly section: WaveMappingSection,
    private readonly products: WaveProducts,
    /** The business calls go to, and whether Wave is connected at all (which error a job waits on). */
    private readonly connection: { businessId: () => string | undefined; readonly connected: boolean },
    /** Whether the mapping emails invoices: a business that cannot send email then stops start-up. */
    private readonly sendInvoice: boolean | undefined,
    /** Kept across restarts: what voidInvoice deleted, so the invoice still reads as void (Wave keeps nothing). */
    private readonly cancelled: ProductStore,
    private readonly today: () => string = () => new Date().toISOString().slice(0, 10),
  ) {}

  private readonly neutral = (err: unknown): unknown => (err instanceof RelayError && err.code === 'wave_no_business' && !this.connection.connected ? waveNotConnected() : neutral(err));
  private readonly fail = (err: unknown): never => {
    throw this.neutral(err);
  };

  stamp(dealId: number, generation: number): DealStamp {
    return this.stamps.stamp(dealId, generation);
  }

  retainerStamp(dealId: number): DealStamp {
    return this.stamps.retainerStamp(dealId);
  }

  // ---- Customers ----

  /**
   * Wave's email filter is not trusted either way: what it lists is compared here (case and spaces ignored; the
   * oldest live one wins), and when it lists no match the customers themselves are read (oldest first, at most
   * SCAN_PAGES pages of 200), in case its filter missed another spelling of the address.
   */
  async findCustomerByEmail(email: string): Promise<Customer | undefined> {
    const wanted = normalEmail(email);
    const pick = (list: WaveCustomer[]) => list.find((c) => c.isArchived !== true && c.email !== null && normalEmail(c.email) === wanted);
    const match = pick(await this.client.customersByEmail(email.trim()).catch(this.fail)) ?? pick(await this.client.customers(SCAN_PAGES).catch(this.fail));
    return match ? toCustomer(match) : undefined;
  }

  async createCustomer(input: CustomerInput): Promise<Customer> {
    const created = await this.client
      .createCustomer(
        compact({
          name: input.name.slice(0, 255),
          firstName: input.firstName,
          lastName: input.lastName,
          email: input.email,
          phone: input.phone,
          currency: input.currencyId,
          // An address with nothing in it is refused: only a known country makes one.
          address: input.country ? { countryCode: input.country.toUpperCase() } : undefined,
        }),
      )
      .catch(this.fail);
    return toCustomer(created);
  }

  // ---- Invoices ----

  /** The deal's invoice by its number (the stamp), for this customer. */
  async findDealInvoice(stamp: DealStamp, customerId: string): Promise<AccountingInvoice | undefined> {
    const found = await this.client.invoicesByNumber(stamp.key).catch(this.fail);
    // Another customer's invoice of that number is not the deal's (a person made it by hand).
    const match = found.find((i) => i.invoiceNumber === stamp.key && i.customer?.id === customerId);
    return match ? toInvoice(match) : undefined;
  }

  /**
   * A DRAFT with every line on its product (found or created once), the rule's sales tax on each line (none:
   * `taxes: []`, not the product's defaults), the deal's currency and rate, the due date from the payment
   * terms and the deal's number. With `send` it is approved at once (the use case emails it next). Anything
   * that fails once the invoice exists is uncertain, so the next attempt finds it by number, not makes another.
   */
  async createInvoice(draft: InvoiceDraft, opts: { send: boolean }): Promise<AccountingInvoice & { emailed: boolean }> {
    const { incomeAccountId } = await this.settings().catch(this.fail);
    const invoiceDate = draft.date ?? this.today();
    const items = await this.items(draft, incomeAccountId);
    const input: Omit<InvoiceCreateInput, 'businessId'> = compact({
      customerId: draft.customerId,
      status: 'DRAFT' as const,
      currency: draft.currencyId,
      invoiceNumber: draft.stamp.key,
      invoiceDate,
      dueDate: draft.dueDate ?? (draft.paymentTerms !== undefined ? addDays(invoiceDate, draft.paymentTerms) : undefined),
      exchangeRate: draft.exchangeRate !== undefined ? decimal(draft.exchangeRate, 0) : undefined,
      memo: this.section.memoTemplate ? fillDealTemplate(this.section.memoTemplate, draft.stamp.dealId) : undefined,
      items,
      discounts: draft.discount ? discounts(draft.discount) : undefined,
      ...payOnlineFlags(draft.payOnline),
    });
    if (this.stamps.byMapping) await this.numberFree(draft.stamp.key);
    const created = await this.client.createInvoice(input).catch(this.fail);
    if (!opts.send) return { ...toInvoice(created), emailed: false };
    const approved = await this.client.approveInvoice(created.id).catch((err: unknown) => {
      const e = this.neutral(err);
      throw e instanceof RelayError
        ? new RelayError('retryable', e.code, `Invoice ${created.invoiceNumber} was created in Wave, but approving it failed: ${e.message}`, { cause: e, uncertain: true, service: 'wave' })
        : e;
    });
    return { ...toInvoice(approved), emailed: false };
  }

  /** Every line on its product (found or created once), the rule's sales tax on it (none: `taxes: []`). */
  private async items(draft: InvoiceDraft, incomeAccountId: string): Promise<InvoiceItemInput[]> {
    const items: InvoiceItemInput[] = [];
    for (const [i, line] of draft.lines.entries()) {
      const { productId, deal } = await this.products.forLine(line, draft.lineSources?.[i], incomeAccountId).catch(this.fail);
      // The deal-amount product is shared: the line says which deal it is.
      const description = deal ? [line.name, line.description].filter(Boolean).join('\n') : line.description;
      items.push(compact({ productId, description, quantity: decimal(line.quantity), unitPrice: decimal(line.rate), taxes: line.taxId ? [{ salesTaxId: line.taxId }] : [] }));
    }
    return items;
  }

  /**
   * invoicePatch: the draft's lines, currency and rate, due date (from the payment terms and the draft's own
   * invoice date), discount (`[]` removes one) and, with invoice.payOnline, its ways of paying online; its number,
   * date and memo stay. A draft a person approved meanwhile is not rewritten: retried, the use case then sees
   * the approval. Answers the new version (the patched invoice's modifiedAt and amountPaid).
   */
  async updateDraftInvoice(invoiceId: string, draft: InvoiceDraft): Promise<{ version: string }> {
    const { incomeAccountId } = await this.settings().catch(this.fail);
    const current = await this.client.invoice(invoiceId).catch(this.fail);
    if (current.status !== 'DRAFT') {
      throw retryable('wave_not_draft', `Invoice ${current.invoiceNumber} is no longer a draft in Wave (${current.status}): the relay did not rewrite it, and will read it again.`, {
        service: 'wave',
        retryAfterMs: 5000,
      });
    }
    const items = await this.items(draft, incomeAccountId);
    const patched = await this.client
      .patchInvoice(
        compact({
          id: invoiceId,
          currency: draft.currencyId,
          exchangeRate: draft.exchangeRate !== undefined ? decimal(draft.exchangeRate, 0) : undefined,
          dueDate: draft.dueDate ?? (draft.paymentTerms !== undefined ? addDays(current.invoiceDate, draft.paymentTerms) : undefined),
          items,
          discounts: draft.discount ? discounts(draft.discount) : [],
          ...payOnlineFlags(draft.payOnline),
        }),
      )
      .catch(this.fail);
    return { version: waveVersion(patched) };
  }

  /**
   * invoiceApprove: DRAFT → SAVED (payable, its viewUrl live), not emailed. Wave emails only an approved
   * invoice, so it is approved with `thenEmail` too. One already approved (by a person) is left as it is.
   */
  async approveInvoice(invoiceId: string, _opts: { thenEmail: boolean }): Promise<AccountingInvoice> {
    const current = await this.client.invoice(invoiceId).catch(this.fail);
    if (current.status !== 'DRAFT') return toInvoice(current);
    return toInvoice(await this.client.approveInvoice(invoiceId).catch(this.fail));
  }

  /** invoiceDelete of the draft (one with a payment is refused, as for voidInvoice); one already gone is no error. */
  async deleteDraftInvoice(invoiceId: string): Promise<void> {
    await this.deleteUnpaid(invoiceId);
  }

  /**
   * Wave has no void: an approved invoice with no payment is deleted with invoiceDelete, which is how Wave
   * cancels one (it keeps nothing of it: no void state, and its online link stops working). One already gone
   * is no error; one with a payment is never deleted.
   */
  async voidInvoice(invoiceId: string): Promise<void> {
    await this.deleteUnpaid(invoiceId, async (current) => {
      const kept: CancelledInvoice = {
        id: current.id,
        invoiceNumber: current.invoiceNumber,
        viewUrl: current.viewUrl,
        customerId: current.customer.id,
        total: current.total.value,
        currency: current.total.currency?.code ?? '',
        modifiedAt: current.modifiedAt,
        sent: current.lastSentAt !== null && current.lastSentAt !== undefined,
      };
      await this.cancelled.set(this.cancelledKey(invoiceId), kept);
    });
  }

  /** Per business, as Wave's IDs are. */
  private cancelledKey(invoiceId: string): string {
    return `wave:cancelled:${this.client.business()}:${createHash('sha256').update(invoiceId).digest('hex').slice(0, 32)}`;
  }

  /**
   * Read first: gone already is done; a payment (even a partial one) stops the delete with a reason. `before`
   * runs just before the delete (what is kept of the invoice is written before it is gone).
   */
  private async deleteUnpaid(invoiceId: string, before?: (current: WaveInvoice) => Promise<void>): Promise<void> {
    const current = await this.client.invoice(invoiceId).catch((err: unknown) => (isGone(err) ? undefined : this.fail(err)));
    if (!current) return;
    const paid = amount(current.amountPaid.value);
    if (paid > 0) {
      throw permanent(
        'wave_invoice_has_payments',
        `Invoice ${current.invoiceNumber} has ${formatAmount(paid, current.amountPaid.currency?.code ?? '')} paid in Wave, so the relay did not delete it (Wave has no void; deleting is refused once money was received). Settle it in Wave (a refund, or remove the payment and delete the invoice).`,
        { service: 'wave' },
      );
    }
    await before?.(current);
    await this.client.deleteInvoice(invoiceId).catch((err: unknown) => {
      if (!isGone(err)) this.fail(err);
    });
  }

  /**
   * The mapping's invoice.number.template numbers invoices by deal: a number another invoice already has (a
   * person's, another customer's) is not taken again. Wave's own refusal of duplicates is unconfirmed, so the
   * relay looks first. (The look-up after a lost create runs before this, so the deal's own invoice is adopted.)
   */
  private async numberFree(number: string): Promise<void> {
    const found = await this.client.invoicesByNumber(number).catch(this.fail);
    if (found.some((i) => i.invoiceNumber.trim().toLowerCase() === number.trim().toLowerCase())) {
      throw permanent(
        'invoice_number_taken',
        `Invoice not created: the invoice number ${number} is already used in ${WAVE_NAMES.system}. Remove or renumber that invoice, or change invoice.number.template, then move the deal into the invoicing stage again.`,
      );
    }
  }

  /**
   * Emails the invoice with its PDF to `to`. Never twice: an invoice Wave shows as sent (lastSentAt) is not
   * sent again, and a send whose answer was lost is left uncertain so the use case looks before sending. A
   * draft (an approval that did not get through) is approved first.
   */
  async emailInvoice(invoiceId: string, to: string[]): Promise<void> {
    const { business } = await this.settings().catch(this.fail);
    if (!business.emailSendEnabled) throw permanent('wave_email_disabled', emailDisabled(business));
    const current = await this.client.invoice(invoiceId).catch(this.fail);
    if (current.lastSentAt) return;
    if (current.status === 'DRAFT') await this.client.approveInvoice(invoiceId).catch(this.fail);
    await this.client.sendInvoice({ invoiceId, to: to.slice(0, 10), attachPDF: true }).catch(this.fail);
  }

  /** The invoice; one the relay deleted for a lost deal (voidInvoice) reads as void from what was kept of it. */
  async getInvoice(invoiceId: string): Promise<AccountingInvoiceDetail> {
    let i: WaveInvoice;
    try {
      i = await this.client.invoice(invoiceId);
    } catch (err) {
      const kept = isGone(err) ? await this.cancelled.get<CancelledInvoice>(this.cancelledKey(invoiceId)) : undefined;
      if (kept) return cancelledDetail(kept, this.stamps.read(kept));
      throw this.neutral(err);
    }
    const stamped = this.stamps.read(i);
    return {
      ...toInvoice(i),
      invoiceId: i.id,
      customerId: i.customer.id,
      total: amount(i.total.value),
      balance: amount(i.amountDue.value),
      currencyCode: i.total.currency?.code ?? '',
      version: waveVersion(i),
      ...(stamped ? { stamped } : {}),
    };
  }

  async invoicePayments(invoiceId: string): Promise<AccountingPayment[]> {
    const payments = await this.client.invoicePayments(invoiceId).catch(this.fail);
    return payments.map((p) => ({ paymentId: p.id, amount: amount(p.amount), date: p.paymentDate }));
  }

  // ---- Reference data ----

  /**
   * The business's currency and the mapping's other currencies with their rates, its sales taxes (a tax rule
   * names one by name or abbreviation; the rate is Wave's decimal as a percentage) and its products as items
   * (a Kommo product of the same name uses it). The business's fitness and the income account are checked
   * here too, so a business the relay cannot invoice in stops start-up.
   */
  async reference(opts: { exemptions: boolean; payOnline?: boolean }): Promise<AccountingReference> {
    this.resolved = undefined;
    const { business } = await this.settings();
    const taxes = await this.client.salesTaxes().catch(this.fail);
    const products = await this.client.products().catch(this.fail);
    const base = business.currency.code;
    const precision = (code: string) => (code === base ? business.currency.exponent : currencyDigits(code));
    const others = Object.entries(this.section.exchangeRates).filter(([code]) => code !== base);
    return {
      baseCurrency: base,
      currencies: [
        { id: base, code: base, precision: precision(base), exchangeRate: 1, isBase: true },
        ...others.map(([code, rate]) => ({ id: code, code, precision: precision(code), exchangeRate: rate, isBase: false })),
      ],
      taxes: taxes.filter((t) => !t.isArchived).map((t) => ({ id: t.id, name: t.name, percentage: percentage(t.rate), code: t.abbreviation })),
      exemptions: [],
      items: products.filter((p) => p.isSold && !p.isArchived).map((p) => ({ id: p.id, name: p.name, rate: amount(p.unitPrice) })),
      ...(opts.payOnline ? { payOnline: WAVE_PAY_ONLINE } : {}),
    };
  }

  private settings(): Promise<Resolved> {
    const businessId = this.connection.businessId();
    if (!this.resolved || this.resolved.businessId !== businessId) {
      if (this.resolved) this.products.reset();
      const settings = this.resolve();
      this.resolved = { businessId, settings };
      settings.catch(() => {
        if (this.resolved?.settings === settings) this.resolved = undefined;
      });
    }
    return this.resolved.settings;
  }

  /** The business (invoicing through the API, email when the mapping sends) and the income account of new products. */
  private async resolve(): Promise<Resolved> {
    const business = await (async () => this.client.businessById(this.client.business()))().catch(this.fail);
    const problems: string[] = [];
    if (business.isClassicInvoicing) {
      problems.push(
        `Wave business "${business.name}" still uses Wave's classic invoicing, which the API cannot invoice in (isClassicInvoicing). Upgrade it to Wave's new invoicing in Wave (Sales & Payments > Invoices), or choose another business, then restart the relay.`,
      );
    }
    if (this.sendInvoice && !business.emailSendEnabled) problems.push(`${emailDisabled(business)} Or set invoice.send to false in the mapping file.`);
    const accounts = (await this.client.incomeAccounts().catch(this.fail)).filter((a) => !a.isArchived && ['INCOME', 'OTHER_INCOME', 'DISCOUNTS'].includes(a.subtype?.value));
    const list = accounts.map((a) => `'${a.name}'`).join(', ') || 'none';
    const wanted = this.section.incomeAccount;
    let incomeAccountId: string | undefined;
    if (wanted) {
      const byId = accounts.find((a) => a.id === wanted);
      const byName = accounts.filter((a) => normal(a.name) === normal(wanted));
      if (byId) incomeAccountId = byId.id;
      else if (byName.length === 1) incomeAccountId = byName[0]!.id;
      else problems.push(`MAPPING_FILE wave.incomeAccount: ${byName.length > 1 ? `several income accounts are named '${wanted}'; give its ID` : `no income account named or with the ID '${wanted}'`} in Wave business "${business.name}". Income accounts: ${list}`);
    } else {
      const sales = accounts.filter((a) => normal(a.name) === 'sales');
      if (sales.length === 1) incomeAccountId = sales[0]!.id;
      else problems.push(`MAPPING_FILE wave.incomeAccount: is required because Wave business "${business.name}" has ${sales.length === 0 ? 'no' : 'several'} income account named "Sales". Name the account the relay's products sell to; income accounts: ${list}`);
    }
    if (problems.length) throw new ConfigError(problems);
    return { business, incomeAccountId: incomeAccountId! };
  }

  // ---- Recurring invoices: none in Wave (start-up refuses a retainer section; these say so if reached) ----

  createRecurring(): Promise<RecurringProfile> {
    return Promise.reject(permanent('recurrence_unsupported', NO_RECURRING));
  }

  async findRecurringByName(): Promise<RecurringProfile | undefined> {
    return undefined;
  }

  setRecurringActive(): Promise<{ id: string }> {
    return Promise.reject(permanent('recurrence_unsupported', NO_RECURRING));
  }

  // ---- Changes ----

  /**
   * The cursor is the newest modifiedAt seen (ISO 8601). Wave is asked for invoices modified after a second
   * before it, so what changed in the cursor's own second comes again and the reconciler skips it by its
   * version (modifiedAt and amountPaid).
   */
  async changedInvoices(cursor: ChangeCursor | undefined, page: number, firstLookbackMs: number): Promise<{ invoices: InvoiceChange[]; hasMore: boolean; next: ChangeCursor }> {
    const parsed = cursor !== undefined ? Date.parse(cursor) : Number.NaN;
    const sinceMs = Number.isFinite(parsed) ? parsed : Date.now() - firstLookbackMs;
    const { invoices, hasMore } = await this.client.invoicesModifiedAfter(new Date(sinceMs - 1000).toISOString(), page, 100).catch(this.fail);
    let nextMs = sinceMs;
    const changes = invoices.map((i): InvoiceChange => {
      const at = Date.parse(i.modifiedAt);
      if (Number.isFinite(at) && at > nextMs) nextMs = at;
      const stamped = this.stamps.read(i);
      return { invoiceId: i.id, status: waveStatus(i), version: waveVersion(i), ...(stamped ? { stamped } : {}) };
    });
    return { invoices: changes, hasMore, next: new Date(nextMs).toISOString() };
  }
}

/** Wave's statuses in the use cases' words. SAVED is approved and not yet sent. */
export function waveStatus(i: Pick<WaveInvoice, 'status' | 'amountPaid'>): InvoiceStatus {
  switch (i.status) {
    case 'DRAFT':
      return 'draft';
    case 'PAID':
    case 'OVERPAID':
      return 'paid';
    case 'PARTIAL':
      return 'partially_paid';
    default:
      return amount(i.amountPaid?.value) > 0 ? 'partially_paid' : 'open';
  }
}

/** Changes with the invoice: its modifiedAt, and (two changes in one moment) amountPaid. */
export const waveVersion = (i: Pick<WaveInvoice, 'modifiedAt' | 'amountPaid'>) => `${i.modifiedAt}|${amount(i.amountPaid?.value)}`;

/**
 * Wave Payments' two ways, which every invoice may take or refuse (InvoiceCreateInput's disableCreditCardPayments
 * and disableBankPayments). Nothing in Wave's API says which the business has set up, so both are offered and
 * `true` asks for both; Wave then shows the customer those the business accepts.
 */
export const WAVE_PAY_ONLINE: PayOnlineOffer = {
  available: [
    { id: 'card', name: 'card', detail: 'credit and debit cards' },
    { id: 'bank', name: 'bank', detail: 'bank payments (ACH)' },
  ],
  byDefault: ['card', 'bank'],
  setUp: 'Wave › Settings › Payments',
  unconfirmed:
    "Wave's API does not say whether the business has Wave Payments set up for cards or bank payments: the relay marks each invoice payable by the ways the mapping names, and the client can pay online only once Wave Payments is set up in Wave › Settings › Payments.",
};

/** invoice.payOnline: each of Wave's two ways on or off on the invoice; absent: nothing sent (the business's defaults). */
function payOnlineFlags(ways: string[] | undefined): Pick<InvoiceCreateInput, 'disableCreditCardPayments' | 'disableBankPayments'> {
  if (!ways) return {};
  return { disableCreditCardPayments: !ways.includes('card'), disableBankPayments: !ways.includes('bank') };
}

const discounts = (value: number): InvoiceDiscountInput[] => [{ discountType: 'FIXED', name: 'Discount', amount: decimal(value) }];

/** What the relay keeps of an invoice it deleted for a lost deal: enough to read it as void. */
interface CancelledInvoice {
  id: string;
  invoiceNumber: string;
  viewUrl: string;
  customerId: string;
  total: string;
  currency: string;
  modifiedAt: string;
  sent: boolean;
}

/** A deleted invoice in the use cases' words: void, nothing due (nothing was paid). */
function cancelledDetail(c: CancelledInvoice, stamped: InvoiceClue['stamped']): AccountingInvoiceDetail {
  return {
    id: c.id,
    number: c.invoiceNumber,
    url: c.viewUrl,
    status: 'void',
    sent: c.sent,
    invoiceId: c.id,
    customerId: c.customerId,
    total: amount(c.total),
    balance: 0,
    currencyCode: c.currency,
    version: `${c.modifiedAt}|deleted`,
    ...(stamped ? { stamped } : {}),
  };
}

const isGone = (err: unknown): boolean => err instanceof RelayError && err.code === 'wave_not_found';

function toInvoice(i: WaveInvoice): AccountingInvoice {
  return { id: i.id, number: i.invoiceNumber, url: i.viewUrl, status: waveStatus(i), sent: i.lastSentAt !== null && i.lastSentAt !== undefined };
}

function toCustomer(c: WaveCustomer): Customer {
  // A Wave customer's currency is its default: an invoice may be in another.
  return { id: c.id, name: c.name, anyCurrency: true };
}

const emailDisabled = (b: WaveBusiness) =>
  `Wave business "${b.name}" cannot email invoices (emailSendEnabled is false): Wave has not enabled sending for it (a new business must verify its email address in Wave first).`;

const normalEmail = (s: string) => s.replace(/\s+/g, '').toLowerCase();

/** A Wave decimal string as a number (0 when absent or unreadable). */
function amount(value: string | null | undefined): number {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

/** Wave's tax rate is a decimal (0.15); tax rules speak percentages (15). */
function percentage(rate: string): number {
  return Math.round(amount(rate) * 100 * 1e6) / 1e6;
}

function currencyDigits(code: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

const NEUTRAL_CODES: Record<string, string> = { wave_rejected: 'accounting_rejected', wave_not_found: 'accounting_not_found' };

/** The refusals a use case reads, by neutral code; the message stays Wave's. */
function neutral(err: unknown): unknown {
  if (err instanceof ConfigError) return permanent('accounting_mapping', `${err.problems.join(' ')} Fix it and restart the relay.`);
  return recoded(err, NEUTRAL_CODES);
}

function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}
